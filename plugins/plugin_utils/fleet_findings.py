# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compliance findings of the fleet report.

The rules (id, default severity, title, remediation) are in fleet_rules.py;
``fleet_report_rules`` switches them off, re-rates them or replaces their
remediation text.  ``compute_findings(fleet, settings)`` returns the findings sorted by
severity (highest first), time, host, guest and rule.

Findings of the same rule, host and guest are grouped: a finding is
``{rule, severity, title, host, guest, uuid, count, time, epoch, last_time,
last_epoch, detail, evidence, occurrences, fingerprint}``; ``time``,
``epoch`` are the first occurrence's, ``evidence`` lists the audit event
ids (``SECONDS.MILLIS:SERIAL``, unique per host) of all occurrences (up to
``MAX_EVIDENCE``), ``occurrences`` each occurrence's ``{time, epoch, detail,
evidence}`` (up to ``MAX_OCCURRENCES``; ``count`` is exact) and
``fingerprint`` a stable id of the group (rule, host, guest UUID and name)
that stays the same from run to run.

Session findings are computed from each session's ``evidence`` summary
(module_utils/session_evidence.py), never from its full event lists.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import re

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_rules import SEVERITIES, SEVERITY_RANK
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time

MAX_EVIDENCE = 50
MAX_OCCURRENCES = 100

DEFAULT_HOTPLUG_KINDS = ("dev", "hostdev", "disk")
# a host clock further off than this (seconds) is a finding; a module run takes far less
CLOCK_SKEW_LIMIT = 300


def compile_allow_list(patterns):
    """Compiled regexes (full match); ValueError naming a bad one."""
    compiled = []
    for pattern in patterns or []:
        try:
            compiled.append(re.compile(str(pattern)))
        except re.error as exc:
            raise ValueError("fleet_report_allowed_guests: %r is not a valid regular expression: %s" % (pattern, exc))
    return compiled


def _ids(*groups):
    out = []
    seen = set()
    for group in groups:
        for value in group:
            if value and value not in seen:
                seen.add(value)
                out.append(value)
    return out[:MAX_EVIDENCE]


class _Collector(object):
    def __init__(self, settings):
        self.settings = settings
        self.items = []

    def add(self, rule, host=None, guest=None, uuid=None, time=None, epoch=None, detail="", evidence=(), weight=1):
        conf = self.settings[rule]
        if not conf["enabled"]:
            return
        self.items.append({
            "weight": weight,
            "rule": rule,
            "severity": conf["severity"],
            "title": conf["title"],
            "remediation": conf["remediation"],
            "host": host,
            "guest": guest,
            "uuid": uuid,
            "time": time,
            "epoch": epoch,
            "detail": detail,
            "evidence": list(evidence)[:MAX_EVIDENCE],
        })


def _session_anchor(session):
    for key in ("start_epoch", "first_seen_epoch", "end_epoch"):
        if session.get(key) is not None:
            return session[key], session.get(key[:-len("_epoch")])
    return None, None


def compute_findings(fleet, settings, allowed_guests=None, max_session_hours=0, hotplug_kinds=DEFAULT_HOTPLUG_KINDS):
    """All findings of ``fleet`` (the model without findings), grouped by rule, host and guest.  Times in the
    details are in the report's zone (``fleet['timezone']``), as everywhere in the report."""
    out = _Collector(settings)
    _host_findings(out, fleet, fleet_time.get_timezone(fleet.get("timezone") or "UTC"))
    _session_findings(out, fleet, max_session_hours, hotplug_kinds)
    _allow_list_findings(out, fleet, compile_allow_list(allowed_guests))
    for migration in fleet.get("unmatched_migrations", []):
        out.add("migration_unmatched", host=migration["host"], guest=migration["name"], uuid=migration["uuid"],
                time=migration["time"], epoch=migration["epoch"], detail=migration["detail"], evidence=[migration["id"]])
    return group_findings(out.items)


def finding_sort_key(item):
    return (bool(item.get("waived")), -SEVERITY_RANK[item["severity"]], item["epoch"] if item["epoch"] is not None else -1.0,
            item["host"] or "", item["guest"] or "", item["uuid"] or "", item["rule"], item["detail"])


# rules about a guest wherever it runs: their fingerprint leaves the host out (a guest that shows up on a second
# host is still the same finding)
FLEET_WIDE_RULES = ("guest_not_allowed",)


