# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Findings an auditor can act on: remediation per rule in every format, fleet_report_findings.csv, waivers
(rule, host, guest pattern, reason, expiry; expired ones reported) and fingerprints stable across runs."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, UUID_B, host_result, ok_fact, session, write_report  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_csv, fleet_escape, fleet_waivers  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_rules import RULES, rule_settings  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_summary import stats_artifact  # noqa: E402

GOOD_AUDIT = {"auditd_running": True, "audit_enabled": True, "libvirt": []}
NOW = DAY + 86400


def fleet_of(sessions_by_host, waivers=None, now=NOW, **kwargs):
    hosts = sorted(sessions_by_host)
    facts = [ok_fact(host_result(sessions_by_host[h]), audit=GOOD_AUDIT) for h in hosts]
    return build_fleet(hosts, facts, window={"now_epoch": now}, generated_epoch=now, waivers=waivers, **kwargs)


def crashed(host="hv1", name="web01", uuid="11111111-2222-4333-8444-555555555555", serial=100):
    return session(host=host, name=name, uuid=uuid, state="crashed", stop_reason="failed", serial=serial)


# ------------------------------------------------------------ remediation --

def test_every_rule_has_remediation_text_and_findings_carry_it():
    for rule, spec in RULES.items():
        assert len(spec) == 3 and len(spec[2]) > 30, rule
    fleet = fleet_of({"hv1": [crashed()]})
    assert fleet["findings"][0]["remediation"] == RULES["guest_crashed"][2]
    assert fleet["rules"]["guest_crashed"]["remediation"] == RULES["guest_crashed"][2]


def test_remediation_can_be_replaced_per_rule():
    settings = rule_settings({"guest_crashed": {"remediation": "Open a ticket in queue VIRT."}})
    assert settings["guest_crashed"]["remediation"] == "Open a ticket in queue VIRT."
    fleet = fleet_of({"hv1": [crashed()]}, rules={"guest_crashed": {"remediation": "Open a ticket in queue VIRT."}})
    assert fleet["findings"][0]["remediation"] == "Open a ticket in queue VIRT."
    with pytest.raises(ValueError, match="remediation"):
        rule_settings({"guest_crashed": {"remediation": ""}})


def test_remediation_is_shown_in_every_format(tmp_path):
    fleet = fleet_of({"hv1": [crashed()]})
    text = RULES["guest_crashed"][2]
    files = write_report(fleet, tmp_path / "r")
    assert text in files["fleet_report.html"].replace("&#39;", "'").replace("&#34;", '"')
    assert text in files["fleet_report_hosts/hv1.html"].replace("&#39;", "'").replace("&#34;", '"')
    assert fleet_escape.md_escape(text) in files["fleet_report.md"]
    assert json.loads(files["fleet_report.json"])["findings"][0]["remediation"] == text
    rows = list(csv.DictReader(io.StringIO(files["fleet_report_findings.csv"])))
    assert rows[0]["remediation"] == text


# ----------------------------------------------------------- findings CSV --

def test_findings_csv_has_one_row_per_finding(tmp_path):
    evil = crashed(name="=cmd|' /C calc'!A0", uuid=UUID_B, serial=300)
    fleet = fleet_of({"hv1": [crashed(), crashed(serial=200), evil], "hv2": [session(host="hv2", name="lab01", label=None)]})
    files = write_report(fleet, tmp_path / "r", formats=["csv"], timezone="Europe/Berlin")
    assert sorted(files) == ["fleet_report.csv", "fleet_report_findings.csv"]
    rows = list(csv.DictReader(io.StringIO(files["fleet_report_findings.csv"])))
    assert len(rows) == len(fleet["findings"]) == 3
    assert list(rows[0]) == list(fleet_csv.FINDINGS_CSV_COLUMNS)
    by_guest = dict((r["guest"], r) for r in rows)
    web = by_guest["web01"]
    assert web["rule"] == "guest_crashed" and web["count"] == "2" and web["severity"] == "high"
    assert web["fingerprint"] == [f for f in fleet["findings"] if f["guest"] == "web01"][0]["fingerprint"]
    assert web["first"].endswith("+00:00") and web["first_local"].endswith(("CET", "CEST"))
    assert len(web["evidence"].split()) == 4 and web["waived"] == "false"
    assert by_guest["'=cmd|' /C calc'!A0"]["rule"] == "guest_crashed"  # a spreadsheet shows it as text


