# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""New since the last run: two reports of the demo fleet (noon, with hv03 missing; end of day, with hv01 missing)
compared - sessions and findings added and removed, hosts that started and stopped reporting."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, DEMO_LOGS, ok_fact, write_report  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.module_utils import report_digest  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_changes  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_summary import stats_artifact  # noqa: E402

TARGETS = ["hv01", "hv02", "hv03", "hv04"]
START = DAY - 3600  # 2026-03-02 00:00 in Berlin
NOON = DAY + 11 * 3600  # 12:00 in Berlin
EVENING = DAY + 22 * 3600  # 23:00 in Berlin


_CUT = {}


def logs_until(now):
    """The demo logs as they were at ``now``: every record logged later is not there yet."""
    import re
    import tempfile
    if now not in _CUT:
        directory = tempfile.mkdtemp(prefix="virtaudit-changes-")
        for host in ("hv01", "hv02", "hv03"):
            with open(os.path.join(DEMO_LOGS, host + ".log")) as handle:
                lines = [line for line in handle if float(re.search(r"msg=audit\(([0-9.]+):", line).group(1)) <= now]
            with open(os.path.join(directory, host + ".log"), "w") as handle:
                handle.writelines(lines)
        _CUT[now] = directory
    return _CUT[now]


def results_at(now, start=START):
    facts = {}
    for host in ("hv01", "hv02", "hv03"):
        result = run(paths=[os.path.join(logs_until(now), host + ".log")], start="%.6f" % start, end="%.6f" % now, evidence=True,
                     default_host=host, now=now, uid_resolver={0: "root"}.get)
        facts[host] = ok_fact(result, audit={"auditd_running": True, "audit_enabled": True, "libvirt": []})
    facts["hv04"] = {"status": "failed", "msg": "cannot read audit log /srv/hv04/audit.log: no such file"}
    return facts


def fleet_at(now, missing, previous=None, path=None):
    facts = results_at(now)
    facts[missing] = {"status": "unreachable", "msg": "no route to host"}
    window = {"start_epoch": START, "end_epoch": now, "now_epoch": now}
    return build_fleet(TARGETS, [facts[t] for t in TARGETS], window=window, generated_epoch=now, timezone="Europe/Berlin",
                       previous=previous, previous_path=path)


def two_runs(tmp_path):
    first = fleet_at(NOON, "hv03")
    path = os.path.join(str(tmp_path), "first", "fleet_report.json")
    write_report(first, os.path.dirname(path), formats=["json"])
    previous = report_digest.read(path)
    return first, fleet_at(EVENING, "hv01", previous, path), previous


def fingerprints(items):
    return set(item["fingerprint"] for item in items)


def test_the_report_file_is_digested_line_by_line_like_the_model():
    first = fleet_at(NOON, "hv03")
    assert first["changes"]["compared"] is False and first["changes"]["reason"] == "no previous report"
    model = report_digest.digest(json.loads(json.dumps(first)))
    assert len(model["sessions"]) == len(first["sessions"]) and len(model["findings"]) == len(first["findings"])
    assert model["hosts"] == {"hv01": "ok", "hv02": "ok", "hv03": "unreachable", "hv04": "failed"}


