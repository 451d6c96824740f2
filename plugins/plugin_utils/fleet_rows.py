# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rows of the fleet report's tables in display form: one function per kind of row (finding,
waiver, host, session, migration, host event, guest, change), each taking an item of the fleet model
and a ``HostIndex`` (fleet_index.py) for the times as text and the host pages.  Display strings and
numbers only, never markup.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_findings import SEVERITIES, SEVERITY_RANK
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_pages import host_page
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_sessions import evidence_count
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_timeline import HOST_EVENT_LABELS, STATE_COLOURS

SEVERITY_COLOURS = {
    "critical": "#7f0000",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#b28704",
    "info": "#1565c0",
}


def finding_row(item, index):
    owner = index.node_of.get(item.get("host") or "") if item.get("host") else None
    return {
        "severity": item["severity"], "rank": SEVERITY_RANK[item["severity"]], "colour": SEVERITY_COLOURS[item["severity"]],
        "rule": item["rule"], "title": item["title"], "host": item["host"] or "", "guest": item["guest"] or "",
        "uuid": item["uuid"] or "", "time": index.when(item["epoch"]), "epoch": item["epoch"] if item["epoch"] is not None else "",
        "last": index.when(item.get("last_epoch")) if item.get("count", 1) > 1 else "",
        "count": item.get("count", 1), "detail": item["detail"], "evidence": ", ".join(item["evidence"]), "ids": list(item["evidence"]),
        "fingerprint": item.get("fingerprint") or "", "remediation": item.get("remediation") or "",
        "waived": bool(item.get("waived")), "waiver": _waiver_text(item.get("waiver"), index),
        "page": host_page(owner) if owner in index.hosts and index.hosts[owner]["status"] == "ok" else "",
    }


def _waiver_text(waiver, index):
    """``waived until DATE: REASON`` / ``waiver expired on DATE: REASON``; '' without a waiver."""
    if not waiver:
        return ""
    verb = "waived until" if waiver["status"] == "active" else "waiver expired on"
    return "%s %s: %s" % (verb, index.when(waiver["expires_epoch"]), waiver["reason"])


def waiver_row(waiver, index):
    return {"index": waiver["index"], "rule": waiver["rule"], "host": waiver["host"] or "(any host)",
            "guest": waiver["guest"] or "(any guest)", "reason": waiver["reason"], "expires": index.when(waiver["expires_epoch"]),
            "expires_epoch": waiver["expires_epoch"], "status": waiver["status"], "findings": waiver["findings"]}


def host_row(host, index):
    coverage = host.get("coverage") or {}
    audit = host.get("audit") or {}
    levels = ["%s: %s" % (c.get("path"), c.get("audit_level") if c.get("audit_level") is not None else "default")
              for c in audit.get("libvirt", []) or [] if c.get("exists")]
    severities = dict((s, 0) for s in SEVERITIES)
    for item in index.findings.get(host["name"], []):
        if not item.get("waived"):
            severities[item["severity"]] += 1
    worst = None
    for severity in SEVERITIES:
        if severities[severity]:
            worst = severity
    reaches = coverage.get("reaches_window_start")
    return {
        "name": host["name"], "status": host["status"], "msg": host.get("msg") or "",
        "page": host_page(host["name"]) if host["status"] == "ok" else "",
        "sessions": host["sessions"], "states": host["states"],
        "state_counts": [{"state": st, "count": host["states"][st], "colour": STATE_COLOURS[st]}
                         for st in STATE_COLOURS if host["states"].get(st)],
        "findings": sum(severities.values()), "worst": worst or "", "worst_rank": SEVERITY_RANK[worst] if worst else -1,
        "worst_colour": SEVERITY_COLOURS.get(worst, "#9e9e9e"),
        "first_record": index.when(host.get("first_record_epoch")), "last_record": index.when(host.get("last_record_epoch")),
        "first_record_epoch": host.get("first_record_epoch") or "",
        "last_record_epoch": host.get("last_record_epoch") or "",
        "complete": coverage.get("complete"),
        "covers": ("yes" if reaches else ("no" if reaches is False else "n/a")) if host["status"] == "ok" else "",
        "missing_events": ((coverage.get("serial_gaps") or {}).get("missing_events") or 0) if coverage else "",
        "parse_errors": (host.get("parse_errors") or {}).get("count", "") if host["status"] == "ok" else "",
        "auditd": _tri(audit.get("auditd_running"), "running", "NOT running") if audit else "not checked",
        "audit_enabled": _tri(audit.get("audit_enabled"), "enabled", "DISABLED") if audit else "not checked",
        "libvirt_audit": "; ".join(levels) if levels else ("no libvirt configuration found" if audit else "not checked"),
        "libvirt_short": _libvirt_short(audit),
        "sources": ", ".join(str(s.get("path")) for s in host.get("sources") or []),
        "collected": index.when(host.get("collected_epoch")) or host.get("collected") or "",
        "clock_skew": fleet_time.format_duration(abs(host["clock_skew_seconds"])) + (" ahead" if host["clock_skew_seconds"] > 0 else " behind")
        if host.get("clock_skew_seconds") is not None else "",
    }


