# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sessions -> results: one call that the modules make.

``run()`` reads the logs once (reader -> grouper -> engine), then selects
the sessions the options ask for and shapes them as docs/session-model.md
describes.  ``compact_facts()`` turns a result into the small
``ansible_facts['virt_sessions']``.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import itertools
import operator
import re
import socket
import time

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_reader import (  # noqa: F401 pylint: disable=unused-import
    AUDITD_CONF,
    LogAccessError,
    LogReader,
    ReadStats,
    auditd_log_file,
    check_readable,
    default_log_set,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint as checkpoints
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_events import EventGrouper, group_events
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_serials import SerialTracker
from ansible_collections.virtaudit.auvirt.plugins.module_utils.virt_sessions import (
    STATES,
    SessionEngine,
    iso,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.migrations import pair_migrations
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_window import parse_window
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_evidence import session_evidence
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_unattributed import ANOMALY, AVC
from ansible_collections.virtaudit.auvirt.plugins.module_utils.auvirt_format import auvirt_lines as format_auvirt_lines

_NO_STAMP = (None, None)
_LAST = operator.itemgetter(-1)
_ID = operator.itemgetter("id")
_EPOCH = operator.itemgetter("epoch")
_OPENED_EPOCH = operator.itemgetter("opened_epoch")
_CLOSED_EPOCH = operator.itemgetter("closed_epoch")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RUNNING_STATES = ("running",)
_RANGE_RE = re.compile(r"\.\{(\d+)\.\.(\d+)\}$")


def log_argument_spec():
    """Options shared by guest_session_info and guest_session_facts."""
    return dict(
        paths=dict(type="list", elements="path", default=[]),
        auditd_conf=dict(type="path", default=AUDITD_CONF),
        start=dict(type="str"),
        end=dict(type="str"),
        vm=dict(type="list", elements="str", default=[]),
        uuid=dict(type="list", elements="str", default=[]),
        host=dict(type="str"),
        checkpoint=dict(type="path"),
    )


def passwd_name(uid):
    """The hypervisor's user name for ``uid``, or None."""
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError, OverflowError, ValueError):
        return None


def boot_time_from_proc(uptime_path="/proc/uptime", now=None):
    """Epoch of the last boot from /proc/uptime, or None where there is none."""
    try:
        with open(uptime_path, "r") as handle:
            uptime = float(handle.read().split()[0])
    except (IOError, OSError, ValueError, IndexError):
        return None
    return (now if now is not None else time.time()) - uptime


def validate_uuids(uuids):
    """Lower-cased UUIDs; ValueError naming the first invalid one."""
    result = []
    for value in uuids or []:
        text = str(value).strip()
        if not UUID_RE.match(text):
            raise ValueError("invalid uuid %r: expected 8-4-4-4-12 hexadecimal digits, "
                             "e.g. 5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b" % (value,))
        result.append(text.lower())
    return result


def resolve_paths(paths, auditd_conf=AUDITD_CONF):
    """The files to read, oldest first, the rotated files that are missing and those skipped (default_log_set)."""
    if paths:
        return list(paths), [], {"count": 0, "paths": []}
    return default_log_set(auditd_log_file(auditd_conf))


def _event_key(event_id):
    """Sort key of ``SECONDS.MILLIS:SERIAL``."""
    stamp, _sep, serial = event_id.partition(":")
    try:
        return (float(stamp), int(serial))
    except ValueError:
        return (0.0, 0)


def _r3(value):
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
    """``(iso(epoch), _r3(epoch))``, kept in the dict ``memo`` for the next ``memo.get(epoch)``.

    A session shows most of its times several times (a resource and its
    timeline event, a start sequence logged within one millisecond).  Only
    floats with a fraction are kept: such a float equals no int and no
    other float, while 5.0 == 5 and 0.0 == -0.0 are rounded to different
    values.  The callers seed ``memo`` with ``{None: _NO_STAMP}``.
    """
    stamp = (iso(epoch), _r3(epoch))
    if epoch.__class__ is float and not epoch.is_integer():
        memo[epoch] = stamp
    return stamp


def _overlaps(session, window_start, window_end, host_first):
    """Whether ``session`` ran in the window.  One whose start is not in the logs began before the host's first
    record (``host_first``: host -> epoch), or after the host's boot it was seen in (``not_before``): it is
    selected from then on; with neither known, from its own first record."""
    start, end = session.interval()
    if session.state == "failed":
        end = start
    if window_end is not None and start is not None and start > window_end:
        return False
    if window_start is not None and end is not None and end < window_start:
        return False
    if start is None and window_end is not None:
        since = session.first_seen
        first = host_first.get(session.host)
        if first is not None and (since is None or first < since):
            since = first
        if session.not_before is not None and (since is None or session.not_before > since):
            since = session.not_before
        if since is not None and since > window_end:
            return False
    return True


def _host_firsts(tracker, default_host):
    """host -> time of its first record (every record with a kernel serial, also of earlier runs)."""
    firsts = {}
    for node, (sec, ms) in tracker.firsts.items():
        name = node or default_host
        epoch = int(sec) + int(ms) / 1000.0
        if name not in firsts or epoch < firsts[name]:
            firsts[name] = epoch
    return firsts


def _sort_key(session):
    anchor = session.start_epoch if session.start_epoch is not None else session.first_seen
    return (anchor if anchor is not None else 0.0, session.host or "", session.uuid)


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
    # by time, then serial; equal keys keep the order above (the count)
    if not all(ids):
        ids = [event_id or "0.000:0" for event_id in ids]
    if None in epochs:
        epochs = [0.0 if epoch is None else epoch for epoch in epochs]
    keys = zip(epochs, [_event_key(event_id)[1] for event_id in ids], itertools.count(), events)
    return list(map(_LAST, sorted(keys)))


def session_dict(session, all_events=False, proof=False, raw=False, evidence=False):
    """A Session as the documented result dict (``evidence``: with the summary of session_evidence)."""
    if session.state == "failed":
        duration = 0.0
    elif session.start_epoch is not None and session.end_epoch is not None:
        duration = _r3(session.end_epoch - session.start_epoch)
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
        out["proof"] = sorted(set(session.ids), key=_event_key)
        if raw:
            out["raw"] = dict((k, list(v)) for k, v in sorted(session.raw.items(), key=lambda kv: _event_key(kv[0])))
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
        "first_epoch": _r3(first),
        "last": iso(last),
        "last_epoch": _r3(last),
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
        "window_start_epoch": _r3(window_start),
        "window_end": iso(window_end),
        "window_end_epoch": _r3(window_end),
        "first_record": iso(first),
        "first_record_epoch": _r3(first),
        "last_record": iso(last),
        "last_record_epoch": _r3(last),
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
            "first_epoch": _r3(source["first_epoch"]),
            "last": iso(source["last_epoch"]),
            "last_epoch": _r3(source["last_epoch"]),
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
            "host": into.host, "start": iso(into.start_epoch), "start_epoch": _r3(into.start_epoch),
            "start_id": into.start_id}
        links.setdefault(id(into), {})["migrated_from"] = {
            "host": out.host, "end": iso(out.end_epoch), "end_epoch": _r3(out.end_epoch), "end_id": out.end_id}
    return links


