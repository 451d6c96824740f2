# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AVCs and anomalies attributed to no guest session (docs/session-model.md, "unattributed").

They are counted per minute for the last day of the log, per hour for the
31 days before and per day before that, so the counts do not grow with the
time a log spans.  The newest MAX_LISTED of each kind (in the order they
were read) are kept to be listed with their fields, and every host numbers
its own (1, 2, ...): a reader of two results can tell how many came in
between.  The fields of a kept one are read from its record only when it is
listed or saved (a flood of denials costs a count and a deque slot each).

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from collections import deque

AVC, ANOMALY = 0, 1  # the two counts of an unattributed minute
# AVCs and anomalies attributed to no session are counted per minute for the last day of the log
# (before its newest such record), per hour for the 31 days before, per day before that
BY_MINUTE = 24 * 60
BY_HOUR = 31 * 24 * 60
# of each kind, the newest this many are listed with their fields; the others are only counted
MAX_LISTED = 1000


class Unattributed(object):
    """AVCs and anomalies attributed to no session.

    ``counts`` maps the first minute of a span to ``[AVCs, anomalies]``; a
    span is a minute in the last day before the newest (``newest``), an hour
    in the 31 days before, a day before that (``width``).  ``listed``: per
    kind, the newest MAX_LISTED as ``(epoch, host, number, event, record)``
    - ``event`` None when ``record`` is the item already described (restored
    from a checkpoint).  ``numbers``: host -> ``[AVCs, anomalies]`` read.
    """

    __slots__ = ("counts", "newest", "_limit", "listed", "numbers")

    def __init__(self, state=None):
        """``state``: a ``state()`` of an earlier run."""
        rows = state["counts"] if state else ()
        self.counts = dict((minute, [avcs, anomalies]) for minute, avcs, anomalies in rows)
        # the newest minute is always a span of its own: the newest key
        self.newest = max(self.counts) if self.counts else None
        self._limit = 2 * len(self.counts) + 4 * BY_MINUTE
        self.listed = (deque(maxlen=MAX_LISTED), deque(maxlen=MAX_LISTED))
        self.numbers = {}
        if state:
            for kind, items in zip((AVC, ANOMALY), state["listed"]):
                self.listed[kind].extend((item["epoch"], item["host"], item["number"], None, item) for item in items)
            self.numbers = dict((host, list(numbers)) for host, numbers in state["numbers"].items())

    def add(self, epoch, kind, host, event, record):
        """One more AVC (``kind`` AVC) or anomaly (ANOMALY) at ``epoch`` of ``host`` (its name): ``record`` of
        ``event``, described only when listed (``listed_in``) or saved (``state``)."""
        numbers = self.numbers.get(host)
        if numbers is None:
            numbers = self.numbers[host] = [0, 0]
        numbers[kind] += 1
        self.listed[kind].append((epoch, host, numbers[kind], event, record))
        minute = int(epoch // 60)
        counts = self.counts.get(minute)
        if counts is not None:
            counts[kind] += 1
            return
        counts = self.counts[minute] = [0, 0]
        counts[kind] = 1
        if self.newest is None or minute > self.newest:
            self.newest = minute
        if len(self.counts) > self._limit:
            self.compact()
            self._limit = 2 * len(self.counts) + 4 * BY_MINUTE

    def width(self, minute):
        """How many minutes the counts starting at ``minute`` cover (by its age, see BY_MINUTE)."""
        age = self.newest - minute
        return 1 if age < BY_MINUTE else 60 if age < BY_HOUR else 1440

    def span(self, minute):
        """The first minute of the span ``minute`` is counted in: its hour (day) once it is old enough.

        It depends only on the minute and the newest minute (spans nest:
        a day is whole hours), so compacting now and again later gives what
        compacting once gives: every way of reading a log ends with the same
        counts.
        """
        key = minute - minute % self.width(minute)
        while key % self.width(key):
            key -= key % self.width(key)
        return key

    def _overlaps(self, key, start, end):
        """Whether the span starting at minute ``key`` overlaps [start, end] (None: open)."""
        return (start is None or (key + self.width(key)) * 60 > start) and (end is None or key * 60 <= end)

    def compact(self):
        """Counts older than a day (a month) before the newest go into their hour (day) (``span``)."""
        compact = {}
        for minute, counts in self.counts.items():
            key = self.span(minute)
            total = compact.get(key)
            if total is None:
                compact[key] = list(counts)
            else:
                total[AVC] += counts[AVC]
                total[ANOMALY] += counts[ANOMALY]
        self.counts = compact

    def count_in(self, start, end):
        """(AVCs, anomalies) in the minutes (hours, days) that overlap [start, end]."""
        avcs = anomalies = 0
        if self.counts:
            self.compact()
        for minute, counts in self.counts.items():
            if self._overlaps(minute, start, end):
                avcs += counts[AVC]
                anomalies += counts[ANOMALY]
        return avcs, anomalies

    def listed_in(self, kind, start, end, describe):
        """The listed items of ``kind`` that ``count_in(start, end)`` counts, oldest first: dicts with ``host``,
        ``number``, ``epoch``, ``id`` and what ``describe(kind, event, record)`` gives."""
        out = []
        for entry in self.listed[kind]:
            if self._overlaps(self.span(int(entry[0] // 60)), start, end):
                out.append(_described(kind, entry, describe))
        out.sort(key=_order)
        return out

    def rows(self):
        """``[[first minute, AVCs, anomalies], ...]`` compacted, oldest first."""
        if self.counts:
            self.compact()
        return [[minute, counts[AVC], counts[ANOMALY]] for minute, counts in sorted(self.counts.items())]

    def state(self, describe):
        """Everything a later run needs (for a checkpoint): counts, listed items described, numbers."""
        return {
            "counts": self.rows(),
            "listed": [[_described(kind, entry, describe) for entry in self.listed[kind]] for kind in (AVC, ANOMALY)],
            "numbers": dict((host, list(numbers)) for host, numbers in self.numbers.items()),
        }


def _order(item):
    return (item["epoch"], item["host"], item["number"])


def _described(kind, entry, describe):
    epoch, host, number, event, record = entry
    if event is None:
        return record
    item = describe(kind, event, record)
    item["host"] = host
    item["number"] = number
    return item
