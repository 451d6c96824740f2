# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Presentation of the fleet report: the views the HTML and Markdown templates
render, the CSV rows, Markdown escaping and the timeline geometry.

* ``main_view(fleet, ...)`` - the main page: summary, findings per rule, the
  findings (highest severity first), hosts, missing hosts, migrations,
  guests; tables longer than ``max_rows`` are cut (the JSON and CSV files
  and the host pages hold everything), and the timelines and sessions are
  shown inline only when the fleet has at most ``inline_sessions`` sessions.
* ``host_view(index, name, ...)`` - one host's page: its timeline,
  sessions, findings, migrations and host events.  ``HostIndex(fleet)``
  groups the model by host once, so every page costs what it shows.

The views hold display strings (times in the report's zone, durations) and
numbers (SVG coordinates); never markup.  The HTML templates are rendered
with autoescaping; Markdown goes through ``md_escape``; CSV through
``neutralise_cell``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import datetime
import hashlib
import io
import re

from ansible_collections.virtaudit.auvirt.plugins.module_utils.auvirt_text import UNICODE_CONTROLS
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
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
# host shutdowns and reboots on the timelines: a dashed near-black line, far from every state's colour
# (it was #b71c1c, next to crashed's #c62828)
MARKER_COLOUR = "#212121"
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
    "duration_seconds", "open_until", "open_seconds", "start_reason", "stop_reason", "pid", "user", "label", "avcs", "anomalies", "hotplugs",
    "migrated_from", "migrated_to", "session_id", "start_id", "end_id",
)
# fleet_report_findings.csv: one row per finding (a group of occurrences of one rule, host and guest)
FINDINGS_CSV_COLUMNS = (
    "fingerprint", "severity", "rule", "title", "host", "guest", "uuid", "count", "first", "first_local", "last", "last_local",
    "detail", "evidence", "remediation", "waived", "waiver_status", "waiver_reason", "waiver_expires",
)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HOSTS_DIR = "fleet_report_hosts"
DEFAULT_MAX_ROWS = 1000
DEFAULT_INLINE_SESSIONS = 2000

# timeline geometry (px)
LABEL_WIDTH = 190
PLOT_WIDTH = 860
LANE_HEIGHT = 22
BAR_HEIGHT = 14
AXIS_HEIGHT = 28
TICK_STEPS = (60, 300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400,
              30 * 86400, 91 * 86400, 365 * 86400)
_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")


# The bidirectional controls (U+202E ...) and the line/paragraph separators, as auvirt_lines writes them
# (module_utils/auvirt_text.py): a guest name must not reorder what a reader sees of a report.  HTML,
# Markdown and CSV show them as the text \u202e; JSON writes them as JSON escapes (the same name when parsed).
_MARKS = dict((ord(char), text) for char, text in UNICODE_CONTROLS.items())


def mark_controls(text):
    """``text`` with every bidirectional control and line separator written as ``\\uXXXX``."""
    return text.translate(_MARKS)


def neutralise_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula, with the bidirectional controls marked."""
    if value.__class__ is str:
        value = value.translate(_MARKS)
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = mark_controls(str(value))
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def md_escape(value):
    """Text safe inside a Markdown table cell (no markup, no raw HTML, one line)."""
    if value is None:
        return ""
    text = mark_controls(str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = " ".join(text.splitlines()).replace("\t", " ")
    out = []
    for char in text:
        if char in "\\`*_[]|~":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def host_page(name):
    """Relative path of a host's page: ``fleet_report_hosts/<safe name>.html`` (a hash keeps odd names apart)."""
    safe = _UNSAFE_FILE.sub("_", str(name))
    if safe != str(name) or safe.startswith(".") or not safe:
        safe = "%s-%s" % (safe.lstrip(".") or "host", hashlib.sha256(str(name).encode("utf-8", "surrogateescape")).hexdigest()[:8])
    return "%s/%s.html" % (HOSTS_DIR, safe)


def host_details_file(name):
    """Relative path of a host's detail file (all_events): ``fleet_report_hosts/<safe name>.events.json``."""
    return host_page(name)[:-len(".html")] + ".events.json"


def _count(session, kind):
    return ((session.get("evidence") or {}).get(kind) or {}).get("count") or 0


