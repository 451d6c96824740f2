# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes -> records: the reader that turns a set of log files into the records the session engine needs.

Standard library only, Python 3.6+.  Files are streamed in blocks of
``CHUNK`` bytes; besides a block and the last few, nothing but counters and
a bounded list of samples is kept, so memory does not grow with the log.
Lines that are not audit records are counted and sampled (file, line
number, reason), never fatal.

LogReader drives the steps, each in its own file: which files and whether
they can be read (log_set.py), opening and reading one file in blocks
(log_files.py), a block of records (audit_block.py), the scan of a block
(block_scan.py), the other records of an AVC's event (avc_companions.py)
and the reader's state between runs (reader_state.py).  It follows the
serials of every node (audit_serials.py) and hands out the records in log
order.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import operator
import os
from collections import OrderedDict, deque
from itertools import compress, repeat

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_block import (
    NODE_OF, PICKED, PREVIOUS, SERIAL, WANT, line_keys, node_name, previous_record, stamp_epoch, stamp_parts,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import SERIAL_RESET, Record
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_serials import SerialTracker
from ansible_collections.virtaudit.auvirt.plugins.module_utils.avc_companions import AvcEvents
from ansible_collections.virtaudit.auvirt.plugins.module_utils.block_scan import BlockScanner
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_files import (
    MAX_LINE, DamagedFile, FileGone, LongLine, PartialLine, chunks, file_id, file_identity, open_listed, skip_to,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_set import LogAccessError, check_readable
from ansible_collections.virtaudit.auvirt.plugins.module_utils.reader_state import reader_state, restore_reader

OVERLAP = 4096  # rotated files that overlap repeat at most this many records
# files open at once: the oldest ones not read yet (a rotation may rename the oldest over) and the live log;
# auditd keeps up to 999 files, more than a process may have open (ulimit -n 1024)
MAX_OPEN_FILES = 32


class LogReader(BlockScanner, AvcEvents):
    """Reads log files into the records the engine needs (see ``records``).

    Every block goes through the same steps (``_scan``, ``_take``): one scan
    finds every record header; lines it does not match are read one by one
    (``_read_line``: records, parse errors or blank lines); records that
    repeat the previous file are dropped (those three: BlockScanner, in
    block_scan.py); the serials of every node are followed in bulk; the
    lines the engine wants are read (``_read_line`` again) and AVC records
    get the other records of their event by index (AvcEvents, in
    avc_companions.py).
    Records are handed out in log order; those that may still gain records
    of their event from the next block wait (``held``).

    ``hold_partial`` (a run with a checkpoint): a last line without its
    newline in the last file - the live log, the only one auditd may be
    writing - is left for the next run; in a rotated file it is read.

    ``on_open`` (None, or a function of the path; for tests) is called
    right after each file is opened, before it is read.

    Its state between runs (``state``/``restore``) is what an incremental
    run needs besides the serial tracker's: the records scanned but not
    handed out yet, the last records (for AVC events and overlapping rotated
    files), the parse errors and the time span read so far.
    """

    on_open = None

    def __init__(self, stats, tracker=None, keep_raw=False, hold_partial=False):
        BlockScanner.__init__(self, stats, keep_raw)
        AvcEvents.__init__(self)
        self.tracker = tracker if tracker is not None else SerialTracker()
        self.hold_partial = hold_partial
        self.started = False
        self.ordinal = 0         # records scanned so far: the number of the next one
        self.recent = deque()    # the last blocks (Block), covering at least OVERLAP records ...
        self.recent_count = 0    # ... this many
        self.held = []           # (record number, 0 marker / 1 record, Record) scanned, not handed out yet
        self.tail_keys = []      # restored: keys of the last records of the current file from earlier runs
        # times of the first and last record of the files earlier runs read: those they finished
        # (earliest first, latest last) and the one the checkpoint was written in
        self.earlier = None
        self.resumed = None

    def _follow(self, blk, skip, source):
        """Follow the serials of ``blk`` per node (``skip``: records without a kernel serial); the resets, in order."""
        count = len(blk)
        found = blk.found
        if blk.node is not None:
            named = None
            order = [node_name(blk.node)]
        else:
            names = dict((group, node_name(group)) for group in set(map(NODE_OF, found)))
            named = list(map(names.__getitem__, map(NODE_OF, found)))
            order = list(OrderedDict.fromkeys(named))
        resets = []
        for name in order:
            if named is None:
                index = None if not skip else [k for k in range(count) if k not in skip]
            else:
                index = list(compress(range(count), map(operator.eq, named, repeat(name))))
                if skip:
                    index = [k for k in index if k not in skip]
            if index is None:
                digits = blk.digits

                def stamp_of(j):
                    return stamp_parts(found[j][2])
                line_of = blk.line_of
            else:
                if not index:
                    continue
                digits = list(map(blk.digits.__getitem__, index))

                def stamp_of(j, index=index):
                    return stamp_parts(found[index[j]][2])

                def line_of(j, index=index):
                    return blk.line_of(index[j])
            for j, previous in self.tracker.follow_digits(name, digits, stamp_of, source, line_of):
                resets.append((j if index is None else index[j], name, previous))
        resets.sort(key=operator.itemgetter(0))
        return resets

    def _take(self, blk, source):
        """Serials, wanted records and AVC events of a scanned block; yields the records that are complete."""
        count = len(blk)
        base = blk.base = self.ordinal
        self.ordinal += count
        if not count:
            return
        if self.open:
            self._complete(blk)
        codes = blk.codes
        at = self._codes(blk)
        skip = [k for k in at if not codes[k] & SERIAL]
        items = []
        before = None
        if any(codes[k] & PREVIOUS for k in at):
            # where each node stood before this block (for a record whose previous one is in an earlier block)
            before = dict((node, self.tracker.last(node)) for node in set(map(node_name, map(NODE_OF, blk.found))))
        for k, node, previous in self._follow(blk, set(skip), source):
            sec, ms = stamp_parts(blk.found[k][2])
            marker = Record(node, SERIAL_RESET, sec, ms, int(blk.digits[k]), "", None, source, blk.line_of(k), None)
            marker.previous = previous
            items.append((base + k, 0, marker))
        markers = bool(items)
        found = blk.found
        lines = blk.lines
        first_line = blk.first_line + 1
        read_line = self._read_line
        for k in at:
            if not codes[k] & WANT:
                continue
            node, text = found[k][:2]
            if text is PICKED:
                record = blk.picked[k]
            else:
                record = read_line((node + b" type=" if node else b"type=") + text, source,
                                   first_line + k if lines is None else lines[k])
                if record is None:
                    continue
            if record.type == "AVC":
                self._companions(blk, k, record)
            elif codes[k] & PREVIOUS:
                record.previous = previous_record(blk, k, before)
            items.append((base + k, 1, record))
        if items:
            if markers:
                items.sort(key=_ITEM_ORDER)
            self.held.extend(items)
        recent = self.recent
        recent.append(blk)
        self.recent_count += count
        # a block stays while the newer ones hold fewer than OVERLAP records, and until two newer ones
        # are read (the AVC events of a block are then handed out: few still wait in the grouper)
        while len(recent) > 2 and self.recent_count - len(recent[0]) >= OVERLAP:
            old = recent.popleft()
            self.recent_count -= len(old)
            self._forget(old)
        yield from self._ready()

    def _ready(self):
        """The held records that no open AVC event precedes."""
        held = self.held
        if not held:
            return ()
        if not self.open:
            self.held = []
            return [item[2] for item in held]
        cut = min(entry[0] for entry in self.open)
        at = 0
        while at < len(held) and held[at][0] < cut:
            at += 1
        ready = held[:at]
        del held[:at]
        return [item[2] for item in ready]

    # ------------------------------------------------------------------ files
    def next_file(self):
        """Records at the start of the next file that repeat the end of this one are dropped as duplicates."""
        keys = self.file_keys()
        self.dup_keys = frozenset(keys)
        self.dup_left = len(keys)
        self.file_no += 1
        self.tail_keys = []

    def file_keys(self):
        """Keys of the last OVERLAP records of the current file (also of those read by earlier runs)."""
        keys = []
        need = OVERLAP
        for old in reversed(self.recent):
            if old.file_no != self.file_no or need <= 0:
                break
            take = min(len(old), need)
            keys[:0] = line_keys(old.texts_from(len(old) - take))
            need -= take
        if need > 0:
            keys[:0] = self.tail_keys[-need:] if need < len(self.tail_keys) else self.tail_keys
        return keys

    def records(self, paths, resume_at=None, before_flush=None):
        """Yield the records of ``paths`` that the session engine needs, in log order.

        ``resume_at``: ``(offset, lines)`` already read of ``paths[0]`` (an
        incremental run: where its checkpoint left off; the only position the
        reader is given - a time window does not change what is read).  Every record is counted per source and observed
        by the serial tracker (gaps and reboots); where the event serial
        restarts, a marker record of type SERIAL_RESET is yielded first (its
        ``previous`` is ``(SECONDS, MILLIS, serial)`` of the last record
        before).  AVC records carry the other records of their event
        (``companions``).  Lines that are not records are counted and
        sampled.  A compressed file that ends early is read up to the damage
        and reported.  ``before_flush`` is called when everything is read,
        before the records still held back are yielded: what ``state()``
        returns then is where the next run goes on.
        """
        # A rotation while we read renames the files (the oldest over, with
        # num_logs).  Each file is known by its inode from the start; the
        # oldest not read yet (MAX_OPEN_FILES - 1 of them) and the live log are
        # kept open, so that what a rotation renames over is still read, and
        # a file opened later that a rotation renamed is found by its inode.
        listed = []
        for path in paths:
            check_readable(path)
            try:
                listed.append(file_id(os.stat(path)))
            except OSError as exc:
                raise LogAccessError(path, exc.strerror or str(exc))
        handles = {}
        ahead = min(MAX_OPEN_FILES - 1, len(paths) - 1)
        try:
            for index in list(range(ahead)) + [len(paths) - 1]:
                self._open(handles, paths, listed, index)
            yield from self._read_files(paths, resume_at, handles, listed, ahead)
        finally:
            for handle in handles.values():
                if handle is not None:
                    handle[0].close()
        if before_flush is not None:
            before_flush()
        yield from self.flush()

    def _open(self, handles, paths, listed, index):
        """Open file ``index`` of ``paths`` (None in ``handles`` when it is gone); LogAccessError when it cannot
        be read."""
        path = paths[index]
        try:
            handle, compressed = open_listed(path, listed[index])
        except FileGone:
            handles[index] = None
            return
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise LogAccessError(path, "permission denied", permission=True)
            raise LogAccessError(path, exc.strerror or str(exc))
        handles[index] = (handle, compressed, file_identity(handle, compressed))
        if self.on_open is not None:
            self.on_open(path)

    def _read_files(self, paths, resume_at, handles, listed, ahead):
        """The records of every file, in order (``records``); a file is closed when it is read and the next
        one not open yet is opened."""
        stats = self.stats
        for index, path in enumerate(paths):
            if index not in handles:
                self._open(handles, paths, listed, index)
            # the file before is closed: the next one not open yet takes its place
            later = index + ahead - 1
            if index < later < len(paths) - 1 and later not in handles:
                self._open(handles, paths, listed, later)
            opened = handles[index]
            if opened is None:
                del handles[index]
                stats.sources.append({"path": path, "bytes": 0, "uncompressed_bytes": 0, "records": 0,
                                      "compressed": False, "first_epoch": None, "last_epoch": None,
                                      "start_offset": 0, "start_line": 0, "end_offset": 0, "end_line": 0,
                                      "duplicates": 0, "identity": None})
                stats.parse_error(path, None, "file no longer exists (a rotation renamed it away during the "
                                  "read): not read", "")
                continue
            handle, compressed, identity = opened
            offset, lineno = (resume_at if index == 0 and resume_at else (0, 0))
            if self.started and not offset:
                self.next_file()
            self.started = True
            self.path = path
            dups_before = self.dup_count
            source = {"path": path, "bytes": 0, "records": 0, "compressed": compressed,
                      "first_epoch": None, "last_epoch": None, "start_offset": offset, "start_line": lineno,
                      "identity": identity, "file_bytes": os.fstat(handle.fileno()).st_size}
            stats.sources.append(source)
            number = len(stats.sources) - 1
            nbytes = offset
            count = 0
            first = last = None
            try:
                with handle:
                    if offset:
                        skip_to(handle, offset)
                    # only the live log (the last file) can be in the middle of a write
                    for buf in chunks(handle, self.hold_partial and index == len(paths) - 1):
                        if buf.__class__ is LongLine:
                            nbytes += buf.size
                            lineno += 1
                            stats.parse_error(path, lineno, "line longer than %d bytes (%d bytes): not read"
                                              % (MAX_LINE, buf.size), buf.head.decode("utf-8", "replace"))
                            continue
                        nbytes += len(buf) - 1
                        blk = self._scan(buf, number, lineno)
                        lineno += blk.nlines
                        if blk.digits:
                            count += len(blk)
                            if first is None:
                                first = stamp_epoch(blk.found[0][2])
                            last = stamp_epoch(blk.found[-1][2])
                        yield from self._take(blk, number)
            except DamagedFile as exc:
                stats.parse_error(path, lineno + 1, "compressed file ends early or is damaged (%s): "
                                  "every record before the damage was read" % exc, "")
            except PartialLine as exc:
                stats.parse_error(path, lineno + 1, "last line is cut (no newline, record not closed: the file "
                                  "was being written): not read", exc.text.decode("utf-8", "replace"))
            except (IOError, OSError) as exc:
                stats.parse_error(path, lineno + 1, "read error: %s" % exc, "")
            finally:
                source["bytes"] = (nbytes - offset) if not compressed else source["file_bytes"]
                source["uncompressed_bytes"] = nbytes - offset
                source["end_offset"] = nbytes
                source["end_line"] = lineno
                source["records"] = count
                source["duplicates"] = self.dup_count - dups_before
                source["first_epoch"] = first
                source["last_epoch"] = last
                del handles[index]

    def spans(self):
        """``[earlier, last]``: (first, last) record times of the files finished before the last one, and of it.

        As a full read sees them: each file's first and last record in log
        order (the file a checkpoint was written in is one file across runs).
        """
        spans = [[source["first_epoch"], source["last_epoch"]] for source in self.stats.sources]
        if self.resumed is not None and spans:
            first, last = spans[0]
            spans[0] = [self.resumed[0] if self.resumed[0] is not None else first,
                        last if last is not None else self.resumed[1]]
        if self.earlier is not None:
            spans.insert(0, self.earlier)
        done = [span for span in spans[:-1] if span[0] is not None]
        earlier = [min(span[0] for span in done), max(span[1] for span in done)] if done else None
        return [earlier, spans[-1] if spans else None]

    def span(self):
        """(first, last) record time over every file read, also by earlier runs (None, None without records)."""
        spans = [span for span in self.spans() if span is not None and span[0] is not None]
        if not spans:
            return None, None
        return min(span[0] for span in spans), max(span[1] for span in spans)

    def flush(self):
        """Everything held back (the end of the logs: no more records can join an AVC event)."""
        self.open = []
        held, self.held = self.held, []
        return [item[2] for item in held]

    # ------------------------------------------------------------------ between runs
    def state(self):
        """What the next run needs to go on as if it had read everything in one go (reader_state.py)."""
        return reader_state(self)

    def restore(self, state):
        restore_reader(self, state)


_ITEM_ORDER = operator.itemgetter(0, 1)


def iter_records(paths, stats, keep_raw=False, tracker=None):
    """The records of ``paths`` the engine needs; see LogReader.records."""
    return LogReader(stats, tracker, keep_raw).records(paths)
