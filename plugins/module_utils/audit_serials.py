# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Event serials: gaps (lost or cut-out records) and restarts (reboots).

The kernel numbers every audit event of a boot 1, 2, 3, ...; all records of
one event share the number.  Within one boot a serial that jumps forward
means events that are not in the files (dropped by the kernel, cut out, or
filtered); a serial that falls back by more than ``RESET_TOLERANCE`` means
the counter restarted - the host rebooted - when its record is younger than
the record before it.  A record that is not (its time is that of the
record before or earlier) is a late record: the kernel wrote its event
before the records now in between (the SYSCALL of an AVC after later
events), and a new boot's records are written after the old boot's.
Records that arrive out of order fill the gap counted before them.
auditd's own records (DAEMON_*) carry auditd's numbering and are not
observed.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import operator

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import AtLeast, Maybe, Row

RESET_TOLERANCE = 64
MAX_GAP_DETAILS = 100
RECENT_GAPS = 8


# The shape of snapshot() in a checkpoint (module_utils/state_shape.py): checked before restore()
STATE_SHAPE = {
    "nodes": [Row(Maybe(str), int, str, str, int)],
    "firsts": [Row(Maybe(str), str, str)],
    "missing": AtLeast(0),
    "gaps": [{"host": Maybe(str), "after_id": str, "before_id": str, "missing": AtLeast(0), "path": Maybe(str),
              "line": Maybe(int), "_range": Row(int, int)}],
}


def _younger(stamp, last):
    """Whether ``stamp`` (SECONDS, MILLIS) is later than that of ``last`` (SECONDS, MILLIS, serial)."""
    return (int(stamp[0]), int(stamp[1])) > (int(last[0]), int(last[1]))


