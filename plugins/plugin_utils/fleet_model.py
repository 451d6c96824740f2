# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet model: per-host module results -> one fleet view.

``build_fleet(targets, results, ...)`` takes the inventory names of the
hosts that should have reported and, aligned with them (or as a dict by
host), what each one left behind - the records of fleet_results.py
(``{'status': 'ok', 'result': <fleet_report_collect result>, 'audit':
<audit_config_info result>, ...}``, ``{'status': 'failed'|'unreachable'|
'missing', 'msg': ...}``) or nothing at all.  Sessions carry the short
``evidence`` summary (module_utils/session_evidence.py), not their event
lists.  It returns a plain dict (JSON-ready, ordered deterministically):

* ``hosts`` - one entry per target with its status and counts,
* ``missing_hosts`` - the targets without a usable result,
* ``sessions`` - every session of every host (the module's keys plus
  ``inventory_host``, ``session_id``, ``migrated_from``, ``migrated_to``),
* ``migrations`` - live migrations stitched across hosts: the destination's
  ``start reason=migrated`` paired with the source's ``stop
  reason=migrated`` of the same UUID (the guest runs on both while it
  moves; that overlap is expected),
* ``guests`` - one history per UUID across hosts,
* ``host_events``, ``findings`` (grouped, see fleet_findings), ``collection``
  (which result files were merged: run, duplicates, partial) and ``summary``.

The sessions across hosts (ids, migrations, open sessions, guest histories)
are in fleet_sessions.py, the summary and the AWX stats in fleet_summary.py.

Pure Python, no Ansible objects: unit-tested directly.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_changes, fleet_findings, fleet_rules, fleet_waivers
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_sessions import (
    DEFAULT_MIGRATION_SLACK, evidence_count, guest_histories, mark_open_sessions, session_fingerprint, session_id, session_sort_key,
    stitch_migrations,
)
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_summary import summarise

SCHEMA_VERSION = 1
HOST_STATUSES = ("ok", "failed", "unreachable", "missing")


def _normalise_input(target, raw):
    """One host's record -> (status, msg, result, audit)."""
    if not isinstance(raw, dict) or not raw:
        return "missing", "no result: the host was not part of this run (limit, failed earlier play) or never reported", None, None
    status = raw.get("status") or "missing"
    if status not in HOST_STATUSES:
        status = "failed"
    result = raw.get("result")
    if status == "ok" and not isinstance(result, dict):
        return "failed", "the host reported no guest_session_info result", None, None
    if status != "ok":
        return status, raw.get("msg"), None, None
    return status, raw.get("msg"), result, raw.get("audit") if isinstance(raw.get("audit"), dict) else None


def _notable_skew(skew):
    """The host's clock offset when it is a finding, else None: a healthy host's few
    tenths of a second would make every report differ from the last."""
    if skew is None or abs(skew) <= fleet_findings.CLOCK_SKEW_LIMIT:
        return None
    return skew


def _host_entry(name, status, msg, result, audit, raw=None):
    raw = raw if isinstance(raw, dict) else {}
    entry = {
        "name": name,
        "status": status,
        "msg": msg if status != "ok" else None,
        "sessions": 0,
        "states": dict((s, 0) for s in STATES),
        "avcs": 0,
        "anomalies": 0,
        "avcs_unattributed": 0,
        "anomalies_unattributed": 0,
        "failed_operations": 0,
        "coverage": None,
        "parse_errors": None,
        "sources": [],
        "audit": audit,
        "first_record": None,
        "first_record_epoch": None,
        "last_record": None,
        "last_record_epoch": None,
        "node_names": [],
        "clock_skew_seconds": None,
        "collected": raw.get("collected"),
        "collected_epoch": raw.get("collected_epoch"),
        "run_id": raw.get("run_id"),
        "result_file": raw.get("path"),
        "window": raw.get("window") or None,
    }
    if result is None:
        return entry
    summary = result.get("summary") or {}
    coverage = result.get("coverage") or {}
    entry.update({
        "failed_operations": summary.get("failed_operations") or 0,
        "avcs_unattributed": summary.get("avcs_unattributed") or 0,
        "anomalies_unattributed": summary.get("anomalies_unattributed") or 0,
        "coverage": coverage,
        "parse_errors": result.get("parse_errors") or {"count": 0, "samples": []},
        "sources": [dict((k, s.get(k)) for k in ("path", "bytes", "compressed", "records", "first", "last")) for s in result.get("sources") or []],
        "first_record": coverage.get("first_record"),
        "first_record_epoch": coverage.get("first_record_epoch"),
        "last_record": coverage.get("last_record"),
        "last_record_epoch": coverage.get("last_record_epoch"),
        "node_names": sorted(summary.get("hosts") or []),
        "clock_skew_seconds": _notable_skew(result.get("clock_skew_seconds")),
    })
    return entry


def _dedupe_key(session):
    return (session["host"], session["uuid"], session.get("start_id"), session.get("first_seen_epoch"), session.get("end_id"))


