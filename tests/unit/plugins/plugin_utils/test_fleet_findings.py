# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every finding rule: fires on its evidence, stays quiet without it, can be switched off and re-rated."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, UUID_B, demo_results, host_result, ok_fact, session  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_findings import RULES, SEVERITY_RANK, rule_settings  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402

GOOD_AUDIT = {"auditd_running": True, "audit_enabled": True, "libvirt": [{"path": "/etc/libvirt/virtqemud.conf", "exists": True, "audit_level": 1}]}


def findings(sessions=(), audit="good", result_kwargs=None, targets=None, facts=None, **kwargs):
    if audit == "good":
        audit = GOOD_AUDIT
    if facts is None:
        facts = [ok_fact(host_result(list(sessions), **(result_kwargs or {})), audit=audit)]
    return build_fleet(targets or ["hv1"], facts, window=kwargs.pop("window", {"now_epoch": DAY + 86400}), **kwargs)["findings"]


def rules_of(items):
    return sorted(f["rule"] for f in items)


def test_clean_host_has_no_findings():
    assert findings([session()]) == []


def test_host_missing():
    items = findings(targets=["hv1", "hv2"], facts=[ok_fact(host_result([session()]), GOOD_AUDIT), {"status": "unreachable", "msg": "timeout"}])
    assert rules_of(items) == ["host_missing"]
    assert items[0]["host"] == "hv2" and items[0]["severity"] == "high" and "unreachable: timeout" in items[0]["detail"]


@pytest.mark.parametrize("audit, rule", [
    (dict(GOOD_AUDIT, auditd_running=False), "auditd_not_running"),
    (dict(GOOD_AUDIT, audit_enabled=False, audit_enabled_source="cmdline"), "audit_disabled"),
    (dict(GOOD_AUDIT, libvirt=[{"path": "/etc/libvirt/libvirtd.conf", "exists": True, "audit_level": 0}]), "libvirt_audit_disabled"),
])
def test_audit_configuration_rules(audit, rule):
    items = findings([session()], audit=audit)
    assert rules_of(items) == [rule]
    assert items[0]["host"] == "hv1"


def test_audit_unknowns_are_not_findings():
    audit = {"auditd_running": True, "audit_enabled": None, "libvirt": [{"path": "/x", "exists": False, "audit_level": None},
                                                                        {"path": "/y", "exists": True, "audit_level": None}]}
    assert findings([session()], audit=audit) == []
    assert findings([session()], audit=None) == []


def test_log_coverage_gaps_and_parse_errors():
    gap = {"missing": 3, "after_id": "1772409610.500:5", "before_id": "1772409700.000:9", "line": 12, "path": "/var/log/audit/audit.log"}
    cov = {"reaches_window_start": False, "window_start": "2026-03-01T00:00:00.000+00:00",
           "serial_gaps": {"missing_events": 3, "gaps": [gap]},
           "missing_rotated_files": ["/var/log/audit/audit.log.2"]}
    items = findings([session()], result_kwargs={"coverage": cov, "parse_errors": 4})
    assert rules_of(items) == ["log_coverage", "log_gaps", "parse_errors"]
    gaps = [f for f in items if f["rule"] == "log_gaps"][0]
    assert "3 event serial" in gaps["detail"] and "audit.log.2" in gaps["detail"]
    assert gaps["evidence"] == ["1772409610.500:5", "1772409700.000:9"]
    assert gaps["epoch"] == DAY + 10.5 and gaps["time"] == "2026-03-02T00:00:10.500+00:00"


@pytest.mark.parametrize("state, rule, severity", [
    ("crashed", "guest_crashed", "high"),
    ("down", "guest_down", "high"),
    ("failed", "start_failed", "medium"),
    ("lost", "session_lost", "medium"),
])
def test_session_state_rules(state, rule, severity):
    kwargs = {"stop_reason": "failed"} if state == "crashed" else {"stop_reason": None}
    if state == "lost":
        kwargs.update(end=None)
    items = findings([session(state=state, **kwargs)])
    assert rules_of(items) == [rule]
    item = items[0]
    assert (item["severity"], item["host"], item["guest"], item["uuid"]) == (severity, "hv1", "web01", session()["uuid"])
    assert item["evidence"] and item["evidence"][0] == session()["start_id"]