def _libvirt_short(audit):
    """libvirt's audit_level in a word for the hosts table (the host page lists every file): ``on``, ``OFF (file)``,
    ``none found``, ``not checked``."""
    if not audit:
        return "not checked"
    found = [c for c in audit.get("libvirt", []) or [] if c.get("exists")]
    if not found:
        return "no configuration found"
    off = [str(c.get("path") or "").rsplit("/", 1)[-1] for c in found if c.get("audit_level") == 0]
    if off:
        return "OFF (%s)" % ", ".join(off)
    return "on"


def session_row(session, index):
    return {
        "host": session["host"], "name": session.get("name") or "", "uuid": session["uuid"], "state": session["state"],
        "colour": STATE_COLOURS.get(session["state"], "#9e9e9e"),
        "start": index.when(session.get("start_epoch")) or "(before the logs)", "start_epoch": session.get("start_epoch") or "",
        "end": index.when(session.get("end_epoch")) or _running_end(session, index) or "(unknown)",
        "end_time": index.when(session.get("end_epoch")) or index.when(session.get("open_until_epoch")),
        "end_note": "" if session.get("end_epoch") is not None else (
            ("still running at the window end," if session.get("open_until_source") == "window_end" else "still running at")
            if session["state"] == "running" and session.get("open_until_epoch") is not None
            else ("still running" if session["state"] == "running" else "(unknown)")),
        "end_epoch": session.get("end_epoch") or session.get("open_until_epoch") or "",
        "duration": fleet_time.format_duration(session.get("duration_seconds")) or (
            fleet_time.format_duration(session.get("open_seconds")) + "+" if session.get("open_seconds") is not None else ""),
        "duration_seconds": _first_number(session.get("duration_seconds"), session.get("open_seconds")),
        "start_reason": session.get("start_reason") or "", "stop_reason": session.get("stop_reason") or "",
        "label": session.get("label") or "", "user": session.get("user") or "", "virt": session.get("virt") or "",
        "pid": session.get("pid") if session.get("pid") is not None else "",
        "migrated_from": session.get("migrated_from") or "", "migrated_to": session.get("migrated_to") or "",
        "avcs": evidence_count(session, "avcs"), "anomalies": evidence_count(session, "anomalies"), "hotplugs": evidence_count(session, "attaches"),
        "session_id": session["session_id"],
    }


def _running_end(session, index):
    """The end column of a running session: ``still running at TIME`` (its host's newest record or the window end)."""
    if session["state"] != "running":
        return ""
    if session.get("open_until_epoch") is None:
        return "still running"
    return "still running at %s%s" % (index.when(session["open_until_epoch"]),
                                      " (window end)" if session.get("open_until_source") == "window_end" else "")


def _first_number(*values):
    for value in values:
        if value is not None:
            return value
    return ""


def migration_row(item, index):
    return {
        "name": item["name"] or "", "uuid": item["uuid"], "source": item["source_host"], "destination": item["destination_host"],
        "started": index.when(item["started_epoch"]), "started_epoch": item["started_epoch"],
        "completed": index.when(item["completed_epoch"]), "overlap": fleet_time.format_duration(item["overlap_seconds"]),
        "overlap_seconds": item["overlap_seconds"], "evidence": "%s, %s" % (item.get("start_id") or "?", item.get("stop_id") or "?"),
        "ids": [item.get("start_id") or "?", item.get("stop_id") or "?"],
    }


def event_row(event, index):
    return {"host": event.get("host") or "", "type": HOST_EVENT_LABELS.get(event.get("type"), event.get("type") or ""),
            "time": index.when(event.get("epoch")), "epoch": event.get("epoch") or "", "id": event.get("id") or "",
            "evidence": event.get("evidence") or ""}


def change_finding_row(item, index):
    severity = item.get("severity") if item.get("severity") in SEVERITY_RANK else "info"
    return {"severity": severity, "rank": SEVERITY_RANK[severity], "colour": SEVERITY_COLOURS[severity], "rule": item.get("rule") or "",
            "title": item.get("title") or "", "host": item.get("host") or "", "guest": item.get("guest") or "",
            "time": index.when(item.get("epoch")), "epoch": item.get("epoch") if item.get("epoch") is not None else "",
            "fingerprint": item.get("fingerprint") or "", "why": item.get("why") or "", "waived": bool(item.get("waived"))}


def change_session_row(item, index):
    return {"host": item.get("host") or "", "name": item.get("name") or "", "uuid": item.get("uuid") or "", "state": item.get("state") or "",
            "colour": STATE_COLOURS.get(item.get("state"), "#9e9e9e"), "start": index.when(item.get("start_epoch")) or "(before the logs)",
            "start_epoch": item.get("start_epoch") if item.get("start_epoch") is not None else "",
            "end": index.when(item.get("end_epoch")), "fingerprint": item.get("fingerprint") or ""}


def guest_row(guest, index):
    return {
        "name": guest["name"] or "", "uuid": guest["uuid"], "names": ", ".join(guest["names"]), "hosts": " -> ".join(guest["hosts"]),
        "sessions": len(guest["sessions"]), "migrations": guest["migrations"], "runtime": fleet_time.format_duration(guest["runtime_seconds"]),
        "runtime_seconds": guest["runtime_seconds"], "last_state": guest["last_state"] or "",
        "colour": STATE_COLOURS.get(guest["last_state"], "#9e9e9e"),
    }


def _tri(value, yes, no):
    if value is None:
        return "unknown"
    return yes if value else no
