# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Presentation helpers of the fleet report: the view the HTML and Markdown
templates render, the CSV text, Markdown escaping and the timeline geometry.

The view holds display strings (times in the report's zone, durations) and
numbers (SVG coordinates); it never holds markup.  Every string that came
from a log is escaped by the templates (``| e`` in HTML,
``| virtaudit.auvirt.fleet_report_md`` in Markdown) and by ``to_csv`` here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import datetime
import io

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_findings import SEVERITIES, SEVERITY_RANK

STATE_COLOURS = {
    "running": "#2e7d32",
    "stopped": "#607d8b",
    "crashed": "#c62828",
    "failed": "#ef6c00",
    "down": "#6a1b9a",
    "lost": "#8d6e63",
}
SEVERITY_COLOURS = {
    "critical": "#7f0000",
    "high": "#c62828",
    "medium": "#ef6c00",
    "low": "#b28704",
    "info": "#1565c0",
}
HOST_EVENT_LABELS = {
    "shutdown": "host shutdown",
    "boot": "host boot",
    "reboot_detected": "reboot (serial restart)",
    "crash": "host went down",
    "audit_start": "auditd started",
    "audit_end": "auditd stopped",
    "audit_abort": "auditd aborted",
}
TIMELINE_MARKERS = ("shutdown", "boot", "reboot_detected", "crash")

CSV_COLUMNS = (
    "host", "inventory_host", "name", "uuid", "virt", "state", "start", "end", "start_local", "end_local",
    "duration_seconds", "start_reason", "stop_reason", "pid", "user", "label", "avcs", "anomalies", "hotplugs",
    "migrated_from", "migrated_to", "session_id", "start_id", "end_id",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# timeline geometry (px)
LABEL_WIDTH = 190
PLOT_WIDTH = 860
LANE_HEIGHT = 22
BAR_HEIGHT = 14
AXIS_HEIGHT = 28
TICK_STEPS = (60, 300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400,
              30 * 86400, 91 * 86400, 365 * 86400)


def neutralise_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def md_escape(value):
    """Text safe inside a Markdown table cell (no markup, no raw HTML, one line)."""
    if value is None:
        return ""
    text = str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = " ".join(text.splitlines()).replace("\t", " ")
    out = []
    for char in text:
        if char in "\\`*_[]|~":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _hotplugs(session):
    return sum(1 for r in session.get("resources") or [] if r.get("reason") == "attach" and r.get("result") == "success")


def to_csv(fleet, timezone="UTC"):
    """One row per session (``CSV_COLUMNS``), RFC 4180 quoting, formula cells neutralised."""
    tzinfo = fleet_time.get_timezone(timezone)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for session in fleet["sessions"]:
        row = dict(session)
        row["start_local"] = fleet_time.format_time(session.get("start_epoch"), tzinfo, millis=True)
        row["end_local"] = fleet_time.format_time(session.get("end_epoch"), tzinfo, millis=True)
        row["avcs"] = len(session.get("avcs") or [])
        row["anomalies"] = len(session.get("anomalies") or [])
        row["hotplugs"] = _hotplugs(session)
        writer.writerow([neutralise_cell(row.get(col)) for col in CSV_COLUMNS])
    return buf.getvalue()


def _tick_step(span):
    for step in TICK_STEPS:
        if span / step <= 10:
            return step
    return TICK_STEPS[-1]


def _tick_label(epoch, step, tzinfo):
    moment = fleet_time.to_datetime(epoch, tzinfo)
    if step >= 86400:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%m-%d %H:%M")


def timeline_range(fleet):
    """(t0, t1) of the timelines: the window, else the span of the data."""
    window = fleet.get("window") or {}
    t0, t1 = window.get("start_epoch"), window.get("end_epoch")
    points = []
    for session in fleet["sessions"]:
        for key in ("start_epoch", "first_seen_epoch", "end_epoch"):
            if session.get(key) is not None:
                points.append(session[key])
    for host in fleet["hosts"]:
        for key in ("first_record_epoch", "last_record_epoch"):
            if host.get(key) is not None:
                points.append(host[key])
    if t0 is None:
        t0 = min(points) if points else fleet.get("generated_epoch") or 0.0
    if t1 is None:
        t1 = max(points + [fleet.get("generated_epoch") or t0]) if points else (fleet.get("generated_epoch") or t0)
    if t1 <= t0:
        t1 = t0 + 3600.0
    return t0, t1


def _x(epoch, t0, t1):
    epoch = min(max(epoch, t0), t1)
    return round(LABEL_WIDTH + (epoch - t0) / (t1 - t0) * PLOT_WIDTH, 1)


def timelines(fleet, tzinfo):
    """Per reporting host: SVG geometry, one lane per guest, one bar per session coloured by state."""
    t0, t1 = timeline_range(fleet)
    step = _tick_step(t1 - t0)
    if step < 86400:
        # ticks on round local times (the zone's offset at the start of the range)
        offset = fleet_time.to_datetime(t0, tzinfo).utcoffset().total_seconds()
        first_tick = ((int(t0 + offset) // step) + 1) * step - offset
    else:
        first_tick = _next_local_midnight(t0, tzinfo, step)
    ticks = []
    tick = first_tick
    while tick < t1 and len(ticks) < 40:
        ticks.append({"x": _x(tick, t0, t1), "label": _tick_label(tick, step, tzinfo)})
        tick += step
    out = []
    by_host = {}
    for session in fleet["sessions"]:
        by_host.setdefault(session["host"], []).append(session)
    events_by_host = {}
    for event in fleet.get("host_events") or []:
        events_by_host.setdefault(event.get("host"), []).append(event)
    for host in sorted(by_host):
        sessions = by_host[host]
        lanes = []
        lane_of = {}
        for session in sessions:
            key = (session.get("name") or "", session["uuid"])
            if key not in lane_of:
                lane_of[key] = len(lanes)
                lanes.append({"label": session.get("name") or session["uuid"], "uuid": session["uuid"]})
        bars = []
        for session in sessions:
            lane = lane_of[(session.get("name") or "", session["uuid"])]
            start = session.get("start_epoch")
            if start is None:
                start = session.get("first_seen_epoch") if session.get("first_seen_epoch") is not None else t0
            end = session.get("end_epoch")
            open_end = end is None
            if open_end:
                end = t1
            x0, x1 = _x(start, t0, t1), _x(end, t0, t1)
            width = max(round(x1 - x0, 1), 3.0)
            y = AXIS_HEIGHT + lane * LANE_HEIGHT + (LANE_HEIGHT - BAR_HEIGHT) / 2.0
            bars.append({
                "x": x0, "y": y, "width": width, "height": BAR_HEIGHT,
                "colour": STATE_COLOURS.get(session["state"], "#9e9e9e"),
                "state": session["state"],
                "open_end": open_end,
                "tooltip": "%s (%s) %s: %s -> %s%s" % (
                    session.get("name") or "", session["uuid"], session["state"],
                    fleet_time.format_time(session.get("start_epoch"), tzinfo) or "before the logs",
                    fleet_time.format_time(session.get("end_epoch"), tzinfo) or ("still running" if session["state"] == "running" else "unknown"),
                    " [%s]" % session["session_id"]),
            })
        markers = []
        for event in events_by_host.get(host, []):
            if event.get("type") in TIMELINE_MARKERS and event.get("epoch") is not None and t0 <= event["epoch"] <= t1:
                markers.append({"x": _x(event["epoch"], t0, t1), "type": event["type"],
                                "tooltip": "%s %s (%s)" % (HOST_EVENT_LABELS.get(event["type"], event["type"]),
                                                           fleet_time.format_time(event["epoch"], tzinfo), event.get("id"))})
        height = AXIS_HEIGHT + len(lanes) * LANE_HEIGHT + 6
        for index, lane in enumerate(lanes):
            lane["y"] = AXIS_HEIGHT + index * LANE_HEIGHT + LANE_HEIGHT / 2.0 + 4
            lane["row_y"] = AXIS_HEIGHT + index * LANE_HEIGHT
        out.append({"host": host, "width": LABEL_WIDTH + PLOT_WIDTH + 10, "height": height, "plot_x": LABEL_WIDTH,
                    "plot_width": PLOT_WIDTH, "lane_height": LANE_HEIGHT, "lanes": lanes, "bars": bars, "ticks": ticks, "markers": markers})
    return out


def _next_local_midnight(t0, tzinfo, step):
    moment = fleet_time.to_datetime(t0, tzinfo)
    day = moment.date()
    epoch = fleet_time.parse_bound(day.isoformat(), tzinfo, t0)
    while epoch <= t0:
        day = datetime.date.fromordinal(day.toordinal() + max(1, step // 86400))
        epoch = fleet_time.parse_bound(day.isoformat(), tzinfo, t0)
    return epoch


def build_view(fleet, timezone="UTC", title="Guest sessions - fleet report"):
    """Everything the HTML and Markdown templates show, in display form."""
    tzinfo = fleet_time.get_timezone(timezone)

    def when(epoch):
        return fleet_time.format_time(epoch, tzinfo)

    window = fleet.get("window") or {}
    summary = fleet["summary"]
    findings = []
    for item in fleet["findings"]:
        findings.append({
            "severity": item["severity"], "rank": SEVERITY_RANK[item["severity"]], "colour": SEVERITY_COLOURS[item["severity"]],
            "rule": item["rule"], "title": item["title"], "host": item["host"] or "", "guest": item["guest"] or "",
            "uuid": item["uuid"] or "", "time": when(item["epoch"]), "epoch": item["epoch"] if item["epoch"] is not None else "",
            "detail": item["detail"], "evidence": ", ".join(item["evidence"]),
        })
    hosts = []
    for host in fleet["hosts"]:
        coverage = host.get("coverage") or {}
        audit = host.get("audit") or {}
        levels = ["%s: %s" % (c.get("path"), c.get("audit_level") if c.get("audit_level") is not None else "default")
                  for c in audit.get("libvirt", []) or [] if c.get("exists")]
        hosts.append({
            "name": host["name"], "status": host["status"], "msg": host.get("msg") or "",
            "sessions": host["sessions"], "states": host["states"],
            "first_record": when(host.get("first_record_epoch")), "last_record": when(host.get("last_record_epoch")),
            "first_record_epoch": host.get("first_record_epoch") or "",
            "complete": coverage.get("complete"),
            "reaches_window_start": coverage.get("reaches_window_start"),
            "missing_events": ((coverage.get("serial_gaps") or {}).get("missing_events") or 0) if coverage else "",
            "parse_errors": (host.get("parse_errors") or {}).get("count", "") if host["status"] == "ok" else "",
            "auditd": _tri(audit.get("auditd_running"), "running", "NOT running") if audit else "not checked",
            "audit_enabled": _tri(audit.get("audit_enabled"), "enabled", "DISABLED") if audit else "not checked",
            "libvirt_audit": "; ".join(levels) if levels else ("no libvirt configuration found" if audit else "not checked"),
            "sources": ", ".join(str(s.get("path")) for s in host.get("sources") or []),
        })
    sessions = []
    for session in fleet["sessions"]:
        sessions.append({
            "host": session["host"], "name": session.get("name") or "", "uuid": session["uuid"], "state": session["state"],
            "colour": STATE_COLOURS.get(session["state"], "#9e9e9e"),
            "start": when(session.get("start_epoch")) or "(before the logs)", "start_epoch": session.get("start_epoch") or "",
            "end": when(session.get("end_epoch")) or ("" if session["state"] == "running" else "(unknown)"),
            "end_epoch": session.get("end_epoch") or "",
            "duration": fleet_time.format_duration(session.get("duration_seconds")),
            "duration_seconds": session.get("duration_seconds") if session.get("duration_seconds") is not None else "",
            "start_reason": session.get("start_reason") or "", "stop_reason": session.get("stop_reason") or "",
            "label": session.get("label") or "", "user": session.get("user") or "", "virt": session.get("virt") or "",
            "pid": session.get("pid") if session.get("pid") is not None else "",
            "migrated_from": session.get("migrated_from") or "", "migrated_to": session.get("migrated_to") or "",
            "avcs": len(session.get("avcs") or []), "anomalies": len(session.get("anomalies") or []), "hotplugs": _hotplugs(session),
            "session_id": session["session_id"],
        })
    migrations = []
    for item in fleet["migrations"]:
        migrations.append({
            "name": item["name"] or "", "uuid": item["uuid"], "source": item["source_host"], "destination": item["destination_host"],
            "started": when(item["started_epoch"]), "started_epoch": item["started_epoch"],
            "completed": when(item["completed_epoch"]), "overlap": fleet_time.format_duration(item["overlap_seconds"]),
            "overlap_seconds": item["overlap_seconds"], "evidence": "%s, %s" % (item.get("start_id") or "?", item.get("stop_id") or "?"),
        })
    guests = []
    for guest in fleet["guests"]:
        guests.append({
            "name": guest["name"] or "", "uuid": guest["uuid"], "names": ", ".join(guest["names"]), "hosts": " -> ".join(guest["hosts"]),
            "sessions": len(guest["sessions"]), "migrations": guest["migrations"], "runtime": fleet_time.format_duration(guest["runtime_seconds"]),
            "runtime_seconds": guest["runtime_seconds"], "last_state": guest["last_state"] or "",
            "colour": STATE_COLOURS.get(guest["last_state"], "#9e9e9e"),
        })
    host_events = []
    for event in fleet.get("host_events") or []:
        host_events.append({"host": event.get("host") or "", "type": HOST_EVENT_LABELS.get(event.get("type"), event.get("type") or ""),
                            "time": when(event.get("epoch")), "epoch": event.get("epoch") or "", "id": event.get("id") or "",
                            "evidence": event.get("evidence") or ""})
    severity_cards = [{"severity": s, "count": summary["severities"][s], "colour": SEVERITY_COLOURS[s]} for s in reversed(SEVERITIES)]
    state_cards = [{"state": s, "count": summary["states"].get(s, 0), "colour": STATE_COLOURS[s]} for s in STATE_COLOURS]
    window_text = "%s - %s" % (when(window.get("start_epoch")) or "beginning of the logs", when(window.get("end_epoch")) or "end of the logs")
    return {
        "title": title,
        "generated": when(fleet.get("generated_epoch")),
        "timezone": timezone or "UTC",
        "window": window_text,
        "window_start_input": window.get("start_input") or "",
        "window_end_input": window.get("end_input") or "",
        "summary": summary,
        "verdict": _verdict(summary),
        "severity_cards": severity_cards,
        "state_cards": state_cards,
        "state_colours": [{"state": s, "colour": c} for s, c in STATE_COLOURS.items()],
        "findings": findings,
        "hosts": hosts,
        "missing_hosts": [h for h in hosts if h["status"] != "ok"],
        "timelines": timelines(fleet, tzinfo),
        "sessions": sessions,
        "migrations": migrations,
        "guests": guests,
        "host_events": host_events,
        "rules": [{"rule": r, "enabled": c["enabled"], "severity": c["severity"]} for r, c in sorted(fleet.get("rules", {}).items())],
    }


def _tri(value, yes, no):
    if value is None:
        return "unknown"
    return yes if value else no


def _verdict(summary):
    worst = summary.get("max_severity")
    if summary.get("fail"):
        return "Findings at or above '%s': the report gate failed." % summary["fail_on"]
    if worst is None:
        return "No findings."
    return "Highest finding severity: %s." % worst