def test_two_runs(tmp_path):
    first, second, previous = two_runs(tmp_path)
    assert previous == report_digest.digest(json.loads(json.dumps(first)))  # the file read line by line = the model
    changes = second["changes"]
    assert changes["compared"] is True and changes["previous"]["generated_epoch"] == NOON
    assert changes["previous"]["path"].endswith("first/fleet_report.json")
    # sessions: every one of the evening that the noon report did not have; the ones running at noon that ended since
    new = fingerprints(second["sessions"]) - fingerprints(first["sessions"])
    assert new and fingerprints(changes["new_sessions"]) == new
    running_at_noon = set(s["fingerprint"] for s in first["sessions"] if s["state"] == "running")
    ended = set(s["fingerprint"] for s in second["sessions"] if s["fingerprint"] in running_at_noon and s["state"] != "running")
    assert len(ended) >= 3 and fingerprints(changes["ended_sessions"]) == ended
    assert "app02" in [s["name"] for s in changes["ended_sessions"] if s["state"] == "crashed"]
    # findings by fingerprint, both ways
    assert fingerprints(changes["new_findings"]) == fingerprints(second["findings"]) - fingerprints(first["findings"])
    assert fingerprints(changes["resolved_findings"]) == fingerprints(first["findings"]) - fingerprints(second["findings"])
    assert ("host_missing", "hv01") in [(f["rule"], f["host"]) for f in changes["new_findings"]]
    assert ("guest_crashed", "hv02") in [(f["rule"], f["host"]) for f in changes["new_findings"]]
    assert ("host_missing", "hv03") in [(f["rule"], f["host"]) for f in changes["resolved_findings"]]
    assert all(f["why"] == "not found" for f in changes["resolved_findings"])
    # hosts
    assert changes["hosts_started_reporting"] == [{"name": "hv03", "before": "unreachable"}]
    assert changes["hosts_stopped_reporting"] == [{"name": "hv01", "now": "unreachable"}]
    assert changes["counts"] == dict((kind, len(changes[kind])) for kind in fleet_changes.KINDS)
    stats = stats_artifact(second)["changes"]
    assert stats["new_sessions"] == len(new) and stats["hosts_started_reporting_names"] == ["hv03"]
    assert sorted(stats["resolved_finding_fingerprints"]) == sorted(fingerprints(changes["resolved_findings"]))


def test_the_reports_show_the_changes(tmp_path):
    dummy, second, previous = two_runs(tmp_path)
    files = write_report(second, tmp_path / "second", timezone="Europe/Berlin")
    html = files["fleet_report.html"]
    assert 'id="changes"' in html and 'id="changes-new-findings-table"' in html and 'id="changes-hosts"' in html
    assert "2026-03-02 12:00:00 CET" in html.split('id="changes"')[1].split("</h2>")[0] + html.split('id="changes"')[1][:600]
    md = files["fleet_report.md"]
    assert "## Changes since the previous report" in md and "hv03 started reporting" in md
    assert json.loads(files["fleet_report.json"])["changes"]["counts"] == second["changes"]["counts"]


def test_a_report_of_the_same_moment_keeps_the_comparison_it_replaces(tmp_path):
    dummy, second, previous = two_runs(tmp_path)
    path = os.path.join(str(tmp_path), "second", "fleet_report.json")
    write_report(second, os.path.dirname(path), formats=["json"])
    again = fleet_at(EVENING, "hv01", report_digest.read(path), path)
    assert again["changes"] == second["changes"]


def test_a_previous_report_newer_than_this_one_is_not_compared(tmp_path):
    dummy, second, previous = two_runs(tmp_path)
    path = os.path.join(str(tmp_path), "second", "fleet_report.json")
    write_report(second, os.path.dirname(path), formats=["json"])
    older = fleet_at(NOON, "hv03", report_digest.read(path), path)
    assert older["changes"]["compared"] is False and "newer than this one" in older["changes"]["reason"]


def test_a_window_that_moved_on_resolves_findings_as_out_of_the_window():
    first = fleet_at(NOON, "hv03")
    previous = report_digest.digest(json.loads(json.dumps(first)))
    facts = results_at(EVENING, start=NOON + 3600)
    facts["hv03"] = {"status": "unreachable", "msg": "x"}
    later = build_fleet(TARGETS, [facts[t] for t in TARGETS], window={"start_epoch": NOON + 3600, "end_epoch": EVENING},
                        generated_epoch=EVENING, previous=previous)
    why = dict((f["fingerprint"], f["why"]) for f in later["changes"]["resolved_findings"])
    assert "before this report's window" in why.values()
