# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Records -> events.

Records with the same (node, SECONDS.MILLIS, SERIAL) form one event, even
when records of other events are written between them.  Events are emitted
in the order of their first record.  An event is complete when a record
more than ``max_age`` seconds younger arrives or when more than
``max_open`` events are waiting: the kernel writes the records of one event
together, interleaving only with a few others.

The other records of an AVC event (SYSCALL, PATH, CWD, PROCTITLE,
AVC_PATH, ...) do not pass through here: the reader finds them by index
and hands them with the AVC record (``Record.companions``, raw lines);
``Event.records`` reads them only when the engine asks for them.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import OrderedDict, deque

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import (
    DAEMON_TYPES, SERIAL_RESET, ParseError, parse_line,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.reader_state import RECORD_STATE_SHAPE
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import NonEmpty

MAX_OPEN = 32
MAX_AGE = 2.0

# The shape of EventGrouper.state() in a checkpoint (module_utils/state_shape.py): the waiting events,
# each a list of its records (reader_state.record_state)
STATE_SHAPE = [NonEmpty(RECORD_STATE_SHAPE)]


def companion_records(records, keep_raw):
    """``records`` with the companions of their AVC records read, in log order."""
    lines = {}
    for record in records:
        if record.companions is not None:
            for source, line, raw in record.companions:
                lines[(source, line)] = raw
    if not lines:
        return records
    keep = [((record.source, record.line), record) for record in records]
    for (source, line), raw in lines.items():
        text = raw.decode("utf-8", "replace")
        if text.endswith("\r"):
            text = text[:-1]
        try:
            keep.append(((source, line), parse_line(text, source, line, keep_raw)))
        except ParseError:  # not possible for a line the reader found to be a record
            continue
    keep.sort(key=lambda item: item[0])
    return [record for dummy, record in keep]


class Event(object):
    """The records of one audit event, in log order.

    ``wanted`` are the records the reader handed over; ``records`` adds the
    companions of AVC records (read on first use).
    """

    __slots__ = ("wanted", "_records", "keep_raw")

    def __init__(self, records, keep_raw=False):
        self.wanted = records
        self._records = None
        self.keep_raw = keep_raw

    @property
    def records(self):
        if self._records is None:
            self._records = companion_records(self.wanted, self.keep_raw)
        return self._records

    @property
    def first(self):
        return self.wanted[0]

    @property
    def node(self):
        return self.wanted[0].node

    @property
    def epoch(self):
        return self.wanted[0].epoch

    @property
    def serial(self):
        return self.wanted[0].serial

    @property
    def id(self):
        return self.wanted[0].id

    def types(self):
        return [r.type for r in self.records]

    def find(self, rtype):
        """The first record of type ``rtype``, or None (companions are read only when no wanted record has it)."""
        for record in self.wanted:
            if record.type == rtype:
                return record
        if self._records is None and all(record.companions is None for record in self.wanted):
            return None
        for record in self.records:
            if record.type == rtype:
                return record
        return None


def _key(record):
    key = (record.node, record.sec, record.ms, record.serial)
    if record.type in DAEMON_TYPES:
        # auditd numbers its own records: the same time and serial may belong to a kernel event
        key += (record.type,)
    return key


class EventGrouper(object):
    """The events waiting for more records; ``state``/``restore`` carry them to the next run.

    Events are aged per node (``node=``): an event is complete when a record
    of its own node more than ``max_age`` seconds younger arrives, or when
    its node has more than ``max_open`` events waiting.  The clocks of
    nodes whose logs are merged into one file differ, and one node's burst
    of records says nothing about another node's events.
    """

    def __init__(self, max_open=MAX_OPEN, max_age=MAX_AGE, keep_raw=False):
        self.max_open = max_open
        self.max_age = max_age
        self.keep_raw = keep_raw
        self.pending = OrderedDict()  # key -> records of the event, every node, oldest first
        self.by_node = {}             # node -> deque of the keys of its waiting events, oldest first

    def add(self, record):
        """The events ``record`` completes (a list, often empty)."""
        pending = self.pending
        rtype = record.type
        if rtype == SERIAL_RESET:
            # a marker (its node restarted): that node's events before it are complete
            out = self._drain(record.node)
            out.append(Event([record], self.keep_raw))
            return out
        key = (record.node, record.sec, record.ms, record.serial)
        if rtype in DAEMON_TYPES:
            # auditd numbers its own records: the same time and serial may belong to a kernel event
            key += (rtype,)
        group = pending.get(key)
        if group is not None:
            group.append(record)
            return ()
        keys = self.by_node.get(record.node)
        if keys is None:
            keys = self.by_node[record.node] = deque()
        out = ()
        if keys:
            epoch = record.epoch
            max_age = self.max_age
            full = len(keys) >= self.max_open
            while keys:
                oldest = pending[keys[0]]
                if not full and epoch - oldest[0].epoch <= max_age:
                    break
                if not out:
                    out = []
                out.append(Event(pending.pop(keys.popleft()), self.keep_raw))
                full = False
        pending[key] = [record]
        keys.append(key)
        return out

    def _drain(self, node):
        """The waiting events of ``node``, oldest first, no longer waiting."""
        keys = self.by_node.pop(node, ())
        return [Event(self.pending.pop(key), self.keep_raw) for key in keys]

    def flush(self):
        out = [Event(group, self.keep_raw) for group in self.pending.values()]
        self.pending.clear()
        self.by_node.clear()
        return out

    def state(self, record_state):
        """The waiting events, each record written with ``record_state`` (see reader_state.record_state)."""
        return [[record_state(record) for record in group] for group in self.pending.values()]

    def restore(self, state, record_from_state):
        self.pending = OrderedDict()
        self.by_node = {}
        for group in state:
            records = [record_from_state(item) for item in group]
            key = _key(records[0])
            if key not in self.pending:
                self.by_node.setdefault(records[0].node, deque()).append(key)
            self.pending[key] = records


def group_events(records, grouper=None, max_open=MAX_OPEN, max_age=MAX_AGE):
    """Yield Event objects from an iterable of records (through ``grouper`` when given)."""
    if grouper is None:
        grouper = EventGrouper(max_open, max_age)
    add = grouper.add
    for record in records:
        yield from add(record)
    yield from grouper.flush()
