# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reader's state between runs: what a checkpoint keeps of it, and its shape.

``reader_state`` is what the next run needs to go on as if one run had
read everything (the records scanned but not handed out yet, the last
records for AVC events and overlapping rotated files, the AVC events
still open, the parse errors and the time span read so far);
``restore_reader`` sets a new reader to it.  ``record_state`` /
``record_from_state`` write and read one record (also for the event
grouper's open events).  STATE_SHAPE and RECORD_STATE_SHAPE are what
checkpoint.load checks before any of it is used.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import deque

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_block import PICKED, Block, node_name
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import SERIAL_RESET, parse_line
from ansible_collections.virtaudit.auvirt.plugins.module_utils.avc_companions import COMPANION_WINDOW, Companions, listed_companions
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import AtLeast, Between, Maybe, Row


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


def reader_state(reader):
    """What the next run needs to go on as if ``reader`` (a LogReader) had read everything in one go
    (JSON-ready, STATE_SHAPE)."""
    last_source = len(reader.stats.sources) - 1
    recent = []
    need = COMPANION_WINDOW
    for old in reversed(reader.recent):
        if need <= 0:
            break
        take = min(len(old), need)
        first = len(old) - take
        texts = old.texts_from(first)
        for j in range(first, len(old)):
            recent.append([old.source_of(j) - last_source, old.line_of(j), node_name(old.found[j][0]),
                           old.found[j][2].decode("utf-8"), old.digits[j].decode("ascii"),
                           old.companion_at(j), texts[j - first].decode("utf-8", "replace")])
        need -= take
    recent.sort(key=lambda item: (item[0], item[1]))
    position = dict((id(item[2]), n) for n, item in enumerate(reader.held))
    return {
        "tail": reader.file_keys(),
        "recent": recent,
        "held": [[number - reader.ordinal, record_state(record, last_source)] for number, dummy, record in reader.held],
        "open": [[entry[0] - reader.ordinal, entry[1] - reader.ordinal, position[id(entry[2])]] for entry in reader.open],
        "parse_errors": reader.stats.parse_errors(),
        "span": reader.spans(),
    }


def restore_reader(reader, state):
    """Set ``reader`` (a new LogReader) to where the run that wrote ``state`` (``reader_state``) stopped."""
    reader.tail_keys = list(state["tail"])
    recent = state["recent"]
    if recent:
        blk = Block(b"", 0, 0, 0, -1,
                    [(b"node=" + item[2].encode("utf-8") if item[2] else b"", b"" if item[5] else PICKED,
                      item[3].encode("utf-8"), item[4].encode("ascii")) for item in recent],
                    [item[1] for item in recent], {})
        blk.texts = [item[6].encode("utf-8") for item in recent]
        blk.sources = [item[0] for item in recent]
        blk.base = -len(recent)
        for k, item in enumerate(recent):
            if not item[5]:
                blk.codes[k] = 0  # not part of an AVC event
        reader.recent = deque([blk])
        reader.recent_count = len(blk)
    reader.held = []
    for number, item in state["held"]:
        record = record_from_state(item, reader.keep_raw)
        reader.held.append((number, 0 if record.type == SERIAL_RESET else 1, record))
    reader.open = []
    for number, last, at in state["open"]:
        record = reader.held[at][2]
        # the blocks read before are gone: a block of the one record, found already, and the next ones
        head = (b"node=" + record.node.encode("utf-8") if record.node else b"", PICKED,
                ("%s.%s" % (record.sec, record.ms)).encode("utf-8"), b"%d" % record.serial)
        companions = Companions(Block(b"", 0, 0, 0, -1, [head], [record.line], {}), 0)
        companions.found = record.companions
        companions.later = []
        record.companions = companions
        reader.open.append([number, last, record])
    errors = state["parse_errors"]
    reader.stats.parse_error_count = errors["count"]
    reader.stats.parse_error_samples = list(errors["samples"])
    reader.earlier, reader.resumed = state["span"]
    reader.started = True


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
                              for source, line, raw in listed_companions(record.companions)]
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
