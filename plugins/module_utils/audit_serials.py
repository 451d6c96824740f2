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

import operator

from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import AtLeast, Maybe, Row

RESET_TOLERANCE = 64
MAX_GAP_DETAILS = 100
RECENT_GAPS = 8


# The shape of snapshot() in a checkpoint (module_utils/state_shape.py): checked before restore()
STATE_SHAPE = {
    "nodes": [Row(Maybe(str), int, str, str, int)],
    "missing": AtLeast(0),
    "gaps": [{"host": Maybe(str), "after_id": str, "before_id": str, "missing": AtLeast(0), "path": Maybe(str),
              "line": Maybe(int), "_range": Row(int, int)}],
}


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

    def follow_digits(self, node, digits, skip, stamp_of, source, first_line):
        """``follow`` for serials given as the digits of every line (bytes).

        Most blocks simply continue: every serial equals the one before or is
        one more.  That is checked on the digits with a few whole-list
        operations (all of one length, so their order is the numbers' order;
        sorted; as many distinct values as the range spans); such a block
        only moves the state to its last line.  Any other block is followed
        line by line.  Returns ``(resets, serials)``: ``resets`` as from
        ``follow``, ``serials`` the numbers when they were needed (else None).
        """
        count = len(digits)
        state = self.nodes.get(node)
        if count and not skip and state is not None and state[3] >= state[0]:
            first, last = digits[0], digits[-1]
            width = len(first)
            if len(last) == width and len(b"".join(digits)) == width * count:
                low, high = int(first), int(last)
                if 0 <= low - state[3] <= 1 and digits == sorted(digits) and len(set(digits)) == high - low + 1:
                    sec, ms = stamp_of(count - 1)
                    state[0] = high
                    state[1], state[2], state[3] = sec, ms, high
                    return [], None
        serials = list(map(int, digits))
        return self.follow(node, serials, skip, stamp_of, source, first_line), serials

    def follow(self, node, serials, skip, stamp_of, source, first_line):
        """Follow the serials of a block of lines at once.

        ``serials``: the serial of every line, in order; ``skip``: indices of
        lines whose serial is not the kernel's (DAEMON_*); ``stamp_of(i)``
        returns ``(SECONDS, MILLIS)`` of line ``i`` (asked only where the
        serials do not simply continue).  Returns ``[(index, previous)]`` for
        every line that starts a new boot, ``previous`` as in ``jump``.
        Same results as ``observe`` line by line, at a fraction of the cost.
        """
        count = len(serials)
        if not count:
            return []
        if skip:
            serials = list(serials)
        state = self.nodes.get(node)
        first = 0
        while first < count and first in skip:
            first += 1
        if first == count:
            return []
        if state is None:
            sec, ms = stamp_of(first)
            state = self.begin(node, sec, ms, serials[first])
        for index in sorted(skip):
            serials[index] = serials[index - 1] if index > first else state[3]
        # candidates: lines whose serial is neither the previous line's nor one more
        previous_serials = [state[3]] + serials[:-1]
        candidates = [i for i, step in enumerate(map(operator.sub, serials, previous_serials))
                      if (step > 1 or step < 0) and i not in skip]
        if state[3] < state[0] and (not candidates or candidates[0] != first):
            candidates.insert(0, first)  # the last block ended in a run of late records
        resets = []
        done = -1
        index_pos = 0
        while index_pos < len(candidates):
            i = candidates[index_pos]
            index_pos += 1
            if i <= done:
                continue
            before = i - 1
            while before >= 0 and before in skip:
                before -= 1
            if before >= 0:
                state[0] = max(state[0], serials[before])
                prev_sec, prev_ms = stamp_of(before)
                last = (prev_sec, prev_ms, serials[before])
            else:
                last = (state[1], state[2], state[3])
            j = i
            while j < count:
                if j in skip:
                    j += 1
                    continue
                serial = serials[j]
                top = state[0]
                if serial == top + 1 or serial == top:
                    state[0] = serial
                    break
                sec, ms = stamp_of(j)
                reset = self.jump(node, state, last, sec, ms, serial, source, first_line + j + 1)
                if reset is not None:
                    resets.append((j, reset))
                done = j
                last = (sec, ms, serial)
                if serial >= state[0] or reset is not None:
                    break
                j += 1  # a run of late records: each one fills its gap
        end = count - 1
        while end in skip:
            end -= 1
        state[0] = max(state[0], serials[end])
        sec, ms = stamp_of(end)
        state[1], state[2], state[3] = sec, ms, serials[end]
        return resets

    def _late(self, node, serial):
        for gap in reversed(self.gaps[-RECENT_GAPS:]):
            low, high = gap["_range"]
            if gap["host"] == node and low < serial < high and gap["missing"] > 0:
                gap["missing"] -= 1
                self.missing -= 1
                if gap["missing"] == 0:
                    self.gaps.remove(gap)
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
            gaps.append(item)
        return {"nodes": [[node] + list(values) for node, values in self.nodes.items()],
                "missing": self.missing, "gaps": gaps}

    def restore(self, state):
        self.nodes = dict((item[0], list(item[1:])) for item in state["nodes"])
        self.missing = state["missing"]
        self.gaps = []
        for gap in state["gaps"]:
            item = dict(gap)
            item["_range"] = tuple(gap["_range"])
            self.gaps.append(item)

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
