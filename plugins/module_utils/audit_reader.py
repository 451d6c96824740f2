# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes -> records: which files to read, in which order, and how.

Standard library only, Python 3.6+.  Files are streamed in blocks of
``CHUNK`` bytes; besides a block and the last few, nothing but counters and
a bounded list of samples is kept, so memory does not grow with the log.
Lines that are not audit records are counted and sampled (file, line
number, reason), never fatal.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import bisect
import errno
import hashlib
import operator
import os
import re
import stat
import weakref
import zlib
from collections import OrderedDict, deque
from itertools import compress, repeat

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import (
    DAEMON_TYPES,
    SERIAL_RESET,
    VIRT_TYPES,
    EventId,
    ParseError,
    Record,
    parse_line,
    record_type,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_serials import SerialTracker
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import NotRegularFile, read_regular
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import (
    AtLeast, Between, Maybe, Row,
)

AUDITD_CONF = "/etc/audit/auditd.conf"
DEFAULT_LOG_FILE = "/var/log/audit/audit.log"
GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 4096  # a file is known again by the SHA-256 of its first bytes (file_identity)
MAX_SAMPLES = 20
# auditd.conf is about 1 KiB
AUDITD_CONF_LIMIT = 1024 * 1024
MAX_SAMPLE_TEXT = 200


# The shapes of LogReader.state() and of record_state() in a checkpoint (module_utils/state_shape.py)
_EPOCH = Between(0, 9999999999.999)  # an audit time: at most 10 digits of seconds
_SPAN = Row(Maybe(_EPOCH), Maybe(_EPOCH))
# sources are counted back from the last file read (0, -1, ...)
RECORD_STATE_SHAPE = {"text": str, "source": int, "line": Maybe(AtLeast(0)),
                      "previous": Maybe(Row(str, str, AtLeast(0))),
                      "companions": Maybe([Row(int, AtLeast(0), str)])}
STATE_SHAPE = {
    "tail": [str],
    "recent": [Row(int, AtLeast(0), Maybe(str), str, str, bool, str)],
    "held": [Row(int, RECORD_STATE_SHAPE)],
    "open": [Row(int, int, AtLeast(0))],
    "parse_errors": {"count": AtLeast(0),
                     "samples": [{"path": Maybe(str), "line": Maybe(AtLeast(0)), "reason": str, "text": str}]},
    "span": Row(Maybe(_SPAN), Maybe(_SPAN)),
}


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

    Decompression is bounded by what is read: ``read(size)`` decompresses at
    most ``size`` bytes, whatever the compressed data would give (a 1 MB
    file can hold 1 GB of zeros); the input not used yet waits, compressed.
    """

    def __init__(self, path):
        self.raw = open(path, "rb")
        self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self.pending = b""   # compressed input not decompressed yet
        self.done = False
        self.error = None

    def read(self, size=-1):
        if size is None or size < 0:
            parts = []
            while True:
                part = self.read(CHUNK)
                if not part:
                    return b"".join(parts)
                parts.append(part)
        out = []
        have = 0
        while have < size and not self.done:
            if not self.pending:
                self.pending = self.raw.read(1 << 16)
                if not self.pending:
                    if not self.inflate.eof:
                        self.error = EOFError("compressed file ended before the end-of-stream marker was reached")
                    self.done = True
                    break
            if self.inflate.eof:
                self.inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)  # the next member
            try:
                piece = self.inflate.decompress(self.pending, size - have)
            except zlib.error as exc:
                self.error = exc
                self.done = True
                break
            self.pending = self.inflate.unused_data if self.inflate.eof else self.inflate.unconsumed_tail
            if piece:
                out.append(piece)
                have += len(piece)
        if not out and self.error is not None:
            error, self.error = self.error, None
            raise error
        return b"".join(out)

    def close(self):
        self.raw.close()

    def fileno(self):
        return self.raw.fileno()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def _pread_all(fd, size, offset):
    """Up to ``size`` bytes of ``fd`` from ``offset`` (fewer only at the end of the file); the file's offset
    (where the reader reads) does not move."""
    parts = []
    while size > 0:
        data = os.pread(fd, size, offset)
        if not data:
            break
        parts.append(data)
        size -= len(data)
        offset += len(data)
    return b"".join(parts)


def _gzip_head(fd, size):
    """The first ``size`` uncompressed bytes of the gzip file ``fd`` (fewer when it is shorter or damaged),
    decompressing no more than that."""
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = []
    have = position = 0
    pending = b""
    while have < size:
        if not pending:
            pending = os.pread(fd, 1 << 16, position)
            if not pending:
                break
            position += len(pending)
        try:
            piece = inflate.decompress(pending, size - have)
        except zlib.error:
            break
        out.append(piece)
        have += len(piece)
        if inflate.eof:
            pending = inflate.unused_data
            inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
        else:
            pending = inflate.unconsumed_tail
    return b"".join(out)[:size]


def file_identity(handle, compressed):
    """``{inode, dev, head, head_bytes, size}`` of the open log ``handle`` (from ``open_log``): its inode and
    device, the SHA-256 of its first HEAD_BYTES bytes (uncompressed) and its size (None when compressed).

    Taken from the handle, not from a name: a rotation renames files, and the
    checkpoint must describe the file that was read (checkpoint.plan finds it
    again by these).
    """
    fd = handle.fileno()
    info = os.fstat(fd)
    head = _gzip_head(fd, HEAD_BYTES) if compressed else _pread_all(fd, HEAD_BYTES, 0)
    return {"inode": info.st_ino, "dev": info.st_dev, "head": hashlib.sha256(head).hexdigest(),
            "head_bytes": len(head), "size": None if compressed else info.st_size}


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


# Record types the session engine reads; every other record only counts for
# serial tracking (and for the AVC it belongs to, see COMPANION_WINDOW).
WANTED = frozenset(VIRT_TYPES + (
    "AVC", "SYSTEM_BOOT", "SYSTEM_SHUTDOWN",
    "DAEMON_START", "DAEMON_END", "DAEMON_ABORT",
))
OVERLAP = 4096  # rotated files that overlap repeat at most this many records
CHUNK = 1 << 20
# files open at once: the oldest ones not read yet (a rotation may rename the oldest over) and the live log;
# auditd keeps up to 999 files, more than a process may have open (ulimit -n 1024)
MAX_OPEN_FILES = 32
# a longer line is a parse error, read past without being kept (no audit record comes near:
# the kernel's are at most 8970 bytes, auditd's about as long plus their ENRICHED part)
MAX_LINE = 2 << 20
COMPANION_WINDOW = 64  # the other records of an AVC event lie within this many records of it


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


# What a record type means to the reader: the engine wants it; it carries a
# kernel serial; it may belong to an AVC's event; the engine needs the record
# before it (``Record.previous``: the last record of the old boot before a
# SYSTEM_BOOT, from every record counted, not only those the engine reads).
WANT = 1
SERIAL = 2
COMPANION = 4
PREVIOUS = 8
WITH_PREVIOUS = frozenset(("SYSTEM_BOOT",))


def type_code(rtype):
    """The bits above for a record type as the engine knows it (``record_type``)."""
    code = WANT if wanted(rtype) else 0
    if rtype not in DAEMON_TYPES:
        code |= SERIAL
        if not code & WANT:
            code |= COMPANION
    if rtype in WITH_PREVIOUS:
        code |= PREVIOUS
    return code


# One scan per block finds every record header: the optional node= prefix,
# the type (a line the engine may want is captured whole: every type it
# reads starts with one of these), the time and the serial.  A line the
# pattern does not match is read on its own (``parse_line`` decides).  Every
# line it matches, ``parse_line`` reads with the same node, time and serial.
_HEADERS = re.compile(
    rb"\n(?:type=|(node=[!-~]*) type=)"
    rb"(?:(?=((?:VIRT_|AVC |ANOM_|SYSTEM_|DAEMON_|UNKNOWN\[)[^\n]*))|)"
    rb"[A-Z0-9_\[\]]+ msg=audit\((\d{1,10}\.\d{3}):(\d+)\):")
# Lines the scan does not take.  Those without "msg=audit(" cannot be records (blank lines, other text):
# runs of them are passed in one step, counting the ones that are not blank as parse errors (a compressed
# file of newlines or of junk lines holds a thousand times its size in lines).  Blank: ASCII white space.
_NO_HEADER_LINE = re.compile(rb"\n(?![^\n]*msg=audit\()")
_BLANK_LINE = re.compile(rb"\n[ \t\r\x0b\x0c\x1c-\x1f]*(?=\n)")
_NOT_BLANK = re.compile(rb"[^\n \t\r\x0b\x0c\x1c-\x1f]")
_BLANK_TEXT = re.compile(r"[ \t\r\x0b\x0c\x1c-\x1f]*\Z")
# the other lines the scan does not take (they have "msg=audit("): each is read on its own
_OTHER_LINE = re.compile(rb"\n(?=[^\n]*msg=audit\()"
                         rb"(?!(?:type=|node=[!-~]* type=)[A-Z0-9_\[\]]+ msg=audit\(\d{1,10}\.\d{3}:\d+\):)")


def _stretches(buf):
    """``(start, stop)`` of every run of lines without "msg=audit(" in ``buf`` (a block): the lines that begin
    at the newlines from ``start`` up to (not including) ``stop``."""
    runs = []
    position = 0
    end = len(buf) - 1
    search = _NO_HEADER_LINE.search
    while position < end:
        first = search(buf, position, end)
        if first is None:
            break
        start = first.start()
        header = buf.find(b"msg=audit(", start)
        stop = buf.rfind(b"\n", start, header) if header >= 0 else end
        runs.append((start, stop))
        position = stop
    return runs


_PICKED = b"*"  # stands for the captured line of a record that was read on its own


def _node_name(group):
    """The node of a ``node=NAME`` prefix (None for none or an empty name)."""
    return group[5:].decode("utf-8", "replace") or None


def _stamp(stamp):
    """``(SECONDS, MILLIS)`` of ``b"SECONDS.MILLIS"``."""
    sec, dummy, ms = stamp.decode("utf-8").partition(".")
    return sec, ms


def _epoch(stamp):
    return EventId.time(*_stamp(stamp))


def _line_position(buf, index, anchor_pos, anchor_index):
    """The position of the newline before line ``index`` of ``buf``, walking from the one before line ``anchor_index``."""
    pos = anchor_pos
    find = buf.find
    rfind = buf.rfind
    while anchor_index < index:
        pos = find(b"\n", pos + 1)
        anchor_index += 1
    while anchor_index > index:
        pos = rfind(b"\n", 0, pos)
        anchor_index -= 1
    return pos


def _line_at(buf, index, anchor_pos, anchor_index):
    """Line ``index`` of ``buf`` (bytes, without its newline), walking from the newline before line ``anchor_index``."""
    pos = _line_position(buf, index, anchor_pos, anchor_index)
    return buf[pos + 1:buf.find(b"\n", pos + 1)]


class _Block(object):
    """The records of one block, as the scan found them (kept while later blocks may need their lines).

    ``found``: per record (``node=`` prefix or b"", its whole line from the
    type on when the engine may want it or b"", ``b"SECONDS.MILLIS"``, the
    serial's digits); ``digits``: the serials' digits; ``node``: the prefix
    of every record when they all share one (else None).  ``lines``: the
    line number of each record (None: the block's lines are all records, in
    order).  ``picked``: records read on their own (index -> Record).
    """

    __slots__ = ("buf", "nlines", "first_line", "source", "file_no", "base", "found", "digits", "node",
                 "lines", "picked", "codes", "texts", "sources", "avcs", "anchors")

    def __init__(self, buf, nlines, first_line, source, file_no, found, lines, picked, node=None):
        self.buf = buf
        self.nlines = nlines
        self.first_line = first_line
        self.source = source
        self.file_no = file_no
        self.base = 0
        self.found = found
        self.digits = list(map(_SERIAL_OF, found))
        if node is None and found:
            first = found[0][0]
            if found[-1][0] == first and len(set(map(_NODE_OF, found))) == 1:
                node = first
        self.node = node
        self.lines = lines
        self.picked = picked
        self.codes = {}      # record index -> type code, for the records the engine may want
        self.avcs = []       # the AVC records, in order, and where their lines are (found on demand)
        self.anchors = []
        self.texts = None    # restored from a checkpoint: the lines themselves ...
        self.sources = None  # ... and the source of each

    def __len__(self):
        return len(self.digits)

    def line_of(self, k):
        return self.first_line + k + 1 if self.lines is None else self.lines[k]

    def anchor(self, slot):
        """The position of the newline before the line of the block's AVC number ``slot`` (``avcs``).

        The lines are found in log order, each from the one before: the
        AVC's ``(SECONDS.MILLIS:SERIAL):`` is looked for and the line it is
        in counted (records before it in its event share it).
        """
        anchors = self.anchors
        buf = self.buf
        while len(anchors) <= slot:
            k = self.avcs[len(anchors)]
            index = self.line_of(k) - self.first_line - 1
            if anchors:
                pos, at_index = anchors[-1], self.line_of(self.avcs[len(anchors) - 1]) - self.first_line - 1
            else:
                pos, at_index = 0, 0
            start = -1
            if k not in self.picked:
                needle = b"(" + self.found[k][2] + b":" + self.digits[k] + b"):"
                at = buf.find(needle, pos)
                while at >= 0:
                    start = buf.rfind(b"\n", 0, at)
                    line = at_index + buf.count(b"\n", pos, start)
                    if line >= index:
                        break
                    at = buf.find(needle, at + 1)
                if at < 0 or line != index:
                    start = -1
            if start < 0:  # read on its own (its stamp may not be written as the scan saw it)
                start = _line_position(buf, index, pos, at_index)
            anchors.append(start)
        return anchors[slot]

    def source_of(self, k):
        return self.source if self.sources is None else self.sources[k]

    def whole(self, k):
        """The line of record ``k``, one the scan captured because the engine may want it."""
        node, cand = self.found[k][:2]
        return (node + b" type=" if node else b"type=") + cand

    def text(self, k):
        """The line of record ``k`` (bytes), found from the block's end."""
        if self.texts is not None:
            return self.texts[k]
        return _line_at(self.buf, self.line_of(k) - self.first_line - 1, len(self.buf) - 1, self.nlines)

    def text_near_start(self, k):
        """The line of record ``k`` (bytes), found from the block's start."""
        if self.texts is not None:
            return self.texts[k]
        return _line_at(self.buf, self.line_of(k) - self.first_line - 1, 0, 0)

    def texts_head(self, count):
        """The lines of the first ``count`` records (bytes)."""
        last = self.line_of(count - 1) - self.first_line - 1
        lines = self.buf.split(b"\n", last + 2)[1:last + 2]
        if self.lines is None:
            return lines
        return [lines[self.lines[j] - self.first_line - 1] for j in range(count)]

    def texts_from(self, k):
        """The lines of records ``k`` .. the last (bytes), in one pass."""
        if self.texts is not None:
            return self.texts[k:]
        first = self.line_of(k) - self.first_line - 1
        pos = len(self.buf) - 1
        for dummy in range(self.nlines - first):
            pos = self.buf.rfind(b"\n", 0, pos)
        lines = self.buf[pos + 1:-1].split(b"\n")
        if self.lines is None:
            return lines
        return [lines[self.lines[j] - self.first_line - 1 - first] for j in range(k, len(self))]

    def companion_at(self, k):
        """Whether record ``k`` may belong to an AVC's event."""
        return not self.found[k][1] or bool(self.codes.get(k, 0) & COMPANION)


_NODE_OF = operator.itemgetter(0)
_CAND_OF = operator.itemgetter(1)
_SERIAL_OF = operator.itemgetter(3)


class _Gone(Exception):
    """A listed file that no longer exists under any name when its turn comes (rotated away)."""


def _file_id(info):
    return info.st_dev, info.st_ino


def _open_listed(path, listed):
    """``open_log`` of the file listed as ``path`` with identity ``listed`` ((device, inode) when it was listed).

    A rotation since then renamed it: it is looked for by its inode among the
    files of its directory.  Raises _Gone when it is nowhere.
    """
    try:
        handle, compressed = open_log(path)
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise
        handle = None
    if handle is not None:
        if _file_id(os.fstat(handle.fileno())) == listed:
            return handle, compressed
        handle.close()
    directory = os.path.dirname(path) or "."
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        names = []
    for name in names:
        other = os.path.join(directory, name)
        try:
            if _file_id(os.stat(other)) != listed:
                continue
            handle, compressed = open_log(other)
        except (IOError, OSError):
            continue
        if _file_id(os.fstat(handle.fileno())) == listed:
            return handle, compressed
        handle.close()
    raise _Gone(path)


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


class _LongLine(object):
    """A line longer than MAX_LINE: its start (for the sample) and its size with its newline."""

    __slots__ = ("head", "size")

    def __init__(self, head, size):
        self.head = head
        self.size = size


def _chunks(handle, hold_partial=False):
    """Blocks of whole lines, each with a newline in front (the scanners' patterns start with one).

    A block is read, cut after its last newline and joined with what the
    last one left over (a single copy).  A line longer than MAX_LINE is not
    kept: the reading goes past it and yields a _LongLine in its place.  A
    last line without its newline is left for the next run with
    ``hold_partial``; otherwise it is read when it can be a whole record and
    reported as cut (``_Partial`` after the last block) when it cannot.  A
    compressed file that ends early yields every whole line before the
    damage, then raises ``_Damaged``.
    """
    rest = b""
    long_line = None  # a line too long, being read past
    while True:
        data, damage = _read(handle, CHUNK)
        end_of_file = not data
        if long_line is not None and data:
            end = data.find(b"\n")
            if end < 0:
                long_line.size += len(data)
                data = b""
            else:
                long_line.size += end + 1
                yield long_line
                long_line = None
                data = data[end + 1:]
        cut = data.rfind(b"\n") + 1
        if cut:
            yield b"".join((b"\n", rest, memoryview(data)[:cut]))
            rest = data[cut:]
        elif data:
            rest += data
        if len(rest) > MAX_LINE:
            long_line = _LongLine(rest[:MAX_SAMPLE_TEXT], len(rest))
            rest = b""
        if damage is not None:
            raise _Damaged(damage)
        if end_of_file:
            break
    if long_line is not None:
        if not hold_partial:  # else left for the next run, which reads it when it is whole
            yield long_line
        return
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


def _previous(blk, k, before):
    """``(SECONDS, MILLIS, serial)`` of the last record with a kernel serial of the node of record ``k`` of
    ``blk`` before it (``before``: node -> the same before the block, as the serial tracker saw it)."""
    found = blk.found
    codes = blk.codes
    name = _node_name(found[k][0])
    for j in range(k - 1, -1, -1):
        if _node_name(found[j][0]) == name and (not found[j][1] or codes.get(j, 0) & SERIAL):
            sec, ms = _stamp(found[j][2])
            return sec, ms, int(blk.digits[j])
    return before.get(name)


def _match(blk, lo, hi, node, stamp, digits, skip):
    """Records ``lo`` .. ``hi - 1`` of ``blk`` (but ``skip``) that belong to the event ``(node, stamp, digits)``."""
    window = blk.digits[lo:hi]
    count = window.count(digits)
    out = []
    at = -1
    found = blk.found
    codes = blk.codes
    for dummy in range(count):
        at = window.index(digits, at + 1)
        k = lo + at
        if k != skip and found[k][2] == stamp and _node_name(found[k][0]) == node and blk.companion_at(k):
            out.append(k)
    return out


class _Companions(object):
    """The other records of the AVC record ``k`` of ``blk``: looked for on first use, then listed in ``found``.

    They are the records of its event within COMPANION_WINDOW records before
    and after it: in its block, in ``earlier`` blocks and in ``later`` ones
    (``(block, number of records looked at)``, added while the AVC is open).
    Iterating gives ``(source, line number, line bytes)``.
    """

    __slots__ = ("blk", "k", "slot", "earlier", "later", "found", "__weakref__")

    def __init__(self, blk, k, earlier=None):
        self.blk = blk
        self.k = k
        self.slot = len(blk.avcs)
        blk.avcs.append(k)
        self.earlier = earlier
        self.later = None
        self.found = []

    def resolve(self):
        if self.k is None:
            return self.found
        blk, k = self.blk, self.k
        head = blk.found[k]
        node, stamp, digits = _node_name(head[0]), head[2], blk.digits[k]
        found = self.found
        for old in self.earlier or ():
            for j in _match(old, max(0, blk.base + k - COMPANION_WINDOW - old.base), len(old), node, stamp, digits, -1):
                found.append((old.source_of(j), old.line_of(j), old.text(j)))
        near = _match(blk, max(0, k - COMPANION_WINDOW), min(len(blk), k + COMPANION_WINDOW + 1), node, stamp, digits, k)
        if near:
            index = blk.line_of(k) - blk.first_line - 1
            anchor = blk.anchor(self.slot)
            for j in near:
                line = blk.line_of(j)
                found.append((blk.source, line, _line_at(blk.buf, line - blk.first_line - 1, anchor, index)))
        for later, count in self.later or ():
            for j in _match(later, 0, count, node, stamp, digits, -1):
                found.append((later.source_of(j), later.line_of(j), later.text_near_start(j)))
        self.blk = self.k = self.earlier = self.later = None  # the blocks are no longer held
        return found

    def __iter__(self):
        return iter(self.resolve())


def _listed(companions):
    return companions.resolve() if isinstance(companions, _Companions) else companions


class LogReader(object):
    """Reads log files into the records the engine needs (see ``records``).

    Every block goes through the same steps (``_scan``, ``_take``): one scan
    finds every record header; lines it does not match are read one by one
    (``_read_line``: records, parse errors or blank lines); records that
    repeat the previous file are dropped; the serials of every node are
    followed in bulk; the lines the engine wants are read (``_read_line``
    again) and AVC records get the other records of their event by index.
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
        self.stats = stats
        self.tracker = tracker if tracker is not None else SerialTracker()
        self.keep_raw = keep_raw
        self.hold_partial = hold_partial
        self.started = False
        self.path = None
        self.raw_codes = {}      # type as written (bytes) -> type code
        self.ordinal = 0         # records scanned so far: the number of the next one
        self.recent = deque()    # the last blocks (_Block), covering at least OVERLAP records ...
        self.recent_count = 0    # ... this many
        self.held = []           # (record number, 0 marker / 1 record, Record) scanned, not handed out yet
        self.open = []           # [AVC's number, last number of its window, Record] of the AVCs still open
        self.unresolved = deque()  # (number of the first record, weak reference to _Companions) of AVCs, oldest first
        self.file_no = 0
        self.tail_keys = []      # restored: keys of the last records of the current file from earlier runs
        self.dup_keys = frozenset()
        self.dup_left = 0
        self.dup_count = 0
        # times of the first and last record of the files earlier runs read: those they finished
        # (earliest first, latest last) and the one the checkpoint was written in
        self.earlier = None
        self.resumed = None

    # ------------------------------------------------------------------ one line
    def _read_line(self, raw, source, line):
        """The one step that reads a line (bytes): a Record, or None (a parse error is counted, blank lines are not)."""
        text = raw.decode("utf-8", "replace")
        if text.endswith("\r"):
            text = text[:-1]
        if "\x00" in text:
            self.stats.parse_error(self.path, line, "NUL byte in line", text.replace("\x00", "\\0"))
            return None
        try:
            return parse_line(text, source, line, self.keep_raw)
        except ParseError as exc:
            if _BLANK_TEXT.match(text) is None:
                self.stats.parse_error(self.path, line, str(exc), text)
            return None

    def _codes(self, blk):
        """The type codes of the records of ``blk`` the engine may want (``blk.codes``); returns their indices."""
        codes = blk.codes
        raw_codes = self.raw_codes
        picked = blk.picked
        found = blk.found
        at = list(compress(range(len(found)), map(_CAND_OF, found)))
        for k in at:
            text = found[k][1]
            if text is _PICKED:
                codes[k] = type_code(picked[k].type)
                continue
            raw = text[:text.find(b" ")]
            code = raw_codes.get(raw)
            if code is None:
                code = raw_codes[raw] = type_code(record_type(raw.decode("ascii")))
            codes[k] = code
        return at

    # ------------------------------------------------------------------ a block
    def _scan(self, buf, source, first_line):
        """The records of ``buf`` (a block with a leading newline), odd lines read on their own, repeats dropped."""
        found = _HEADERS.findall(buf)
        nlines = buf.count(b"\n") - 1
        lines = None
        picked = {}
        if len(found) != nlines or b"\x00" in buf:
            found, lines, picked = self._odd_lines(buf, found, nlines, first_line, source)
        # without a node= prefix in the block, every record is of the one node without a name
        node = None if b"\nnode=" in buf else b""
        blk = _Block(buf, nlines, first_line, source, self.file_no, found, lines, picked, node)
        if self.dup_left > 0 and found:
            blk = self._drop_repeated(blk)
        return blk

    def _odd_lines(self, buf, found, nlines, first_line, source):
        """The records of a block where some lines are not what the scan takes (``_scan``'s arguments).

        Those with "msg=audit(" (and lines with a NUL byte) are read one by
        one; runs of lines without it, which cannot be records, are passed
        in one step (``_no_records``); the scan's records around them are
        taken as they are.  Returns the records, their line numbers and the
        records read on their own.
        """
        end = len(buf) - 1
        unmatched = set(m.start() for m in _OTHER_LINE.finditer(buf))
        odd = dict.fromkeys(unmatched)  # position of the newline before the line(s) -> None, or a run's stop
        runs = _stretches(buf)
        for start, stop in runs:
            odd[start] = stop
        starts = [run[0] for run in runs]
        at = buf.find(b"\x00")
        while at >= 0:
            start = buf.rfind(b"\n", 0, at)
            inside = bisect.bisect_right(starts, start) - 1
            if inside < 0 or start >= runs[inside][1]:
                odd[start] = None
            at = buf.find(b"\x00", buf.find(b"\n", at))
        odd.pop(end, None)
        records, lines, picked = [], [], {}
        taken = done = index = position = 0
        for start in sorted(odd):
            index += buf.count(b"\n", position, start)
            position = start
            good = index - done
            records.extend(found[taken:taken + good])
            lines.extend(range(first_line + done + 1, first_line + index + 1))
            taken += good
            stop = odd[start]
            if stop is not None:
                done = index + self._no_records(buf, start, stop, first_line + index + 1, source)
                continue
            if start not in unmatched:
                taken += 1  # the scan took it, but it has a NUL byte
            line = first_line + index + 1
            record = self._read_line(buf[start + 1:buf.find(b"\n", start + 1)], source, line)
            if record is not None:
                code = type_code(record.type)
                picked[len(records)] = record
                records.append((b"node=" + record.node.encode("utf-8") if record.node else b"",
                                b"" if code == SERIAL | COMPANION else _PICKED,
                                ("%s.%s" % (record.sec, record.ms)).encode("utf-8"), b"%d" % record.serial))
                lines.append(line)
            done = index + 1
        records.extend(found[taken:])
        lines.extend(range(first_line + done + 1, first_line + nlines + 1))
        return records, lines, picked

    def _no_records(self, buf, start, stop, line, source):
        """The lines of ``buf`` that begin at the newlines from ``start`` to ``stop`` (excluded), numbered from
        ``line``, have no "msg=audit(": those that are not blank are parse errors.  The first ones are read
        while samples are wanted; the rest are counted in one step.  Returns the number of lines."""
        count = buf.count(b"\n", start, stop)
        stats = self.stats
        position = start
        while len(stats.parse_error_samples) < MAX_SAMPLES:
            other = _NOT_BLANK.search(buf, position + 1, stop)
            if other is None:
                return count  # the rest is blank
            at = buf.rfind(b"\n", position, other.start())
            line += buf.count(b"\n", position, at)
            after = buf.find(b"\n", at + 1)
            self._read_line(buf[at + 1:after], source, line)
            line += 1
            position = after
            if position >= stop:
                return count
        rest = buf.count(b"\n", position, stop)
        stats.parse_error_count += rest - len(_BLANK_LINE.findall(buf, position, stop + 1))
        return count

    def _drop_repeated(self, blk):
        """``blk`` without the records that repeat the end of the previous file (rotated files that overlap)."""
        check = min(self.dup_left, len(blk))
        self.dup_left -= check
        texts = blk.texts_head(check)
        keys = line_keys(texts)
        repeated = set(k for k in range(check) if keys[k] in self.dup_keys)
        if not repeated:
            return blk
        self.dup_count += len(repeated)
        keep = [k for k in range(len(blk)) if k not in repeated]
        picked = dict((n, blk.picked[k]) for n, k in enumerate(keep) if k in blk.picked)
        return _Block(blk.buf, blk.nlines, blk.first_line, blk.source, blk.file_no,
                      [blk.found[k] for k in keep], [blk.line_of(k) for k in keep], picked, blk.node)

    def _follow(self, blk, skip, source):
        """Follow the serials of ``blk`` per node (``skip``: records without a kernel serial); the resets, in order."""
        count = len(blk)
        found = blk.found
        if blk.node is not None:
            named = None
            order = [_node_name(blk.node)]
        else:
            names = dict((group, _node_name(group)) for group in set(map(_NODE_OF, found)))
            named = list(map(names.__getitem__, map(_NODE_OF, found)))
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
                    return _stamp(found[j][2])
                line_of = blk.line_of
            else:
                if not index:
                    continue
                digits = list(map(blk.digits.__getitem__, index))

                def stamp_of(j, index=index):
                    return _stamp(found[index[j]][2])

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
            before = dict((node, self.tracker.last(node)) for node in set(map(_node_name, map(_NODE_OF, blk.found))))
        for k, node, previous in self._follow(blk, set(skip), source):
            sec, ms = _stamp(blk.found[k][2])
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
            if text is _PICKED:
                record = blk.picked[k]
            else:
                record = read_line((node + b" type=" if node else b"type=") + text, source,
                                   first_line + k if lines is None else lines[k])
                if record is None:
                    continue
            if record.type == "AVC":
                self._companions(blk, k, record)
            elif codes[k] & PREVIOUS:
                record.previous = _previous(blk, k, before)
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

    # ------------------------------------------------------------------ AVC events
    def _companions(self, blk, k, record):
        """Notes where the other records of the AVC ``record`` (record ``k`` of ``blk``) may be (see _Companions)."""
        number = blk.base + k
        earliest = blk.base
        earlier = None
        if k < COMPANION_WINDOW:
            earlier = []
            for old in reversed(self.recent):
                if old.base + len(old) <= number - COMPANION_WINDOW:
                    break
                earlier.append(old)
                earliest = old.base
        companions = record.companions = _Companions(blk, k, earlier)
        self.unresolved.append((earliest, weakref.ref(companions)))
        if k + COMPANION_WINDOW >= len(blk):
            self.open.append([number, number + COMPANION_WINDOW, record])

    def _complete(self, blk):
        """The part of ``blk`` where AVC events of earlier blocks may have records."""
        still = []
        for entry in self.open:
            number, last, record = entry
            companions = record.companions
            if companions.later is None:
                companions.later = []
            companions.later.append((blk, min(len(blk), last - blk.base + 1)))
            if last >= blk.base + len(blk):
                still.append(entry)
        self.open = still

    def _forget(self, blk):
        """``blk`` leaves the recent blocks: the AVC events still waiting (in the grouper) that may have records in it
        are looked at now; those the engine is done with are gone."""
        unresolved = self.unresolved
        while unresolved and unresolved[0][0] <= blk.base:
            companions = unresolved.popleft()[1]()
            if companions is not None:
                companions.resolve()

    # ------------------------------------------------------------------ files
    def next_file(self):
        """Records at the start of the next file that repeat the end of this one are dropped as duplicates."""
        keys = self._file_keys()
        self.dup_keys = frozenset(keys)
        self.dup_left = len(keys)
        self.file_no += 1
        self.tail_keys = []

    def _file_keys(self):
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

    def records(self, paths, start=None, before_flush=None):
        """Yield the records of ``paths`` that the session engine needs, in log order.

        ``start``: ``(offset, lines)`` already read of ``paths[0]`` (an
        incremental run).  Every record is counted per source and observed
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
                listed.append(_file_id(os.stat(path)))
            except OSError as exc:
                raise LogAccessError(path, exc.strerror or str(exc))
        handles = {}
        ahead = min(MAX_OPEN_FILES - 1, len(paths) - 1)
        try:
            for index in list(range(ahead)) + [len(paths) - 1]:
                self._open(handles, paths, listed, index)
            yield from self._read_files(paths, start, handles, listed, ahead)
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
            handle, compressed = _open_listed(path, listed[index])
        except _Gone:
            handles[index] = None
            return
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EACCES, errno.EPERM):
                raise LogAccessError(path, "permission denied", permission=True)
            raise LogAccessError(path, exc.strerror or str(exc))
        handles[index] = (handle, compressed, file_identity(handle, compressed))
        if self.on_open is not None:
            self.on_open(path)

    def _read_files(self, paths, start, handles, listed, ahead):
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
            offset, lineno = (start if index == 0 and start else (0, 0))
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
                        _skip(handle, offset)
                    # only the live log (the last file) can be in the middle of a write
                    for buf in _chunks(handle, self.hold_partial and index == len(paths) - 1):
                        if buf.__class__ is _LongLine:
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
                                first = _epoch(blk.found[0][2])
                            last = _epoch(blk.found[-1][2])
                        yield from self._take(blk, number)
            except _Damaged as exc:
                stats.parse_error(path, lineno + 1, "compressed file ends early or is damaged (%s): "
                                  "every record before the damage was read" % exc, "")
            except _Partial as exc:
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
        """What the next run needs to go on as if it had read everything in one go (JSON-ready)."""
        last_source = len(self.stats.sources) - 1
        recent = []
        need = COMPANION_WINDOW
        for old in reversed(self.recent):
            if need <= 0:
                break
            take = min(len(old), need)
            first = len(old) - take
            texts = old.texts_from(first)
            for j in range(first, len(old)):
                recent.append([old.source_of(j) - last_source, old.line_of(j), _node_name(old.found[j][0]),
                               old.found[j][2].decode("utf-8"), old.digits[j].decode("ascii"),
                               old.companion_at(j), texts[j - first].decode("utf-8", "replace")])
            need -= take
        recent.sort(key=lambda item: (item[0], item[1]))
        position = dict((id(item[2]), n) for n, item in enumerate(self.held))
        return {
            "tail": self._file_keys(),
            "recent": recent,
            "held": [[number - self.ordinal, record_state(record, last_source)] for number, dummy, record in self.held],
            "open": [[entry[0] - self.ordinal, entry[1] - self.ordinal, position[id(entry[2])]] for entry in self.open],
            "parse_errors": self.stats.parse_errors(),
            "span": self.spans(),
        }

    def restore(self, state):
        self.tail_keys = list(state["tail"])
        recent = state["recent"]
        if recent:
            blk = _Block(b"", 0, 0, 0, -1,
                         [(b"node=" + item[2].encode("utf-8") if item[2] else b"", b"" if item[5] else _PICKED,
                           item[3].encode("utf-8"), item[4].encode("ascii")) for item in recent],
                         [item[1] for item in recent], {})
            blk.texts = [item[6].encode("utf-8") for item in recent]
            blk.sources = [item[0] for item in recent]
            blk.base = -len(recent)
            for k, item in enumerate(recent):
                if not item[5]:
                    blk.codes[k] = 0  # not part of an AVC event
            self.recent = deque([blk])
            self.recent_count = len(blk)
        self.held = []
        for number, item in state["held"]:
            record = record_from_state(item, self.keep_raw)
            self.held.append((number, 0 if record.type == SERIAL_RESET else 1, record))
        self.open = []
        for number, last, at in state["open"]:
            record = self.held[at][2]
            # the blocks read before are gone: a block of the one record, found already, and the next ones
            head = (b"node=" + record.node.encode("utf-8") if record.node else b"", _PICKED,
                    ("%s.%s" % (record.sec, record.ms)).encode("utf-8"), b"%d" % record.serial)
            companions = _Companions(_Block(b"", 0, 0, 0, -1, [head], [record.line], {}), 0)
            companions.found = record.companions
            companions.later = []
            record.companions = companions
            self.open.append([number, last, record])
        errors = state["parse_errors"]
        self.stats.parse_error_count = errors["count"]
        self.stats.parse_error_samples = list(errors["samples"])
        self.earlier, self.resumed = state["span"]
        self.started = True


_ITEM_ORDER = operator.itemgetter(0, 1)


def record_state(record, last_source):
    """A record (or serial-restart marker) as JSON-ready data, with its source counted back from ``last_source``
    (RECORD_STATE_SHAPE: ``previous`` is null but for a marker and a SYSTEM_BOOT, ``companions`` but for an
    AVC record)."""
    item = {"text": record.text(), "source": record.source - last_source, "line": record.line,
            "previous": None, "companions": None}
    if record.previous is not None:
        item["previous"] = list(record.previous)
    if record.companions is not None:
        item["companions"] = [[source - last_source, line, raw.decode("utf-8", "replace")]
                              for source, line, raw in _listed(record.companions)]
    return item


def record_from_state(item, keep_raw):
    """The record of a ``record_state`` item (ParseError when its text is not a record)."""
    record = parse_line(item["text"], item["source"], item["line"], keep_raw)
    if record.type == SERIAL_RESET:
        record.raw = None  # a marker, not a line of the log
    if item["previous"] is not None:
        record.previous = tuple(item["previous"])
    if item["companions"] is not None:
        record.companions = [(source, line, text.encode("utf-8")) for source, line, text in item["companions"]]
    return record


def iter_records(paths, stats, keep_raw=False, tracker=None):
    """The records of ``paths`` the engine needs; see LogReader.records."""
    return LogReader(stats, tracker, keep_raw).records(paths)