def test_crash_evidence_includes_the_anomaly():
    anomaly = {"id": "1772413000.000:150", "time": "t", "epoch": DAY + 3000, "type": "ANOM_ABEND", "sig": 11, "pid": 4242}
    items = findings([session(state="crashed", stop_reason="failed", anomalies=[anomaly])])
    assert rules_of(items) == ["anomaly", "guest_crashed"]
    crash = [f for f in items if f["rule"] == "guest_crashed"][0]
    assert "1772413000.000:150" in crash["evidence"]


def test_avc_denials_per_session_and_unattributed():
    avcs = [{"id": "%d.000:%d" % (DAY + 4000 + i, 200 + i), "time": "t", "epoch": DAY + 4000 + i, "operation": "write",
             "name": "shared.img", "lsm": "selinux"} for i in range(3)]
    items = findings([session(avcs=avcs)], result_kwargs={"summary": {"avcs_unattributed": 2}})
    assert rules_of(items) == ["avc_denial", "avc_denial"]
    per_session = [f for f in items if f["guest"]][0]
    assert per_session["evidence"] == [a["id"] for a in avcs] and per_session["detail"].startswith("3 denial(s)")
    assert [f["detail"] for f in items if not f["guest"]] == ["2 denial(s) not attributable to a guest session"]


def test_unattributed_anomalies():
    items = findings([session()], result_kwargs={"summary": {"anomalies_unattributed": 5}})
    assert rules_of(items) == ["anomaly"] and items[0]["guest"] is None


def _res(kind, reason="attach", result="success", value="/dev/x", bus=None, serial=300):
    details = {"bus": bus} if bus else {}
    return {"kind": kind, "reason": reason, "value": value, "result": result, "opened": "t", "opened_epoch": DAY + 5000,
            "id": "%d.000:%d" % (DAY + 5000, serial), "details": details}


def test_hotplug_of_devices_only():
    resources = [
        _res("dev", value="0000:3b:00.0", bus="pci", serial=301),
        _res("dev", value="001.004", bus="usb", serial=302),
        _res("disk", value="/var/lib/libvirt/images/extra.qcow2", serial=303),
        _res("disk", reason="start", serial=304),             # not hot-plugged
        _res("disk", result="failed", serial=305),            # refused attach
        _res("net", value="52:54:00:00:00:02", serial=306),   # not a default hot-plug kind
        _res("dev", reason="detach", value="001.004", bus="usb", serial=307),
    ]
    items = findings([session(resources=resources)])
    # one finding for the guest on this host, with a count and every occurrence
    assert rules_of(items) == ["hotplug"] and items[0]["count"] == 3
    assert [o["detail"] for o in items[0]["occurrences"]] == [
        "PCI dev attached: 0000:3b:00.0", "USB dev attached: 001.004", "disk attached: /var/lib/libvirt/images/extra.qcow2"]
    assert items[0]["detail"].startswith("3 occurrences: PCI dev attached: 0000:3b:00.0; USB dev")
    assert items[0]["evidence"] == ["%d.000:%d" % (DAY + 5000, n) for n in (301, 302, 303)]
    items = findings([session(resources=resources)], hotplug_kinds=["net"])
    assert [f["detail"] for f in items] == ["net attached: 52:54:00:00:00:02"] and items[0]["count"] == 1


def test_no_security_label():
    assert rules_of(findings([session(label=None)])) == ["no_security_label"]
    # a failed start never ran, so it is judged by start_failed only
    assert rules_of(findings([session(label=None, state="failed")])) == ["start_failed"]


def test_long_sessions_including_running_ones():
    long_stop = session(start=DAY, end=DAY + 5 * 3600)
    assert findings([long_stop], max_session_hours=4)[0]["detail"] == "ran for 05:00:00 (limit 4h)"
    assert findings([long_stop], max_session_hours=6) == []
    assert findings([long_stop], max_session_hours=0) == []
    running = session(state="running", start=DAY)
    items = findings([running], max_session_hours=10, window={"end_epoch": DAY + 12 * 3600, "now_epoch": DAY + 86400})
    assert items[0]["rule"] == "long_session" and items[0]["detail"] == "running for 12:00:00 (limit 10h)"
    # without a window end, 'now' ends a running session
    items = findings([running], max_session_hours=1.5, window={"now_epoch": DAY + 3600})
    assert items == []


