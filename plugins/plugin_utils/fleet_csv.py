# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CSV files of the fleet report: ``fleet_report.csv`` (one row per session, ``CSV_COLUMNS``) and
``fleet_report_findings.csv`` (one row per finding, ``FINDINGS_CSV_COLUMNS``).  RFC 4180 quoting, times
in UTC and in the report's zone, every cell through ``neutralise_cell`` (fleet_escape.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io

from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_escape import neutralise_cell
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_sessions import evidence_count

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


def write_csv(fleet, handle, timezone="UTC"):
    """One row per session (``CSV_COLUMNS``), RFC 4180 quoting, formula cells neutralised, into ``handle``."""
    tzinfo = fleet_time.get_timezone(timezone)
    writer = csv.writer(handle, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for session in fleet["sessions"]:
        row = dict(session)
        row["start_local"] = fleet_time.format_time(session.get("start_epoch"), tzinfo, millis=True)
        row["end_local"] = fleet_time.format_time(session.get("end_epoch"), tzinfo, millis=True)
        row["avcs"] = evidence_count(session, "avcs")
        row["anomalies"] = evidence_count(session, "anomalies")
        row["hotplugs"] = evidence_count(session, "attaches")
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