def write_csv(fleet, handle, timezone="UTC"):
    """One row per session (``CSV_COLUMNS``), RFC 4180 quoting, formula cells neutralised, into ``handle``."""
    tzinfo = fleet_time.get_timezone(timezone)
    writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for session in fleet["sessions"]:
        row = dict(session)
        row["start_local"] = fleet_time.format_time(session.get("start_epoch"), tzinfo, millis=True)
        row["end_local"] = fleet_time.format_time(session.get("end_epoch"), tzinfo, millis=True)
        row["avcs"] = _count(session, "avcs")
        row["anomalies"] = _count(session, "anomalies")
        row["hotplugs"] = _count(session, "attaches")
        writer.writerow([neutralise_cell(row.get(col)) for col in CSV_COLUMNS])


def write_findings_csv(fleet, handle, timezone="UTC"):
    """One row per finding (``FINDINGS_CSV_COLUMNS``): times in UTC and in the report's zone, evidence ids
    separated by spaces, the rule's remediation and the waiver, if any."""
    tzinfo = fleet_time.get_timezone(timezone)
    writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(FINDINGS_CSV_COLUMNS)
    for item in fleet["findings"]:
        waiver = item.get("waiver") or {}
        row = dict(item)
        row.update({
            "first": iso(item.get("epoch")), "first_local": fleet_time.format_time(item.get("epoch"), tzinfo),
            "last": iso(item.get("last_epoch")), "last_local": fleet_time.format_time(item.get("last_epoch"), tzinfo),
            "evidence": " ".join(item.get("evidence") or []), "waived": bool(item.get("waived")),
            "waiver_status": waiver.get("status"), "waiver_reason": waiver.get("reason"), "waiver_expires": waiver.get("expires"),
        })
        writer.writerow([neutralise_cell(row.get(col)) for col in FINDINGS_CSV_COLUMNS])


def to_csv(fleet, timezone="UTC"):
    buf = io.StringIO()
    write_csv(fleet, buf, timezone)
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
    """(t0, t1) of the timelines: the window, else the span of the data (records and sessions; a running
    session is open at its host's newest record).  The controller's clock only when there is no data at all."""
    window = fleet.get("window") or {}
    t0, t1 = window.get("start_epoch"), window.get("end_epoch")
    if t0 is None or t1 is None:
        low = high = None
        for session in fleet["sessions"]:
            for key in ("start_epoch", "first_seen_epoch", "end_epoch", "open_until_epoch"):
                value = session.get(key)
                if value is not None:
                    low = value if low is None or value < low else low
                    high = value if high is None or value > high else high
        for host in fleet["hosts"]:
            for key in ("first_record_epoch", "last_record_epoch"):
                value = host.get(key)
                if value is not None:
                    low = value if low is None or value < low else low
                    high = value if high is None or value > high else high
        generated = fleet.get("generated_epoch")
        if t0 is None:
            t0 = low if low is not None else (generated or 0.0)
        if t1 is None:
            t1 = high if high is not None else (generated or t0)
    if t1 <= t0:
        t1 = t0 + 3600.0
    return t0, t1


def _x(epoch, t0, t1):
    epoch = min(max(epoch, t0), t1)
    return round(LABEL_WIDTH + (epoch - t0) / (t1 - t0) * PLOT_WIDTH, 1)


