# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report playbook under ansible-runner (the engine AWX uses), judged by the artifacts it writes.

Needs the collection staged where ANSIBLE_COLLECTIONS_PATH points (``make runner`` stages it
to .cache) and ansible-runner (tests/requirements-fleet.txt).
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import sys

import pytest

ansible_runner = pytest.importorskip("ansible_runner")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.environ.get("VIRTAUDIT_COLLECTIONS_PATH", os.path.join(ROOT, ".cache"))
STAGED = os.path.join(COLLECTIONS, "ansible_collections", "virtaudit", "auvirt", "playbooks", "fleet_report.yml")
INVENTORY = os.path.join(ROOT, "demo", "inventory.yml")

pytestmark = pytest.mark.skipif(not os.path.exists(STAGED), reason="collection not staged at %s (run make stage)" % COLLECTIONS)


def run(tmp_path, ident, **extravars):
    private = tmp_path / "private"
    project = private / "project"
    project.mkdir(parents=True, exist_ok=True)
    # an AWX project would hold a playbook like this one
    (project / "fleet.yml").write_text("---\n- name: Fleet report\n  ansible.builtin.import_playbook: virtaudit.auvirt.fleet_report\n")
    dest = str(tmp_path / ("report-" + ident))
    extravars = dict({"fleet_report_dest": dest}, **extravars)
    result = ansible_runner.run(
        private_data_dir=str(private), playbook="fleet.yml", inventory=INVENTORY, ident=ident, extravars=extravars,
        envvars={"ANSIBLE_COLLECTIONS_PATH": COLLECTIONS, "ANSIBLE_LOCALHOST_WARNING": "false",
                 "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")},
        quiet=True,
    )
    return result, private / "artifacts" / ident, dest


def stats_event(artifacts):
    for path in sorted(glob.glob(str(artifacts / "job_events" / "*.json"))):
        with open(path) as handle:
            event = json.load(handle)
        if event.get("event") == "playbook_on_stats":
            return event
    raise AssertionError("no playbook_on_stats event in %s" % artifacts)


def test_demo_fleet_under_ansible_runner(tmp_path):
    result, artifacts, dest = run(tmp_path, "demo")
    assert result.status == "successful", (artifacts / "stdout").read_text()
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    # every host, including hv04 whose log is gone, ran through without failing the job
    assert sorted(result.stats["ok"]) == ["hv01", "hv02", "hv03", "hv04", "localhost"]
    assert not result.stats["failures"] and not result.stats["dark"]
    stats = stats_event(artifacts)["event_data"]["artifact_data"]["fleet_report"]
    assert stats["hosts"] == 4 and stats["hosts_reporting"] == 3 and stats["missing_hosts"] == ["hv04"]
    assert stats["sessions"] == 12 and stats["guests"] == 9 and stats["migrations"] == 1
    assert stats["states"] == {"running": 4, "stopped": 4, "crashed": 1, "failed": 1, "down": 2, "lost": 0}
    assert stats["severities"]["high"] >= 5 and stats["max_severity"] == "high" and stats["failed_gate"] is False
    assert stats["window_start"] == "2026-03-01T23:00:00.000+00:00"  # 2026-03-02 in Europe/Berlin
    assert stats["reports"] == sorted(os.path.join(dest, "fleet_report." + ext) for ext in ("csv", "html", "json", "md"))
    for path in stats["reports"]:
        assert oct(os.stat(path).st_mode & 0o777) == "0o640"
    with open(os.path.join(dest, "fleet_report.json")) as handle:
        assert json.load(handle)["summary"]["sessions"] == 12


def test_fail_on_fails_the_job_after_writing_the_report(tmp_path):
    result, artifacts, dest = run(tmp_path, "gate", fleet_report_fail_on="high", fleet_report_formats=["json", "md"])
    assert result.status == "failed"
    assert (artifacts / "rc").read_text() != "0"
    assert result.stats["failures"] == {"localhost": 1}
    stats = stats_event(artifacts)["event_data"]["artifact_data"]["fleet_report"]
    assert stats["failed_gate"] is True and stats["fail_on"] == "high"
    assert sorted(os.listdir(dest)) == ["fleet_report.json", "fleet_report.md"]
    assert "finding(s) at or above 'high'" in (artifacts / "stdout").read_text()


def test_bad_survey_input_is_refused_before_any_host_is_touched(tmp_path):
    result, artifacts, dest = run(tmp_path, "bad", fleet_report_fail_on="severe")
    assert result.status == "failed"
    stdout = (artifacts / "stdout").read_text()
    assert "fleet_report_fail_on" in stdout and "severe" in stdout
    assert not os.path.exists(dest)
    assert "Reconstruct the guest sessions" not in stdout


@pytest.fixture
def full_disk(tmp_path):
    """A small file system (tmpfs) for the reports; skipped where it cannot be mounted."""
    import subprocess
    mount = tmp_path / "small-fs"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.call(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)]) != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield mount
    finally:
        subprocess.call(["umount", str(mount)])


def test_disk_full_while_writing_reports_keeps_the_previous_ones(tmp_path, full_disk):
    dest = str(full_disk / "reports")
    result, artifacts, dummy = run(tmp_path, "first", fleet_report_dest=dest, fleet_report_formats=["json"])
    assert result.status == "successful", (artifacts / "stdout").read_text()
    with open(os.path.join(dest, "fleet_report.json"), "rb") as handle:
        before = handle.read()
    # fill the file system to the last byte
    with open(str(full_disk / "filler"), "wb") as filler:
        try:
            while True:
                filler.write(b"\0" * 65536)
                filler.flush()
        except (IOError, OSError):
            pass
    result, artifacts, dummy = run(tmp_path, "full", fleet_report_dest=dest, fleet_report_formats=["json", "html", "md", "csv"])
    assert result.status == "failed"
    assert "No space left on device" in (artifacts / "stdout").read_text()
    with open(os.path.join(dest, "fleet_report.json"), "rb") as handle:
        assert handle.read() == before  # written to a temporary file and renamed: the old report is whole
    leftovers = [n for n in os.listdir(dest) if not n.startswith("fleet_report.") or n.count(".") > 1]
    assert leftovers == [], leftovers
