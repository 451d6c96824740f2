# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One block of records as the reader's scan found them, and what a record type means to the reader.

A Block holds, per record, its ``node=`` prefix, its line when the engine
may want it, its time and its serial, and finds any record's line again
in the block's bytes on demand (for AVC events, overlapping rotated files
and checkpoints).  ``type_code`` says of a record type whether the engine
wants it, whether it carries a kernel serial, whether it may belong to an
AVC's event and whether the engine needs the record before it.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import operator

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import DAEMON_TYPES, VIRT_TYPES, EventId

# Record types the session engine reads; every other record only counts for
# serial tracking (and for the AVC it belongs to, see COMPANION_WINDOW).
WANTED = frozenset(VIRT_TYPES + (
    "AVC", "SYSTEM_BOOT", "SYSTEM_SHUTDOWN",
    "DAEMON_START", "DAEMON_END", "DAEMON_ABORT",
))


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


PICKED = b"*"  # stands for the captured line of a record that was read on its own


def node_name(group):
    """The node of a ``node=NAME`` prefix (None for none or an empty name)."""
    return group[5:].decode("utf-8", "replace") or None


def stamp_parts(stamp):
    """``(SECONDS, MILLIS)`` of ``b"SECONDS.MILLIS"``."""
    sec, dummy, ms = stamp.decode("utf-8").partition(".")
    return sec, ms


def stamp_epoch(stamp):
    return EventId.time(*stamp_parts(stamp))


def line_position(buf, index, anchor_pos, anchor_index):
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


def line_at(buf, index, anchor_pos, anchor_index):
    """Line ``index`` of ``buf`` (bytes, without its newline), walking from the newline before line ``anchor_index``."""
    pos = line_position(buf, index, anchor_pos, anchor_index)
    return buf[pos + 1:buf.find(b"\n", pos + 1)]


class Block(object):
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
        self.digits = list(map(SERIAL_OF, found))
        if node is None and found:
            first = found[0][0]
            if found[-1][0] == first and len(set(map(NODE_OF, found))) == 1:
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
                start = line_position(buf, index, pos, at_index)
            anchors.append(start)
        return anchors[slot]

    def source_of(self, k):
        return self.source if self.sources is None else self.sources[k]

    def text(self, k):
        """The line of record ``k`` (bytes), found from the block's end."""
        if self.texts is not None:
            return self.texts[k]
        return line_at(self.buf, self.line_of(k) - self.first_line - 1, len(self.buf) - 1, self.nlines)

    def text_near_start(self, k):
        """The line of record ``k`` (bytes), found from the block's start."""
        if self.texts is not None:
            return self.texts[k]
        return line_at(self.buf, self.line_of(k) - self.first_line - 1, 0, 0)

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


NODE_OF = operator.itemgetter(0)
CAND_OF = operator.itemgetter(1)
SERIAL_OF = operator.itemgetter(3)


def previous_record(blk, k, before):
    """``(SECONDS, MILLIS, serial)`` of the last record with a kernel serial of the node of record ``k`` of
    ``blk`` before it (``before``: node -> the same before the block, as the serial tracker saw it)."""
    found = blk.found
    codes = blk.codes
    name = node_name(found[k][0])
    for j in range(k - 1, -1, -1):
        if node_name(found[j][0]) == name and (not found[j][1] or codes.get(j, 0) & SERIAL):
            sec, ms = stamp_parts(found[j][2])
            return sec, ms, int(blk.digits[j])
    return before.get(name)