class SerialTracker(object):
    """Feed (node, SECONDS, MILLIS, serial) in log order.

    ``observe`` takes one record; ``follow`` and ``follow_digits`` the
    records of one node in a block at once (what the reader uses).  The
    per-node state is ``[top, last SECONDS, last MILLIS, last serial]`` and
    changes only through these methods.
    """

    def __init__(self):
        self.nodes = {}
        self.firsts = {}     # node -> (SECONDS, MILLIS) of its first record
        self.missing = 0
        self.node_gaps = {}  # node -> its newest MAX_GAP_DETAILS gaps, in log order

    @property
    def gaps(self):
        """Every node's gaps, in log order (those of earlier runs first)."""
        if len(self.node_gaps) == 1:
            return list(next(iter(self.node_gaps.values())))
        return sorted((gap for gaps in self.node_gaps.values() for gap in gaps), key=operator.itemgetter("_at"))

    def last(self, node):
        """``(SECONDS, MILLIS, serial)`` of the last record of ``node`` followed, or None."""
        state = self.nodes.get(node)
        return None if state is None else (state[1], state[2], state[3])

    def begin(self, node, sec, ms, serial):
        state = self.nodes[node] = [serial, sec, ms, serial]
        self.firsts[node] = (sec, ms)
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
            gaps = self.node_gaps.get(node)
            if gaps is None:
                gaps = self.node_gaps[node] = []
            elif len(gaps) >= MAX_GAP_DETAILS:
                gaps.pop(0)
            gaps.append({
                "host": node,
                "after_id": EventId.format(*last),
                "before_id": EventId.format(sec, ms, serial),
                "missing": count,
                "source": source,
                "line": line,
                "_range": (top, serial),
                "_at": (0, source, line),
            })
            state[0] = serial
            return None
        if serial < top - RESET_TOLERANCE and _younger((sec, ms), last):
            state[0] = serial
            return last
        self._late(node, serial)
        return None

    def follow_digits(self, node, digits, stamp_of, source, line_of):
        """``follow`` for serials given as digits (bytes), the records of one node in log order.

        Most blocks simply continue: every serial equals the one before or is
        one more.  That is checked on the digits with a few whole-list
        operations (all of one length, so their order is the numbers' order;
        non-decreasing; as many distinct values as the range spans); such a
        block only moves the state to its last record.  Any other block is
        followed record by record.  Returns ``resets`` as from ``follow``.
        """
        count = len(digits)
        state = self.nodes.get(node)
        if count and state is not None and state[3] >= state[0]:
            first, last = digits[0], digits[-1]
            width = len(first)
            if len(last) == width and len(b"".join(digits)) == width * count:
                low, high = int(first), int(last)
                if (0 <= low - state[3] <= 1 and len(set(digits)) == high - low + 1
                        and all(map(operator.le, digits[:-1], digits[1:]))):
                    sec, ms = stamp_of(count - 1)
                    state[0] = high
                    state[1], state[2], state[3] = sec, ms, high
                    return []
        return self.follow(node, list(map(int, digits)), stamp_of, source, line_of)

    def follow(self, node, serials, stamp_of, source, line_of):
        """Follow the serials of a block of records of one node at once.

        ``serials``: the serial of every record, in order; ``stamp_of(i)``
        returns ``(SECONDS, MILLIS)`` of record ``i`` and ``line_of(i)`` its
        line number (both asked only where the serials do not simply
        continue).  Returns ``[(index, previous)]`` for every record that
        starts a new boot, ``previous`` as in ``jump``.  Same results as
        ``observe`` record by record, at a fraction of the cost.
        """
        count = len(serials)
        if not count:
            return []
        state = self.nodes.get(node)
        if state is None:
            sec, ms = stamp_of(0)
            state = self.begin(node, sec, ms, serials[0])
        # candidates: records whose serial is neither the previous one nor one more
        previous_serials = [state[3]] + serials[:-1]
        candidates = [i for i, step in enumerate(map(operator.sub, serials, previous_serials)) if step > 1 or step < 0]
        if state[3] < state[0] and (not candidates or candidates[0] != 0):
            candidates.insert(0, 0)  # the last block ended in a run of late records
        resets = []
        done = -1
        for i in candidates:
            if i <= done:
                continue
            if i > 0:
                state[0] = max(state[0], serials[i - 1])
                prev_sec, prev_ms = stamp_of(i - 1)
                last = (prev_sec, prev_ms, serials[i - 1])
            else:
                last = (state[1], state[2], state[3])
            j = i
            while j < count:
                serial = serials[j]
                top = state[0]
                if serial == top + 1 or serial == top:
                    state[0] = serial
                    break
                sec, ms = stamp_of(j)
                reset = self.jump(node, state, last, sec, ms, serial, source, line_of(j))
                if reset is not None:
                    resets.append((j, reset))
                done = j
                last = (sec, ms, serial)
                if serial >= state[0] or reset is not None:
                    break
                j += 1  # a run of late records: each one fills its gap
        end = count - 1
        state[0] = max(state[0], serials[end])
        sec, ms = stamp_of(end)
        state[1], state[2], state[3] = sec, ms, serials[end]
        return resets

    def _late(self, node, serial):
        gaps = self.node_gaps.get(node, ())
        for gap in reversed(gaps[-RECENT_GAPS:]):
            low, high = gap["_range"]
            if low < serial < high and gap["missing"] > 0:
                gap["missing"] -= 1
                self.missing -= 1
                if gap["missing"] == 0:
                    gaps.remove(gap)
                return

    def snapshot(self, paths):
        """JSON-ready state; ``paths`` turns the gaps' source numbers into file names."""
        gaps = []
        for gap in self.gaps:
            item = dict(gap)
            source = item.pop("source", None)
            if "path" not in item:
                item["path"] = paths[source] if source is not None and source < len(paths) else None
            item["_range"] = list(gap["_range"])
            del item["_at"]
            gaps.append(item)
        return {"nodes": [[node] + list(values) for node, values in self.nodes.items()],
                "firsts": [[node] + list(stamp) for node, stamp in self.firsts.items()],
                "missing": self.missing, "gaps": gaps}

    def restore(self, state):
        self.nodes = dict((item[0], list(item[1:])) for item in state["nodes"])
        self.firsts = dict((item[0], tuple(item[1:])) for item in state["firsts"])
        self.missing = state["missing"]
        self.node_gaps = {}
        for number, gap in enumerate(state["gaps"]):
            item = dict(gap)
            item["_range"] = tuple(gap["_range"])
            item["_at"] = (-1, 0, number)  # before every gap of this run, in the order they were found
            self.node_gaps.setdefault(item["host"], []).append(item)

    def gap_details(self, host_name, paths):
        """The gaps for the result: host names resolved, internal keys dropped."""
        out = []
        for gap in self.gaps:
            item = dict((k, v) for k, v in gap.items() if not k.startswith("_"))
            item["host"] = gap["host"] or host_name
            source = item.pop("source", None)
            if "path" not in item:
                item["path"] = paths[source] if source is not None and source < len(paths) else None
            out.append(item)
        return out
