# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results -> happenings: what the guest events of docs/events.md are made of.

``happenings(result)`` turns one result of ``session_report.run()`` (with
``all_events``) into a list of event dicts - one per guest start, stop,
crash, failed start, host down, migration, AVC, anomaly (of a guest or
not), AVCs or anomalies not listed, serial gap and audit daemon stop - each
with a stable ``fingerprint``.  It reads only the documented result keys
(docs/session-model.md): sessions with their ``avcs``, ``anomalies`` and
``events``, ``unattributed``, ``host_events``, ``coverage.serial_gaps`` and
``host_clock``.

Some session ends are provisional at the end of the data: a guest whose
qemu died (``ANOM_ABEND``) before libvirt logged its stop, a guest still
running at a ``SYSTEM_SHUTDOWN`` (libvirt may still stop it; "down" is only
certain once the host is seen booting).  Their end is returned in
``pending`` instead and becomes an event once it is certain.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso

KINDS = ("started", "migrated_in", "failed_start", "stopped", "migrated_out", "crashed", "down", "lost",
         "avc", "anomaly", "avc_flood", "anomaly_flood", "records_lost", "audit_stopped")
# kinds that end a session
END_KINDS = frozenset(("stopped", "migrated_out", "crashed", "down", "lost"))
# a crash seen only as the ANOM_ABEND of the guest's qemu is certain this long after it (libvirt logs the
# stop within a second or two; without one, the abend is all there will be)
CRASH_GRACE = 30.0
# a serial gap is reported once the log is this much newer than the record after it: records that arrive
# a little out of order fill the gap they seemed to leave
GAP_SETTLE = 2.0
# a guest still running at a SYSTEM_SHUTDOWN went down with the host; that is certain when the host is seen
# booting, or - for a host whose records stop there, such as a retired node in a collected log - a day later
DOWN_GRACE = 86400.0
# host events that show the host came back after a shutdown
_BOOTED = frozenset(("boot", "reboot_detected", "audit_start", "crash"))
_AUDIT_STOPS = {"audit_end": "end", "audit_abort": "abort"}
_FINGERPRINT_PREFIX = "virtaudit.auvirt guest_events 1"
_AVC_DETAILS = ("lsm", "result", "operation", "comm", "name", "pid", "scontext", "tcontext", "tclass", "profile",
                "user", "matched_by")
_ANOMALY_DETAILS = ("type", "pid", "comm", "exe", "sig", "user", "matched_by")
# AVCs and anomalies of no guest (the result's ``unattributed``): kind, list key, key of the count not listed
_UNATTRIBUTED = (("avc", "avcs", "avcs_not_listed", _AVC_DETAILS, 0),
                 ("anomaly", "anomalies", "anomalies_not_listed", _ANOMALY_DETAILS, 1))


def fingerprint(*parts):
    """SHA-256 (hex) of the parts: the same happening always gets the same fingerprint."""
    text = "\0".join([_FINGERPRINT_PREFIX] + ["" if part is None else str(part) for part in parts])
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


def session_id(session):
    """``HOST/UUID/START_ID``; a session whose start is not in the logs: ``HOST/UUID/seen-FIRST_SEEN_EPOCH``."""
    anchor = session.get("start_id")
    if not anchor:
        seen = session.get("first_seen_epoch")
        anchor = "seen-%.3f" % seen if seen is not None else "seen-unknown"
    return "%s/%s/%s" % (session.get("host"), session.get("uuid"), anchor)


def _ids(*ids):
    return sorted(set(i for i in ids if i), key=EventId.key)


def _event(kind, host, epoch, iso_time, key, evidence, reason=None, session=None, details=None):
    return {
        "kind": kind,
        "host": host,
        "name": session.get("name") if session else None,
        "uuid": session.get("uuid") if session else None,
        "session_id": session_id(session) if session else None,
        "time": iso_time if iso_time else (iso(epoch) if epoch is not None else None),
        "epoch": epoch,
        "reason": reason,
        "evidence": list(evidence),
        "fingerprint": fingerprint(kind, host, key),
        "details": details or {},
    }


def _host_came_back(host_events, host, after):
    """The first host event that shows ``host`` booted after epoch ``after``, or None."""
    for item in host_events:
        if item.get("host") == host and item.get("type") in _BOOTED and item.get("epoch") is not None \
                and item["epoch"] >= after:
            return item
    return None


def _start_event(session):
    state = session.get("state")
    reason = session.get("start_reason")
    if state == "failed":
        kind = "failed_start"
    elif reason == "migrated":
        kind = "migrated_in"
    else:
        kind = "started"
    details = {"virt": session.get("virt"), "start_reason": reason, "pid": session.get("pid"),
               "user": session.get("user"), "label": session.get("label")}
    return _event(kind, session.get("host"), session.get("start_epoch"), session.get("start"), session_id(session),
                  [session["start_id"]], reason, session, details)