def fingerprint(rule, host=None, uuid=None, guest=None):
    """Stable id of a finding group: the same rule, host and guest give the same id in every run (whatever the
    window, times, counts or details)."""
    if rule in FLEET_WIDE_RULES:
        host = None
    text = "\0".join((rule, host or "", uuid or "", guest or ""))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def group_findings(items):
    """Occurrences -> one finding per (rule, host, guest UUID, guest name), sorted like single findings."""
    groups = {}
    for item in sorted(items, key=finding_sort_key):
        key = (item["rule"], item["host"], item["uuid"], item["guest"])
        group = groups.get(key)
        occurrence = {"time": item["time"], "epoch": item["epoch"], "detail": item["detail"], "evidence": item["evidence"]}
        if group is None:
            groups[key] = group = dict(item, count=0, occurrences=[], evidence=[], last_time=item["time"], last_epoch=item["epoch"],
                                       fingerprint=fingerprint(item["rule"], item["host"], item["uuid"], item["guest"]))
        group["count"] += item.get("weight", 1)
        if len(group["occurrences"]) < MAX_OCCURRENCES:
            group["occurrences"].append(occurrence)
        if len(group["evidence"]) < MAX_EVIDENCE:
            group["evidence"] = _ids(group["evidence"], item["evidence"])
        if item["epoch"] is not None and (group["last_epoch"] is None or item["epoch"] >= group["last_epoch"]):
            group["last_time"], group["last_epoch"] = item["time"], item["epoch"]
    out = []
    for group in groups.values():
        group.pop("weight", None)
        if group["count"] > 1:
            details = []
            for occurrence in group["occurrences"]:
                if occurrence["detail"] not in details:
                    details.append(occurrence["detail"])
            shown = "; ".join(details[:3]) + ("; ..." if len(details) > 3 else "")
            group["detail"] = "%d occurrences: %s" % (group["count"], shown)
        out.append(group)
    return sorted(out, key=finding_sort_key)


def _host_findings(out, fleet, tzinfo):
    for host in fleet["hosts"]:
        name = host["name"]
        if host["status"] != "ok":
            out.add("host_missing", host=name, detail="%s: %s" % (host["status"], host.get("msg") or "no result"))
            continue
        audit = host.get("audit") or {}
        if audit.get("auditd_running") is False:
            out.add("auditd_not_running", host=name, detail="no auditd process found (%s)" % (audit.get("auditd_source") or "process table"))
        if audit.get("audit_enabled") is False:
            out.add("audit_disabled", host=name, detail="kernel audit is disabled (%s)" % (audit.get("audit_enabled_source") or "unknown source"))
        for conf in audit.get("libvirt", []) or []:
            if conf.get("exists") and conf.get("audit_level") == 0:
                out.add("libvirt_audit_disabled", host=name, detail="%s sets audit_level = 0" % conf.get("path"))
        coverage = host.get("coverage") or {}
        if coverage.get("reaches_window_start") is False:
            first = coverage.get("first_record")
            start = coverage.get("window_start_epoch")
            if start is None:
                start = (fleet.get("window") or {}).get("start_epoch")
            out.add("log_coverage", host=name, time=first, epoch=coverage.get("first_record_epoch"),
                    detail="the oldest record read is from %s, after the window start %s" % (
                        fleet_time.format_time(coverage.get("first_record_epoch"), tzinfo) or "never (no records)",
                        fleet_time.format_time(start, tzinfo) or coverage.get("window_start")))
        gaps = (coverage.get("serial_gaps") or {})
        missing_events = gaps.get("missing_events") or 0
        rotated = coverage.get("missing_rotated_files") or []
        if missing_events or rotated:
            parts = []
            if missing_events:
                parts.append("%d event serial(s) skipped within a boot" % missing_events)
            if rotated:
                parts.append("rotated log file(s) missing: %s" % ", ".join(str(r) for r in rotated))
            first_gap = (gaps.get("gaps") or [{}])[0]
            epoch = EventId.epoch(first_gap.get("after_id"))
            out.add("log_gaps", host=name, time=iso(epoch), epoch=epoch, detail="; ".join(parts),
                    evidence=_ids([g.get("after_id") for g in gaps.get("gaps") or []], [g.get("before_id") for g in gaps.get("gaps") or []]))
        skew = host.get("clock_skew_seconds")
        if skew is not None and abs(skew) > CLOCK_SKEW_LIMIT:
            out.add("clock_skew", host=name, detail="the host's clock is %s %s the controller's: its audit times are "
                    "shifted by as much" % (_duration(abs(skew)), "ahead of" if skew > 0 else "behind"))
        errors = host.get("parse_errors") or {}
        if errors.get("count"):
            out.add("parse_errors", host=name, detail="%d line(s) could not be read as audit records" % errors["count"])
        if host.get("avcs_unattributed"):
            out.add("avc_denial", host=name, detail="%d denial(s) not attributable to a guest session" % host["avcs_unattributed"])
        if host.get("anomalies_unattributed"):
            out.add("anomaly", host=name, detail="%d anomaly record(s) not attributable to a guest session" % host["anomalies_unattributed"])