def test_allow_list_full_match_once_per_guest():
    sessions = [
        session(name="web01"),
        session(name="web01x", uuid=UUID_B, serial=500),
        session(host="hv1", name="web01x", uuid=UUID_B, start=DAY + 9000, end=DAY + 9500, serial=600),
    ]
    items = findings(sessions, allowed_guests=["web[0-9]+"])
    assert rules_of(items) == ["guest_not_allowed"]
    assert items[0]["guest"] == "web01x" and items[0]["uuid"] == UUID_B
    assert findings(sessions, allowed_guests=[]) == []
    with pytest.raises(ValueError, match="not a valid regular expression"):
        findings(sessions, allowed_guests=["web("])


def test_migration_unmatched_is_info():
    items = findings([session(stop_reason="migrated")])
    assert rules_of(items) == ["migration_unmatched"] and items[0]["severity"] == "info"


def test_rules_switch_off_and_re_rate():
    crashed = [session(state="crashed", stop_reason="failed")]
    assert findings(crashed, rules={"guest_crashed": {"enabled": False}}) == []
    assert findings(crashed, rules={"guest_crashed": False}) == []
    assert findings(crashed, rules={"guest_crashed": {"severity": "critical"}})[0]["severity"] == "critical"
    assert findings(crashed, rules={"guest_crashed": "low"})[0]["severity"] == "low"
    assert findings(crashed, rules={"guest_crashed": {"enabled": "yes", "severity": "INFO"}})[0]["severity"] == "info"


@pytest.mark.parametrize("rules, message", [
    ({"guest_crashd": {"enabled": False}}, "unknown rule"),
    ({"guest_crashed": {"severity": "urgent"}}, "is not one of"),
    ({"guest_crashed": {"enable": False}}, "unknown keys"),
    ({"guest_crashed": {"enabled": "maybe"}}, "not a boolean"),
    ({"guest_crashed": 3}, "expected a dict"),
])
def test_bad_rule_settings(rules, message):
    with pytest.raises(ValueError, match=message):
        rule_settings(rules)


def test_every_rule_has_a_valid_default():
    settings = rule_settings()
    assert set(settings) == set(RULES)
    for conf in settings.values():
        assert conf["severity"] in SEVERITY_RANK and conf["enabled"] is True and conf["title"]


def test_findings_sorted_by_severity_then_time():
    sessions = [session(state="failed", start=DAY + 100, serial=10), session(state="crashed", stop_reason="failed", start=DAY + 50,
                                                                             end=DAY + 900, uuid=UUID_B, name="db01", serial=20),
                session(label=None, start=DAY + 10, end=DAY + 20, serial=30, name="x", uuid="33333333-3333-4333-8333-333333333333")]
    items = findings(sessions)
    ranks = [SEVERITY_RANK[f["severity"]] for f in items]
    assert ranks == sorted(ranks, reverse=True)
    medium = [f for f in items if f["severity"] == "medium"]
    assert [f["epoch"] for f in medium] == sorted(f["epoch"] for f in medium)


def test_demo_fleet_findings():
    facts = demo_results()
    targets = ["hv01", "hv02", "hv03", "hv04"]
    fleet = build_fleet(targets, [facts[t] for t in targets], window={"now_epoch": DAY + 86400},
                        allowed_guests=["(web|db|app|cache|build|batch|legacy)[0-9]+"], max_session_hours=12)
    got = sorted((f["rule"], f["host"] or "", f["guest"] or "") for f in fleet["findings"])
    expected = sorted([
        ("host_missing", "hv04", ""),
        ("avc_denial", "hv01", "build01"), ("avc_denial", "hv03", "test-vm"),
        ("guest_crashed", "hv02", "app02"), ("anomaly", "hv02", "app02"),
        ("guest_down", "hv02", "cache01"), ("guest_down", "hv02", "db01"),
        ("hotplug", "hv01", "build01"), ("hotplug", "hv02", "db01"),
        ("hotplug", "hv03", 'qa <sandbox> & "=1+2"'),
        ("no_security_label", "hv03", "legacy01"),
        ("start_failed", "hv01", "batch07"),
        ("guest_not_allowed", "hv03", "test-vm"), ("guest_not_allowed", "hv03", 'qa <sandbox> & "=1+2"'),
        ("long_session", "hv01", "web01"), ("long_session", "hv03", "legacy01"),
    ])
    assert got == expected