def _linked(item, session, links):
    """The session dict with its ``migrated_from`` / ``migrated_to`` (null unless both halves are known)."""
    link = links.get(id(session), {})
    item["migrated_from"] = link.get("migrated_from")
    item["migrated_to"] = link.get("migrated_to")
    return item


def _checkpoint_position(stats):
    """Identity, offset and line of the last file read (its identity taken from the handle that read it)."""
    last = stats.sources[-1]
    position = dict(last["identity"])
    position.update(offset=last["end_offset"], lines=last["end_line"], path=last["path"])
    return position


def run(paths=None, start=None, end=None, vm=None, uuid=None, all_events=False, proof=False, raw=False,
        summary_only=False, auvirt_lines=False, show_uuid=False, default_host="localhost", now=None,
        uid_resolver=None, boot_time=None, auditd_conf=AUDITD_CONF, checkpoint=None, save_checkpoint=True,
        show_host="never", evidence=False):
    """Read the logs and return the documented result dict.

    ``evidence`` adds to every session the short summary of its denials,
    anomalies and hot-plugs that the fleet report needs (session_evidence).

    With ``checkpoint`` (a file path) only what is new since the run that
    wrote it is read, and the checkpoint is updated (unless
    ``save_checkpoint`` is false, e.g. in check mode).  Raises ValueError
    for bad options and LogAccessError for unreadable logs.

    A checkpoint passes every check of checkpoint.load() before it is used;
    should its content still break the run, the run is made again from the
    logs alone, with a warning, and the checkpoint is written anew.
    """
    options = dict(paths=paths, start=start, end=end, vm=vm, uuid=uuid, all_events=all_events, proof=proof,
                   raw=raw, summary_only=summary_only, auvirt_lines=auvirt_lines, show_uuid=show_uuid,
                   show_host=show_host, evidence=evidence,
                   default_host=default_host, now=time.time() if now is None else now, uid_resolver=uid_resolver,
                   boot_time=boot_time, auditd_conf=auditd_conf, checkpoint=checkpoint,
                   save_checkpoint=save_checkpoint)
    resumed = []
    try:
        return _run(resumed=resumed, **options)
    except Exception as exc:  # pylint: disable=broad-except
        if not resumed:
            raise
        warning = ("checkpoint %s could not be used (%s: %s); reading all logs"
                   % (checkpoint, type(exc).__name__, exc))
    return _run(resumed=None, warnings=[warning], **options)