# ---------------------------------------------------------------- waivers --

def test_waivers_are_checked():
    assert fleet_waivers.load_waivers([], "UTC") == []
    good = {"rule": "guest_crashed", "host": "hv[0-9]+", "guest": "web.*", "reason": "INC-42: known qemu bug", "expires": "2026-06-30"}
    loaded = fleet_waivers.load_waivers([good], "Europe/Berlin")
    assert loaded[0]["expires_epoch"] == pytest.approx(1782856800.0 - 1e-6)  # the end of 2026-06-30 in Berlin
    for bad, message in (
            (dict(good, rule="guest_exploded"), "unknown rule"),
            (dict(good, reason=""), "reason"),
            (dict((k, v) for k, v in good.items() if k != "expires"), "expires"),
            (dict(good, expires="soonish"), "expires"),
            (dict(good, guest="web(("), "regular expression"),
            (dict(good, owner="me"), "unknown key"),
            ("guest_crashed", "mapping"),
    ):
        with pytest.raises(ValueError, match=message):
            fleet_waivers.load_waivers([bad], "UTC")
    with pytest.raises(ValueError, match="list"):
        fleet_waivers.load_waivers({"rule": "x"}, "UTC")


def test_a_waiver_takes_matching_findings_out_of_the_counts_and_the_gate():
    waivers = [{"rule": "guest_crashed", "host": "hv1", "guest": "web.*", "reason": "INC-42: known qemu bug",
                "expires": "2026-03-31"}]
    fleet = fleet_of({"hv1": [crashed(), crashed(name="db01", uuid=UUID_B, serial=300)]}, waivers=waivers, fail_on="high")
    waived = [f for f in fleet["findings"] if f["waived"]]
    assert [f["guest"] for f in waived] == ["web01"]
    assert waived[0]["waiver"] == {"index": 0, "reason": "INC-42: known qemu bug", "expires": "2026-03-31",
                                   "expires_epoch": waived[0]["waiver"]["expires_epoch"], "status": "active"}
    summary = fleet["summary"]
    assert summary["findings"] == 1 and summary["findings_waived"] == 1 and summary["severities"]["high"] == 1
    assert summary["fail"] is True and summary["findings_at_or_above_fail_on"] == 1
    assert fleet["waivers"][0]["status"] == "active" and fleet["waivers"][0]["findings"] == 1
    # the waived finding is listed after the others
    assert fleet["findings"][-1]["waived"] is True
    only_db = fleet_of({"hv1": [crashed()]}, waivers=waivers, fail_on="high")
    assert only_db["summary"]["fail"] is False and only_db["summary"]["max_severity"] is None
    stats = stats_artifact(only_db)
    assert stats["findings"] == 0 and stats["findings_waived"] == 1 and stats["waivers_expired"] == 0


def test_an_expired_waiver_waives_nothing_and_is_reported(tmp_path):
    waivers = [{"rule": "guest_crashed", "guest": "web01", "reason": "INC-7", "expires": "2026-03-01"}]
    fleet = fleet_of({"hv1": [crashed()]}, waivers=waivers, fail_on="high")  # the report is of 2026-03-03
    finding = fleet["findings"][0]
    assert finding["waived"] is False and finding["waiver"]["status"] == "expired"
    assert fleet["summary"]["fail"] is True and fleet["summary"]["waivers_expired"] == 1
    assert fleet["waivers"][0]["status"] == "expired"
    files = write_report(fleet, tmp_path / "r")
    assert 'id="waivers-expired"' in files["fleet_report.html"] and "INC-7" in files["fleet_report.html"]
    assert "Expired waivers" in files["fleet_report.md"]
    row = list(csv.DictReader(io.StringIO(files["fleet_report_findings.csv"])))[0]
    assert row["waived"] == "false" and row["waiver_status"] == "expired" and row["waiver_reason"] == "INC-7"


def test_waivers_without_host_or_guest_match_every_host_or_guest(tmp_path):
    waivers = [{"rule": "no_security_label", "reason": "lab hosts run unconfined until Q3", "expires": "2026-09-30"}]
    fleet = fleet_of({"hv1": [session(label=None)], "hv2": [session(host="hv2", label=None)]}, waivers=waivers)
    assert all(f["waived"] for f in fleet["findings"]) and fleet["summary"]["findings"] == 0
    files = write_report(fleet, tmp_path / "r")
    assert 'id="findings-waived-table"' in files["fleet_report.html"]


