# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exports of the fleet report for other tools.

* ``fleet_report.jsonl`` (format ``jsonl``) - for a SIEM (Splunk, Elastic):
  one JSON object per line, a session (``type: session``) or a finding
  (``type: finding``), each with a stable ``fingerprint`` (the same session
  or finding has the same one in every run), ``host``, its time as ``time``
  (ISO 8601 UTC) and ``epoch``, and ``report_generated``.  Every time field
  is UTC.
* ``fleet_report_hosts/<host>.prom`` (format ``prom``) - each host's metrics
  in node_exporter's textfile-collector format (module_utils/
  prometheus_text.py, the text the module fleet_report_collect writes on the
  host itself), as of the report's time.

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils import prometheus_text
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_pages
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_sessions import anchor_epoch, evidence_count

JSONL_FILE = "fleet_report.jsonl"
SESSION_KEYS = (
    "session_id", "host", "inventory_host", "name", "uuid", "virt", "state", "start", "start_epoch", "end", "end_epoch",
    "open_until", "open_until_epoch", "duration_seconds", "open_seconds", "start_reason", "stop_reason", "pid", "user", "label",
    "start_id", "end_id", "first_seen", "first_seen_epoch", "migrated_from", "migrated_to",
)
FINDING_KEYS = (
    "rule", "severity", "title", "host", "guest", "uuid", "count", "detail", "evidence", "remediation", "waived",
)


def session_line(session, generated):
    """The JSONL object of a session."""
    item = dict((key, session.get(key)) for key in SESSION_KEYS)
    for key in ("start", "end", "open_until", "first_seen"):
        # UTC, whatever the host wrote: from the epoch twin
        if session.get(key + "_epoch") is not None:
            item[key] = iso(session[key + "_epoch"])
    epoch = anchor_epoch(session)
    item.update(type="session", fingerprint=session["fingerprint"], time=iso(epoch), epoch=epoch, report_generated=generated,
                avcs=evidence_count(session, "avcs"), anomalies=evidence_count(session, "anomalies"),
                hotplugs=evidence_count(session, "attaches"))
    return item


def finding_line(finding, generated):
    """The JSONL object of a finding (a group of occurrences of one rule, host and guest)."""
    item = dict((key, finding.get(key)) for key in FINDING_KEYS)
    waiver = finding.get("waiver") or {}
    item.update(type="finding", fingerprint=finding["fingerprint"], time=iso(finding.get("epoch")), epoch=finding.get("epoch"),
                last_time=iso(finding.get("last_epoch")), last_epoch=finding.get("last_epoch"), report_generated=generated,
                waiver_reason=waiver.get("reason"), waiver_expires=waiver.get("expires"), waiver_status=waiver.get("status"))
    return item


def write_jsonl(fleet, handle, dumps):
    """Every session, then every finding, one per line (``dumps``: the report's JSON writer, keys sorted)."""
    generated = fleet.get("generated")
    for session in fleet["sessions"]:
        handle.write(dumps(session_line(session, generated)) + "\n")
    for finding in fleet["findings"]:
        handle.write(dumps(finding_line(finding, generated)) + "\n")


def prom_file(host):
    """Relative path of a host's textfile: ``fleet_report_hosts/<safe name>.prom``."""
    return fleet_pages.host_page(host)[:-len(".html")] + ".prom"


def host_textfile(host):
    """The ``.prom`` text of a host entry of the model, as of the report's time (``now``)."""
    result = None
    if host["status"] == "ok":
        result = {
            "summary": {"states": host["states"], "avcs": host["avcs"], "avcs_unattributed": host["avcs_unattributed"],
                        "anomalies": host["anomalies"], "anomalies_unattributed": host["anomalies_unattributed"]},
            "coverage": host.get("coverage") or {}, "parse_errors": host.get("parse_errors") or {},
        }
    return result, host.get("audit")


def write_prom_files(fleet, opener):
    """One textfile per host of the report (missing hosts: ``virtaudit_collect_success 0``); returns the relative paths.
    ``opener(name)``: a text file to write, relative to the report directory."""
    written = []
    now = fleet.get("generated_epoch")
    for host in fleet["hosts"]:
        result, audit = host_textfile(host)
        name = prom_file(host["name"])
        with opener(name) as handle:
            handle.write(prometheus_text.textfile(host["name"], result, audit, now))
        written.append(name)
    return written