def _run(paths, start, end, vm, uuid, all_events, proof, raw, summary_only, auvirt_lines, show_uuid, show_host,
         evidence, default_host, now, uid_resolver, boot_time, auditd_conf, checkpoint, save_checkpoint, resumed,
         warnings=None):
    """run(); ``resumed`` is a list that gets the checkpoint once its state is restored, or None not to use it."""
    window_start, window_end = parse_window(start, end, now, boot_time=boot_time)
    uuids = set(validate_uuids(uuid))
    names = set(vm or [])
    paths, missing_rotated, skipped_files = resolve_paths(paths, auditd_conf)
    for path in paths:
        check_readable(path)

    stats = ReadStats()
    keep_raw = bool(proof and raw)
    # without details to return, ended sessions keep only what the summary (and a checkpoint) needs
    compact = None if (all_events or proof or evidence) else ("text" if checkpoint else "tally")
    engine = SessionEngine(default_host, uid_resolver=uid_resolver, keep_raw=keep_raw, compact=compact)
    tracker = SerialTracker()
    # a window changes what is returned, not what is read: sessions that began before it
    # are built from their first record on, serials and counts cover every file
    reader = LogReader(stats, tracker, keep_raw, hold_partial=bool(checkpoint))
    grouper = EventGrouper(keep_raw=keep_raw)
    warnings = list(warnings or [])
    resume = None
    checkpoint_info = None
    save = None
    if checkpoint:
        # raw lines are kept for every event only when asked for: a checkpoint without them cannot give them
        options = {"default_host": default_host, "engine": checkpoints.VERSION, "raw": keep_raw}
        if resumed is None:
            checkpoint_info = {"path": checkpoint, "used": False, "saved": False}
        else:
            resumed.append(checkpoint)  # from here on, a failure is the checkpoint's (see run())
            paths, resume, checkpoint_info = checkpoints.resume(checkpoint, paths, options, engine, tracker, reader,
                                                                grouper, warnings)
            if not checkpoint_info["used"]:
                resumed.remove(checkpoint)
        if save_checkpoint:
            def save():
                """Everything is read; the records still held back and the events still open go to the next run."""
                if stats.sources and stats.sources[-1]["identity"] is None:
                    warnings.append("checkpoint %s not written: the live log was not read" % checkpoint)
                elif stats.sources:
                    checkpoints.store(checkpoint, checkpoint_info, options, _checkpoint_position(stats), engine,
                                      tracker, reader, grouper, [source["path"] for source in stats.sources],
                                      iso(now), warnings)
    for event in group_events(reader.records(paths, start=resume, before_flush=save), grouper):
        engine.feed(event)
    sessions = engine.finish()
    host_first = _host_firsts(tracker, default_host) if window_end is not None else {}

    selected = [s for s in sessions
                if (not uuids or s.uuid in uuids)
                and (not names or s.name in names)
                and _overlaps(s, window_start, window_end, host_first)]
    selected.sort(key=_sort_key)
    links = migration_links(sessions)

    summary = summarize(selected, engine, window_start, window_end)
    host_events = []
    for item in engine.host_events:
        if (window_start is None or item["epoch"] >= window_start) and (window_end is None or item["epoch"] <= window_end):
            host_events.append(_timed(item))
    result = {
        "sessions": [] if summary_only else [_linked(session_dict(s, all_events, proof, raw, evidence), s, links)
                                             for s in selected],
        "summary": summary,
        "host_events": host_events,
        "sources": _sources(stats),
        "coverage": _coverage(tracker, reader, [source["path"] for source in stats.sources], missing_rotated,
                              skipped_files, window_start, window_end, default_host),
        "parse_errors": stats.parse_errors(),
        "host_clock": {"time": iso(now), "epoch": _r3(now)},
    }
    if all_events:
        result["unattributed"] = unattributed_result(engine, summary, window_start, window_end)
    if checkpoint_info is not None:
        result["checkpoint"] = checkpoint_info
    if warnings:
        result["warnings"] = warnings
    if auvirt_lines:
        if summary_only or (all_events and proof) or not result["sessions"]:
            detailed = [_linked(session_dict(s, all_events, proof, False), s, links) for s in selected]
        else:
            detailed = result["sessions"]
        result["auvirt_lines"] = format_auvirt_lines(detailed, summary=summary, all_events=all_events,
                                                     summary_only=summary_only, show_uuid=show_uuid, proof=proof,
                                                     show_host=show_host)
    return result


