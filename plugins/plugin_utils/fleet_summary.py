# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The counts of the fleet model: its ``summary`` (``summarise``; a waived finding counts for nothing but
itself, the report gate ``fail_on``) and the small ``set_stats`` payload for AWX (``stats_artifact``).

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_changes, fleet_findings, fleet_rules


def summarise(fleet, findings, fail_on):
    """The model's ``summary``: counts of hosts, sessions, states and findings (waived ones apart), the
    highest severity and the report gate (``fail_on``)."""
    states = dict((s, 0) for s in STATES)
    for session in fleet["sessions"]:
        states[session["state"]] = states.get(session["state"], 0) + 1
    waived = [f for f in findings if f.get("waived")]
    findings = [f for f in findings if not f.get("waived")]  # a waived finding counts for nothing but itself
    severities = fleet_findings.severity_counts(findings)
    worst = fleet_findings.max_severity(findings)
    threshold = None if fail_on in (None, "", "none") else str(fail_on).lower()
    at_or_above = 0
    if threshold is not None:
        rank = fleet_rules.SEVERITY_RANK[threshold]
        at_or_above = sum(1 for f in findings if fleet_rules.SEVERITY_RANK[f["severity"]] >= rank)
    collection = fleet.get("collection") or {}
    reporting = [h["name"] for h in fleet["hosts"] if h["status"] == "ok"]
    return {
        "hosts": len(fleet["hosts"]),
        "hosts_reporting": len(reporting),
        "hosts_missing": len(fleet["missing_hosts"]),
        "reporting_hosts": reporting,
        "missing_host_names": [h["name"] for h in fleet["missing_hosts"]],
        "sessions": len(fleet["sessions"]),
        "guests": len(fleet["guests"]),
        "states": states,
        "migrations": len(fleet["migrations"]),
        "avcs": sum(h["avcs"] + h["avcs_unattributed"] for h in fleet["hosts"]),
        "anomalies": sum(h["anomalies"] + h["anomalies_unattributed"] for h in fleet["hosts"]),
        "host_events": len(fleet["host_events"]),
        "findings": len(findings),
        "finding_occurrences": sum(f["count"] for f in findings),
        "findings_waived": len(waived),
        "waivers": len(fleet.get("waivers") or []),
        "waivers_expired": sum(1 for w in fleet.get("waivers") or [] if w["status"] == "expired"),
        "partial": bool(collection.get("partial")),
        "severities": severities,
        "max_severity": worst,
        "fail_on": threshold,
        "findings_at_or_above_fail_on": at_or_above,
        "fail": bool(threshold is not None and at_or_above),
    }


def stats_artifact(fleet, report_paths=None):
    """The small ``set_stats`` payload for AWX (counts only, no session data)."""
    summary = fleet["summary"]
    return {
        "hosts": summary["hosts"],
        "hosts_reporting": summary["hosts_reporting"],
        "hosts_missing": summary["hosts_missing"],
        "missing_hosts": summary["missing_host_names"],
        "sessions": summary["sessions"],
        "guests": summary["guests"],
        "states": dict(summary["states"]),
        "migrations": summary["migrations"],
        "findings": summary["findings"],
        "finding_occurrences": summary["finding_occurrences"],
        "findings_waived": summary["findings_waived"],
        "waivers_expired": summary["waivers_expired"],
        "partial": summary["partial"],
        "severities": dict(summary["severities"]),
        "max_severity": summary["max_severity"],
        "fail_on": summary["fail_on"],
        "failed_gate": summary["fail"],
        "window_start": (fleet.get("window") or {}).get("start"),
        "window_end": (fleet.get("window") or {}).get("end"),
        "generated": fleet.get("generated"),
        "reports": sorted(report_paths or []),
        "changes": fleet_changes.stats(fleet["changes"]) if fleet.get("changes") else None,
    }
