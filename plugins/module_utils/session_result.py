# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sessions -> the result dict: what run() returns, shaped as docs/session-model.md describes.

``session_dict`` is one session (its timeline, resources, denials,
anomalies, proof and raw lines when asked for), ``summarize`` the counts
of the selected sessions, ``unattributed_result`` the denials and
anomalies of no session, ``shape_result`` the whole result of a run
(sessions, summary, host events, sources, coverage, parse errors, the
host's clock and the auvirt-style lines).  Every time is given twice, as
ISO 8601 UTC (time_text.iso) and as epoch seconds rounded to the
millisecond (``r3``).

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import itertools
import operator

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.auvirt_format import auvirt_lines as format_auvirt_lines
from ansible_collections.virtaudit.auvirt.plugins.module_utils.migrations import pair_migrations
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_evidence import session_evidence
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_unattributed import ANOMALY, AVC
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso

_NO_STAMP = (None, None)
_LAST = operator.itemgetter(-1)
_ID = operator.itemgetter("id")
_EPOCH = operator.itemgetter("epoch")
_OPENED_EPOCH = operator.itemgetter("opened_epoch")
_CLOSED_EPOCH = operator.itemgetter("closed_epoch")


def r3(value):
    """``round(value, 3)``, or None.

    round() to decimals is slow.  For a positive float below 1e11,
    ``value * 1000`` is off the exact product by at most 2**-7, so when it
    lies within 0.4 of an integer, that integer is the correctly rounded
    number of milliseconds and ``millis / 1000`` (a correctly rounded
    division) is the very float round() returns.  Anything else - near half
    a millisecond, zero, negative, huge, not a float - goes to round().
    """
    if value.__class__ is float and 0.0 < value < 1e11:
        scaled = value * 1000
        millis = round(scaled)
        if -0.4 <= scaled - millis <= 0.4:
            return millis / 1000
    return None if value is None else round(value, 3)


def _stamp(epoch, memo):
    """``(iso(epoch), r3(epoch))``, kept in the dict ``memo`` for the next ``memo.get(epoch)``.

    A session shows most of its times several times (a resource and its
    timeline event, a start sequence logged within one millisecond).  Only
    floats with a fraction are kept: such a float equals no int and no
    other float, while 5.0 == 5 and 0.0 == -0.0 are rounded to different
    values.  The callers seed ``memo`` with ``{None: _NO_STAMP}``.
    """
    stamp = (iso(epoch), r3(epoch))
    if epoch.__class__ is float and not epoch.is_integer():
        memo[epoch] = stamp
    return stamp


def _resource_dicts(items, opened, closed):
    """Resource dicts of ``items``; ``opened``, ``closed``: the stamps of their times."""
    return [{
        "kind": item["kind"],
        "reason": item["reason"],
        "value": item["value"],
        "result": item["result"],
        "opened": opened_stamp[0],
        "opened_epoch": opened_stamp[1],
        "id": item["id"],
        "closed": closed_stamp[0],
        "closed_epoch": closed_stamp[1],
        "close_id": item["close_id"],
        "close_reason": item["close_reason"],
        "details": {**item["details"]},
    } for item, opened_stamp, closed_stamp in zip(items, opened, closed)]


def _timed(item, memo=None):
    if memo is None:
        memo = {None: _NO_STAMP}
    stamp = memo.get(item["epoch"]) or _stamp(item["epoch"], memo)
    out = dict(item)
    out["time"] = stamp[0]
    out["epoch"] = stamp[1]
    return out


def _timeline(session, memo, opened):
    """The session's events in time order; ``opened``: the stamps of the resources' openings."""
    def event(epoch, event_id, kind, detail):
        stamp = memo.get(epoch) or _stamp(epoch, memo)
        return {"time": stamp[0], "epoch": stamp[1], "id": event_id, "kind": kind, "detail": detail}

    # the event dicts, and the epoch and id of each
    labels, resources, avcs, anomalies = session.labels, session.resources, session.avcs, session.anomalies
    events = [event(label["epoch"], label["id"], "label", "%s %s" % (label["model"], label["vm_ctx"]))
              for label in labels]
    epochs = list(map(_EPOCH, labels))
    ids = list(map(_ID, labels))
    if session.start_id:
        events.append(event(session.start_epoch, session.start_id, "start", "%s (%s)" % (
            session.start_reason, "failed" if session.state == "failed" else "success")))
        epochs.append(session.start_epoch)
        ids.append(session.start_id)
    events += [{"time": stamp[0], "epoch": stamp[1], "id": item["id"], "kind": "resource",
                "detail": "%s %s %s (%s)" % (item["kind"], item["reason"], item["value"], item["result"])}
               for item, stamp in zip(resources, opened)]
    epochs += map(_OPENED_EPOCH, resources)
    ids += map(_ID, resources)
    events += [event(item["epoch"], item["id"], "avc", "%s %s %s %s" % (
        item["lsm"], item["result"], item["operation"], item["name"])) for item in avcs]
    events += [event(item["epoch"], item["id"], "anomaly", "%s pid=%s sig=%s" % (
        item["type"], item["pid"], item["sig"])) for item in anomalies]
    for items in (avcs, anomalies):
        epochs += map(_EPOCH, items)
        ids += map(_ID, items)
    for epoch, event_id, kind, detail in session.extra_events:
        events.append(event(epoch, event_id, kind, detail))
        epochs.append(epoch)
        ids.append(event_id)
    if session.stop_seen and session.end_id:
        events.append(event(session.end_epoch, session.end_id, "stop", session.stop_reason))
        epochs.append(session.end_epoch)
        ids.append(session.end_id)
    # by time, then serial (EventId: a malformed or missing id as serial 0); equal keys keep the order above
    if None in epochs:
        epochs = [0.0 if epoch is None else epoch for epoch in epochs]
    keys = zip(epochs, [EventId.key(event_id)[1] for event_id in ids], itertools.count(), events)
    return list(map(_LAST, sorted(keys)))


def session_dict(session, all_events=False, proof=False, raw=False, evidence=False):
    """A Session as the documented result dict (``evidence``: with the summary of session_evidence)."""
    if session.state == "failed":
        duration = 0.0
    elif session.start_epoch is not None and session.end_epoch is not None:
        duration = r3(session.end_epoch - session.start_epoch)
    else:
        duration = None
    memo = {None: _NO_STAMP}  # epoch -> (iso, rounded), see _stamp
    get = memo.get
    start = get(session.start_epoch) or _stamp(session.start_epoch, memo)
    end = get(session.end_epoch) or _stamp(session.end_epoch, memo)
    first_seen = get(session.first_seen) or _stamp(session.first_seen, memo)
    out = {
        "host": session.host,
        "name": session.name,
        "uuid": session.uuid,
        "virt": session.virt,
        "state": session.state,
        "start": start[0],
        "start_epoch": start[1],
        "start_reason": session.start_reason,
        "end": end[0],
        "end_epoch": end[1],
        "stop_reason": session.stop_reason,
        "duration_seconds": duration,
        "pid": session.pid,
        "user": session.user,
        "label": session.label,
        "first_seen": first_seen[0],
        "first_seen_epoch": first_seen[1],
        "start_id": session.start_id,
        "end_id": session.end_id,
    }
    if session.init:
        out["lxc_init"] = dict(session.init)
    if all_events:
        opened = [get(epoch) or _stamp(epoch, memo) for epoch in map(_OPENED_EPOCH, session.resources)]
        closed = [get(epoch) or _stamp(epoch, memo) for epoch in map(_CLOSED_EPOCH, session.resources)]
        out["resources"] = _resource_dicts(session.resources, opened, closed)
        out["avcs"] = [_timed(item, memo) for item in session.avcs]
        out["anomalies"] = [_timed(item, memo) for item in session.anomalies]
        out["security_labels"] = [{"model": lab["model"], "vm_ctx": lab["vm_ctx"], "img_ctx": lab["img_ctx"],
                                   "id": lab["id"], "result": lab["result"]} for lab in session.labels]
        out["events"] = _timeline(session, memo, opened)
    if evidence:
        out["evidence"] = session_evidence(session.avcs, session.anomalies, session.resources)
    if proof:
        out["proof"] = sorted(set(session.ids), key=EventId.key)
        if raw:
            out["raw"] = dict((k, list(v)) for k, v in sorted(session.raw.items(), key=lambda kv: EventId.key(kv[0])))
    return out


def summarize(sessions, engine, window_start=None, window_end=None):
    """The documented ``summary`` of the selected Session objects."""
    states = dict((state, 0) for state in STATES)
    starts = stops = resources = avcs = anomalies = failed_ops = 0
    firsts = []
    lasts = []
    for session in sessions:
        states[session.state] = states.get(session.state, 0) + 1
        # ended sessions restored from a checkpoint bring their tally: their details stay undecoded
        s_starts, s_failed, s_stops, s_resources, s_avcs, s_anomalies, s_first, s_last = session.tally()
        starts += s_starts
        failed_ops += s_failed
        stops += s_stops
        resources += s_resources
        avcs += s_avcs
        anomalies += s_anomalies
        if s_first is not None:
            firsts.append(s_first)
            lasts.append(s_last)

    first = min(firsts) if firsts else None
    last = max(lasts) if lasts else None
    unattributed = engine.unattributed_in(window_start, window_end)
    return {
        "sessions": len(sessions),
        "states": states,
        "starts": starts,
        "stops": stops,
        "resources": resources,
        "avcs": avcs,
        "anomalies": anomalies,
        "avcs_unattributed": unattributed[0],
        "anomalies_unattributed": unattributed[1],
        "failed_operations": failed_ops,
        "unmatched_virt_records": engine.unmatched_records,
        "first": iso(first),
        "first_epoch": r3(first),
        "last": iso(last),
        "last_epoch": r3(last),
        "hosts": sorted(engine.hosts),
    }


def unattributed_result(engine, summary, window_start=None, window_end=None):
    """The ``unattributed`` result key: the listed AVCs and anomalies attributed to no session that ``summary``
    counts, how many it counts beyond them, and how many each host had in all logs read."""
    avcs = [_timed(item) for item in engine.unattributed_listed(AVC, window_start, window_end)]
    anomalies = [_timed(item) for item in engine.unattributed_listed(ANOMALY, window_start, window_end)]
    return {
        "avcs": avcs,
        "anomalies": anomalies,
        "avcs_not_listed": summary["avcs_unattributed"] - len(avcs),
        "anomalies_not_listed": summary["anomalies_unattributed"] - len(anomalies),
        "numbers": dict((host, {"avcs": numbers[AVC], "anomalies": numbers[ANOMALY]})
                        for host, numbers in engine.unattributed.numbers.items()),
    }


def _coverage(tracker, reader, paths, missing_rotated, skipped_files, window_start, window_end, default_host):
    # with a checkpoint, the earlier runs' records count too (the sessions are built from them)
    first, last = reader.span()
    reaches = None
    if window_start is not None:
        reaches = first is not None and first <= window_start
    complete = not tracker.missing and not missing_rotated and reaches is not False
    return {
        "window_start": iso(window_start),
        "window_start_epoch": r3(window_start),
        "window_end": iso(window_end),
        "window_end_epoch": r3(window_end),
        "first_record": iso(first),
        "first_record_epoch": r3(first),
        "last_record": iso(last),
        "last_record_epoch": r3(last),
        "reaches_window_start": reaches,
        "serial_gaps": {"missing_events": tracker.missing, "gaps": tracker.gap_details(default_host, paths)},
        "missing_rotated_files": list(missing_rotated),
        "skipped_files": skipped_files,
        "complete": complete,
    }


def _sources(stats):
    out = []
    for source in stats.sources:
        out.append({
            "path": source["path"],
            "bytes": source["bytes"],
            "compressed": source["compressed"],
            "records": source["records"],
            "duplicates": source.get("duplicates", 0),
            "start_offset": source.get("start_offset", 0),
            "start_line": source.get("start_line", 0),
            "first": iso(source["first_epoch"]),
            "first_epoch": r3(source["first_epoch"]),
            "last": iso(source["last_epoch"]),
            "last_epoch": r3(source["last_epoch"]),
        })
    return out


def migration_links(sessions):
    """``{id(session): {"migrated_to": ..., "migrated_from": ...}}`` for both halves of every live migration
    whose two hosts are in the logs (module_utils/migrations.py)."""
    heads = [{"host": s.host, "uuid": s.uuid, "state": s.state, "start_epoch": s.start_epoch,
              "start_reason": s.start_reason, "end_epoch": s.end_epoch, "stop_reason": s.stop_reason, "session": s}
             for s in sessions if s.start_reason == "migrated" or s.stop_reason == "migrated"]
    links = {}
    for source, destination in pair_migrations(heads)[0]:
        out, into = source["session"], destination["session"]
        links.setdefault(id(out), {})["migrated_to"] = {
            "host": into.host, "start": iso(into.start_epoch), "start_epoch": r3(into.start_epoch),
            "start_id": into.start_id}
        links.setdefault(id(into), {})["migrated_from"] = {
            "host": out.host, "end": iso(out.end_epoch), "end_epoch": r3(out.end_epoch), "end_id": out.end_id}
    return links


def _linked(item, session, links):
    """The session dict with its ``migrated_from`` / ``migrated_to`` (null unless both halves are known)."""
    link = links.get(id(session), {})
    item["migrated_from"] = link.get("migrated_from")
    item["migrated_to"] = link.get("migrated_to")
    return item


def _host_events(engine, window_start, window_end):
    """The engine's host events (reboots, crashes, audit daemon starts ...) in the window."""
    return [_timed(item) for item in engine.host_events
            if (window_start is None or item["epoch"] >= window_start) and (window_end is None or item["epoch"] <= window_end)]


def shape_result(options, window, selected, sessions, engine, tracker, reader, stats, log_set, checkpoint, warnings):
    """The result dict of a run (session_report.run).

    ``options``: the RunOptions; ``window``: ``(start, end)`` epochs or None;
    ``selected``: the sessions to return, in order, of all ``sessions``;
    ``log_set``: ``(missing rotated files, skipped files)``; ``checkpoint``:
    the ``checkpoint`` result dict or None; ``warnings``: a list.
    """
    window_start, window_end = window
    all_events, proof, summary_only = options.all_events, options.proof, options.summary_only
    links = migration_links(sessions)
    summary = summarize(selected, engine, window_start, window_end)
    result = {
        "sessions": [] if summary_only else [_linked(session_dict(s, all_events, proof, options.raw, options.evidence),
                                                     s, links) for s in selected],
        "summary": summary,
        "host_events": _host_events(engine, window_start, window_end),
        "sources": _sources(stats),
        "coverage": _coverage(tracker, reader, [source["path"] for source in stats.sources], log_set[0],
                              log_set[1], window_start, window_end, options.default_host),
        "parse_errors": stats.parse_errors(),
        "host_clock": {"time": iso(options.now), "epoch": r3(options.now)},
    }
    if all_events:
        result["unattributed"] = unattributed_result(engine, summary, window_start, window_end)
    if checkpoint is not None:
        result["checkpoint"] = checkpoint
    if warnings:
        result["warnings"] = warnings
    if options.auvirt_lines:
        if summary_only or (all_events and proof) or not result["sessions"]:
            detailed = [_linked(session_dict(s, all_events, proof, False), s, links) for s in selected]
        else:
            detailed = result["sessions"]
        result["auvirt_lines"] = format_auvirt_lines(detailed, summary=summary, all_events=all_events,
                                                     summary_only=summary_only, show_uuid=options.show_uuid,
                                                     proof=proof, show_host=options.show_host)
    return result
