# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host result files: records from module results, validation of malformed results, gathering for the report."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, demo_results, host_result, session  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_results as fr  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402

NOW = DAY + 86400


def module_result(**extra):
    result = dict(host_result([session(host="hv1"), session(host="hv1", state="crashed", stop_reason="failed", serial=300)]),
                  host_clock={"time": "x", "epoch": NOW}, changed=False,
                  audit={"auditd_running": True, "audit_enabled": True, "libvirt": [], "changed": False})
    result.update(extra)
    return result


def test_record_from_a_good_result():
    record = fr.record_from_module("hv1", module_result(), run_id="r1", window={"start": None}, now=NOW + 2)
    assert record["status"] == "ok" and record["run_id"] == "r1" and record["inventory_host"] == "hv1"
    assert sorted(record["result"]) == sorted(fr.RESULT_KEYS + ("clock_skew_seconds",))
    assert record["result"]["clock_skew_seconds"] == -2.0
    assert record["audit"] == {"auditd_running": True, "audit_enabled": True, "libvirt": []}
    assert fr.record_from_module("hv1", module_result(), check_audit=False)["audit"] is None


def test_unreachable_and_failed_results():
    assert fr.record_from_module("h", {"unreachable": True, "msg": "ssh: refused"})["status"] == "unreachable"
    failed = fr.record_from_module("h", {"failed": True, "msg": "cannot read audit log /x: no such file"})
    assert (failed["status"], failed["msg"]) == ("failed", "cannot read audit log /x: no such file")
    assert fr.record_from_module("h", {"failed": True})["msg"] == "the module failed"
    assert fr.record_from_module("h", {"skipped": True})["status"] == "failed"


def _set(result, path, value):
    target = result
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value


MALFORMED = [
    (("sessions",), "nope", "sessions"),
    (("sessions", 0), "not a session", "sessions[0] is not a mapping"),
    (("sessions", 0, "uuid"), KeyError, "sessions[0].uuid is missing"),
    (("sessions", 0, "state"), "exploded", "sessions[0].state"),
    (("sessions", 0, "start_epoch"), float("nan"), "not a finite number"),
    (("sessions", 0, "end_epoch"), "10:00", "sessions[0].end_epoch"),
    (("sessions", 0, "name"), 42, "sessions[0].name"),
    (("sessions", 1, "evidence"), [], "sessions[1].evidence"),
    (("sessions", 1, "evidence", "avcs"), {"count": "3", "ids": []}, "evidence.avcs.count"),
    (("host_clock", "epoch"), float("nan"), "not a finite number"),
    (("host_clock", "epoch"), float("inf"), "not a finite number"),
    (("coverage",), ["x"], "result.coverage"),
    (("parse_errors", "count"), "many", "parse_errors.count"),
    (("host_events",), [1, 2], "host_events[0] is not a mapping"),
    (("audit", "libvirt"), "none", "audit.libvirt"),
    (("audit",), "yes", "audit is not a mapping"),
]


@pytest.mark.parametrize("path, value, reason", MALFORMED)
def test_a_malformed_result_makes_the_host_failed_with_the_reason(path, value, reason):
    result = module_result()
    _set(result, path, value)
    record = fr.record_from_module("hv1", result, now=NOW)
    assert record["status"] == "failed" and record["result"] is None, record
    assert reason in record["msg"] and (record["msg"].startswith("malformed result") or path == ("sessions",))
    # the report: the other host is reported, this one is missing with the reason, the JSON is valid
    good = fr.record_from_module("hv2", module_result(sessions=[session(host="hv2")]), now=NOW)
    fleet = build_fleet(["hv1", "hv2"], {"hv1": record, "hv2": good}, window={"now_epoch": NOW})
    assert [h["status"] for h in fleet["hosts"]] == ["failed", "ok"] and reason in fleet["hosts"][0]["msg"]
    json.dumps(fleet, allow_nan=False)


def test_a_nan_clock_never_reaches_the_json():
    record = fr.record_from_module("hv1", module_result(host_clock={"epoch": float("nan")}), now=NOW)
    fleet = build_fleet(["hv1"], [record], window={"now_epoch": NOW})
    text = json.dumps(fleet, allow_nan=False)
    assert "NaN" not in text and fleet["hosts"][0]["status"] == "failed"


def test_write_and_load_round_trip(tmp_path):
    record = fr.record_from_module("hv/01", module_result(), run_id="r1", now=NOW)
    path = fr.result_path(str(tmp_path / "results"), "hv/01")
    assert os.path.dirname(path) == str(tmp_path / "results") and "/" not in os.path.basename(path)
    fr.write_record(path, record)
    assert oct(os.stat(path).st_mode & 0o777) == "0o600" and oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    assert fr.load_record(path) == json.loads(json.dumps(record))
    assert os.listdir(str(tmp_path / "results")) == [os.path.basename(path)]  # no temporary file left
    with pytest.raises(ValueError):
        fr.write_record(path, dict(record, collected_epoch=float("nan")))
    assert fr.load_record(path)["collected_epoch"] == NOW  # the failed write left the old file whole


