# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sessions of the fleet model across hosts: their stable ids (``session_id``, ``session_fingerprint``)
and order, live migrations stitched across hosts (``stitch_migrations``: the destination's ``start
reason=migrated`` paired with the source's ``stop reason=migrated`` of the same UUID), where running
sessions are known to be still open (``mark_open_sessions``) and one history per guest UUID
(``guest_histories``).

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible_collections.virtaudit.auvirt.plugins.module_utils.migrations import DEFAULT_SLACK, pair_migrations
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso

DEFAULT_MIGRATION_SLACK = DEFAULT_SLACK


def anchor_epoch(session, default=None):
    """The time a session sorts by and is exported at: its start, else when it was first seen, else its end;
    ``default`` when it has none of them."""
    for key in ("start_epoch", "first_seen_epoch", "end_epoch"):
        if session.get(key) is not None:
            return session[key]
    return default


def session_sort_key(session):
    """Sessions in order: host, time, name, UUID, start record."""
    return (session["host"], anchor_epoch(session, 0.0), session.get("name") or "", session["uuid"], session.get("start_id") or "")


def session_fingerprint(session_id_text):
    """Stable id of a session for exports and for comparing reports: a hash of its ``session_id``."""
    return hashlib.sha256(("session\0" + session_id_text).encode("utf-8", "surrogateescape")).hexdigest()[:16]


def session_id(session):
    """Stable id of a session: ``host/start_id``, else ``host/uuid@first_seen``."""
    if session.get("start_id"):
        return "%s/%s" % (session["host"], session["start_id"])
    return "%s/%s@%s" % (session["host"], session["uuid"], session.get("first_seen") or session.get("end_id") or "?")


def evidence_count(session, kind):
    """How many ``kind`` (avcs, anomalies, attaches) the session's evidence summary counts."""
    return ((session.get("evidence") or {}).get(kind) or {}).get("count") or 0


def stitch_migrations(sessions, slack=DEFAULT_MIGRATION_SLACK):
    """Pair outgoing and incoming live migrations of the same UUID across hosts.

    Sets ``migrated_to`` / ``migrated_from`` (session ids) on the sessions and
    returns ``(migrations, unmatched)``.  The pairing rule is the module's
    (module_utils/migrations.py, ``pair_migrations``).
    """
    for session in sessions:
        session["migrated_from"] = None
        session["migrated_to"] = None
    pairs, sources, destinations = pair_migrations(sessions, slack)
    migrations = []
    for out, best in pairs:
        out["migrated_to"] = best["session_id"]
        best["migrated_from"] = out["session_id"]
        migrations.append({
            "uuid": out["uuid"],
            "name": best.get("name") or out.get("name"),
            "source_host": out["host"],
            "destination_host": best["host"],
            "source_session": out["session_id"],
            "destination_session": best["session_id"],
            "started": best.get("start"),
            "started_epoch": best["start_epoch"],
            "completed": out.get("end"),
            "completed_epoch": out["end_epoch"],
            "overlap_seconds": round(out["end_epoch"] - best["start_epoch"], 3),
            "start_id": best.get("start_id"),
            "stop_id": out.get("end_id"),
        })
    unmatched = [{"host": out["host"], "name": out.get("name"), "uuid": out["uuid"], "time": out.get("end"),
                  "epoch": out["end_epoch"], "id": out.get("end_id"),
                  "detail": "migrated away (stop reason=migrated); no host of this report logged the arrival"}
                 for out in sources]
    unmatched.extend({"host": cand["host"], "name": cand.get("name"), "uuid": cand["uuid"], "time": cand.get("start"),
                      "epoch": cand["start_epoch"], "id": cand.get("start_id"),
                      "detail": "arrived by live migration (start reason=migrated); no host of this report logged the departure"}
                     for cand in destinations)
    migrations.sort(key=lambda m: (m["started_epoch"], m["uuid"], m["source_host"], m["destination_host"]))
    unmatched.sort(key=lambda m: (m["epoch"], m["host"], m["uuid"]))
    return migrations, unmatched


def mark_open_sessions(sessions, hosts, window_end=None):
    """Where each running session is known to be still open: ``open_until`` / ``open_until_epoch`` - its host's
    newest record, or the window end when that is earlier - ``open_until_source`` (``last_record``,
    ``window_end``) and ``open_seconds`` (from its start to there).  Never the controller's clock: a log
    from a past year has its running sessions open at its own end.  None for every other session."""
    for session in sessions:
        session["open_until"] = session["open_until_epoch"] = session["open_until_source"] = session["open_seconds"] = None
        if session["state"] != "running" or session.get("end_epoch") is not None:
            continue
        host = hosts.get(session.get("inventory_host")) or {}
        until, source = host.get("last_record_epoch"), "last_record"
        if window_end is not None and (until is None or window_end < until):
            until, source = window_end, "window_end"
        if until is None:
            continue
        start = session.get("start_epoch")
        if start is not None and until < start:
            until = start
        session["open_until_epoch"] = until
        session["open_until"] = host.get("last_record") if source == "last_record" and until == host.get("last_record_epoch") else iso(until)
        session["open_until_source"] = source
        session["open_seconds"] = round(until - start, 3) if start is not None else None


def guest_histories(sessions, migrations):
    """One entry per UUID: names, hosts (in order of appearance), sessions, run time, migrations.

    Run time adds up the sessions' durations; a session still running counts up to where it is open
    (``open_seconds``: the host's newest record or the window end)."""
    guests = {}
    for session in sorted(sessions, key=lambda s: (anchor_epoch(s, 0.0), s["host"])):
        guest = guests.setdefault(session["uuid"], {
            "uuid": session["uuid"], "name": session.get("name"), "names": [], "hosts": [], "sessions": [],
            "states": dict((s, 0) for s in STATES), "runtime_seconds": 0.0, "migrations": 0,
            "first_start": None, "first_start_epoch": None, "last_state": None,
        })
        if session.get("name") and session["name"] not in guest["names"]:
            guest["names"].append(session["name"])
        if session["host"] not in guest["hosts"]:
            guest["hosts"].append(session["host"])
        guest["sessions"].append(session["session_id"])
        guest["states"][session["state"]] = guest["states"].get(session["state"], 0) + 1
        if session.get("duration_seconds"):
            guest["runtime_seconds"] += session["duration_seconds"]
        elif session.get("open_seconds"):
            guest["runtime_seconds"] += session["open_seconds"]
        if session.get("start_epoch") is not None and guest["first_start_epoch"] is None:
            guest["first_start"], guest["first_start_epoch"] = session.get("start"), session["start_epoch"]
        guest["name"] = session.get("name") or guest["name"]
        guest["last_state"] = session["state"]
    for migration in migrations:
        guests[migration["uuid"]]["migrations"] += 1
    out = sorted(guests.values(), key=lambda g: ((g["name"] or ""), g["uuid"]))
    for guest in out:
        guest["runtime_seconds"] = round(guest["runtime_seconds"], 3)
    return out