def _end_details(session):
    return {"virt": session.get("virt"), "start": session.get("start"), "start_epoch": session.get("start_epoch"),
            "stop_reason": session.get("stop_reason"), "duration_seconds": session.get("duration_seconds"),
            "pid": session.get("pid")}


def _abend(session):
    for item in session.get("anomalies") or []:
        if item.get("type") == "ANOM_ABEND":
            return item
    return None


def _end_event(session, host_events, now):
    """``(event, None)`` for a session end that is certain, ``(None, reason)`` for one that is not yet, else (None, None)."""
    state = session.get("state")
    host = session.get("host")
    sid = session_id(session)
    end_epoch = session.get("end_epoch")
    details = _end_details(session)
    if state == "stopped":
        reason = session.get("stop_reason")
        kind = "migrated_out" if reason == "migrated" else "stopped"
        return _event(kind, host, end_epoch, session.get("end"), sid, _ids(session.get("end_id")), reason, session,
                      details), None
    if state == "crashed":
        abend = _abend(session)
        if abend is not None:
            details["signal"] = abend.get("sig")
            details["abend_id"] = abend.get("id")
        reason = session.get("stop_reason")
        if reason is None:
            # only the ANOM_ABEND so far: certain when the host rebooted since, or after CRASH_GRACE
            if _host_came_back(host_events, host, end_epoch) is None and now is not None \
                    and now - end_epoch < CRASH_GRACE:
                return None, "crash without a stop record yet"
            reason = "abend"
        return _event("crashed", host, end_epoch, session.get("end"), sid,
                      _ids(abend.get("id") if abend else None, session.get("end_id")), reason, session, details), None
    if state == "down":
        shutdown = [item for item in host_events if item.get("host") == host and item.get("type") == "shutdown"
                    and item.get("id") == session.get("end_id")]
        back = _host_came_back(host_events, host, end_epoch)
        if shutdown and back is None and (now is None or now - end_epoch < DOWN_GRACE):
            return None, "host shut down, not seen booting yet"
        details["host_shutdown"] = bool(shutdown)
        details["boot_id"] = back.get("id") if back else None
        return _event("down", host, end_epoch, session.get("end"), sid,
                      _ids(session.get("end_id"), details["boot_id"]),
                      "shutdown" if shutdown else "host_crash", session, details), None
    if state == "lost":
        restart = [item for item in session.get("events") or [] if item.get("kind") == "lost"]
        if not restart:
            return None, None
        item = restart[-1]
        details["restart_id"] = item.get("id")
        return _event("lost", host, item.get("epoch"), item.get("time"), sid, _ids(item.get("id")), None, session,
                      details), None
    return None, None


def _item_event(kind, item, keys, session=None):
    """The ``avc`` or ``anomaly`` event of one of a session's ``avcs``/``anomalies``, or (``session`` None) of one of
    the result's ``unattributed`` ones (then with its ``number``)."""
    details = dict((key, item.get(key)) for key in keys)
    if session is None:
        details["number"] = item.get("number")
    details["attributed"] = session is not None
    return _event(kind, session.get("host") if session else item.get("host"), item.get("epoch"), item.get("time"),
                  item.get("id"), _ids(item.get("id")), item.get("type") if kind == "anomaly" else item.get("result"),
                  session, details)


def _items(session, field, kind, keys):
    return [_item_event(kind, item, keys, session) for item in session.get(field) or []]


def _unattributed_events(result, numbers):
    """The ``avc`` and ``anomaly`` events of no guest, and an ``avc_flood`` (``anomaly_flood``) for those that
    came but are not listed (see ``happenings``)."""
    unattributed = result.get("unattributed") or {}
    totals = unattributed.get("numbers") or {}
    events = []
    for kind, field, not_listed, keys, index in _UNATTRIBUTED:
        items = unattributed.get(field) or []
        events.extend(_item_event(kind, item, keys) for item in items)
        if numbers is None:
            hosts = (result.get("summary") or {}).get("hosts") or []
            floods = [(hosts[0] if len(hosts) == 1 else None, unattributed.get(not_listed) or 0, None, None, items)]
        else:
            floods = []
            for host in sorted(totals):
                total = (totals[host] or {}).get(field) or 0
                before = (numbers.get(host) or [0, 0])[index]
                if total < before:
                    continue  # counted again from 1 (logs read anew without their oldest): no telling
                since = [item for item in items if item.get("host") == host and (item.get("number") or 0) > before]
                floods.append((host, total - before - len(since), before + 1, total, since))
        for host, missing, first, last, since in floods:
            if missing <= 0:
                continue
            anchor = since[0] if since else {}
            epoch, iso_time = anchor.get("epoch"), anchor.get("time")
            if epoch is None:
                epoch = (result.get("coverage") or {}).get("last_record_epoch")
            if first is None:
                key = "%s %d" % (anchor.get("id"), missing)  # a single result: the first listed, how many before
            else:
                key = "%s-%s" % (first, last)  # the numbers it covers
            events.append(_event(kind + "_flood", host, epoch, iso_time, key, _ids(anchor.get("id")), None, None,
                                 {"not_listed": missing, "first_number": first, "last_number": last,
                                  "attributed": False}))
    return events