def test_an_active_waiver_wins_over_an_expired_one_listed_before_it():
    waivers = [{"rule": "guest_crashed", "guest": "web.*", "reason": "INC-7", "expires": "2026-03-01"},
               {"rule": "guest_crashed", "host": "hv1", "reason": "INC-42", "expires": "2026-06-30"}]
    fleet = fleet_of({"hv1": [crashed()]}, waivers=waivers, fail_on="high")
    finding = fleet["findings"][0]
    assert finding["waived"] is True
    assert finding["waiver"]["index"] == 1 and finding["waiver"]["reason"] == "INC-42" and finding["waiver"]["status"] == "active"
    # both waivers matched the finding; the expired one is still listed as expired
    assert [(w["status"], w["findings"]) for w in fleet["waivers"]] == [("expired", 1), ("active", 1)]
    assert fleet["summary"]["fail"] is False and fleet["summary"]["findings_waived"] == 1


def test_a_waiver_with_a_guest_pattern_does_not_waive_a_finding_without_a_guest():
    facts = [ok_fact(host_result([session()]), audit=GOOD_AUDIT), None]  # hv2 did not report: host_missing, no guest
    any_guest = [{"rule": "host_missing", "guest": ".*", "reason": "INC-9", "expires": "2026-06-30"}]
    fleet = build_fleet(["hv1", "hv2"], facts, window={"now_epoch": NOW}, generated_epoch=NOW, waivers=any_guest)
    missing = [f for f in fleet["findings"] if f["rule"] == "host_missing"]
    assert [f["host"] for f in missing] == ["hv2"] and missing[0]["waived"] is False and missing[0]["waiver"] is None
    assert fleet["waivers"][0]["findings"] == 0
    by_host = [{"rule": "host_missing", "host": "hv[0-9]", "reason": "INC-9", "expires": "2026-06-30"}]
    fleet = build_fleet(["hv1", "hv2"], facts, window={"now_epoch": NOW}, generated_epoch=NOW, waivers=by_host)
    assert [f["waived"] for f in fleet["findings"] if f["rule"] == "host_missing"] == [True]
    # a host pattern matches the whole name: hv2x is not hv[0-9]
    fleet = build_fleet(["hv1", "hv2x"], facts, window={"now_epoch": NOW}, generated_epoch=NOW, waivers=by_host)
    assert [f["waived"] for f in fleet["findings"] if f["rule"] == "host_missing"] == [False]


def test_waivers_from_a_yaml_file(tmp_path):
    path = tmp_path / "waivers.yml"
    path.write_text("- rule: guest_crashed\n  guest: 'web.*'\n  reason: INC-42\n  expires: 2026-06-30\n")
    loaded = fleet_waivers.load_waivers(fleet_waivers.read_file(str(path)), "UTC")
    assert loaded[0]["guest"] == "web.*" and loaded[0]["expires"] == "2026-06-30"
    path.write_text("rule: [")
    with pytest.raises(ValueError, match="waivers.yml"):
        fleet_waivers.read_file(str(path))


# ----------------------------------------------------------- fingerprints --

def test_fingerprints_do_not_depend_on_the_window_times_or_counts():
    one = fleet_of({"hv1": [crashed()]})
    other = fleet_of({"hv1": [crashed(serial=900), crashed(serial=950)]}, now=NOW + 5 * 86400)
    assert [f["fingerprint"] for f in one["findings"]] == [f["fingerprint"] for f in other["findings"]]


def test_a_guest_not_allowed_keeps_its_fingerprint_when_it_appears_on_a_second_host():
    first = fleet_of({"hv1": [session(name="rogue")]}, allowed_guests=["web.*"])
    second = fleet_of({"hv1": [session(name="rogue")], "hv2": [session(host="hv2", name="rogue", serial=500)]},
                      allowed_guests=["web.*"])
    assert [f["rule"] for f in first["findings"]] == [f["rule"] for f in second["findings"]] == ["guest_not_allowed"]
    assert first["findings"][0]["fingerprint"] == second["findings"][0]["fingerprint"]
