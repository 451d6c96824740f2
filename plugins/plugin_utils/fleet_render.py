# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The views of the fleet report: what the HTML and Markdown templates render.

* ``main_view(fleet, ...)`` - the main page: summary, findings per rule, the
  findings (highest severity first), changes since the previous report,
  hosts, missing hosts, migrations, guests; tables longer than ``max_rows``
  are cut (the JSON and CSV files and the host pages hold everything), and
  the timelines and sessions are shown inline only when the fleet has at
  most ``inline_sessions`` sessions.
* ``host_view(index, name, ...)`` - one host's page: its timeline,
  sessions, findings, migrations and host events.  ``HostIndex(fleet)``
  (fleet_index.py) groups the model by host once, so every page costs what
  it shows.

The pieces live beside this file: the table rows (fleet_rows.py), the
timeline geometry (fleet_timeline.py), the file names of the host pages
(fleet_pages.py), the CSV files (fleet_csv.py) and the escaping for each
format (fleet_escape.py).  The views hold display strings (times in the
report's zone, durations) and numbers (SVG coordinates); never markup.  The
HTML templates are rendered with autoescaping; Markdown goes through
``md_escape``; CSV through ``neutralise_cell``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_rows
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_findings import SEVERITIES, SEVERITY_RANK
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_index import HostIndex
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_rows import SEVERITY_COLOURS
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_timeline import MARKER_COLOUR, STATE_COLOURS, timeline

DEFAULT_MAX_ROWS = 1000
DEFAULT_INLINE_SESSIONS = 2000


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
                                                "remediation": _remediation(item, settings),
                                                "findings": 0, "occurrences": 0, "hosts": set()})
        entry["findings"] += 1
        entry["occurrences"] += item.get("count", 1)
        if item.get("host"):
            entry["hosts"].add(item["host"])
    rule_rows = sorted(rules.values(), key=lambda r: (-r["rank"], -r["findings"], r["rule"]))
    for entry in rule_rows:
        entry["hosts"] = len(entry["hosts"])
    inline = len(fleet["sessions"]) <= inline_sessions
    hosts = [fleet_rows.host_row(h, index) for h in fleet["hosts"]]
    view = _common(fleet, index, title)
    view.update({
        "verdict": _verdict(summary),
        "severity_cards": [{"severity": s, "count": summary["severities"][s], "colour": SEVERITY_COLOURS[s]} for s in reversed(SEVERITIES)],
        "state_cards": [{"state": s, "count": summary["states"].get(s, 0), "colour": STATE_COLOURS[s]} for s in STATE_COLOURS],
        "rule_summary": rule_rows,
        "findings": _table(active, fleet_rows.finding_row, index, max_rows),
        "findings_waived": _table(waived, fleet_rows.finding_row, index, max_rows),
        "changes": changes_view(fleet, index, max_rows),
        "waivers": [fleet_rows.waiver_row(w, index) for w in fleet.get("waivers") or []],
        "waivers_expired": [fleet_rows.waiver_row(w, index) for w in fleet.get("waivers") or [] if w["status"] == "expired"],
        "hosts": hosts,
        "missing_hosts": [h for h in hosts if h["status"] != "ok"],
        "hosts_pages": dict((h["name"], h["page"]) for h in hosts),
        "migrations": _table(fleet["migrations"], fleet_rows.migration_row, index, max_rows),
        "guests": _table(fleet["guests"], fleet_rows.guest_row, index, max_rows),
        "host_events": _table(fleet.get("host_events") or [], fleet_rows.event_row, index, max_rows),
        "inline": inline,
        "timelines": [timeline(name, index.sessions.get(name, []), index.host_events.get(name, []), index.axis, index.tzinfo, index.when)
                      for name in sorted(index.sessions)] if inline else [],
        "sessions": _table(fleet["sessions"], fleet_rows.session_row, index, len(fleet["sessions"])) if inline else None,
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
        "new_sessions": table("new_sessions", fleet_rows.change_session_row), "ended_sessions": table("ended_sessions", fleet_rows.change_session_row),
        "new_findings": table("new_findings", fleet_rows.change_finding_row), "resolved_findings": table("resolved_findings", fleet_rows.change_finding_row),
        "hosts_started": [h["name"] for h in changes.get("hosts_started_reporting") or []],
        "hosts_stopped": [h["name"] for h in changes.get("hosts_stopped_reporting") or []],
    }


def host_view(index, name, title="Guest sessions - fleet report"):
    """One host's page: its timeline, sessions, findings, migrations and host events."""
    fleet = index.fleet
    host = index.hosts[name]
    sessions = index.sessions.get(name, [])
    view = _common(fleet, index, title)
    view.update({
        "host": fleet_rows.host_row(host, index),
        "coverage": host.get("coverage") or {},
        "parse_error_samples": (host.get("parse_errors") or {}).get("samples") or [],
        "timeline": timeline(name, sessions, index.host_events.get(name, []), index.axis, index.tzinfo, index.when),
        "sessions": [fleet_rows.session_row(s, index) for s in sessions],
        "findings": [fleet_rows.finding_row(f, index) for f in index.findings.get(name, [])],
        "finding_rules": _rules_of(index.findings.get(name, []), fleet),
        "migrations": [fleet_rows.migration_row(m, index) for m in index.migrations.get(name, [])],
        "host_events": [fleet_rows.event_row(e, index) for e in index.host_events.get(name, [])],
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
            out.append({"rule": item["rule"], "title": item["title"], "remediation": _remediation(item, settings)})
    return out


def _remediation(item, settings):
    """What to do about a finding: the rule's remediation as the report's settings have it, else the finding's own."""
    return (settings.get(item["rule"]) or {}).get("remediation") or item.get("remediation") or ""


def _verdict(summary):
    worst = summary.get("max_severity")
    if summary.get("fail"):
        return "Findings at or above '%s': the report gate failed." % summary["fail_on"]
    if worst is None:
        return "No findings."
    return "Highest finding severity: %s." % worst
