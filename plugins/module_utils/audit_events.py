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

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import OrderedDict

MAX_OPEN = 32
MAX_AGE = 2.0


class Event(object):
    """The records of one audit event, in log order."""

    __slots__ = ("records",)

    def __init__(self, records):
        self.records = records

    @property
    def first(self):
        return self.records[0]

    @property
    def node(self):
        return self.records[0].node

    @property
    def epoch(self):
        return self.records[0].epoch

    @property
    def serial(self):
        return self.records[0].serial

    @property
    def id(self):
        return self.records[0].id

    def types(self):
        return [r.type for r in self.records]

    def find(self, rtype):
        """The first record of type ``rtype``, or None."""
        for record in self.records:
            if record.type == rtype:
                return record
        return None


def group_events(records, max_open=MAX_OPEN, max_age=MAX_AGE):
    """Yield Event objects from an iterable of records."""
    pending = OrderedDict()
    for record in records:
        if record.type.startswith("_"):
            # a marker (new boot): everything before it is complete
            for group in pending.values():
                yield Event(group)
            pending.clear()
            yield Event([record])
            continue
        key = (record.node, record.sec, record.ms, record.serial)
        if record.type.startswith("DAEMON_"):
            # auditd numbers its own records: the same time and serial may belong to a kernel event
            key += (record.type,)
        group = pending.get(key)
        if group is not None:
            group.append(record)
            continue
        while pending:
            oldest_key = next(iter(pending), None)
            oldest = pending[oldest_key]
            if len(pending) < max_open and record.epoch - oldest[0].epoch <= max_age:
                break
            del pending[oldest_key]
            yield Event(oldest)
        pending[key] = [record]
    for group in pending.values():
        yield Event(group)
