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


def run(tmp_path, ident, playbook="fleet_report", inventory=INVENTORY, cmdline=None, **extravars):
    # one private data directory per run: ansible-runner keeps the extra variables of a run in it (env/extravars), and a later
    # run in the same directory would inherit the ones it does not set
    private = tmp_path / ("private-" + ident)
    project = private / "project"
    project.mkdir(parents=True, exist_ok=True)
    # an AWX project would hold a playbook like this one
    (project / (playbook + ".yml")).write_text("---\n- name: Fleet report\n  ansible.builtin.import_playbook: virtaudit.auvirt.%s\n" % playbook)
    dest = str(tmp_path / ("report-" + ident))
    extravars = dict({"fleet_report_dest": dest, "fleet_report_results_dir": str(tmp_path / "results")}, **extravars)
    result = ansible_runner.run(
        private_data_dir=str(private), playbook=playbook + ".yml", inventory=inventory, ident=ident, extravars=extravars, cmdline=cmdline,
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
    assert stats["reports"] == sorted([os.path.join(dest, "fleet_report." + ext) for ext in ("csv", "html", "json", "md")]
                                      + [os.path.join(dest, "fleet_report_findings.csv")])
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
    assert "Collect this host's guest sessions into its result file" not in stdout


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


# ---------------------------------------------------------------- slices --

DEMO = os.path.join(ROOT, "demo")
# keys of a host entry that say when and where its result was collected (they differ between runs by design)
PROVENANCE = ("collected", "collected_epoch", "run_id", "result_file")


def slice_inventory(tmp_path, name, hosts, **host_vars):
    """The demo inventory with only ``hosts`` - what an AWX job slice gets."""
    import yaml
    with open(INVENTORY) as handle:
        data = yaml.safe_load(handle.read().replace("{{ inventory_dir }}", DEMO))
    group = data["all"]["children"]["hypervisors"]
    group["hosts"] = dict((h, dict(host_vars.get(h, {}))) for h in hosts)
    path = tmp_path / ("inventory-%s.yml" % name)
    path.write_text(yaml.safe_dump(data))
    return str(path)


def report_json(dest):
    with open(os.path.join(dest, "fleet_report.json")) as handle:
        return json.load(handle)


def comparable(report):
    hosts = [dict((k, v) for k, v in h.items() if k not in PROVENANCE) for h in report["hosts"]]
    return {"sessions": report["sessions"], "migrations": report["migrations"], "findings": report["findings"],
            "guests": report["guests"], "host_events": report["host_events"], "hosts": hosts,
            "missing_hosts": report["missing_hosts"], "unmatched": report["unmatched_migrations"]}


def artifact_data(artifacts):
    return stats_event(artifacts)["event_data"]["artifact_data"]


def test_two_slices_then_a_merge_equal_a_single_run(tmp_path):
    single, artifacts, single_dest = run(tmp_path, "single")
    assert single.status == "successful", (artifacts / "stdout").read_text()
    shared = str(tmp_path / "shared-results")
    slices = []
    for name, hosts in (("slice1", ["hv01", "hv03"]), ("slice2", ["hv02", "hv04"])):  # db01 migrates hv01 -> hv02: across slices
        result, artifacts, dest = run(tmp_path, name, playbook="fleet_collect", inventory=slice_inventory(tmp_path, name, hosts),
                                      fleet_report_results_dir=shared, fleet_report_slice_report=True)
        assert result.status == "successful", (artifacts / "stdout").read_text()
        data = artifact_data(artifacts)
        keys = [k for k in data if k.startswith("fleet_report_collect_")]
        assert len(keys) == 1 and data[keys[0]]["results_dir"] == shared and data[keys[0]]["hosts"] == 2
        assert sorted(os.path.basename(p) for p in data[keys[0]]["files"]) == sorted(h + ".json" for h in hosts)
        # until merged, a slice's report says it is partial
        partial = report_json(dest)
        assert partial["collection"]["partial"] is True and partial["summary"]["partial"] is True
        assert [h["name"] for h in partial["hosts"]] == hosts
        with open(os.path.join(dest, "fleet_report.html")) as handle:
            assert "PARTIAL REPORT" in handle.read()
        slices.append(partial)
    # the slices alone: hv01's outgoing migration has no partner in slice 1
    assert slices[0]["summary"]["migrations"] == 0 and slices[0]["unmatched_migrations"]
    merged, artifacts, merged_dest = run(tmp_path, "merge", playbook="fleet_merge", fleet_report_results_dir=shared)
    assert merged.status == "successful", (artifacts / "stdout").read_text()
    single_report, merged_report = report_json(single_dest), report_json(merged_dest)
    assert merged_report["summary"]["migrations"] == 1 and merged_report["collection"]["partial"] is False
    assert comparable(merged_report) == comparable(single_report)
    assert merged_report["summary"] == single_report["summary"]
    stats = artifact_data(artifacts)["fleet_report"]
    assert stats["hosts_reporting"] == 3 and stats["missing_hosts"] == ["hv04"] and stats["sessions"] == 12


def test_merge_lists_missing_and_duplicate_hosts(tmp_path):
    import shutil
    first = str(tmp_path / "first")
    result, artifacts, dummy = run(tmp_path, "collect1", playbook="fleet_collect",
                                   inventory=slice_inventory(tmp_path, "one", ["hv01", "hv02"]), fleet_report_results_dir=first)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    copy = str(tmp_path / "copy")
    shutil.copytree(first, copy)
    merged, artifacts, dest = run(tmp_path, "merge2", playbook="fleet_merge", fleet_report_results_dir=first,
                                  fleet_report_results=[copy, str(tmp_path / "not-there")])
    assert merged.status == "successful", (artifacts / "stdout").read_text()
    report = report_json(dest)
    missing = dict((m["name"], m) for m in report["missing_hosts"])
    assert sorted(missing) == ["hv03", "hv04"] and all("no result" in m["msg"] for m in missing.values())
    assert sorted(d["host"] for d in report["collection"]["duplicates"]) == ["hv01", "hv02"]
    assert any("not-there" in e for e in report["collection"]["errors"])
    assert report["summary"]["migrations"] == 1


def test_a_report_step_that_finds_none_of_its_hosts_fails(tmp_path):
    result, artifacts, dest = run(tmp_path, "empty", playbook="fleet_merge", fleet_report_results_dir=str(tmp_path / "empty"))
    assert result.status == "failed"
    assert (artifacts / "rc").read_text() != "0"
    assert "none of the 4 host(s) of the report has a result" in (artifacts / "stdout").read_text()
    assert not os.path.exists(dest)


def test_full_playbook_in_a_slice_without_the_report_host_fails(tmp_path):
    result, artifacts, dest = run(tmp_path, "noreporthost", inventory=slice_inventory(tmp_path, "s", ["hv03", "hv04"]),
                                  fleet_report_report_host="reports.example.com")
    assert result.status == "failed"
    stdout = (artifacts / "stdout").read_text()
    assert "not in this job's inventory" in stdout and "fleet_merge" in stdout
    assert not os.path.exists(dest)


# ------------------------------------------------------- hosts that fail --

FAKE_RESULT = {"changed": False, "sessions": [], "summary": {}, "host_events": [], "sources": [], "coverage": {},
               "parse_errors": {"count": 0, "samples": []}, "audit": None}


def fake_interpreter(tmp_path, name, body):
    path = tmp_path / ("python-" + name)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_hung_and_malformed_hosts_are_missing_with_the_reason_and_the_report_is_written(tmp_path):
    import signal
    pids = tmp_path / "hung.pids"
    nan = json.dumps(dict(FAKE_RESULT, host_clock={"epoch": 1.0})).replace('"epoch": 1.0', '"epoch": NaN')
    shape = json.dumps(dict(FAKE_RESULT, sessions=[{"host": "x"}], host_clock={"epoch": 1.0}))
    doubles = {
        "hv02": fake_interpreter(tmp_path, "hung", "echo $$ >> %s\nexec sleep 60\n" % pids),
        "hv03": fake_interpreter(tmp_path, "nan", "cat <<'EOF'\n%s\nEOF\n" % nan),
        "hv04": fake_interpreter(tmp_path, "shape", "cat <<'EOF'\n%s\nEOF\n" % shape),
    }
    host_vars = dict((h, {"ansible_python_interpreter": p}) for h, p in doubles.items())
    inventory = slice_inventory(tmp_path, "faults", ["hv01", "hv02", "hv03", "hv04"], **host_vars)
    try:
        result, artifacts, dest = run(tmp_path, "faults", inventory=inventory, fleet_report_host_timeout=5)
    finally:
        if pids.exists():
            for pid in pids.read_text().split():
                try:
                    os.kill(int(pid), signal.SIGTERM)
                except OSError:
                    pass
    stdout = (artifacts / "stdout").read_text()
    assert result.status == "successful", stdout
    with open(os.path.join(dest, "fleet_report.json")) as handle:
        text = handle.read()
    assert "NaN" not in text
    report = json.loads(text)
    hosts = dict((h["name"], h) for h in report["hosts"])
    assert hosts["hv01"]["status"] == "ok" and report["summary"]["sessions"] == 4
    assert hosts["hv02"]["status"] == "failed" and "timed out" in hosts["hv02"]["msg"]
    assert hosts["hv03"]["status"] == "failed" and "not a finite number" in hosts["hv03"]["msg"]
    assert hosts["hv04"]["status"] == "failed" and "sessions[0].uuid is missing" in hosts["hv04"]["msg"]
    assert [m["name"] for m in report["missing_hosts"]] == ["hv02", "hv03", "hv04"]


def test_check_mode_writes_no_report_and_succeeds(tmp_path):
    result, artifacts, dest = run(tmp_path, "check", cmdline="--check")
    assert result.status == "successful", (artifacts / "stdout").read_text()
    assert not os.path.exists(dest)
    stats = artifact_data(artifacts)["fleet_report"]
    assert stats["hosts_reporting"] == 3 and stats["reports"]  # the report was built, only not written


# ------------------------------------------------------------- check mode --

def test_check_mode_of_every_playbook_changes_nothing_and_publishes_its_artifacts(tmp_path):
    """--check (an AWX "Check" job) of the full playbook with every format, a checkpoint directory and a previous report,
    of fleet_collect and of fleet_merge: all succeed, publish their set_stats artifacts and write nothing."""
    textfiles = tmp_path / "textfiles"
    for host in ("hv01", "hv02", "hv03"):
        (textfiles / host).mkdir(parents=True)
    options = dict(fleet_report_formats=["html", "md", "csv", "json", "jsonl", "prom"],
                   fleet_report_prometheus_textfile=str(textfiles) + "/{{ inventory_hostname }}/virtaudit.prom",
                   fleet_report_checkpoint_dir=str(tmp_path / "checkpoints"))
    result, artifacts, dest = run(tmp_path, "before", **options)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    before = dict((name, (tmp_path / ("report-before") / name).read_bytes()) for name in os.listdir(dest) if "." in name)
    textfile = (textfiles / "hv02" / "virtaudit.prom").read_bytes()
    checkpoints = sorted(os.listdir(str(tmp_path / "checkpoints")))
    assert checkpoints == ["fleet_report-hv01.checkpoint", "fleet_report-hv02.checkpoint", "fleet_report-hv03.checkpoint"]
    # a check run one day later into the same report directory: it would change the report, and writes nothing
    result, artifacts, dummy = run(tmp_path, "check-later", cmdline="--check", fleet_report_dest=dest,
                                   fleet_report_now="2026-03-04T00:00:00+01:00", **options)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    stats = artifact_data(artifacts)["fleet_report"]
    assert stats["hosts_reporting"] == 3 and stats["changes"]["compared"] is True
    assert dict((name, (tmp_path / "report-before" / name).read_bytes()) for name in os.listdir(dest) if "." in name) == before
    assert (textfiles / "hv02" / "virtaudit.prom").read_bytes() == textfile
    assert sorted(os.listdir(str(tmp_path / "checkpoints"))) == checkpoints
    # the collect-only and merge-only playbooks
    shared = str(tmp_path / "check-results")
    result, artifacts, dummy = run(tmp_path, "check-collect", playbook="fleet_collect", cmdline="--check", fleet_report_results_dir=shared)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    data = artifact_data(artifacts)
    keys = [k for k in data if k.startswith("fleet_report_collect_")]
    assert len(keys) == 1 and data[keys[0]]["hosts"] == 4 and data[keys[0]]["ok"] == 3
    result, artifacts, merged = run(tmp_path, "check-merge", playbook="fleet_merge", cmdline="--check", fleet_report_results_dir=shared)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    assert artifact_data(artifacts)["fleet_report"]["hosts_reporting"] == 3 and not os.path.exists(merged)


# --------------------------------------------------- new since last run --

def cut_logs(tmp_path, until):
    """The demo logs as they were at ``until`` (epoch): what a run at that moment would have read."""
    import re
    out = tmp_path / "cut"
    out.mkdir()
    for host in ("hv01", "hv02", "hv03"):
        with open(os.path.join(DEMO, "logs", host + ".log")) as handle:
            lines = [line for line in handle if float(re.search(r"msg=audit\(([0-9.]+):", line).group(1)) <= until]
        (out / (host + ".log")).write_text("".join(lines))
    return out


def test_a_second_run_says_what_changed_since_the_first(tmp_path):
    noon = 1772449200.0  # 2026-03-02 12:00 in Berlin
    cut = cut_logs(tmp_path, noon)
    host_vars = dict((h, {"fleet_report_paths": [str(cut / (h + ".log"))]}) for h in ("hv01", "hv02"))
    host_vars["hv03"] = {"fleet_report_paths": [str(tmp_path / "gone.log")]}
    dest = str(tmp_path / "daily")
    first, artifacts, dummy = run(tmp_path, "noon", inventory=slice_inventory(tmp_path, "noon", ["hv01", "hv02", "hv03", "hv04"], **host_vars),
                                  fleet_report_dest=dest, fleet_report_end="2026-03-02T12:00", fleet_report_now="2026-03-02T12:00:00+01:00")
    assert first.status == "successful", (artifacts / "stdout").read_text()
    assert artifact_data(artifacts)["fleet_report"]["changes"]["compared"] is False
    noon_report = report_json(dest)
    second, artifacts, dummy = run(tmp_path, "evening", fleet_report_dest=dest)
    assert second.status == "successful", (artifacts / "stdout").read_text()
    stats = artifact_data(artifacts)["fleet_report"]["changes"]
    report = report_json(dest)
    changes = report["changes"]
    assert changes["compared"] is True and changes["previous"]["generated"] == noon_report["generated"]
    assert stats["hosts_started_reporting_names"] == ["hv03"] and stats["hosts_stopped_reporting_names"] == []
    old = set(s["fingerprint"] for s in noon_report["sessions"])
    assert set(s["fingerprint"] for s in changes["new_sessions"]) == set(s["fingerprint"] for s in report["sessions"]) - old
    ended = changes["ended_sessions"]
    assert stats["ended_sessions"] == len(ended) >= 3 and all(s["state"] != "running" for s in ended)
    old_findings = set(f["fingerprint"] for f in noon_report["findings"])
    new_findings = set(f["fingerprint"] for f in report["findings"])
    assert sorted(stats["new_finding_fingerprints"]) == sorted(new_findings - old_findings)
    assert sorted(stats["resolved_finding_fingerprints"]) == sorted(old_findings - new_findings)
    assert ("host_missing", "hv03") in [(f["rule"], f["host"]) for f in changes["resolved_findings"]]
    assert "Changes since the previous report" in (tmp_path / "daily" / "fleet_report.md").read_text()


# ------------------------------------------------- exports and checkpoint --

def test_exports_and_checkpoints_through_the_role(tmp_path):
    parser = pytest.importorskip("prometheus_client.parser", reason="prometheus_client is a test dependency (tests/requirements.txt)")
    textfiles = tmp_path / "textfiles"
    for host in ("hv01", "hv02", "hv03"):
        (textfiles / host).mkdir(parents=True)
    options = dict(fleet_report_formats=["json", "jsonl", "prom"], fleet_report_checkpoint_dir=str(tmp_path / "state"),
                   fleet_report_prometheus_textfile=str(textfiles) + "/{{ inventory_hostname }}/virtaudit.prom")
    result, artifacts, dest = run(tmp_path, "exports", **options)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    report = report_json(dest)
    with open(os.path.join(dest, "fleet_report.jsonl")) as handle:
        lines = [json.loads(line) for line in handle]
    assert len(lines) == len(report["sessions"]) + len(report["findings"])
    assert sorted(item["fingerprint"] for item in lines if item["type"] == "session") == sorted(s["fingerprint"] for s in report["sessions"])
    for host in ("hv01", "hv02", "hv03"):
        families = dict((f.name, f) for f in parser.text_string_to_metric_families((textfiles / host / "virtaudit.prom").read_text()))
        assert families["virtaudit_collect_success"].samples[0].value == 1
        assert families["virtaudit_collect_success"].samples[0].labels == {"host": host}
        states = dict((s.labels["state"], s.value) for s in families["virtaudit_sessions"].samples)
        assert states == report["hosts"][["hv01", "hv02", "hv03"].index(host)]["states"]
    copy = dict((f.name, f) for f in parser.text_string_to_metric_families(
        open(os.path.join(dest, "fleet_report_hosts", "hv04.prom")).read()))
    assert copy["virtaudit_collect_success"].samples[0].value == 0
    assert oct(os.stat(str(tmp_path / "state")).st_mode & 0o777) == "0o700"
    again, artifacts, dummy = run(tmp_path, "exports-again", fleet_report_dest=dest, **options)
    assert again.status == "successful", (artifacts / "stdout").read_text()
    used = dict((e["event_data"]["host"], e["event_data"]["res"].get("checkpoint", {}).get("used")) for e in job_events(artifacts)
                if e.get("event") == "runner_on_ok" and e["event_data"].get("task", "").startswith("Collect this host's guest sessions"))
    assert used == {"hv01": True, "hv02": True, "hv03": True, "hv04": None}, used  # hv04's log is gone: no checkpoint
    again_report = report_json(dest)
    assert again_report["sessions"] == report["sessions"] and again_report["migrations"] == report["migrations"]


def test_a_report_from_checkpoints_equals_a_report_from_full_reads(tmp_path):
    options = dict(fleet_report_formats=["json"], fleet_report_checkpoint_dir=str(tmp_path / "state"))
    result, artifacts, dest = run(tmp_path, "full", **options)
    assert result.status == "successful", (artifacts / "stdout").read_text()
    report = report_json(dest)
    again, artifacts, dummy = run(tmp_path, "resumed", fleet_report_dest=dest, **options)
    assert again.status == "successful", (artifacts / "stdout").read_text()
    resumed = report_json(dest)
    # a host's sources say what this run read (guest_session_info's RETURN: with a checkpoint, only the files read
    # in this run): nothing new, so no bytes and no records; everything else of the report is the full read's
    read = [[(s["path"], s["bytes"], s["records"]) for s in h["sources"]] for h in resumed["hosts"]]
    assert read == [[(s["path"], 0, 0) for s in h["sources"]] for h in report["hosts"]], read
    assert all(s["records"] > 0 for h in report["hosts"] for s in h["sources"])
    assert without_sources(comparable(resumed)) == without_sources(comparable(report))


def without_sources(report):
    report["hosts"] = [dict((k, v) for k, v in h.items() if k != "sources") for h in report["hosts"]]
    return report


def job_events(artifacts):
    for path in sorted(glob.glob(str(artifacts / "job_events" / "*.json"))):
        with open(path) as handle:
            yield json.load(handle)


# -------------------------------------------- a report directory of another user --

def test_a_report_directory_of_another_user_is_taken_over_and_the_report_says_so(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("giving the report directory to another user needs root")
    dest = tmp_path / "taken"
    dest.mkdir()
    os.chown(str(dest), 65534, 65534)
    os.chmod(str(dest), 0o777)
    result, artifacts, dummy = run(tmp_path, "takeover", fleet_report_dest=str(dest), fleet_report_formats=["json", "html"])
    assert result.status == "successful", (artifacts / "stdout").read_text()
    info = os.stat(str(dest))
    assert info.st_uid == 0 and oct(info.st_mode & 0o777) == "0o750"
    report = report_json(str(dest))
    assert report["collection"]["report_dir"]["taken_over_from"] == {"uid": 65534, "owner": "nobody"}
    assert 'id="report-dir"' in (dest / "fleet_report.html").read_text()
    assert "belonged to uid 65534 (nobody); it was taken over by uid 0" in (artifacts / "stdout").read_text()
