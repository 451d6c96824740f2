# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The judge of the guest events under ansible-rulebook, judged: synthetic ground truth, the events a
correct source would deliver, and mutations it must catch (run everywhere: no root, no ansible-rulebook)."""

from __future__ import absolute_import, division, print_function

import copy

import pytest

import eda_judge
import ground_truth
from test_judge import T0, UUID_A, UUID_B, UUID_C, _action

HOST = "debian13"
LIVE = {"disks": [], "macs": [], "ptys": [], "memory_kib": 65536, "vcpus": 1}


def actions():
    """a booted and destroyed; b booted, the log rotated, b killed (SIGSEGV) and killed again (SIGKILL);
    the source stopped at 20, c fails to start at 21, the source started again at 22; auditd restarted; end."""
    return [
        _action(1, "a", UUID_A, "start:booted", 1.0, 1.5, qemu_pid=100, live=LIVE),
        _action(2, "a", UUID_A, "stop:destroyed", 2.0, 3.0, settled=3.1),
        _action(3, "b", UUID_B, "start:booted", 5.0, 5.5, qemu_pid=200, live=LIVE),
        _action(4, None, None, "daemon:auditd-rotate", 6.0, 6.2),
        _action(5, "b", UUID_B, "stop:failed:SIGSEGV", 7.0, 7.01, settled=9.0, qemu_pid=200),
        _action(6, "b", UUID_B, "start:booted", 10.0, 10.5, qemu_pid=300, live=LIVE),
        _action(7, "b", UUID_B, "stop:failed:SIGKILL", 11.0, 11.01, settled=13.0, qemu_pid=300),
        _action(8, "c", UUID_C, "start-failed:missing-disk", 21.0, 21.1, rc=1),
        _action(9, None, None, "daemon:auditd-restart", 24.0, 24.5),
        _action(10, None, None, "daemon:auditd-stop", 30.0, 30.1),
    ]


def info():
    return {"host": HOST, "runs": [
        {"output": "ansible-rulebook.log", "started": T0 + 0.2, "ready": T0 + 4.0, "stop_asked": T0 + 20.0,
         "stopped": T0 + 20.4, "exit": 130},
        {"output": "ansible-rulebook-2.log", "started": T0 + 22.0, "ready": T0 + 26.0, "stop_asked": T0 + 31.0,
         "stopped": T0 + 31.4, "exit": 130}]}


def _event(kind, name, uuid, reason, at, session, **details):
    return {"kind": kind, "host": HOST, "name": name, "uuid": uuid, "reason": reason, "epoch": T0 + at,
            "session_id": session and "%s/%s/%s" % (HOST, uuid, session), "details": details,
            "fingerprint": "%s-%s-%s" % (kind, uuid, at),
            "meta": {"source": {"name": eda_judge.SOURCE}, "received_at": "2027-01-15T08:00:00Z"}}


def good_runs():
    """What ansible-rulebook should have printed: the first start until 20 s, the second from 22 s."""
    first = [
        _event("started", "a", UUID_A, "booted", 1.2, "1.2:10"),
        _event("stopped", "a", UUID_A, "destroyed", 2.9, "1.2:10"),
        _event("started", "b", UUID_B, "booted", 5.2, "5.2:20"),
        _event("anomaly", "b", UUID_B, "ANOM_ABEND", 7.005, "5.2:20", sig=11),
        _event("crashed", "b", UUID_B, "failed", 8.5, "5.2:20", signal=11),
        _event("started", "b", UUID_B, "booted", 10.2, "10.2:30"),
        _event("crashed", "b", UUID_B, "failed", 12.5, "10.2:30"),
    ]
    second = [
        _event("failed_start", "c", UUID_C, "booted", 21.05, "21.05:40"),
        _event("audit_stopped", None, None, "end", 24.1, None),
        _event("records_lost", None, None, None, 24.4, None, missing_events=1),
        _event("audit_stopped", None, None, "end", 30.05, None),
    ]
    return [first, second]


def expected():
    return eda_judge.expected_events(actions(), missing_serials=[512])


def truth():
    return ground_truth.expected_sessions(actions(), "kvm")


def judge_all(runs, run_info=None, acts=None):
    acts = acts or actions()
    want = eda_judge.expected_events(acts, missing_serials=[512])
    sessions = ground_truth.expected_sessions(acts, "kvm")
    run_info = run_info or info()
    return (eda_judge.judge_events(runs, want, HOST)
            + eda_judge.judge_rotation(run_info, runs, sessions["sessions"], sessions["auditd_rotations"])
            + eda_judge.judge_restart(run_info, runs, want))


def test_what_a_correct_source_delivers_passes():
    assert judge_all(good_runs()) == []


def test_expected_events_follow_the_actions():
    kinds = [(e["kind"], e["name"], e["reason"]) for e in expected()]
    assert kinds == [("started", "a", "booted"), ("stopped", "a", "destroyed"), ("started", "b", "booted"),
                     ("anomaly", "b", "ANOM_ABEND"), ("crashed", "b", "failed"), ("started", "b", "booted"),
                     ("crashed", "b", "failed"), ("failed_start", "c", "booted"), ("audit_stopped", None, "end"),
                     ("audit_stopped", None, "end"), ("records_lost", None, None)]
    assert eda_judge.lost_runs([7, 8, 9, 20, 22, 23]) == [3, 1, 2]


def _mutated(mutate):
    runs = good_runs()
    mutate(runs)
    return judge_all(runs)


@pytest.mark.parametrize("name, mutate, says", [
    ("an event lost", lambda r: r[0].pop(4), "crashed of e2e0b2b2"),
    ("an event lost at the restart", lambda r: r[1].pop(0), "failed_start of e2e0c3c3"),
    ("a repeat after the restart", lambda r: r[1].insert(0, copy.deepcopy(r[0][6])), "repeated"),
    ("a repeat within one start", lambda r: r[0].append(copy.deepcopy(r[0][0])), "repeated"),
    ("an event nothing caused", lambda r: r[1].append(_event("lost", "a", UUID_A, None, 25.0, "1.2:10")),
     "lost of e2e0a1a1"),
    ("a wrong stop reason", lambda r: r[0][1].update(reason="shutdown"), "reason 'shutdown'"),
    ("a wrong time", lambda r: r[0][1].update(epoch=T0 + 6.0), "not in the window"),
    ("a wrong name", lambda r: r[0][0].update(name="x"), "name 'x'"),
    ("a wrong host", lambda r: r[0][0].update(host="elsewhere"), "host 'elsewhere'"),
    ("not through the source", lambda r: r[0][0].update(meta={}), "not from the source"),
    ("a session broken by the rotation", lambda r: r[0][4].update(session_id="%s/%s/seen-8.5" % (HOST, UUID_B)),
     "0 start and 1 end events among"),
    ("a crash given to the next session", lambda r: r[0][4].update(session_id="%s/%s/10.2:30" % (HOST, UUID_B)),
     "across the rotation"),
    ("the lost records miscounted", lambda r: r[1][2]["details"].update(missing_events=2), "missing events"),
    ("nothing from the new file", lambda r: [r[0].pop() for dummy in range(4)], "from after it"),
])
def test_the_judge_catches(name, mutate, says):
    problems = _mutated(mutate)
    assert any(says in p for p in problems), (name, problems)


def test_the_judge_catches_a_source_that_was_not_ready_before_the_rotation():
    late = info()
    late["runs"][0]["ready"] = T0 + 6.1
    problems = judge_all(good_runs(), run_info=late)
    assert any("had not read the log before the rotation" in p for p in problems), problems


def test_the_judge_catches_a_rotation_while_no_source_ran():
    run_info = info()
    run_info["runs"][0]["started"] = T0 + 6.1
    problems = judge_all(good_runs(), run_info=run_info)
    assert any("no ansible-rulebook ran across the rotation" in p for p in problems), problems


def test_the_judge_catches_a_capture_without_a_restart_or_without_actions_while_stopped():
    problems = judge_all([good_runs()[0] + good_runs()[1]], run_info=dict(info(), runs=info()["runs"][:1]))
    assert any("expected 2" in p for p in problems), problems
    acts = [a for a in actions() if a["seq"] != 8]
    runs = good_runs()
    runs[1].pop(0)
    problems = judge_all(runs, acts=acts)
    assert any("no action while ansible-rulebook was stopped" in p for p in problems), problems


def test_the_judge_catches_an_event_received_by_the_first_start_after_it_stopped():
    runs = good_runs()
    runs[0].append(runs[1].pop(0))
    problems = judge_all(runs)
    assert any("after it stopped" in p for p in problems), problems
    assert any("received 0 time(s) by the second start" in p for p in problems), problems


def _crash(seconds=4.2, **event):
    crashed = _event("crashed", "b", UUID_B, "failed", 8.5, "5.2:20", signal=11)
    crashed.update(event)
    return {"kill": T0 + 7.0, "seconds": seconds, "event": crashed}


def test_crash_judge():
    sigsegv = actions()[4]
    fingerprints = [good_runs()[0][4]["fingerprint"], good_runs()[0][6]["fingerprint"]]
    assert eda_judge.judge_crash(_crash(), sigsegv, list(fingerprints), fingerprints) == []
    assert "reacted 10.40 s after the kill" in " ".join(
        eda_judge.judge_crash(_crash(10.4), sigsegv, fingerprints, fingerprints))
    assert "not to the SIGSEGV crash" in " ".join(
        eda_judge.judge_crash(_crash(epoch=T0 + 12.5, details={}), sigsegv, fingerprints, fingerprints))
    assert "one per crashed event" in " ".join(
        eda_judge.judge_crash(_crash(), sigsegv, fingerprints + fingerprints[:1], fingerprints))
    assert eda_judge.judge_crash(None, sigsegv, [], []) == ["no reaction to the crash was measured"]