def _session_findings(out, fleet, max_session_hours, hotplug_kinds):
    limit = float(max_session_hours or 0) * 3600.0
    kinds = set(hotplug_kinds or ())
    for session in fleet["sessions"]:
        host, guest, uuid = session["host"], session["name"], session["uuid"]
        state = session["state"]
        evidence = session.get("evidence") or {}
        avcs = evidence.get("avcs") or {}
        anomalies = evidence.get("anomalies") or {}
        attaches = evidence.get("attaches") or {}
        base_ids = [session.get("start_id"), session.get("end_id")]
        anomaly_ids = anomalies.get("ids") or []
        if state == "crashed":
            how = "stop reason %s" % session["stop_reason"] if session.get("stop_reason") else "qemu ended abnormally"
            out.add("guest_crashed", host, guest, uuid, session.get("end"), session.get("end_epoch"),
                    "%s after %s" % (how, _duration(session.get("duration_seconds"))), _ids(base_ids, anomaly_ids))
        elif state == "down":
            out.add("guest_down", host, guest, uuid, session.get("end"), session.get("end_epoch"),
                    "the host went down while the guest ran (no stop record)", _ids(base_ids))
        elif state == "failed":
            out.add("start_failed", host, guest, uuid, session.get("start"), session.get("start_epoch"),
                    "op=start reason=%s res=failed" % (session.get("start_reason") or "?"), _ids([session.get("start_id")]))
        elif state == "lost":
            anchor_epoch, anchor = _session_anchor(session)
            out.add("session_lost", host, guest, uuid, anchor, anchor_epoch,
                    "started again on the same host while this session never ended", _ids([session.get("start_id")]))
        if avcs.get("count"):
            out.add("avc_denial", host, guest, uuid, avcs.get("first"), avcs.get("first_epoch"),
                    "%d denial(s): %s" % (avcs["count"], "; ".join((avcs.get("operations") or [])[:5])), _ids(avcs.get("ids") or []))
        if anomalies.get("count"):
            out.add("anomaly", host, guest, uuid, anomalies.get("first"), anomalies.get("first_epoch"),
                    "%d anomaly record(s): %s" % (anomalies["count"], ", ".join(anomalies.get("types") or [])), _ids(anomaly_ids))
        listed = 0
        for item in attaches.get("items") or []:
            if item.get("kind") not in kinds:
                continue
            listed += 1
            what = item["kind"]
            if item.get("bus"):
                what = "%s %s" % (item["bus"].upper() if item["bus"] in ("pci", "usb", "scsi") else item["bus"], what)
            out.add("hotplug", host, guest, uuid, item.get("opened"), item.get("opened_epoch"),
                    "%s attached: %s" % (what, item.get("value")), _ids([item.get("id")]))
        unlisted = sum(count for kind, count in (attaches.get("kinds") or {}).items() if kind in kinds) - listed
        if unlisted > 0:
            out.add("hotplug", host, guest, uuid, session.get("start"), session.get("start_epoch"),
                    "%d more device(s) attached (not listed by the host)" % unlisted, (), weight=unlisted)
        if state != "failed" and not session.get("label"):
            anchor_epoch, anchor = _session_anchor(session)
            out.add("no_security_label", host, guest, uuid, anchor, anchor_epoch,
                    "no SELinux/AppArmor label was bound at start (DAC only or seclabel type none)", _ids([session.get("start_id")]))
        if limit > 0 and session.get("start_epoch") is not None and state != "failed":
            end = session.get("end_epoch")
            running = end is None
            if running:
                # open at the host's newest record or the window end (fleet_sessions.mark_open_sessions), never "now"
                end = session.get("open_until_epoch")
            if end is not None and end - session["start_epoch"] > limit:
                if running:
                    detail = "running for %s, still running at the %s (limit %sh)" % (
                        _duration(end - session["start_epoch"]),
                        "window end" if session.get("open_until_source") == "window_end" else "newest record", _number(max_session_hours))
                else:
                    detail = "ran for %s (limit %sh)" % (_duration(end - session["start_epoch"]), _number(max_session_hours))
                out.add("long_session", host, guest, uuid, session.get("start"), session["start_epoch"], detail,
                        _ids([session.get("start_id")]))


def _allow_list_findings(out, fleet, patterns):
    if not patterns:
        return
    seen = {}
    for session in fleet["sessions"]:
        key = (session["uuid"], session["name"])
        if key in seen:
            seen[key]["hosts"].add(session["host"])
            continue
        seen[key] = {"session": session, "hosts": set([session["host"]])}
    for (uuid, name), info in sorted(seen.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        if any(p.fullmatch(name) for p in patterns):
            continue
        session = info["session"]
        anchor_epoch, anchor = _session_anchor(session)
        hosts = sorted(info["hosts"])
        out.add("guest_not_allowed", hosts[0] if len(hosts) == 1 else None, name, uuid, anchor, anchor_epoch,
                "name matches no pattern of the allow-list; seen on %s" % ", ".join(hosts), _ids([session.get("start_id")]))


def _number(value):
    value = float(value)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def _duration(seconds):
    if seconds is None:
        return "an unknown time"
    seconds = int(round(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "%02d:%02d:%02d" % (hours, minutes, secs)
    return "%dd %s" % (days, text) if days else text


def max_severity(findings):
    if not findings:
        return None
    return max((f["severity"] for f in findings), key=lambda s: SEVERITY_RANK[s])


def severity_counts(findings):
    counts = dict((name, 0) for name in SEVERITIES)
    for item in findings:
        counts[item["severity"]] += 1
    return counts
