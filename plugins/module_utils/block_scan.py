# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reader's scan of a block of log lines: records found, odd lines read on their own, parse errors counted.

One regular expression finds every record header of a block (node,
type, time, serial, and the whole line of the types the engine may
want).  Lines it does not take are read on their own when they have
``msg=audit(``; runs of lines without it cannot be records and are passed
in one step, those that are not blank counted (ReadStats keeps the count
and a bounded list of samples).  Records that repeat the end of the
previous file (rotated files that overlap) are dropped by their digest.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import bisect
import re
from itertools import compress

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_block import (
    CAND_OF, COMPANION, PICKED, SERIAL, Block, line_keys, type_code,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import ParseError, parse_line, record_type
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_files import MAX_SAMPLE_TEXT

MAX_SAMPLES = 20


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


class BlockScanner(object):
    """Bytes of a block -> Block (the first step of LogReader, its base class).

    ``_scan`` finds every record header in one pass; lines it does not
    match are read one by one (``_read_line``: records, parse errors or
    blank lines), runs of lines that cannot be records in one step;
    records that repeat the end of the previous file are dropped
    (``dup_keys``, set by the reader when a file begins).  Parse errors are
    counted and sampled in ``stats`` (ReadStats), with ``path`` the file
    being read.
    """

    def __init__(self, stats, keep_raw=False):
        self.stats = stats
        self.keep_raw = keep_raw
        self.path = None
        self.raw_codes = {}      # type as written (bytes) -> type code
        self.file_no = 0
        self.dup_keys = frozenset()
        self.dup_left = 0
        self.dup_count = 0

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
        at = list(compress(range(len(found)), map(CAND_OF, found)))
        for k in at:
            text = found[k][1]
            if text is PICKED:
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
        blk = Block(buf, nlines, first_line, source, self.file_no, found, lines, picked, node)
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
                                b"" if code == SERIAL | COMPANION else PICKED,
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
        return Block(blk.buf, blk.nlines, blk.first_line, blk.source, blk.file_no,
                     [blk.found[k] for k in keep], [blk.line_of(k) for k in keep], picked, blk.node)
