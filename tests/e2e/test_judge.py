# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The end-to-end judge judged: synthetic ground truth, a matching result, and mutations it must catch.

These run everywhere (no root, no hypervisor) and prove that the real run's
assertions can fail.
"""

from __future__ import absolute_import, division, print_function

import copy
import json

import pytest

import auvirt_diff
import ground_truth
import judge

T0 = 1800000000.0
UUID_A = "e2e0a1a1-0000-4000-8000-0000000000a1"
UUID_B = "e2e0b2b2-0000-4000-8000-0000000000b2"
UUID_C = "e2e0c3c3-0000-4000-8000-0000000000c3"
LIVE = {"disks": [{"path": "/img/a.qcow2", "target": "vda", "device": "disk"}], "macs": ["52:54:00:e2:e0:a1"],
        "ptys": ["/dev/pts/0"], "memory_kib": 65536, "vcpus": 1}


def _action(seq, guest, uuid, event, before, after, **extra):
    item = {"seq": seq, "guest": guest, "uuid": uuid, "event": event, "before": T0 + before, "after": T0 + after,
            "rc": 0}
    for key, value in extra.items():
        item[key] = T0 + value if key == "settled" else value
    return item


def actions():
    live_b = dict(LIVE, disks=[{"path": "/img/b.qcow2", "target": "vda", "device": "disk"}], macs=["52:54:00:e2:e0:b2"])
    return [
        _action(1, "a", UUID_A, "define", 0.0, 0.1),
        _action(2, "a", UUID_A, "start:booted", 1.0, 1.5, qemu_pid=100, live=LIVE),
        _action(3, "a", UUID_A, "res:attach:disk", 2.0, 2.1, path="/img/x.qcow2"),
        _action(4, "a", UUID_A, "res:update:mem", 3.0, 3.1, old=65536, new=196608),
        _action(5, "a", UUID_A, "stop:destroyed", 4.0, 5.0, settled=5.1),
        _action(6, "b", UUID_B, "start:booted", 6.0, 6.5, qemu_pid=200, live=live_b),
        _action(7, "b", UUID_B, "stop:failed:SIGSEGV", 7.0, 7.01, settled=9.0, qemu_pid=200),
        _action(8, "c", UUID_C, "start-failed:missing-disk", 10.0, 10.1, rc=1),
        _action(9, "a", UUID_A, "start:booted", 11.0, 11.5, qemu_pid=300, live=LIVE),
        _action(10, None, None, "daemon:auditd-restart", 12.0, 12.2),
        _action(11, None, None, "daemon:auditd-stop", 13.0, 13.1),
    ]


def _res(kind, reason, value, opened, closed=None, close_reason=None):
    return {"kind": kind, "reason": reason, "value": value, "result": "success", "opened_epoch": T0 + opened,
            "closed_epoch": None if closed is None else T0 + closed, "close_reason": close_reason}


def _session(name, uuid, state, start, end, start_reason="booted", stop_reason=None, pid=None, resources=(),
             anomalies=()):
    return {"host": "hv", "name": name, "uuid": uuid, "virt": "kvm", "state": state, "start_reason": start_reason,
            "stop_reason": stop_reason, "start_epoch": T0 + start, "end_epoch": None if end is None else T0 + end,
            "duration_seconds": None if end is None else (0.0 if state == "failed" else end - start), "pid": pid,
            "user": "root", "resources": list(resources), "anomalies": list(anomalies), "avcs": []}


def good_result():
    plumbing = [_res("cgroup", "allow", "/dev/null", 1.2, 4.5, "stop"), _res("net", "open", "/dev/net/tun", 1.2, 4.5, "stop")]
    return {"sessions": [
        _session("a", UUID_A, "stopped", 1.3, 4.5, stop_reason="destroyed", pid=100, resources=plumbing + [
            _res("disk", "start", "/img/a.qcow2", 1.3, 4.5, "stop"),
            _res("net", "start", "52:54:00:e2:e0:a1", 1.3, 4.5, "stop"),
            _res("chardev", "start", "/dev/pts/0", 1.3, 4.5, "stop"),
            _res("mem", "start", "65536", 1.3, 3.05, "update"),
            _res("vcpu", "start", "1", 1.3, 4.5, "stop"),
            _res("disk", "attach", "/img/x.qcow2", 2.05, 4.5, "stop"),
            _res("mem", "update", "196608", 3.05, 4.5, "stop")]),
        _session("b", UUID_B, "crashed", 6.3, 8.6, stop_reason="failed", pid=200, resources=[
            _res("disk", "start", "/img/b.qcow2", 6.3, 8.6, "crash"),
            _res("net", "start", "52:54:00:e2:e0:b2", 6.3, 8.6, "crash"),
            _res("chardev", "start", "/dev/pts/0", 6.3, 8.6, "crash"),
            _res("mem", "start", "65536", 6.3, 8.6, "crash"),
            _res("vcpu", "start", "1", 6.3, 8.6, "crash")],
            anomalies=[{"type": "ANOM_ABEND", "sig": "11", "pid": 200, "epoch": T0 + 7.004}]),
        _session("c", UUID_C, "failed", 10.05, 10.05, resources=[_res("mem", "start", "65536", 10.05, 10.05, "start-failed")]),
        _session("a", UUID_A, "running", 11.3, None, pid=300, resources=[
            _res("disk", "start", "/img/a.qcow2", 11.3),
            _res("net", "start", "52:54:00:e2:e0:a1", 11.3),
            _res("chardev", "start", "/dev/pts/0", 11.3),
            _res("mem", "start", "65536", 11.3),
            _res("vcpu", "start", "1", 11.3)]),
    ], "summary": {"sessions": 4, "states": {"running": 1, "stopped": 1, "crashed": 1, "failed": 1, "down": 0, "lost": 0},
                   "starts": 3, "stops": 2, "anomalies": 1, "avcs": 0, "failed_operations": 1},
        "host_events": [{"type": "audit_start", "epoch": T0 - 1}, {"type": "audit_end", "epoch": T0 + 12.05},
                        {"type": "audit_start", "epoch": T0 + 12.15}, {"type": "audit_end", "epoch": T0 + 13.05}]}


@pytest.fixture
def expected():
    return ground_truth.expected_sessions(actions(), "kvm")


def test_load_actions_merges_fixes(tmp_path):
    path = tmp_path / "actions.jsonl"
    lines = [json.dumps(a) for a in actions()] + [json.dumps({"seq": 4, "fix": {"old": 1, "new": 2}})]
    path.write_text("\n".join(lines) + "\n")
    loaded = ground_truth.load_actions(str(path))
    assert len(loaded) == len(actions())
    assert (loaded[3]["old"], loaded[3]["new"]) == (1, 2)


def test_expected_sessions(expected):
    sessions = expected["sessions"]
    assert [(s["name"], s["state"], s["stop_reason"]) for s in sessions] == [
        ("a", "stopped", "destroyed"), ("b", "crashed", "failed"), ("c", "failed", None), ("a", "running", None)]
    assert sessions[0]["end"] == [T0 + 4.0, T0 + 5.1]          # the stop window ends when libvirt said "shut off"
    assert sessions[1]["end"] == [T0 + 7.0, T0 + 9.0]
    assert sessions[1]["anomalies"][0]["time"] == [T0 + 7.0, T0 + 7.01]
    assert sessions[3]["across_auditd_restart"] and not sessions[0]["across_auditd_restart"]
    mem = [(r["value"], r["close_reason"]) for r in sessions[0]["resources"] if r["kind"] == "mem"]
    assert mem == [("65536", "update"), ("196608", "stop")]
    assert ground_truth.expected_summary(expected)["states"]["crashed"] == 1


def test_good_result_passes(expected):
    result = good_result()
    assert judge.judge_sessions(result, expected) == []
    assert judge.judge_summary(result["summary"], expected) == []
    assert judge.judge_host_events(result["host_events"], expected) == []


def _mutated(path, value):
    result = good_result()
    target = result
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


@pytest.mark.parametrize("path, value, fragment", [
    (("sessions", 0, "state"), "crashed", "state is 'crashed'"),
    (("sessions", 0, "stop_reason"), "shutdown", "stop_reason"),
    (("sessions", 0, "end_epoch"), T0 + 6.2, "end"),
    (("sessions", 0, "start_epoch"), T0 - 0.1, "start"),
    (("sessions", 0, "pid"), 101, "pid"),
    (("sessions", 0, "resources", 4, "closed_epoch"), None, "closed at None"),
    (("sessions", 0, "resources", 5, "close_reason"), "detach", "close_reason"),
    (("sessions", 0, "resources", 7, "value"), "131072", "missing"),
    (("sessions", 1, "anomalies"), [], "0 anomalies"),
    (("sessions", 1, "anomalies", 0, "sig"), "9", "anomaly"),
    (("sessions", 2, "resources", 0, "closed_epoch"), None, "failed start"),
    (("sessions", 3, "end_epoch"), T0 + 12.1, "end_epoch"),
    (("sessions", 3, "resources", 0, "closed_epoch"), T0 + 12.1, "still be held"),
    (("sessions", 3, "name"), "z", "sessions differ"),
])
def test_judge_catches(expected, path, value, fragment):
    problems = judge.judge_sessions(_mutated(path, value), expected)
    assert problems and any(fragment in p for p in problems), problems


def test_judge_catches_extra_and_missing_sessions(expected):
    result = good_result()
    result["sessions"].append(copy.deepcopy(result["sessions"][0]))
    assert judge.judge_sessions(result, expected)
    result["sessions"] = result["sessions"][:2]
    assert judge.judge_sessions(result, expected)


def test_judge_catches_extra_resource(expected):
    result = good_result()
    result["sessions"][0]["resources"].append(_res("rng", "start", "/dev/urandom", 1.3, 4.5, "stop"))
    assert any("unexpected resource rng" in p for p in judge.judge_sessions(result, expected))


def test_judge_summary_and_host_events(expected):
    result = good_result()
    result["summary"]["states"]["running"] = 0
    assert judge.judge_summary(result["summary"], expected)
    # a session-ending interpretation of the auditd restart would show up as a missing restart pair
    assert judge.judge_host_events(result["host_events"][:2] + result["host_events"][3:], expected)
    moved = copy.deepcopy(result["host_events"])
    moved[1]["epoch"] = T0 + 3
    assert judge.judge_host_events(moved, expected)


def test_ground_truth_rejects_inconsistent_actions():
    bad = actions()
    bad.insert(2, _action(99, "a", UUID_A, "start:booted", 1.6, 1.7, qemu_pid=1, live=LIVE))
    with pytest.raises(ValueError, match="started twice"):
        ground_truth.expected_sessions(bad, "kvm")
    with pytest.raises(ValueError, match="did not finish"):
        ground_truth.expected_sessions(actions()[:-1], "kvm")


def test_judge_proof():
    result = {"sessions": [{"name": "a", "uuid": UUID_A, "state": "stopped", "start_id": "1.000:1", "end_id": "2.000:2",
                            "proof": ["1.000:1", "2.000:2"]}]}
    index = {"1.000:1": ["type=VIRT_CONTROL msg=audit(1.000:1): msg='op=start uuid=%s res=success'" % UUID_A],
             "2.000:2": ["type=VIRT_CONTROL msg=audit(2.000:2): msg='op=stop uuid=%s res=success'" % UUID_A]}
    assert judge.judge_proof(result, index) == []
    result["sessions"][0]["end_id"] = "1.000:1"
    result["sessions"][0]["proof"].append("3.000:3")
    problems = judge.judge_proof(result, index)
    assert len(problems) == 2


AUVIRT_OUT = (
    "a                     \t%s\troot       \tFri Jan 15 08:00 - 08:00  (00:00\n"
    "b                     \t%s\troot       \tFri Jan 15 08:00 - 08:00  (00:00\n"
    "c                     \t%s\troot       \tFri Jan 15 08:00 - failed       \n"
    "a                     \t%s\troot       \tFri Jan 15 08:00                \n" % (UUID_A, UUID_B, UUID_C, UUID_A))


def test_auvirt_rows_compared_with_ground_truth(expected):
    rows = auvirt_diff.parse_rows(AUVIRT_OUT)
    assert [(r["name"], r["failed"], r["end"]) for r in rows] == [
        ("a", False, "08:00"), ("b", False, "08:00"), ("c", True, None), ("a", False, None)]
    diffs = auvirt_diff.compare_sessions(rows, expected)
    # T0 is 2027-01-15T08:00:00Z: only the crash (never shown by auvirt) differs
    assert [d["what"] for d in diffs] == ["crash not shown"]
    wrong = AUVIRT_OUT.replace("- failed       ", "               ")
    diffs = auvirt_diff.compare_sessions(auvirt_diff.parse_rows(wrong), expected)
    assert "failed start" in [d["what"] for d in diffs]


def test_auvirt_unreadable_output_fails():
    with pytest.raises(ValueError):
        auvirt_diff.parse_rows("garbage line without tabs\n")
    with pytest.raises(ValueError):
        auvirt_diff.parse_summary("Number of guest starts: 1\n")
