# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AVCs and anomalies attributed to no guest session (docs/session-model.md, "summary").

They are counted per minute for the last day of the log, per hour for the
31 days before and per day before that (``Unattributed``), so the counts do
not grow with the time a log spans.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

AVC, ANOMALY = 0, 1  # the two counts of an unattributed minute
# AVCs and anomalies attributed to no session are counted per minute for the last day of the log
# (before its newest such record), per hour for the 31 days before, per day before that
BY_MINUTE = 24 * 60
BY_HOUR = 31 * 24 * 60


class Unattributed(object):
    """AVCs and anomalies attributed to no session: ``counts`` maps the first minute of a span to
    ``[AVCs, anomalies]``; a span is a minute in the last day before the newest (``newest``), an hour in
    the 31 days before, a day before that (``width``)."""

    __slots__ = ("counts", "newest", "_limit")

    def __init__(self, rows=()):
        self.counts = dict((minute, [avcs, anomalies]) for minute, avcs, anomalies in rows)
        # the newest minute is always a span of its own: the newest key
        self.newest = max(self.counts) if self.counts else None
        self._limit = 2 * len(self.counts) + 4 * BY_MINUTE

    def add(self, epoch, kind):
        """One more AVC (``kind`` AVC) or anomaly (ANOMALY) at ``epoch``."""
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

    def compact(self):
        """Counts older than a day (a month) before the newest go into their hour (day).

        Where a minute ends up depends only on it and the newest minute, so
        compacting now and again later gives what compacting once gives:
        every way of reading a log ends with the same counts.
        """
        compact = {}
        for minute, counts in self.counts.items():
            key = minute - minute % self.width(minute)
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
            if (start is None or (minute + self.width(minute)) * 60 > start) and (end is None or minute * 60 <= end):
                avcs += counts[AVC]
                anomalies += counts[ANOMALY]
        return avcs, anomalies

    def rows(self):
        """``[[first minute, AVCs, anomalies], ...]`` compacted, oldest first (for a checkpoint)."""
        if self.counts:
            self.compact()
        return [[minute, counts[AVC], counts[ANOMALY]] for minute, counts in sorted(self.counts.items())]