def build_fleet(targets, results, window=None, rules=None, allowed_guests=None, max_session_hours=0,
                hotplug_kinds=fleet_findings.DEFAULT_HOTPLUG_KINDS, fail_on=None, migration_slack=DEFAULT_MIGRATION_SLACK,
                generated_epoch=None, timezone="UTC", collection=None, copy=True, waivers=None, previous=None, previous_path=None,
                previous_reason=None):
    """The fleet model.  ``targets`` are inventory names, ``results`` the per-host records aligned with them
    (or a dict ``{name: record}``).  ``collection``: what was merged (run id, inputs, duplicates, partial),
    kept as the model's ``collection``.  ``copy=False`` lets the model take the records' session dicts over
    instead of copying them (the report step, which reads the records for this alone).  ``waivers``: the
    list of fleet_report_waivers (fleet_waivers.py), checked against the report's time.  ``previous``: the
    digest of the previous report (module_utils/report_digest.py) at ``previous_path``, or None: the
    model's ``changes`` (fleet_changes.py).
    ValueError for bad settings."""
    settings = fleet_rules.rule_settings(rules)
    window = dict(window or {})
    if generated_epoch is None:
        generated_epoch = window.get("now_epoch")
    waivers = fleet_waivers.load_waivers(waivers, timezone or "UTC", generated_epoch)
    fleet_findings.compile_allow_list(allowed_guests)  # fail early on a bad pattern
    if fail_on not in (None, "", "none") and str(fail_on).lower() not in fleet_rules.SEVERITY_RANK:
        raise ValueError("fleet_report_fail_on: %r is not one of none, %s" % (fail_on, ", ".join(fleet_rules.SEVERITIES)))
    if isinstance(results, dict):
        results = [results.get(t) for t in targets]
    results = list(results or [])
    results += [None] * (len(targets) - len(results))

    hosts = []
    sessions = []
    host_events = []
    seen = set()
    seen_targets = set()
    for target, raw in zip(targets, results):
        if target in seen_targets:
            continue
        seen_targets.add(target)
        status, msg, result, audit = _normalise_input(target, raw)
        entry = _host_entry(target, status, msg, result, audit, raw)
        hosts.append(entry)
        if result is None:
            continue
        for item in result.get("sessions") or []:
            session = dict(item) if copy else item
            session["inventory_host"] = target
            key = _dedupe_key(session)
            if key in seen:  # the same node's records read on two inventory hosts (central log + node)
                continue
            seen.add(key)
            session["session_id"] = session_id(session)
            session["fingerprint"] = session_fingerprint(session["session_id"])
            sessions.append(session)
            entry["sessions"] += 1
            entry["states"][session["state"]] = entry["states"].get(session["state"], 0) + 1
            entry["avcs"] += evidence_count(session, "avcs")
            entry["anomalies"] += evidence_count(session, "anomalies")
        for event in result.get("host_events") or []:
            item = dict(event)
            item["inventory_host"] = target
            key = ("event", item.get("host"), item.get("id"), item.get("type"))
            if key in seen:
                continue
            seen.add(key)
            host_events.append(item)
    hosts.sort(key=lambda h: h["name"])
    sessions.sort(key=session_sort_key)
    host_events.sort(key=lambda e: (e.get("host") or "", e.get("epoch") or 0.0, e.get("id") or "", e.get("type") or ""))
    migrations, unmatched = stitch_migrations(sessions, migration_slack)
    mark_open_sessions(sessions, dict((h["name"], h) for h in hosts), window.get("end_epoch"))
    guests = guest_histories(sessions, migrations)
    fleet = {
        "schema_version": SCHEMA_VERSION,
        "generated": iso(generated_epoch),
        "generated_epoch": generated_epoch,
        "timezone": timezone or "UTC",
        "window": window,
        "hosts": hosts,
        "missing_hosts": [{"name": h["name"], "status": h["status"], "msg": h["msg"]} for h in hosts if h["status"] != "ok"],
        "sessions": sessions,
        "migrations": migrations,
        "unmatched_migrations": unmatched,
        "guests": guests,
        "host_events": host_events,
        "collection": _collection(collection, hosts),
    }
    findings = fleet_findings.compute_findings(fleet, settings, allowed_guests=allowed_guests, max_session_hours=max_session_hours,
                                               hotplug_kinds=hotplug_kinds)
    fleet["waivers"] = fleet_waivers.apply_waivers(findings, waivers, generated_epoch)
    findings.sort(key=fleet_findings.finding_sort_key)
    fleet["findings"] = findings
    fleet["rules"] = dict((rule, {"enabled": conf["enabled"], "severity": conf["severity"], "title": conf["title"],
                                  "remediation": conf["remediation"]}) for rule, conf in sorted(settings.items()))
    fleet["summary"] = summarise(fleet, findings, fail_on)
    fleet["changes"] = fleet_changes.compare(fleet, previous, previous_path, previous_reason)
    return fleet


def _collection(collection, hosts):
    """``collection`` completed: partial flag, the windows the hosts were asked for."""
    out = {"this_run": False, "partial": False, "partial_reason": None, "inputs": [], "duplicates": [], "unused": [], "errors": []}
    out.update(collection or {})
    windows = set(((h["window"] or {}).get("start"), (h["window"] or {}).get("end")) for h in hosts if h["status"] == "ok")
    out["host_windows_differ"] = len(windows) > 1
    return out
