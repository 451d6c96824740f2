# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One log file: opened (gzip by content), known again, and read in blocks of whole lines.

``open_log`` opens a file and gunzips it when its first bytes say so;
GzipReader decompresses no more than is asked for and hands out everything
before damage; ``file_identity`` is what a checkpoint knows a file by (its
inode and the SHA-256 of its first bytes, taken from the open handle);
``open_listed`` finds a listed file again after a rotation renamed it;
``chunks`` cuts a file into blocks of whole lines (CHUNK bytes), reads past
a line longer than MAX_LINE and reports a cut last line.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import hashlib
import os
import re
import zlib

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 4096  # a file is known again by the SHA-256 of its first bytes (file_identity)
CHUNK = 1 << 20
# a longer line is a parse error, read past without being kept (no audit record comes near:
# the kernel's are at most 8970 bytes, auditd's about as long plus their ENRICHED part)
MAX_LINE = 2 << 20
MAX_SAMPLE_TEXT = 200


class GzipReader(object):
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
        return GzipReader(path), True
    raw.seek(0)
    return raw, False


class FileGone(Exception):
    """A listed file that no longer exists under any name when its turn comes (rotated away)."""


def file_id(info):
    return info.st_dev, info.st_ino


def open_listed(path, listed):
    """``open_log`` of the file listed as ``path`` with identity ``listed`` ((device, inode) when it was listed).

    A rotation since then renamed it: it is looked for by its inode among the
    files of its directory.  Raises FileGone when it is nowhere.
    """
    try:
        handle, compressed = open_log(path)
    except (IOError, OSError) as exc:
        if exc.errno != errno.ENOENT:
            raise
        handle = None
    if handle is not None:
        if file_id(os.fstat(handle.fileno())) == listed:
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
            if file_id(os.stat(other)) != listed:
                continue
            handle, compressed = open_log(other)
        except (IOError, OSError):
            continue
        if file_id(os.fstat(handle.fileno())) == listed:
            return handle, compressed
        handle.close()
    raise FileGone(path)


class DamagedFile(Exception):
    """A compressed file that ends early: everything before the damage was read."""


class PartialLine(Exception):
    """The last line has no newline (the file was being written); it was not read."""

    def __init__(self, text):
        super(PartialLine, self).__init__(text)
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


class LongLine(object):
    """A line longer than MAX_LINE: its start (for the sample) and its size with its newline."""

    __slots__ = ("head", "size")

    def __init__(self, head, size):
        self.head = head
        self.size = size


def chunks(handle, hold_partial=False):
    """Blocks of whole lines, each with a newline in front (the scanners' patterns start with one).

    A block is read, cut after its last newline and joined with what the
    last one left over (a single copy).  A line longer than MAX_LINE is not
    kept: the reading goes past it and yields a LongLine in its place.  A
    last line without its newline is left for the next run with
    ``hold_partial``; otherwise it is read when it can be a whole record and
    reported as cut (``PartialLine`` after the last block) when it cannot.  A
    compressed file that ends early yields every whole line before the
    damage, then raises ``DamagedFile``.
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
            long_line = LongLine(rest[:MAX_SAMPLE_TEXT], len(rest))
            rest = b""
        if damage is not None:
            raise DamagedFile(damage)
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
        raise PartialLine(rest)


def skip_to(handle, offset):
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
