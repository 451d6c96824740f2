# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The other records of an AVC's event (its SYSCALL, PATH, PROCTITLE ...), found by index.

An AVC record's event shares its node, time and serial; its records lie
within COMPANION_WINDOW records of it, in the same block or the ones
before and after.  Companions notes where to look and finds the lines on
first use (the blocks are then let go); AvcEvents is the reader's part
that adds the next blocks to the AVCs still open.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import weakref
from collections import deque

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_block import line_at, node_name

COMPANION_WINDOW = 64  # the other records of an AVC event lie within this many records of it


def match_event(blk, lo, hi, node, stamp, digits, skip):
    """Records ``lo`` .. ``hi - 1`` of ``blk`` (but ``skip``) that belong to the event ``(node, stamp, digits)``."""
    window = blk.digits[lo:hi]
    count = window.count(digits)
    out = []
    at = -1
    found = blk.found
    codes = blk.codes
    for dummy in range(count):
        at = window.index(digits, at + 1)
        k = lo + at
        if k != skip and found[k][2] == stamp and node_name(found[k][0]) == node and blk.companion_at(k):
            out.append(k)
    return out


class Companions(object):
    """The other records of the AVC record ``k`` of ``blk``: looked for on first use, then listed in ``found``.

    They are the records of its event within COMPANION_WINDOW records before
    and after it: in its block, in ``earlier`` blocks and in ``later`` ones
    (``(block, number of records looked at)``, added while the AVC is open).
    Iterating gives ``(source, line number, line bytes)``.
    """

    __slots__ = ("blk", "k", "slot", "earlier", "later", "found", "__weakref__")

    def __init__(self, blk, k, earlier=None):
        self.blk = blk
        self.k = k
        self.slot = len(blk.avcs)
        blk.avcs.append(k)
        self.earlier = earlier
        self.later = None
        self.found = []

    def resolve(self):
        if self.k is None:
            return self.found
        blk, k = self.blk, self.k
        head = blk.found[k]
        node, stamp, digits = node_name(head[0]), head[2], blk.digits[k]
        found = self.found
        for old in self.earlier or ():
            for j in match_event(old, max(0, blk.base + k - COMPANION_WINDOW - old.base), len(old), node, stamp, digits, -1):
                found.append((old.source_of(j), old.line_of(j), old.text(j)))
        near = match_event(blk, max(0, k - COMPANION_WINDOW), min(len(blk), k + COMPANION_WINDOW + 1), node, stamp, digits, k)
        if near:
            index = blk.line_of(k) - blk.first_line - 1
            anchor = blk.anchor(self.slot)
            for j in near:
                line = blk.line_of(j)
                found.append((blk.source, line, line_at(blk.buf, line - blk.first_line - 1, anchor, index)))
        for later, count in self.later or ():
            for j in match_event(later, 0, count, node, stamp, digits, -1):
                found.append((later.source_of(j), later.line_of(j), later.text_near_start(j)))
        self.blk = self.k = self.earlier = self.later = None  # the blocks are no longer held
        return found

    def __iter__(self):
        return iter(self.resolve())


def listed_companions(companions):
    return companions.resolve() if isinstance(companions, Companions) else companions


class AvcEvents(object):
    """The AVC records of a reader whose events may still have records in the next blocks (a base of LogReader).

    ``open``: ``[AVC's number, last number of its window, Record]`` of the
    AVCs whose window reaches past the blocks read; ``unresolved``: ``(number
    of the first record, weak reference to Companions)`` of the AVCs not
    looked at yet, oldest first.  The reader's ``recent`` blocks are where
    earlier records of an event are found.
    """

    def __init__(self):
        self.open = []
        self.unresolved = deque()

    def _companions(self, blk, k, record):
        """Notes where the other records of the AVC ``record`` (record ``k`` of ``blk``) may be (see Companions)."""
        number = blk.base + k
        earliest = blk.base
        earlier = None
        if k < COMPANION_WINDOW:
            earlier = []
            for old in reversed(self.recent):
                if old.base + len(old) <= number - COMPANION_WINDOW:
                    break
                earlier.append(old)
                earliest = old.base
        companions = record.companions = Companions(blk, k, earlier)
        self.unresolved.append((earliest, weakref.ref(companions)))
        if k + COMPANION_WINDOW >= len(blk):
            self.open.append([number, number + COMPANION_WINDOW, record])

    def _complete(self, blk):
        """The part of ``blk`` where AVC events of earlier blocks may have records."""
        still = []
        for entry in self.open:
            number, last, record = entry
            companions = record.companions
            if companions.later is None:
                companions.later = []
            companions.later.append((blk, min(len(blk), last - blk.base + 1)))
            if last >= blk.base + len(blk):
                still.append(entry)
        self.open = still

    def _forget(self, blk):
        """``blk`` leaves the recent blocks: the AVC events still waiting (in the grouper) that may have records in it
        are looked at now; those the engine is done with are gone."""
        unresolved = self.unresolved
        while unresolved and unresolved[0][0] <= blk.base:
            companions = unresolved.popleft()[1]()
            if companions is not None:
                companions.resolve()
