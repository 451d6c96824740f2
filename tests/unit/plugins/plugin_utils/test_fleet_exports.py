# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The exports of the fleet report, parsed back: fleet_report.jsonl (one session or finding per line, for a SIEM)
and the Prometheus textfile of each host (node_exporter's textfile collector), read with prometheus_client's parser."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, demo_results, write_report  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.module_utils import prometheus_text  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402

parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client is a test dependency (tests/requirements.txt)")

TARGETS = ["hv01", "hv02", "hv03", "hv04"]
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+00:00$")
TIME_KEYS = ("time", "last_time", "start", "end", "open_until", "first_seen", "report_generated")


def demo_fleet():
    facts = demo_results()
    return build_fleet(TARGETS, [facts[t] for t in TARGETS], window={"now_epoch": DAY + 86400}, timezone="Europe/Berlin")


def jsonl_lines(fleet, tmp_path):
    text = write_report(fleet, tmp_path, formats=["jsonl"], timezone="Europe/Berlin")["fleet_report.jsonl"]
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def test_jsonl_one_session_or_finding_per_line(tmp_path):
    fleet = demo_fleet()
    lines = jsonl_lines(fleet, tmp_path)
    sessions = [item for item in lines if item["type"] == "session"]
    findings = [item for item in lines if item["type"] == "finding"]
    assert len(sessions) == len(fleet["sessions"]) == 12 and len(findings) == len(fleet["findings"])
    assert len(lines) == len(sessions) + len(findings)
    for item in lines:
        assert re.match(r"^[0-9a-f]{16}$", item["fingerprint"]), item
        assert "host" in item and item["report_generated"] == "2026-03-03T00:00:00.000+00:00"
        for key in TIME_KEYS:
            if item.get(key) is not None:
                assert ISO_UTC.match(item[key]), (key, item[key])
    assert len(set(item["fingerprint"] for item in lines)) == len(lines)
    crash = [item for item in sessions if item["state"] == "crashed"][0]
    assert crash["host"] == "hv02" and crash["name"] == "app02" and crash["session_id"].startswith("hv02/")
    assert crash["time"] == crash["start"] and crash["epoch"] == crash["start_epoch"]
    running = [item for item in sessions if item["state"] == "running"][0]
    assert running["open_until"] is not None and running["end"] is None
    finding = [item for item in findings if item["rule"] == "guest_crashed"][0]
    assert finding["severity"] == "high" and finding["host"] == "hv02" and finding["remediation"]
    assert finding["fingerprint"] == [f for f in fleet["findings"] if f["rule"] == "guest_crashed"][0]["fingerprint"]


def test_jsonl_fingerprints_are_stable_across_runs(tmp_path):
    first = jsonl_lines(demo_fleet(), tmp_path / "a")
    second = jsonl_lines(demo_fleet(), tmp_path / "b")
    assert [item["fingerprint"] for item in first] == [item["fingerprint"] for item in second]


# -------------------------------------------------------------- Prometheus --

def samples(text):
    """{(name, labels without host): value} of a textfile, parsed with prometheus_client; checks HELP and TYPE."""
    out = {}
    for family in parser.text_string_to_metric_families(text):
        assert family.documentation and family.type == "gauge", family.name
        for sample in family.samples:
            labels = dict(sample.labels)
            host = labels.pop("host")
            out[(sample.name, tuple(sorted(labels.items())))] = (host, sample.value)
    return out


def test_prometheus_textfile_of_a_host():
    facts = demo_results()
    record = facts["hv02"]
    text = prometheus_text.textfile("hv02", record["result"], dict(record["audit"], auditd_running=False), now=DAY + 86400)
    assert text.endswith("\n")
    got = samples(text)
    assert all(host == "hv02" for host, dummy in got.values())
    value = dict((key, v) for key, (dummy, v) in got.items())
    assert value[("virtaudit_sessions", (("state", "running"),))] == 2
    assert value[("virtaudit_sessions", (("state", "crashed"),))] == 1
    assert value[("virtaudit_sessions", (("state", "down"),))] == 2
    assert value[("virtaudit_sessions", (("state", "lost"),))] == 0
    assert value[("virtaudit_guest_crashes", ())] == 1 and value[("virtaudit_failed_starts", ())] == 0
    summary = record["result"]["summary"]
    assert value[("virtaudit_avc_denials", (("attributed", "true"),))] == summary["avcs"]
    assert value[("virtaudit_avc_denials", (("attributed", "false"),))] == summary["avcs_unattributed"]
    assert value[("virtaudit_anomalies", (("attributed", "true"),))] == summary["anomalies"] == 1
    assert value[("virtaudit_records_lost", ())] == 0
    last = record["result"]["coverage"]["last_record_epoch"]
    assert value[("virtaudit_last_record_timestamp_seconds", ())] == last
    assert value[("virtaudit_last_record_age_seconds", ())] == pytest.approx(DAY + 86400 - last, abs=0.01)
    assert value[("virtaudit_auditd_running", ())] == 0 and value[("virtaudit_kernel_audit_enabled", ())] == 1
    assert value[("virtaudit_collect_success", ())] == 1


def test_prometheus_unknowns_are_left_out_and_labels_escaped():
    facts = demo_results()
    text = prometheus_text.textfile('odd"host\\name\n', facts["hv01"]["result"], None, now=DAY + 86400)
    got = samples(text)
    assert all(host == 'odd"host\\name\n' for host, dummy in got.values())
    names = set(name for name, dummy in got)
    assert "virtaudit_auditd_running" not in names and "virtaudit_libvirt_audit_enabled" not in names
    failed = samples(prometheus_text.textfile("hv04", None, None, now=DAY))
    assert dict((k, v) for k, (h, v) in failed.items()) == {("virtaudit_collect_success", ()): 0,
                                                            ("virtaudit_collect_timestamp_seconds", ()): DAY}


@pytest.mark.parametrize("libvirt, expected", [
    ([{"path": "/etc/libvirt/virtqemud.conf", "exists": True, "audit_level": None}], 1),
    ([{"path": "/etc/libvirt/virtqemud.conf", "exists": True, "audit_level": 2}], 1),
    ([{"path": "/etc/libvirt/libvirtd.conf", "exists": True, "audit_level": 0},
      {"path": "/etc/libvirt/virtqemud.conf", "exists": True, "audit_level": 1}], 0),
    ([{"path": "/etc/libvirt/virtqemud.conf", "exists": False, "audit_level": None}], None),
])
def test_prometheus_libvirt_auditing(libvirt, expected):
    facts = demo_results()
    audit = {"auditd_running": True, "audit_enabled": None, "libvirt": libvirt}
    got = dict((k[0], v) for k, (h, v) in samples(prometheus_text.textfile("hv01", facts["hv01"]["result"], audit, now=DAY)).items()
               if not k[1])
    assert got.get("virtaudit_libvirt_audit_enabled") == expected
    assert "virtaudit_kernel_audit_enabled" not in got


def test_the_report_writes_a_textfile_per_host(tmp_path):
    files = write_report(demo_fleet(), tmp_path, formats=["prom"])
    assert sorted(files) == ["fleet_report_hosts/%s.prom" % host for host in TARGETS]
    hv02 = dict((k, v) for k, (h, v) in samples(files["fleet_report_hosts/hv02.prom"]).items())
    assert hv02[("virtaudit_guest_crashes", ())] == 1
    hv04 = dict((k, v) for k, (h, v) in samples(files["fleet_report_hosts/hv04.prom"]).items())
    assert hv04[("virtaudit_collect_success", ())] == 0