def _next_local_midnight(t0, tzinfo, step):
    moment = fleet_time.to_datetime(t0, tzinfo)
    day = moment.date()
    epoch = fleet_time.parse_bound(day.isoformat(), tzinfo, t0)
    while epoch <= t0:
        day = datetime.date.fromordinal(day.toordinal() + max(1, step // 86400))
        epoch = fleet_time.parse_bound(day.isoformat(), tzinfo, t0)
    return epoch


def timeline_axis(fleet, tzinfo):
    """``(t0, t1, ticks)``: the one time axis of every timeline of the report (ticks on round local times)."""
    t0, t1 = timeline_range(fleet)
    step = _tick_step(t1 - t0)
    if step < 86400:
        offset = fleet_time.to_datetime(t0, tzinfo).utcoffset().total_seconds()
        first_tick = ((int(t0 + offset) // step) + 1) * step - offset
    else:
        first_tick = _next_local_midnight(t0, tzinfo, step)
    ticks = []
    tick = first_tick
    while tick < t1 and len(ticks) < 40:
        ticks.append({"x": _x(tick, t0, t1), "label": _tick_label(tick, step, tzinfo)})
        tick += step
    return t0, t1, ticks


def timeline(host, sessions, host_events, axis, tzinfo, when=None):
    """SVG geometry of one host: one lane per guest, one bar per session coloured by state, host event markers.

    ``when(epoch)``: the time as text (default: format_time in ``tzinfo``)."""
    if when is None:
        def when(epoch):
            return fleet_time.format_time(epoch, tzinfo)
    t0, t1, ticks = axis
    lanes = []
    lane_of = {}
    for session in sessions:
        key = (session.get("name") or "", session["uuid"])
        if key not in lane_of:
            lane_of[key] = len(lanes)
            lanes.append({"label": _truncate(session.get("name") or session["uuid"], 28), "title": session["uuid"]})
    bars = []
    for session in sessions:
        lane = lane_of[(session.get("name") or "", session["uuid"])]
        start = session.get("start_epoch")
        if start is None:
            start = session.get("first_seen_epoch") if session.get("first_seen_epoch") is not None else t0
        end = session.get("end_epoch")
        open_end = end is None
        if open_end:
            end = session.get("open_until_epoch") if session.get("open_until_epoch") is not None else t1
        x0, x1 = _x(start, t0, t1), _x(end, t0, t1)
        bars.append({
            "x": x0, "y": AXIS_HEIGHT + lane * LANE_HEIGHT + (LANE_HEIGHT - BAR_HEIGHT) / 2.0, "width": max(round(x1 - x0, 1), 3.0),
            "height": BAR_HEIGHT, "colour": STATE_COLOURS.get(session["state"], "#9e9e9e"), "state": session["state"],
            "open_end": open_end,
            "tooltip": "%s (%s) %s: %s -> %s [%s]" % (
                session.get("name") or "", session["uuid"], session["state"],
                when(session.get("start_epoch")) or "before the logs",
                when(session.get("end_epoch")) or _open_text(session, when) or "unknown",
                session["session_id"]),
        })
    markers = []
    for event in host_events:
        if event.get("type") in TIMELINE_MARKERS and event.get("epoch") is not None and t0 <= event["epoch"] <= t1:
            markers.append({"x": _x(event["epoch"], t0, t1), "type": event["type"],
                            "tooltip": "%s %s (%s)" % (HOST_EVENT_LABELS.get(event["type"], event["type"]),
                                                       when(event["epoch"]), event.get("id"))})
    height = AXIS_HEIGHT + len(lanes) * LANE_HEIGHT + 6
    for number, lane in enumerate(lanes):
        lane["y"] = AXIS_HEIGHT + number * LANE_HEIGHT + LANE_HEIGHT / 2.0 + 4
    return {"host": host, "width": LABEL_WIDTH + PLOT_WIDTH + 10, "height": height, "plot_x": LABEL_WIDTH, "plot_width": PLOT_WIDTH,
            "label_x": LABEL_WIDTH - 8, "lanes": lanes, "bars": bars, "ticks": ticks, "markers": markers, "marker_colour": MARKER_COLOUR}


def _open_text(session, when):
    """``still running at the newest record (TIME)`` for a running session, else ''."""
    if session.get("state") != "running" or session.get("open_until_epoch") is None:
        return "still running" if session.get("state") == "running" else ""
    where = "window end" if session.get("open_until_source") == "window_end" else "newest record"
    return "still running at the %s (%s)" % (where, when(session["open_until_epoch"]))


def _truncate(text, length):
    return text if len(text) <= length else text[:length - 3] + "..."


class HostIndex(object):
    """The fleet model grouped by host, built once for the host pages and the hosts table."""

    def __init__(self, fleet, timezone="UTC"):
        self.fleet = fleet
        self.tzinfo = fleet_time.get_timezone(timezone)
        self._times = {}
        self.axis = timeline_axis(fleet, self.tzinfo)
        self.sessions = {}
        for session in fleet["sessions"]:
            self.sessions.setdefault(session.get("inventory_host") or session["host"], []).append(session)
        self.hosts = dict((h["name"], h) for h in fleet["hosts"])
        # node name -> inventory host (a node's records may be read on another inventory host)
        self.node_of = {}
        for name, items in self.sessions.items():
            for session in items:
                self.node_of.setdefault(session["host"], name)
        for host in fleet["hosts"]:
            self.node_of.setdefault(host["name"], host["name"])
            for node in host.get("node_names") or []:
                self.node_of.setdefault(node, host["name"])
        self.findings = {}
        for item in fleet["findings"]:
            owner = self.node_of.get(item.get("host") or "", item.get("host"))
            if owner is not None:
                self.findings.setdefault(owner, []).append(item)
        self.migrations = {}
        for item in fleet["migrations"]:
            for end in (item["source_host"], item["destination_host"]):
                owner = self.node_of.get(end, end)
                bucket = self.migrations.setdefault(owner, [])
                if not bucket or bucket[-1] is not item:
                    bucket.append(item)
        self.host_events = {}
        for event in fleet.get("host_events") or []:
            owner = event.get("inventory_host") or self.node_of.get(event.get("host"), event.get("host"))
            self.host_events.setdefault(owner, []).append(event)

    def when(self, epoch):
        """The time as text; a page shows most times twice (table and timeline)."""
        text = self._times.get(epoch)
        if text is None:
            if len(self._times) > 100000:
                self._times.clear()
            text = self._times[epoch] = fleet_time.format_time(epoch, self.tzinfo)
        return text


def _finding_row(item, index):
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


def _waiver_row(waiver, index):
    return {"index": waiver["index"], "rule": waiver["rule"], "host": waiver["host"] or "(any host)",
            "guest": waiver["guest"] or "(any guest)", "reason": waiver["reason"], "expires": index.when(waiver["expires_epoch"]),
            "expires_epoch": waiver["expires_epoch"], "status": waiver["status"], "findings": waiver["findings"]}


def _host_row(host, index):
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


def _session_row(session, index):
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
        "avcs": _count(session, "avcs"), "anomalies": _count(session, "anomalies"), "hotplugs": _count(session, "attaches"),
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


def _migration_row(item, index):
    return {
        "name": item["name"] or "", "uuid": item["uuid"], "source": item["source_host"], "destination": item["destination_host"],
        "started": index.when(item["started_epoch"]), "started_epoch": item["started_epoch"],
        "completed": index.when(item["completed_epoch"]), "overlap": fleet_time.format_duration(item["overlap_seconds"]),
        "overlap_seconds": item["overlap_seconds"], "evidence": "%s, %s" % (item.get("start_id") or "?", item.get("stop_id") or "?"),
        "ids": [item.get("start_id") or "?", item.get("stop_id") or "?"],
    }


def _event_row(event, index):
    return {"host": event.get("host") or "", "type": HOST_EVENT_LABELS.get(event.get("type"), event.get("type") or ""),
            "time": index.when(event.get("epoch")), "epoch": event.get("epoch") or "", "id": event.get("id") or "",
            "evidence": event.get("evidence") or ""}


def _table(items, row, index, max_rows):
    return {"rows": [row(item, index) for item in items[:max_rows]], "total": len(items), "shown": min(len(items), max_rows)}


def _common(fleet, index, title):
    window = fleet.get("window") or {}
    summary = fleet["summary"]
    collection = fleet.get("collection") or {}
    return {
        "title": title,
        "generated": index.when(fleet.get("generated_epoch")),
        "timezone": fleet.get("timezone") or "UTC",
        "window": "%s - %s" % (index.when(window.get("start_epoch")) or "beginning of the logs",
                               index.when(window.get("end_epoch")) or "end of the logs"),
        "window_start_input": window.get("start_input") or "",
        "window_end_input": window.get("end_input") or "",
        "summary": summary,
        "partial": bool(collection.get("partial")),
        "partial_reason": collection.get("partial_reason") or "",
        "report_dir": _report_dir_note(collection.get("report_dir")),
        "state_colours": [{"state": s, "colour": c} for s, c in STATE_COLOURS.items()],
        "marker_colour": MARKER_COLOUR,
    }


def _report_dir_note(report_dir):
    """What the report says when its directory belonged to another user and was taken over; '' otherwise."""
    if not report_dir or not report_dir.get("taken_over_from"):
        return ""
    was = report_dir["taken_over_from"]
    return ("The report directory %s belonged to %s (uid %s) when this report was written; it was taken over by uid %s "
            "(owner, group and mode reset), so nobody else can change the report." % (
                report_dir.get("path"), was.get("owner") or "another user", was.get("uid"), report_dir.get("taken_over_by")))


def main_view(fleet, timezone="UTC", title="Guest sessions - fleet report", max_rows=DEFAULT_MAX_ROWS,
              inline_sessions=DEFAULT_INLINE_SESSIONS, index=None):
    """Everything the main HTML page and the Markdown report show, in display form."""
    index = index or HostIndex(fleet, timezone)
    summary = fleet["summary"]
    collection = fleet.get("collection") or {}
    rules = {}
    active = [f for f in fleet["findings"] if not f.get("waived")]
    waived = [f for f in fleet["findings"] if f.get("waived")]
    settings = fleet.get("rules") or {}
    for item in active:
        entry = rules.setdefault(item["rule"], {"rule": item["rule"], "title": item["title"], "severity": item["severity"],
                                                "rank": SEVERITY_RANK[item["severity"]], "colour": SEVERITY_COLOURS[item["severity"]],
                                                "remediation": (settings.get(item["rule"]) or {}).get("remediation")
                                                or item.get("remediation") or "",
                                                "findings": 0, "occurrences": 0, "hosts": set()})
        entry["findings"] += 1
        entry["occurrences"] += item.get("count", 1)
        if item.get("host"):
            entry["hosts"].add(item["host"])
    rule_rows = sorted(rules.values(), key=lambda r: (-r["rank"], -r["findings"], r["rule"]))
    for entry in rule_rows:
        entry["hosts"] = len(entry["hosts"])
    inline = len(fleet["sessions"]) <= inline_sessions
    hosts = [_host_row(h, index) for h in fleet["hosts"]]
    view = _common(fleet, index, title)
    view.update({
        "verdict": _verdict(summary),
        "severity_cards": [{"severity": s, "count": summary["severities"][s], "colour": SEVERITY_COLOURS[s]} for s in reversed(SEVERITIES)],
        "state_cards": [{"state": s, "count": summary["states"].get(s, 0), "colour": STATE_COLOURS[s]} for s in STATE_COLOURS],
        "rule_summary": rule_rows,
        "findings": _table(active, _finding_row, index, max_rows),
        "findings_waived": _table(waived, _finding_row, index, max_rows),
        "changes": changes_view(fleet, index, max_rows),
        "waivers": [_waiver_row(w, index) for w in fleet.get("waivers") or []],
        "waivers_expired": [_waiver_row(w, index) for w in fleet.get("waivers") or [] if w["status"] == "expired"],
        "hosts": hosts,
        "missing_hosts": [h for h in hosts if h["status"] != "ok"],
        "hosts_pages": dict((h["name"], h["page"]) for h in hosts),
        "migrations": _table(fleet["migrations"], _migration_row, index, max_rows),
        "guests": _table(fleet["guests"], _guest_row, index, max_rows),
        "host_events": _table(fleet.get("host_events") or [], _event_row, index, max_rows),
        "inline": inline,
        "timelines": [timeline(name, index.sessions.get(name, []), index.host_events.get(name, []), index.axis, index.tzinfo, index.when)
                      for name in sorted(index.sessions)] if inline else [],
        "sessions": _table(fleet["sessions"], _session_row, index, len(fleet["sessions"])) if inline else None,
        "collection": {
            "this_run": bool(collection.get("this_run")), "inputs": collection.get("inputs") or [],
            "duplicates": collection.get("duplicates") or [], "unused": collection.get("unused") or [],
            "errors": collection.get("errors") or [], "windows_differ": bool(collection.get("host_windows_differ")),
        },
        "rules": [{"rule": r, "enabled": c["enabled"], "severity": c["severity"], "title": c.get("title") or "",
                   "remediation": c.get("remediation") or ""} for r, c in sorted(fleet.get("rules", {}).items())],
        "max_rows": max_rows,
    })
    return view


def _change_finding_row(item, index):
    severity = item.get("severity") if item.get("severity") in SEVERITY_RANK else "info"
    return {"severity": severity, "rank": SEVERITY_RANK[severity], "colour": SEVERITY_COLOURS[severity], "rule": item.get("rule") or "",
            "title": item.get("title") or "", "host": item.get("host") or "", "guest": item.get("guest") or "",
            "time": index.when(item.get("epoch")), "epoch": item.get("epoch") if item.get("epoch") is not None else "",
            "fingerprint": item.get("fingerprint") or "", "why": item.get("why") or "", "waived": bool(item.get("waived"))}


def _change_session_row(item, index):
    return {"host": item.get("host") or "", "name": item.get("name") or "", "uuid": item.get("uuid") or "", "state": item.get("state") or "",
            "colour": STATE_COLOURS.get(item.get("state"), "#9e9e9e"), "start": index.when(item.get("start_epoch")) or "(before the logs)",
            "start_epoch": item.get("start_epoch") if item.get("start_epoch") is not None else "",
            "end": index.when(item.get("end_epoch")), "fingerprint": item.get("fingerprint") or ""}


def changes_view(fleet, index, max_rows):
    """The "Changes since the previous report" section: counts, what was compared, the lists (cut at ``max_rows``)."""
    changes = fleet.get("changes") or {}
    previous = changes.get("previous") or {}
    counts = changes.get("counts") or {}

    def table(kind, row):
        items = changes.get(kind) or []
        return {"rows": [row(item, index) for item in items[:max_rows]], "total": counts.get(kind, len(items)), "shown": min(len(items), max_rows)}

    return {
        "compared": bool(changes.get("compared")), "reason": changes.get("reason") or "",
        "previous_generated": index.when(previous.get("generated_epoch")) or previous.get("generated") or "",
        "previous_path": previous.get("path") or "", "counts": counts,
        "new_sessions": table("new_sessions", _change_session_row), "ended_sessions": table("ended_sessions", _change_session_row),
        "new_findings": table("new_findings", _change_finding_row), "resolved_findings": table("resolved_findings", _change_finding_row),
        "hosts_started": [h["name"] for h in changes.get("hosts_started_reporting") or []],
        "hosts_stopped": [h["name"] for h in changes.get("hosts_stopped_reporting") or []],
    }


def _guest_row(guest, index):
    return {
        "name": guest["name"] or "", "uuid": guest["uuid"], "names": ", ".join(guest["names"]), "hosts": " -> ".join(guest["hosts"]),
        "sessions": len(guest["sessions"]), "migrations": guest["migrations"], "runtime": fleet_time.format_duration(guest["runtime_seconds"]),
        "runtime_seconds": guest["runtime_seconds"], "last_state": guest["last_state"] or "",
        "colour": STATE_COLOURS.get(guest["last_state"], "#9e9e9e"),
    }


def host_view(index, name, title="Guest sessions - fleet report"):
    """One host's page: its timeline, sessions, findings, migrations and host events."""
    fleet = index.fleet
    host = index.hosts[name]
    sessions = index.sessions.get(name, [])
    view = _common(fleet, index, title)
    view.update({
        "host": _host_row(host, index),
        "coverage": host.get("coverage") or {},
        "parse_error_samples": (host.get("parse_errors") or {}).get("samples") or [],
        "timeline": timeline(name, sessions, index.host_events.get(name, []), index.axis, index.tzinfo, index.when),
        "sessions": [_session_row(s, index) for s in sessions],
        "findings": [_finding_row(f, index) for f in index.findings.get(name, [])],
        "finding_rules": _rules_of(index.findings.get(name, []), fleet),
        "migrations": [_migration_row(m, index) for m in index.migrations.get(name, [])],
        "host_events": [_event_row(e, index) for e in index.host_events.get(name, [])],
        "sources": host.get("sources") or [],
        "back": "../fleet_report.html",
    })
    return view


def _rules_of(findings, fleet):
    """``[{rule, title, remediation}]`` of the rules of ``findings``, in the order they first appear."""
    out = []
    seen = set()
    settings = fleet.get("rules") or {}
    for item in findings:
        if item["rule"] not in seen:
            seen.add(item["rule"])
            out.append({"rule": item["rule"], "title": item["title"],
                        "remediation": (settings.get(item["rule"]) or {}).get("remediation") or item.get("remediation") or ""})
    return out


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