@pytest.mark.parametrize("text, reason", [
    ("{", "not a JSON result file"),
    ('{"format": "something else"}', "not a fleet_report result file"),
    ('{"format": "%s", "version": 99}' % fr.FORMAT, "version 99"),
    ('{"format": "%s", "version": 1, "inventory_host": 3, "status": "ok"}' % fr.FORMAT, "inventory_host"),
    ('{"format": "%s", "version": 1, "inventory_host": "h", "status": "ok", "collected_epoch": NaN}' % fr.FORMAT, "not a JSON"),
    ("\xff\xfe", "not a JSON result file"),
])
def test_load_refuses_what_is_not_a_result_file(tmp_path, text, reason):
    path = tmp_path / "h.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(fr.ResultError, match=reason):
        fr.load_record(str(path))


def write(directory, host, collected, run_id="r", status="ok", **kwargs):
    result = module_result(sessions=[session(host=host)]) if status == "ok" else {"failed": True, "msg": "boom"}
    record = fr.record_from_module(host, result, run_id=run_id, now=collected, **kwargs)
    return fr.write_record(fr.result_path(str(directory), host), record)


def test_gather_picks_the_newest_result_and_names_the_others(tmp_path):
    one, two = tmp_path / "slice1", tmp_path / "slice2"
    write(one, "a", NOW - 100)
    write(two, "a", NOW - 50)
    write(one, "b", NOW - 100)
    lone = write(tmp_path / "other", "c", NOW - 10)
    write(tmp_path / "other", "stranger", NOW - 10)
    inputs = [str(one), str(two), lone, str(tmp_path / "other" / "stranger.json"), str(tmp_path / "nowhere")]
    records, notes = fr.gather(["a", "b", "c", "d"], inputs, now=NOW)
    assert [records[h]["status"] for h in "abcd"] == ["ok", "ok", "ok", "missing"]
    assert records["a"]["path"].startswith(str(two))
    assert notes["duplicates"] == [{"host": "a", "used": fr.result_path(str(two), "a"), "ignored": [fr.result_path(str(one), "a")]}]
    assert [u["host"] for u in notes["unused"]] == ["stranger"]
    assert "no such file" in notes["errors"][0]
    assert "no result" in records["d"]["msg"]


def test_gather_run_id_and_max_age(tmp_path):
    write(tmp_path, "a", NOW - 10, run_id="now")
    write(tmp_path, "b", NOW - 10, run_id="before")
    write(tmp_path, "c", NOW - 3 * 86400, run_id="now")
    records, dummy = fr.gather(["a", "b"], [str(tmp_path)], run_id="now", now=NOW)
    assert records["a"]["status"] == "ok"
    assert records["b"]["status"] == "missing" and "no result from this run" in records["b"]["msg"] and "run before" in records["b"]["msg"]
    records, dummy = fr.gather(["a", "b", "c"], [str(tmp_path)], max_age_hours=24, now=NOW)
    assert [records[h]["status"] for h in "abc"] == ["ok", "ok", "missing"]
    assert "older than 24 hours" in records["c"]["msg"]


def test_gather_turns_bad_files_into_failed_hosts_with_the_reason(tmp_path):
    path = fr.result_path(str(tmp_path), "a")
    with open(path, "w") as handle:
        handle.write('{"format": "virtaudit.auvirt.fleet_host_result", "version": 1, "inventory_host": "a", "status": "ok", '
                     '"result": {"sessions": [{"host": "a"}]}}')
    with open(fr.result_path(str(tmp_path), "b"), "w") as handle:
        handle.write("garbage")
    write(tmp_path, "c", NOW, status="failed")
    records, dummy = fr.gather(["a", "b", "c"], [str(tmp_path)], now=NOW)
    assert records["a"]["status"] == "failed" and "sessions[0].uuid is missing" in records["a"]["msg"]
    assert records["b"]["status"] == "failed" and "not a JSON result file" in records["b"]["msg"]
    assert records["c"]["status"] == "failed" and records["c"]["msg"] == "boom"
    fleet = build_fleet(["a", "b", "c"], records, window={"now_epoch": NOW})
    assert [m["name"] for m in fleet["missing_hosts"]] == ["a", "b", "c"]


def test_split_details_keeps_the_sessions_small():
    result = copy.deepcopy(demo_results()["hv01"]["result"])
    for item in result["sessions"]:
        item["resources"] = [{"kind": "disk"}]
        item["events"] = []
    details = fr.split_details(result)
    assert len(details) == len(result["sessions"]) and details[0]["resources"] == [{"kind": "disk"}]
    assert all("resources" not in s and "events" not in s for s in result["sessions"])
    assert fr.split_details(result) == []


def test_an_overflowing_number_in_a_result_file_is_refused(tmp_path):
    record = fr.record_from_module("a", module_result(), now=NOW)
    path = fr.write_record(fr.result_path(str(tmp_path), "a"), record)
    with open(path) as handle:
        text = handle.read()
    with open(path, "w") as handle:
        handle.write(text.replace('"duration_seconds":3600.0', '"duration_seconds":1e999', 1))
    with pytest.raises(fr.ResultError, match="not a finite number"):
        fr.load_record(path)