def _gap_events(result, now):
    events = []
    pending = 0
    gaps = ((result.get("coverage") or {}).get("serial_gaps") or {}).get("gaps") or []
    for gap in gaps:
        epoch = EventId.epoch(gap.get("before_id"))
        if epoch is None:
            continue
        if now is not None and now - epoch < GAP_SETTLE:
            pending += 1
            continue
        details = dict((key, gap.get(key)) for key in ("missing", "after_id", "before_id", "path", "line"))
        details["missing_events"] = details.pop("missing")
        events.append(_event("records_lost", gap.get("host"), epoch, None,
                             "%s %s" % (gap.get("after_id"), gap.get("before_id")),
                             _ids(gap.get("after_id"), gap.get("before_id")), None, None, details))
    return events, pending


def happenings(result, now=None, numbers=None):
    """The happenings of a run() result made with ``all_events``.

    ``numbers``: ``{host: [AVCs, anomalies]}`` of no guest that an earlier
    result held in all (its ``unattributed.numbers``): those that came since
    and are not listed now make an ``avc_flood`` (``anomaly_flood``) event
    per host.  Without it, the result's own ``avcs_not_listed``
    (``anomalies_not_listed``) make one (its host null when the result has
    several).

    Returns ``(events, open_sessions, pending)``: ``events`` sorted by time
    (then event serial and kind); ``open_sessions`` ``{session_id: {host,
    uuid, since}}`` of the sessions that are running or whose end is not
    certain yet (``since``: their start, else first-seen epoch);
    ``pending`` the number of happenings held back until they are certain.
    ``now`` (epoch) decides the grace periods; default: the result's
    ``host_clock``.
    """
    if now is None:
        now = (result.get("host_clock") or {}).get("epoch")
    host_events = result.get("host_events") or []
    events = []
    open_sessions = {}
    pending = 0
    for session in result.get("sessions") or []:
        if session.get("start_id"):
            events.append(_start_event(session))
        end, waiting = _end_event(session, host_events, now)
        if end is not None:
            events.append(end)
        elif session.get("state") in ("running", "crashed", "down"):
            since = session.get("start_epoch")
            if since is None:
                since = session.get("first_seen_epoch")
            open_sessions[session_id(session)] = {"host": session.get("host"), "uuid": session.get("uuid"),
                                                  "since": since}
            if waiting:
                pending += 1
        events.extend(_items(session, "avcs", "avc", _AVC_DETAILS))
        events.extend(_items(session, "anomalies", "anomaly", _ANOMALY_DETAILS))
    events.extend(_unattributed_events(result, numbers))
    for item in host_events:
        if item.get("type") in _AUDIT_STOPS:
            events.append(_event("audit_stopped", item.get("host"), item.get("epoch"), item.get("time"),
                                 item.get("id"), _ids(item.get("id")), _AUDIT_STOPS[item["type"]], None,
                                 {"type": item["type"]}))
    gaps, waiting = _gap_events(result, now)
    events.extend(gaps)
    pending += waiting
    events.sort(key=order_key)
    return events, open_sessions, pending


# ties of one audit event: the session a start replaces ends first, an abend comes before the crash it caused,
# the count of denials not listed before the first listed after them
_TIE_RANK = {"lost": 0, "avc_flood": 0.5, "anomaly_flood": 0.5, "avc": 1, "anomaly": 1, "records_lost": 1,
             "stopped": 2, "migrated_out": 2, "crashed": 2, "down": 2, "started": 3, "migrated_in": 3,
             "failed_start": 3, "audit_stopped": 4}


def order_key(event):
    """Events in time order, then by event serial; the events of one audit event in cause-and-effect order."""
    first = event["evidence"][0] if event["evidence"] else ""
    epoch = event["epoch"] if event["epoch"] is not None else 0.0
    return (epoch, EventId.key(first)[1], _TIE_RANK[event["kind"]], event["fingerprint"])


def compact(event):
    """One line per event for golden files and logs: ``time kind host name reason evidence``."""
    return "%s %s %s %s %s %s" % (event["time"], event["kind"], event["host"], event["name"], event["reason"],
                                  ",".join(event["evidence"]))