def run_module(module, raise_log_errors=False, **options):
    """run() with the shared options of an AnsibleModule's params; fails the module on bad input.

    ``options`` are the extra run() options of the calling module.  Warnings
    (checkpoint problems) go to ``module.warn``.  Returns the result.  A log
    that cannot be read fails the module, or with ``raise_log_errors`` raises
    LogAccessError to the caller.
    """
    params = module.params
    try:
        result = run(
            paths=params["paths"], start=params["start"], end=params["end"],
            vm=params["vm"], uuid=params["uuid"],
            default_host=params["host"] or socket.gethostname(),
            uid_resolver=passwd_name, boot_time=boot_time_from_proc(),
            auditd_conf=params["auditd_conf"],
            checkpoint=params["checkpoint"], save_checkpoint=not module.check_mode,
            **options
        )
    except LogAccessError as exc:
        if raise_log_errors:
            raise
        module.fail_json(msg=str(exc), path=exc.path)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    return result


def unavailable_facts(error, now=None):
    """``compact_facts`` of a host whose audit log cannot be read (LogAccessError ``error``): all counts empty,
    ``status`` says why (``no_audit_log``, ``permission_denied``, ``unreadable``) and ``message`` how."""
    if error.permission:
        status = "permission_denied"
    elif error.reason == "no such file":
        status = "no_audit_log"
    else:
        status = "unreadable"
    return {
        "status": status,
        "message": str(error),
        "states": dict((state, 0) for state in STATES),
        "sessions": 0,
        "running": [],
        "last_event": None,
        "last_event_epoch": None,
        "first_event": None,
        "first_event_epoch": None,
        "avcs": 0,
        "anomalies": 0,
        "failed_operations": 0,
        "coverage": {"complete": False, "reaches_window_start": None, "missing_events": 0, "missing_rotated_files": 0},
        "parse_errors": 0,
        "sources": 0,
        "collected_at": iso(now if now is not None else time.time()),
    }


def _count_files(names):
    """How many files ``log.2`` and ``log.{3..7}`` name (6)."""
    total = 0
    for name in names:
        match = _RANGE_RE.search(name)
        total += int(match.group(2)) - int(match.group(1)) + 1 if match else 1
    return total


def compact_facts(result, now=None):
    """The small ``ansible_facts['virt_sessions']`` built from a run() result."""
    running = []
    for session in result["sessions"]:
        if session["state"] in RUNNING_STATES:
            running.append({"name": session["name"], "uuid": session["uuid"], "host": session["host"],
                            "since": session["start"], "since_epoch": session["start_epoch"]})
    coverage = result["coverage"]
    summary = result["summary"]
    return {
        "status": "ok",
        "message": None,
        "states": dict(summary["states"]),
        "sessions": summary["sessions"],
        "running": running,
        "last_event": coverage["last_record"],
        "last_event_epoch": coverage["last_record_epoch"],
        "first_event": coverage["first_record"],
        "first_event_epoch": coverage["first_record_epoch"],
        "avcs": summary["avcs"],
        "anomalies": summary["anomalies"],
        "failed_operations": summary["failed_operations"],
        "coverage": {
            "complete": coverage["complete"],
            "reaches_window_start": coverage["reaches_window_start"],
            "missing_events": coverage["serial_gaps"]["missing_events"],
            "missing_rotated_files": _count_files(coverage["missing_rotated_files"]),
        },
        "parse_errors": result["parse_errors"]["count"],
        "sources": len(result["sources"]),
        "collected_at": iso(now if now is not None else time.time()),
    }
