# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Live migrations: the two halves of one, on two hosts, paired.

libvirt logs a live migration on both hosts: the destination's ``op=start
reason=migrated`` (the incoming guest starts while the source still runs)
and the source's ``op=stop reason=migrated`` (when the guest has moved).
The module pairs them when both hosts' records are in its logs (several
``node=`` names in one file); the fleet report pairs them across hosts.
Both use ``pair_migrations``.

Pure functions, standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

# A destination may log its start a little after the source's stop when the
# two clocks disagree; up to this many seconds is still one migration.
DEFAULT_SLACK = 300.0


def pair_migrations(sessions, slack=DEFAULT_SLACK):
    """Pair outgoing and incoming live migrations of the same UUID across hosts.

    ``sessions`` are dicts with ``host``, ``uuid``, ``state``,
    ``start_epoch``, ``start_reason``, ``end_epoch`` and ``stop_reason``.  A
    source (``stop_reason`` ``migrated``, with an end) is paired with the
    incoming session (``start_reason`` ``migrated``, not a failed start) of
    the same UUID on another host that started while the source ran (or at
    most ``slack`` seconds after it stopped) and is closest to the source's
    stop; each session is paired at most once.

    Returns ``(pairs, sources, destinations)``: ``(source, destination)``
    pairs, and the sources and destinations left without a partner, each in
    (UUID, time) order.
    """
    by_uuid = {}
    for session in sessions:
        by_uuid.setdefault(session["uuid"], []).append(session)
    pairs = []
    lone_sources = []
    lone_destinations = []
    for uuid in sorted(by_uuid):
        group = by_uuid[uuid]
        outs = sorted((s for s in group if s.get("stop_reason") == "migrated" and s.get("end_epoch") is not None),
                      key=lambda s: (s["end_epoch"], s["host"]))
        ins = [s for s in group if s.get("start_reason") == "migrated" and s.get("state") != "failed"
               and s.get("start_epoch") is not None]
        used = set()
        for out in outs:
            best = None
            for cand in ins:
                if id(cand) in used or cand["host"] == out["host"]:
                    continue
                if cand["start_epoch"] > out["end_epoch"] + slack:
                    continue
                if out.get("start_epoch") is not None and cand["start_epoch"] < out["start_epoch"]:
                    continue
                if best is None or abs(out["end_epoch"] - cand["start_epoch"]) < abs(out["end_epoch"] - best["start_epoch"]):
                    best = cand
            if best is None:
                lone_sources.append(out)
                continue
            used.add(id(best))
            pairs.append((out, best))
        lone_destinations.extend(cand for cand in ins if id(cand) not in used)
    return pairs, lone_sources, lone_destinations