def test_log_gaps_from_a_log_with_records_cut_out(tmp_path):
    from fleet_helpers import DEMO_LOGS
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run
    with open(os.path.join(DEMO_LOGS, "hv01.log")) as handle:
        lines = handle.readlines()
    cut = tmp_path / "audit.log"
    cut.write_text("".join(lines[:100] + lines[140:]))
    result = run(paths=[str(cut)], all_events=True, default_host="hv1", now=DAY + 86400, uid_resolver={0: "root"}.get)
    items = [f for f in findings(facts=[ok_fact(result, GOOD_AUDIT)]) if f["rule"] == "log_gaps"]
    assert len(items) == 1 and "event serial(s) skipped" in items[0]["detail"]
    assert items[0]["epoch"] is not None and len(items[0]["evidence"]) == 2


@pytest.mark.parametrize("skew, fires", [(0.0, False), (-299.0, False), (301.5, True), (-3 * 3600.0, True)])
def test_clock_skew(skew, fires):
    result = host_result([session()])
    result["clock_skew_seconds"] = skew
    items = findings(facts=[ok_fact(result, audit=GOOD_AUDIT)])
    assert rules_of(items) == (["clock_skew"] if fires else [])
    if fires:
        assert ("behind" if skew < 0 else "ahead of") in items[0]["detail"]
        assert items[0]["severity"] == "medium"


def test_clock_skew_from_the_module_result_and_the_controller_time():
    from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_results import record_from_module
    module_result = dict(host_result([session()]), host_clock={"time": "x", "epoch": 1000.0}, changed=False)
    record = record_from_module("hv1", module_result, check_audit=False, now=1000.0 + 4 * 3600)
    assert record["result"]["clock_skew_seconds"] == -4 * 3600
    items = findings(facts=[record], audit=None)
    assert rules_of(items) == ["clock_skew"] and "04:00:00 behind" in items[0]["detail"]
    assert "clock_skew_seconds" not in record_from_module("hv1", module_result, check_audit=False)["result"]


def test_findings_of_one_rule_host_and_guest_are_grouped_with_a_count():
    crashes = [session(state="crashed", stop_reason="failed", start=DAY + 1000 * n, end=DAY + 1000 * n + 500, serial=10 * n)
               for n in range(1, 5)]
    other = session(state="crashed", stop_reason="failed", uuid=UUID_B, name="db01", serial=99)
    items = findings(crashes + [other])
    assert [(f["guest"], f["count"]) for f in items] == [("web01", 4), ("db01", 1)]
    group = items[0]
    assert group["epoch"] == DAY + 1500 and group["last_epoch"] == DAY + 4500
    assert len(group["occurrences"]) == 4 and len(group["evidence"]) == 8
    assert group["detail"].startswith("4 occurrences: stop reason failed after 00:08:20")
    assert items[1]["detail"] == "stop reason failed after 01:00:00"


def test_fingerprints_are_stable_and_distinct():
    first = findings([session(state="crashed", stop_reason="failed"), session(label=None, uuid=UUID_B, name="db01", serial=50)])
    second = findings([session(state="crashed", stop_reason="failed", start=DAY + 9000, end=DAY + 9100, serial=70),
                       session(label=None, uuid=UUID_B, name="db01", serial=80)])
    assert sorted(f["fingerprint"] for f in first) == sorted(f["fingerprint"] for f in second)
    assert len(set(f["fingerprint"] for f in first)) == 2
    assert all(len(f["fingerprint"]) == 16 for f in first)


def test_hotplugs_beyond_the_hosts_list_are_still_counted():
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_evidence import MAX_ATTACHES
    resources = [_res("disk", value="/d%d" % n, serial=1000 + n) for n in range(MAX_ATTACHES + 7)]
    items = findings([session(resources=resources)])
    assert rules_of(items) == ["hotplug"] and items[0]["count"] == MAX_ATTACHES + 7
