# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event serials: gaps (lost or cut-out records) and restarts (reboots).

The kernel numbers every audit event of a boot 1, 2, 3, ...; all records of
one event share the number.  Within one boot a serial that jumps forward
means events that are not in the files (dropped by the kernel, cut out, or
filtered); a serial that falls back by more than ``RESET_TOLERANCE`` means
the counter restarted: the host rebooted.  Records that arrive a little out
of order fill the gap counted before them.  auditd's own records
(DAEMON_*) carry auditd's numbering and are not observed.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

RESET_TOLERANCE = 64
MAX_GAP_DETAILS = 100
RECENT_GAPS = 8


class SerialTracker(object):
    """Feed (node, SECONDS, MILLIS, serial) in log order.

    ``observe`` is the plain interface.  The reader's fast path keeps the
    per-node state list ``[top, last SECONDS, last MILLIS, last serial]`` in
    hand, advances ``top`` itself while serials are consecutive and calls
    ``jump`` only when they are not.
    """

    def __init__(self):
        self.nodes = {}
        self.missing = 0
        self.gaps = []      # the newest MAX_GAP_DETAILS gaps

    def state(self, node):
        return self.nodes.get(node)

    def begin(self, node, sec, ms, serial):
        state = self.nodes[node] = [serial, sec, ms, serial]
        return state

    def observe(self, node, sec, ms, serial, source, line):
        """Track one record; return ``(prev_sec, prev_ms, prev_serial)`` when it starts a new boot."""
        state = self.nodes.get(node)
        if state is None:
            self.begin(node, sec, ms, serial)
            return None
        reset = None
        if serial == state[0] + 1 or serial == state[0]:
            state[0] = serial
        else:
            reset = self.jump(node, state, (state[1], state[2], state[3]), sec, ms, serial, source, line)
        state[1] = sec
        state[2] = ms
        state[3] = serial
        return reset

    def jump(self, node, state, last, sec, ms, serial, source, line):
        """A serial that does not follow ``state[0]``; ``last`` = (SECONDS, MILLIS, serial) of the record before.

        Returns ``last`` when the counter restarted (a new boot), else None.
        """
        top = state[0]
        if serial > top:
            count = serial - top - 1
            self.missing += count
            if len(self.gaps) >= MAX_GAP_DETAILS:
                self.gaps.pop(0)
            self.gaps.append({
                "host": node,
                "after_id": "%s.%s:%s" % last,
                "before_id": "%s.%s:%d" % (sec, ms, serial),
                "missing": count,
                "source": source,
                "line": line,
                "_range": (top, serial),
            })
            state[0] = serial
            return None
        if serial < top - RESET_TOLERANCE:
            state[0] = serial
            return last
        self._late(node, serial)
        return None

    def _late(self, node, serial):
        for gap in reversed(self.gaps[-RECENT_GAPS:]):
            low, high = gap["_range"]
            if gap["host"] == node and low < serial < high and gap["missing"] > 0:
                gap["missing"] -= 1
                self.missing -= 1
                if gap["missing"] == 0:
                    self.gaps.remove(gap)
                return

    def gap_details(self, host_name, paths):
        """The gaps for the result: host names resolved, internal keys dropped."""
        out = []
        for gap in self.gaps:
            item = dict((k, v) for k, v in gap.items() if not k.startswith("_"))
            item["host"] = gap["host"] or host_name
            source = item.pop("source")
            item["path"] = paths[source] if source is not None and source < len(paths) else None
            out.append(item)
        return out
