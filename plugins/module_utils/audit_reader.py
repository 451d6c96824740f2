# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes -> records: which files to read, in which order, and how.

Standard library only, Python 3.6+.  Files are streamed line by line;
nothing but counters and a bounded list of samples is kept, so memory does
not grow with the log.  Lines that are not audit records are counted and
sampled (file, line number, reason), never fatal.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import bisect
import errno
import hashlib
import os
import re
import stat
import zlib

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import (
    ParseError,
    Record,
    parse_line,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_serials import RESET_TOLERANCE, SerialTracker
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import NotRegularFile, read_regular

AUDITD_CONF = "/etc/audit/auditd.conf"
DEFAULT_LOG_FILE = "/var/log/audit/audit.log"
GZIP_MAGIC = b"\x1f\x8b"
MAX_SAMPLES = 20
# auditd.conf is about 1 KiB
AUDITD_CONF_LIMIT = 1024 * 1024
MAX_SAMPLE_TEXT = 200


# The shape of LogReader.state() in a checkpoint (module_utils/state_shape.py)
STATE_SHAPE = {"avc_keys": [list], "tail": [str]}


class LogAccessError(Exception):
    """A log that cannot be read.  ``str()`` is a message for the user."""

    def __init__(self, path, reason, permission=False):
        self.path = path
        self.reason = reason
        self.permission = permission
        msg = "cannot read audit log %s: %s" % (path, reason)
        if permission:
            msg += " (the audit logs are readable by root only: run the task with become: true)"
        super(LogAccessError, self).__init__(msg)


def auditd_log_file(conf_path=AUDITD_CONF):
    """The ``log_file`` setting of auditd.conf, or the default path.

    An auditd.conf that does not exist or cannot be read means auditd's
    default; one that is not a regular file (a FIFO would block, a device
    never end) or is larger than AUDITD_CONF_LIMIT is a ValueError.
    """
    try:
        data, dummy = read_regular(conf_path, AUDITD_CONF_LIMIT)
    except NotRegularFile as exc:
        raise ValueError("auditd_conf: %s" % exc)
    except (IOError, OSError):
        return DEFAULT_LOG_FILE
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() == "log_file" and value.strip():
            return value.strip()
    return DEFAULT_LOG_FILE


_ROTATED = re.compile(r"^\.(\d+)(\.gz)?$")
# auditd keeps at most num_logs = 999 files: the live log and log_file.1 .. log_file.998
MAX_ROTATION = 999
MAX_LISTED = 20


def _ranges(numbers):
    """[3, 4, 5, 7] -> [(3, 5), (7, 7)]"""
    out = []
    for number in sorted(numbers):
        if out and number == out[-1][1] + 1:
            out[-1] = (out[-1][0], number)
        else:
            out.append((number, number))
    return out


def default_log_set(log_file):
    """The live log and its rotated siblings, oldest first.

    Returns ``(paths, missing, skipped)``: ``paths`` is ``[log.N, ...,
    log.1, log]`` (``log.N.gz`` where that is what exists); ``missing``
    names the rotation numbers between 1 and the highest present that have
    no file, a run of them as one ``log.{3..7}``; ``skipped`` is
    ``{"count": N, "paths": [...]}`` of files that look like rotations but
    carry a number auditd never writes (above MAX_ROTATION, e.g. a date):
    they are not read, and at most MAX_LISTED are named.
    """
    directory = os.path.dirname(log_file) or "."
    base = os.path.basename(log_file)
    found = {}
    skipped = []
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    for name in names:
        if not name.startswith(base):
            continue
        m = _ROTATED.match(name[len(base):])
        if not m:
            continue
        num = int(m.group(1))
        if not 1 <= num <= MAX_ROTATION or m.group(1).startswith("0"):
            skipped.append(os.path.join(directory, name))
        elif num not in found or not m.group(2):
            # prefer the plain file when both audit.log.2 and audit.log.2.gz exist
            found[num] = os.path.join(directory, name)
    missing = []
    if found:
        for low, high in _ranges(set(range(1, max(found) + 1)) - set(found)):
            missing.append("%s.%d" % (log_file, low) if low == high else "%s.{%d..%d}" % (log_file, low, high))
    paths = [found[n] for n in sorted(found, reverse=True)]
    paths.append(log_file)
    return paths, missing, {"count": len(skipped), "paths": sorted(skipped)[:MAX_LISTED]}


def check_readable(path):
    """Raise LogAccessError unless ``path`` is a readable regular file."""
    try:
        if os.path.isdir(path):
            raise LogAccessError(path, "is a directory, not a log file")
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
            raise LogAccessError(path, "is not a regular file (a pipe, socket or device would block or never end)")
        with open(path, "rb"):
            pass
    except LogAccessError:
        raise
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise LogAccessError(path, "permission denied", permission=True)
        if exc.errno == errno.ENOENT:
            raise LogAccessError(path, "no such file")
        raise LogAccessError(path, exc.strerror or str(exc))


class _GzipReader(object):
    """Streaming gunzip that hands out everything decompressed before damage.

    ``gzip.GzipFile.read`` raises on a truncated file and drops what the
    failing call had decompressed; this reader returns all of it first and
    raises EOFError (or zlib.error) on the next read.  Concatenated gzip
    members are read one after the other.
    """

    def __init__(self, path):
        self.raw = open(path, "rb")
        self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.buf = b""
        self.done = False
        self.error = None

    def _fill(self, need):
        while len(self.buf) < need and not self.done:
            data = self.raw.read(1 << 16)
            if not data:
                if not self.inflate.eof:
                    self.error = EOFError("compressed file ended before the end-of-stream marker was reached")
                self.done = True
                break
            try:
                while data:
                    if self.inflate.eof:
                        self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
                    self.buf += self.inflate.decompress(data)
                    data = self.inflate.unused_data if self.inflate.eof else b""
            except zlib.error as exc:
                self.error = exc
                self.done = True

    def _take(self, size):
        out, self.buf = self.buf[:size], self.buf[size:]
        if not out and self.error is not None:
            error, self.error = self.error, None
            raise error
        return out

    def read(self, size=-1):
        if size is None or size < 0:
            self._fill(float("inf"))
            return self._take(len(self.buf))
        self._fill(size)
        return self._take(size)

    def close(self):
        self.raw.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def open_log(path):
    """Open a log for binary reading, transparently gunzipping (detected by content)."""
    raw = open(path, "rb")
    head = raw.read(2)
    if head == GZIP_MAGIC:
        raw.close()
        return _GzipReader(path), True
    raw.seek(0)
    return raw, False


class ReadStats(object):
    """What was read: per source, and the lines that were not records."""

    def __init__(self):
        self.sources = []
        self.parse_error_count = 0
        self.parse_error_samples = []
        self.truncated = []

    def parse_error(self, path, line, reason, text):
        self.parse_error_count += 1
        if len(self.parse_error_samples) < MAX_SAMPLES:
            self.parse_error_samples.append({
                "path": path,
                "line": line,
                "reason": reason,
                "text": text[:MAX_SAMPLE_TEXT],
            })

    def parse_errors(self):
        return {"count": self.parse_error_count, "samples": list(self.parse_error_samples)}


def _decode(raw_line):
    if raw_line.endswith(b"\n"):
        raw_line = raw_line[:-1]
    if raw_line.endswith(b"\r"):
        raw_line = raw_line[:-1]
    return raw_line.decode("utf-8", "replace")


# Record types the session engine reads; every other record only counts for
# serial tracking (and for the AVC it belongs to, see COMPANIONS).
WANTED = frozenset((
    "VIRT_CONTROL", "VIRT_RESOURCE", "VIRT_MACHINE_ID",
    "AVC", "SYSTEM_BOOT", "SYSTEM_SHUTDOWN",
    "DAEMON_START", "DAEMON_END", "DAEMON_ABORT",
))
NOT_SERIAL = frozenset(("DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "DAEMON_CONFIG", "DAEMON_RECONFIG",
                        "DAEMON_ROTATE", "DAEMON_RESUME", "DAEMON_ACCEPT", "DAEMON_CLOSE", "DAEMON_ERR"))
RECENT_AVCS = 16
OVERLAP = 4096  # rotated files that overlap repeat at most this many records
CHUNK = 1 << 20
SERIAL_RESET = "_SERIAL_RESET"
SKIM_MARGIN = 300  # records may be this many seconds out of order


def line_key(line):
    """What identifies a line when rotated files overlap: a digest of its bytes.

    Two records of one event share type, time and serial (PATH item=0 and
    item=1), so only the whole line tells a repeated record from the next one.
    """
    if isinstance(line, str):
        line = line.encode("utf-8", "surrogateescape")
    return line_keys([line])[0]


def line_keys(lines):
    """``line_key`` of each of ``lines`` (bytes), in one pass: the tail of every file is digested this way."""
    sha1 = hashlib.sha1
    return [sha1(line.rstrip(b"\r")).hexdigest()[:24] for line in lines]


def wanted(rtype):
    return rtype in WANTED or rtype.startswith("ANOM_") or rtype.startswith("UNKNOWN[")


# per record type: bit 1 = the engine wants it, bit 2 = it carries a kernel serial
WANT = 1
SERIAL = 2


def type_code(rtype):
    return (WANT if wanted(rtype) else 0) | (0 if rtype in NOT_SERIAL else SERIAL)


class _Scan(object):
    """State of one pass over the sources: serials, recent AVC keys, stats."""

    def __init__(self, stats, tracker, keep_raw):
        self.stats = stats
        self.tracker = tracker
        self.keep_raw = keep_raw
        self.avc_keys = []
        self.avc_carry = []     # keys of AVCs near the end of the last block (their records may follow)
        self.codes = {}
        self.tail = []          # keys of the last records of the file being read
        self.tail_block = None  # or the last block, when it was read in bulk
        self.duplicates = set()  # keys of the previous file's tail, while the next one starts
        self.dup_left = 0       # how many lines of the new file are still checked against them
        self.dup_count = 0
        self.path = None

    def next_file(self):
        """Records at the start of the next file that repeat the tail of this one are duplicates."""
        if self.tail_block is not None:
            buf = self.tail_block
            start = len(buf) - 1
            for dummy in range(OVERLAP):
                start = buf.rfind(b"\n", 0, start)
                if start <= 0:
                    start = 0
                    break
            keys = line_keys([line for line in buf[start:].split(b"\n") if line])
            self.tail = (self.tail + keys)[-OVERLAP:]
            self.tail_block = None
        self.duplicates = set(self.tail)
        self.dup_left = len(self.tail)
        self.tail = []

    def remember(self, keys):
        """Keys of the last records read line by line."""
        self.tail_block = None
        self.tail = (self.tail + keys)[-OVERLAP:]

    def remember_block(self, buf):
        """The last block read in bulk: its keys are computed only if another file follows."""
        self.tail = []
        self.tail_block = buf

    def duplicate(self, key):
        """Whether ``key`` repeats a record of the previous file (checks the first OVERLAP lines)."""
        self.dup_left -= 1
        if key in self.duplicates:
            self.dup_count += 1
            return True
        return False

    def code(self, rtype):
        code = self.codes.get(rtype)
        if code is None:
            code = self.codes[rtype] = type_code(rtype)
        return code

    def take(self, code, rtype, node, sec, ms, serial):
        """Whether the engine needs this record (wanted, or part of a recent AVC event)."""
        if code & WANT:
            if rtype == "AVC":
                self.avc_keys.append((node, sec, ms, serial))
                if len(self.avc_keys) > RECENT_AVCS:
                    self.avc_keys.pop(0)
            return True
        return bool(self.avc_keys) and (node, sec, ms, serial) in self.avc_keys

    @staticmethod
    def marker(node, sec, ms, serial, source, line, previous):
        record = Record(node, SERIAL_RESET, sec, ms, serial, "", None, source, line, None)
        record.previous = previous
        return record


def _slow_lines(block, scan, path, source, first_line, counter):
    """Line by line: blocks with odd lines (blank, broken, NUL bytes, several nodes, a file's overlap)."""
    lineno = first_line
    tracker = scan.tracker
    keys = []
    raw_lines = block.split(b"\n")[:-1]
    recent = []  # (key, record) of the last records not wanted: an AVC may come after its SYSCALL
    for raw in raw_lines:
        lineno += 1
        piece = raw.decode("utf-8", "replace")
        if piece.endswith("\r"):
            piece = piece[:-1]
        if "\x00" in piece:
            scan.stats.parse_error(path, lineno, "NUL byte in line", piece.replace("\x00", "\\0"))
            continue
        try:
            record = parse_line(piece, source, lineno, scan.keep_raw)
        except ParseError as exc:
            if piece.strip():
                scan.stats.parse_error(path, lineno, str(exc), piece)
            continue
        key = line_key(raw)
        if scan.dup_left > 0 and scan.duplicate(key):
            continue
        keys.append(key)
        counter.append(record.epoch)
        code = scan.code(record.type)
        if code & SERIAL:
            previous = tracker.observe(record.node, record.sec, record.ms, record.serial, source, lineno)
            if previous is not None:
                yield scan.marker(record.node, record.sec, record.ms, record.serial, source, lineno, previous)
        event_key = (record.node, record.sec, record.ms, record.serial)
        if scan.take(code, record.type, record.node, record.sec, record.ms, record.serial):
            yield record
            if record.type == "AVC":
                for before_key, before in recent:
                    if before_key == event_key:
                        yield before
        else:
            recent.append((event_key, record))
            if len(recent) > RECENT_AVCS:
                recent.pop(0)
    scan.remember(keys[-OVERLAP:])
    scan.avc_carry = list(scan.avc_keys)


_SERIALS = re.compile(rb"\ntype=[A-Z0-9_]+ msg=audit\(\d{1,10}\.\d{3}:(\d+)\):")
_STAMPS = re.compile(rb"\ntype=[A-Z0-9_]+ msg=audit\((\d{1,10})\.(\d{3}):")
_WANTED_LINE = re.compile(rb"\ntype=(?:VIRT_|AVC |ANOM_|SYSTEM_|DAEMON_|UNKNOWN\[)")
_STAMP = re.compile(rb"msg=audit\((\d+)\.(\d{3}):(\d+)\):")
COMPANION_SPAN = 1 << 16  # records of one event lie within this many bytes


def _typed_lines(buf):
    """``([(line index, start, end)], lines)``: the lines the engine wants by record type, and the block's line count.

    ``buf`` is a block with a leading newline.  The newlines are counted
    between the matches, so the block is counted once.
    """
    found = []
    position, index = 0, -1
    count = buf.count
    find = buf.find
    for match in _WANTED_LINE.finditer(buf):
        start = match.start() + 1
        index += count(b"\n", position, start)
        position = start
        found.append((index, start, find(b"\n", start)))
    return found, index + count(b"\n", position)


def _with_companions(buf, scan, found):
    """``found`` plus the other records (SYSCALL, PATH, ...) of AVC events, in order.

    Those of the AVCs in this block are looked for around them; those of the
    AVCs at the end of the last block (``scan.avc_carry``) at this block's
    start.
    """
    needles = [(("msg=audit(%s.%s:%d):" % key[1:]).encode("ascii"), 0, COMPANION_SPAN) for key in scan.avc_carry]
    for index, start, end in found:
        if buf.startswith(b"type=AVC ", start):
            stamp = _STAMP.search(buf, start, end)
            if stamp is not None:
                needles.append((stamp.group(0), max(0, start - COMPANION_SPAN), start + COMPANION_SPAN))
    if not needles:
        return found
    starts = [start for index, start, end in found]
    known = set(starts)
    extra = []
    for needle, origin, limit in needles:
        limit = min(len(buf), limit)
        at = buf.find(needle, origin, limit)
        while at >= 0:
            start = buf.rfind(b"\n", 0, at) + 1
            if start not in known:
                known.add(start)
                extra.append(start)
            at = buf.find(needle, at + 1, limit)
    if not extra:
        return found
    found = list(found)
    for start in extra:
        k = bisect.bisect_right(starts, start) - 1
        if k >= 0:
            index = found[k][0] + buf.count(b"\n", starts[k], start)
        else:
            index = buf.count(b"\n", 0, start) - 1
        found.append((index, start, buf.find(b"\n", start)))
    found.sort()
    return found


def _fast_block(buf, digits, typed, scan, source, first_line, counter):
    """A block whose every line (no node= prefixes) is a record header.

    ``buf`` is the block's bytes with a leading newline, ``digits`` the
    event serial of every line (bytes), ``typed`` its lines wanted by record
    type (``_typed_lines``).  Serials are followed in bulk; only the lines
    the engine wants are decoded and parsed.
    """
    count = len(digits)
    wanted_at = _with_companions(buf, scan, typed)
    skip = set(index for index, start, end in typed if buf.startswith(b"type=DAEMON_", start))
    stamps = []

    def stamp_of(line_index):
        if line_index == count - 1 and not stamps:
            match = _STAMP.search(buf, buf.rfind(b"\n", 0, len(buf) - 1))
            return match.group(1).decode("ascii"), match.group(2).decode("ascii")
        if not stamps:
            stamps.extend(_STAMPS.findall(buf))
        sec, ms = stamps[line_index]
        return sec.decode("ascii"), ms.decode("ascii")

    markers, serials = scan.tracker.follow_digits(None, digits, skip, stamp_of, source, first_line)
    markers.sort()
    keep_raw = scan.keep_raw
    parsed = []
    carry = []  # AVCs whose other records may lie in the next block
    edge = len(buf) - COMPANION_SPAN
    for index, start, end in wanted_at:
        piece = buf[start:end].decode("utf-8", "replace")
        if piece.endswith("\r"):
            piece = piece[:-1]
        try:
            record = parse_line(piece, source, first_line + index + 1, keep_raw)
        except ParseError as exc:
            scan.stats.parse_error(scan.path, first_line + index + 1, str(exc), piece)
            continue
        parsed.append((index, record))
        if record.type == "AVC":  # registered first: its SYSCALL may come before it
            key = (None, record.sec, record.ms, record.serial)
            scan.avc_keys.append(key)
            if len(scan.avc_keys) > RECENT_AVCS:
                scan.avc_keys.pop(0)
            if start >= edge:
                carry.append(key)
    scan.avc_carry = carry[-RECENT_AVCS:]
    for index, record in parsed:
        while markers and markers[0][0] <= index:
            at, previous = markers.pop(0)
            sec, ms = stamp_of(at)
            yield scan.marker(None, sec, ms, serials[at], source, first_line + at + 1, previous)
        if scan.code(record.type) & WANT or (None, record.sec, record.ms, record.serial) in scan.avc_keys:
            yield record
    for at, previous in markers:
        sec, ms = stamp_of(at)
        yield scan.marker(None, sec, ms, serials[at], source, first_line + at + 1, previous)
    first = _STAMP.search(buf)
    last = _STAMP.search(buf, buf.rfind(b"\n", 0, len(buf) - 1))
    counter.append(int(first.group(1)) + int(first.group(2)) / 1000.0)
    counter.append(int(last.group(1)) + int(last.group(2)) / 1000.0)


class _Damaged(Exception):
    """A compressed file that ends early: everything before the damage was read."""


class _Partial(Exception):
    """The last line has no newline (the file was being written); it was not read."""

    def __init__(self, text):
        super(_Partial, self).__init__(text)
        self.text = text


_ENRICHED_END = re.compile(rb'[A-Z0-9_]+=(?:"[^"]*"|[^\s"=]+)$')


def _usable_part(line):
    """What of a last line without newline can be read as a whole record, or None.

    A userspace record (``msg='...'``, all libvirt records) must end with its
    closing quote; a copy taken while auditd writes cuts it anywhere.  When
    only the ENRICHED interpretations are cut (an open quote or a bare key),
    the record is read without them.
    """
    line = line.rstrip(b"\r")
    main, sep, enriched = line.partition(b"\x1d")
    if b" msg='" in main and not main.endswith(b"'"):
        return None
    if sep and main.strip() and (enriched.count(b'"') % 2 or _ENRICHED_END.search(enriched) is None):
        return main
    return line


def _read(handle, size):
    try:
        return handle.read(size), None
    except (EOFError, zlib.error) as exc:
        return b"", exc


def _chunks(handle, hold_partial=False):
    """Blocks of whole lines, each with a newline in front (the scanners' patterns start with one).

    A block is read, cut after its last newline and joined with what the
    last one left over (a single copy).  A last line without its newline is
    left for the next run with ``hold_partial``; otherwise it is read when it
    can be a whole record and reported as cut (``_Partial`` after the last
    block) when it cannot.  A compressed file that ends early yields every
    whole line before the damage, then raises ``_Damaged``.
    """
    rest = b""
    while True:
        data, damage = _read(handle, CHUNK)
        cut = data.rfind(b"\n") + 1
        if cut:
            yield b"".join((b"\n", rest, memoryview(data)[:cut]))
            rest = data[cut:]
        elif data:
            rest += data
        if damage is not None:
            raise _Damaged(damage)
        if not data:
            break
    if rest and not hold_partial:
        usable = _usable_part(rest)
        if usable is not None:
            yield b"\n" + usable + b"\n"
            return
        raise _Partial(rest)


def _skip(handle, offset):
    """Move ``handle`` to ``offset`` (uncompressed bytes)."""
    try:
        handle.seek(offset)
    except (AttributeError, IOError, OSError, ValueError):
        left = offset
        while left > 0:
            data = handle.read(min(left, CHUNK))
            if not data:
                break
            left -= len(data)


class LogReader(object):
    """Reads log files into the records the engine needs (see ``records``).

    Its state between runs (``state``/``restore``) is what an incremental
    run needs besides the serial tracker's: the keys of recent AVC events and
    of the last records read (for overlapping rotated files).
    """

    def __init__(self, stats, tracker=None, keep_raw=False, hold_partial=False, skim_before=None):
        self.stats = stats
        self.skim_before = skim_before
        self._skimmed = ()
        self.tracker = tracker if tracker is not None else SerialTracker()
        self.scan = _Scan(stats, self.tracker, keep_raw)
        self.hold_partial = hold_partial
        self.started = False

    def _skim(self, buf, typed, scan, times, source, first_line):
        """Read a block that lies wholly before ``skim_before`` cheaply.

        Only the lines the engine wants are parsed; the serials of the others
        are not followed one by one (no gap accounting before the window),
        only checked at the block's ends for a restart - a block where the
        counter may have restarted is read in full.  True when skimmed.
        """
        last_line = buf.rfind(b"\n", 0, len(buf) - 1)
        head = _STAMP.search(buf, 0, buf.find(b"\n", 1))
        tail = _STAMP.search(buf, last_line)
        if head is None or tail is None:
            return False
        last_epoch = int(tail.group(1)) + int(tail.group(2)) / 1000.0
        if last_epoch >= self.skim_before - SKIM_MARGIN:
            return False
        first_serial, last_serial = int(head.group(3)), int(tail.group(3))
        if b"type=DAEMON_" in buf[:200] or buf.startswith(b"type=DAEMON_", last_line + 1):
            return False
        state = self.tracker.state(None)
        if last_serial < first_serial or (state is not None and first_serial < state[0] - RESET_TOLERANCE):
            return False
        records = []
        for index, start, end in _with_companions(buf, scan, typed):
            piece = buf[start:end].decode("utf-8", "replace")
            if piece.endswith("\r"):
                piece = piece[:-1]
            record = parse_line(piece, source, first_line + index + 1, scan.keep_raw)
            if record.type == "AVC":
                scan.avc_keys.append((None, record.sec, record.ms, record.serial))
                if len(scan.avc_keys) > RECENT_AVCS:
                    scan.avc_keys.pop(0)
            if scan.code(record.type) & WANT or (None, record.sec, record.ms, record.serial) in scan.avc_keys:
                records.append(record)
        sec, ms = tail.group(1).decode("ascii"), tail.group(2).decode("ascii")
        if state is None:
            state = self.tracker.begin(None, head.group(1).decode("ascii"), head.group(2).decode("ascii"), first_serial)
        state[0] = max(state[0], last_serial)
        state[1], state[2], state[3] = sec, ms, last_serial
        scan.remember_block(buf)
        times.append(int(head.group(1)) + int(head.group(2)) / 1000.0)
        times.append(last_epoch)
        scan.avc_carry = list(scan.avc_keys)
        self._skimmed = records
        return True

    def state(self):
        scan = self.scan
        if scan.tail_block is not None:
            scan.next_file()  # turns the last block into keys
            scan.tail = list(scan.duplicates)
            scan.duplicates = set()
            scan.dup_left = 0
        return {"avc_keys": [list(k) for k in scan.avc_keys], "tail": list(scan.tail)}

    def restore(self, state):
        self.scan.avc_keys = [tuple(k) for k in state.get("avc_keys", [])]
        self.scan.avc_carry = list(self.scan.avc_keys)
        self.scan.tail = list(state.get("tail", []))
        self.started = True

    def records(self, paths, start=None):
        """Yield the records of ``paths`` that the session engine needs, in log order.

        ``start``: ``(offset, lines)`` already read of ``paths[0]`` (an
        incremental run).  Every record is counted per source and observed
        by the serial tracker (gaps and reboots); where the event serial
        restarts, a marker record of type SERIAL_RESET is yielded first (its
        ``previous`` is ``(SECONDS, MILLIS, serial)`` of the last record
        before).  Lines that are not records are counted and sampled.  A
        compressed file that ends early is read up to the damage and
        reported.
        """
        scan = self.scan
        stats = self.stats
        # open every file before reading any: a rotation while we read renames
        # them, and the open handles still read the data we were asked for
        handles = []
        try:
            for path in paths:
                check_readable(path)
                handles.append(open_log(path))
        except Exception:
            for handle, dummy in handles:
                handle.close()
            raise
        for index, path in enumerate(paths):
            handle, compressed = handles[index]
            offset, lineno = (start if index == 0 and start else (0, 0))
            if self.started and not offset:
                scan.next_file()
            self.started = True
            scan.path = path
            dups_before = scan.dup_count
            source = {"path": path, "bytes": 0, "records": 0, "compressed": compressed,
                      "first_epoch": None, "last_epoch": None, "start_offset": offset, "start_line": lineno}
            stats.sources.append(source)
            nbytes = offset
            count = 0
            first = last = None
            try:
                with handle:
                    if offset:
                        _skip(handle, offset)
                    for buf in _chunks(handle, self.hold_partial):
                        nbytes += len(buf) - 1
                        times = []
                        lines = None
                        if scan.dup_left <= 0 and b"\x00" not in buf:
                            typed, lines = _typed_lines(buf)
                            if (self.skim_before is not None and b"\nnode=" not in buf
                                    and self._skim(buf, typed, scan, times, len(stats.sources) - 1, lineno)):
                                yield from self._skimmed
                                count += lines
                                lineno += lines
                                first = times[0] if first is None else first
                                last = times[-1]
                                continue
                            digits = _SERIALS.findall(buf)
                            if len(digits) != lines:
                                lines = None
                        if lines is not None:
                            yield from _fast_block(buf, digits, typed, scan, len(stats.sources) - 1, lineno, times)
                            scan.remember_block(buf)
                            count += lines
                        else:
                            block = buf[1:]
                            lines = block.count(b"\n")
                            seen = []
                            yield from _slow_lines(block, scan, path, len(stats.sources) - 1, lineno, seen)
                            count += len(seen)
                            times = seen[:1] + seen[-1:] if seen else []
                        lineno += lines
                        if times:
                            if first is None:
                                first = times[0]
                            last = times[-1]
            except _Damaged as exc:
                stats.parse_error(path, lineno + 1, "compressed file ends early or is damaged (%s): "
                                  "every record before the damage was read" % exc, "")
            except _Partial as exc:
                stats.parse_error(path, lineno + 1, "last line is cut (no newline, record not closed: the file "
                                  "was being written): not read", exc.text.decode("utf-8", "replace"))
            except (IOError, OSError) as exc:
                stats.parse_error(path, lineno + 1, "read error: %s" % exc, "")
            finally:
                source["bytes"] = (nbytes - offset) if not compressed else os.path.getsize(path)
                source["uncompressed_bytes"] = nbytes - offset
                source["end_offset"] = nbytes
                source["end_line"] = lineno
                source["records"] = count
                source["duplicates"] = scan.dup_count - dups_before
                source["first_epoch"] = first
                source["last_epoch"] = last


def iter_records(paths, stats, keep_raw=False, tracker=None):
    """The records of ``paths`` the engine needs; see LogReader.records."""
    return LogReader(stats, tracker, keep_raw).records(paths)
