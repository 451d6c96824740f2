# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Following the log (module_utils/event_follower.py): every event once, through polls, rotations, restarts,
a checkpoint that had to be dropped and a state that was lost; late and provisional session ends.

The scenarios (event_scenarios.py) are written step by step into a log
directory that is rotated like auditd rotates; the events returned by all
polls together must be exactly the scenario's own expected events.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import stat

import pytest

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils import event_scenarios
from ansible_collections.virtaudit.auvirt.plugins.module_utils import event_follower, guest_events, session_unattributed
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log

LATER = 7 * 86400.0


class Clock(object):
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def _key(event):
    return (event["kind"], event["host"], event["name"], event["reason"])


def _last_epoch(lines):
    return max(EventId.epoch(line.split("msg=audit(", 1)[1].split(")", 1)[0]) for line in lines)


class Follow(object):
    """A scenario written into an auditd-like log directory, with a follower polling it.

    ``steps``: the steps written (and polled after) at once, after a first
    poll of the empty log.
    """

    def __init__(self, tmp_path, scenario, start="now", steps=None, **kwargs):
        self.scenario = scenario
        self.log = event_scenarios.AuditdLog(tmp_path / "log")
        self.checkpoint = str(tmp_path / "guest_events.checkpoint")
        self.clock = Clock(event_scenarios.T0 - 1)
        self.kwargs = kwargs
        self.start = start
        self.events = []
        self.follower = None
        self.restart()
        if steps is not None:
            self.poll()
            self.play(scenario.steps[:steps])

    def restart(self):
        self.follower = event_follower.EventFollower(self.checkpoint, auditd_conf=self.log.conf,
                                                     host=self.scenario.hosts[0].name, start=self.start,
                                                     clock=self.clock, **self.kwargs)
        return self.follower

    def poll(self, after=2.0):
        events = self.follower.poll()
        self.follower.commit()
        self.events.extend(events)
        return events

    def write(self, step):
        self.log.append(step.lines)
        if step.lines:
            self.clock.now = max(self.clock.now, _last_epoch(step.lines) + 3)

    def play(self, steps):
        """Write each step and poll after it."""
        for step in steps:
            self.write(step)
            self.poll()

    def finish(self):
        """A week later: every grace period is over."""
        self.clock.now += LATER
        return self.poll()

    def check(self):
        fingerprints = [event["fingerprint"] for event in self.events]
        assert len(fingerprints) == len(set(fingerprints)), "an event came twice: %s" % [
            guest_events.compact(e) for e in self.events if fingerprints.count(e["fingerprint"]) > 1]
        assert sorted(map(_key, self.events), key=str) == sorted(self.scenario.expected, key=str)


@pytest.mark.parametrize("name", sorted(event_scenarios.SCENARIOS))
def test_every_event_once_polling_after_every_step(tmp_path, name):
    follow = Follow(tmp_path, event_scenarios.SCENARIOS[name]())
    assert follow.poll() == []
    follow.play(follow.scenario.steps)
    follow.finish()
    follow.check()
    # the same events as one read of the whole log
    result = run(paths=[follow.log.path], all_events=True, default_host=follow.scenario.hosts[0].name)
    whole = guest_events.happenings(result, now=follow.clock.now)[0]
    assert sorted(e["fingerprint"] for e in whole) == sorted(e["fingerprint"] for e in follow.events)


@pytest.mark.parametrize("name", ["lifecycle", "two_nodes", "lost_and_gap"])
def test_rotations_lose_nothing_and_repeat_nothing(tmp_path, name):
    follow = Follow(tmp_path, event_scenarios.SCENARIOS[name]())
    follow.poll()
    for number, step in enumerate(follow.scenario.steps):
        half = len(step.lines) // 2
        follow.log.append(step.lines[:half])
        follow.log.rotate()  # between two polls, in the middle of a step
        follow.log.append(step.lines[half:])
        if number % 2:
            follow.log.rotate()  # and twice before one poll
        follow.write(event_scenarios.Step([], [], ""))
        follow.clock.now = max(follow.clock.now, _last_epoch(step.lines) + 3)
        follow.poll()
    follow.finish()
    follow.check()
    assert follow.log.rotations >= len(follow.scenario.steps)


def test_restart_after_every_poll_repeats_nothing(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    for step in follow.scenario.steps:
        follow.write(step)
        follow.restart()
        follow.poll()
    follow.restart()
    follow.finish()
    follow.check()


def test_killed_before_commit_repeats_at_most_that_poll(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    steps = follow.scenario.steps
    follow.write(steps[0])
    follow.write(steps[1])
    lost = follow.follower.poll()  # handed on, then the process dies before commit()
    assert [e["kind"] for e in lost] == ["started", "migrated_in"]
    follow.restart()
    assert [e["fingerprint"] for e in follow.poll()] == [e["fingerprint"] for e in lost]
    follow.play(steps[2:])
    follow.finish()
    follow.check()


@pytest.mark.parametrize("damage", ["removed", "edited", "replaced_log"])
def test_dropped_checkpoint_does_not_bring_back_history(tmp_path, damage):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    steps = follow.scenario.steps
    follow.play(steps[:4])
    if damage == "removed":
        os.remove(follow.checkpoint)
    elif damage == "edited":
        with open(follow.checkpoint, "a") as handle:
            handle.write(" ")
    else:
        # the checkpointed file is gone: rotated away with nothing of it left
        os.rename(follow.log.path, follow.log.path + ".old")
        with open(follow.log.path + ".old") as handle:
            old = handle.read()
        os.remove(follow.log.path + ".old")
        with open(follow.log.path, "w") as handle:
            handle.write("\n" + old)
    follow.play(steps[4:])
    follow.finish()
    follow.check()
    if damage != "removed":
        assert any("reading all logs" in warning for warning in follow.follower.warnings), follow.follower.warnings


def test_lost_state_begins_at_start(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    steps = follow.scenario.steps
    follow.play(steps[:3])
    os.remove(follow.checkpoint + ".events")
    follow.restart()
    assert follow.poll() == []  # start=now: nothing from before
    before = len(follow.events)
    follow.play(steps[3:])
    follow.finish()
    assert sorted(map(_key, follow.events[before:]), key=str) == \
        sorted([item for step in steps[3:] for item in step.expect], key=str)


def test_start_in_the_past_replays_the_log(tmp_path):
    scenario = event_scenarios.lifecycle()
    follow = Follow(tmp_path, scenario, start="2026-03-02T00:00:00Z")
    for step in scenario.steps:
        follow.log.append(step.lines)
    follow.clock.now = _last_epoch(scenario.lines) + LATER
    follow.poll()
    follow.check()
    assert follow.poll() == []


def test_start_now_skips_what_is_in_the_log_already(tmp_path):
    scenario = event_scenarios.lifecycle()
    follow = Follow(tmp_path, scenario)
    steps = scenario.steps
    for step in steps[:3]:
        follow.log.append(step.lines)
    follow.clock.now = _last_epoch(steps[2].lines) + 3
    assert follow.poll() == []
    follow.play(steps[3:])
    follow.finish()
    assert sorted(map(_key, follow.events), key=str) == \
        sorted([item for step in steps[3:] for item in step.expect], key=str)
    # the guests that ran before the start still have their end reported
    assert ("stopped", "hv01", "web01", "shutdown") in map(_key, follow.events)


def test_crash_is_reported_when_libvirt_logs_the_stop(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    steps = follow.scenario.steps
    follow.play(steps[:3])
    crash = steps[3].lines
    cut = [n for n, line in enumerate(crash) if "ANOM_ABEND" in line][0] + 1
    follow.write(event_scenarios.Step(crash[:cut], [], ""))
    assert [e["kind"] for e in follow.poll()] == ["started", "anomaly"]
    follow.write(event_scenarios.Step(crash[cut:], [], ""))
    assert [(e["kind"], e["reason"]) for e in follow.poll()] == [("crashed", "failed")]


def test_crash_without_stop_is_reported_after_the_grace_period(tmp_path):
    follow = Follow(tmp_path, event_scenarios.abend_only())
    follow.poll()
    follow.write(follow.scenario.steps[0])
    assert [e["kind"] for e in follow.poll()] == ["started", "anomaly"]
    follow.clock.now += 10
    assert follow.poll() == []
    follow.clock.now += guest_events.CRASH_GRACE
    runs = follow.follower.stats["runs"]
    assert [(e["kind"], e["reason"]) for e in follow.poll()] == [("crashed", "abend")]
    assert follow.follower.stats["runs"] == runs + 1, "a pending crash must be looked at although the log is unchanged"
    follow.check()


def test_down_is_reported_when_the_host_is_seen_booting(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    follow.play(follow.scenario.steps[:-1])
    assert "down" not in [e["kind"] for e in follow.events]
    follow.write(follow.scenario.steps[-1])
    assert [(e["kind"], e["name"]) for e in follow.poll()][:1] == [("down", "cache01")]
    follow.finish()
    follow.check()


def test_guest_down_long_before_the_window_is_found(tmp_path):
    # hv2 logs 20 minutes of events (more than late_margin) before hv1 comes back
    follow = Follow(tmp_path, event_scenarios.two_nodes(late=1200), late_margin=300)
    follow.poll()
    follow.play(follow.scenario.steps)
    assert follow.follower.stats["late_runs"] >= 1
    down = [e for e in follow.events if e["kind"] == "down"]
    assert len(down) == 1 and down[0]["epoch"] < follow.follower.window_start()
    follow.finish()
    follow.check()


def test_unchanged_log_is_not_read_again(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle(), steps=2)
    mtime = os.stat(follow.checkpoint).st_mtime_ns
    runs = follow.follower.stats["runs"]
    for dummy in range(3):
        follow.clock.now += 2
        assert follow.poll() == []
    assert follow.follower.stats["runs"] == runs and follow.follower.stats["skipped"] >= 3
    assert os.stat(follow.checkpoint).st_mtime_ns == mtime
    follow.log.append(follow.scenario.steps[2].lines)
    assert [e["kind"] for e in follow.poll()] == ["avc", "failed_start"]


def test_kinds_select_what_is_returned_and_the_rest_is_still_seen(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle(), kinds=["crashed", "down"])
    follow.poll()
    follow.play(follow.scenario.steps[:5])
    assert [e["kind"] for e in follow.events] == ["crashed"]
    follow.kwargs = {}
    follow.restart()
    follow.play(follow.scenario.steps[5:])
    follow.finish()
    assert [e["kind"] for e in follow.events] == ["crashed", "audit_stopped", "down", "started"]


def test_fingerprints_are_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(event_follower, "MAX_FINGERPRINTS", 3)
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    for step in follow.scenario.steps:
        follow.play([step])
        assert len(follow.follower.state["emitted"]) <= 3
    follow.finish()
    follow.check()


def test_state_file_is_private_and_checked(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle(), steps=2)
    path = follow.checkpoint + ".events"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    with open(path) as handle:
        state = json.load(handle)
    assert state["format"] == event_follower.STATE_FORMAT and len(state["emitted"]) == 2
    os.chmod(path, 0o666)
    follower = follow.restart()
    follow.poll()
    assert "may be written by other users" in follower.warnings[0]
    for content, message in (("{", "not valid JSON"), ('{"format": "x"}', "not written by this version"),
                             (json.dumps(dict(state, floor="x")), "state.floor")):
        with open(path, "w") as handle:
            handle.write(content)
        os.chmod(path, 0o600)
        follower = follow.restart()
        follow.poll()
        assert message in follower.warnings[0], follower.warnings


def test_state_of_version_1_is_read_and_counts_no_flood_from_before(tmp_path, monkeypatch):
    """A state written before AVCs of no guest were followed: its numbers are not known, so the first poll counts
    only what that run does not list; nothing else changes."""
    monkeypatch.setattr(session_unattributed, "MAX_LISTED", 3)
    follow = Follow(tmp_path, event_scenarios.lifecycle(), steps=2)
    path = follow.checkpoint + ".events"
    with open(path) as handle:
        state = json.load(handle)
    assert state["version"] == 2 and state["numbers"] == {}
    del state["numbers"]
    state["version"] = 1
    with open(path, "w") as handle:
        json.dump(state, handle)
    follower = follow.restart()
    log = Log(t=event_scenarios.T0 + 3600, serial=90000, node=None)
    lines = [log.add("AVC", HTTPD % n) for n in range(5)]
    follow.log.append(lines)
    follow.clock.now = log.t + 3
    events = follow.poll()
    assert follower.warnings == []
    assert [(e["kind"], e["details"].get("not_listed")) for e in events if e["kind"].startswith("avc")] == \
        [("avc_flood", 2)] + [("avc", None)] * 3
    assert follower.state["numbers"] == {"hv01": [5, 0]}


def test_state_of_another_host_is_not_used(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    follow.poll()
    follower = event_follower.EventFollower(follow.checkpoint, auditd_conf=follow.log.conf, host="other",
                                            clock=follow.clock)
    follower.poll()
    assert "written for host hv01, not other" in follower.warnings[0]


def test_open_session_that_is_gone_from_the_logs_is_warned_about_not_lost_silently(tmp_path):
    """A session the state believes open that no log holds any more (rotated away), or whose uuid is not valid:
    a warning each, the other events as before, and the session is no longer believed open."""
    follow = Follow(tmp_path, event_scenarios.lifecycle(), steps=2)
    path = follow.checkpoint + ".events"
    with open(path) as handle:
        state = json.load(handle)
    uuid = "00000000-0000-4000-8000-000000000000"
    gone = "hv01/%s/1.000:1" % uuid
    state["open"][gone] = {"host": "hv01", "uuid": uuid, "since": event_scenarios.T0 - 3600}
    state["open"]["hv01/x/1.000:2"] = {"host": "hv01", "uuid": "x", "since": event_scenarios.T0}
    with open(path, "w") as handle:
        json.dump(state, handle)
    follower = follow.restart()
    follow.play(follow.scenario.steps[2:])
    assert follower.warnings[:2] == ["session hv01/x/1.000:2 has no valid uuid; its end cannot be looked up",
                                     "session %s is no longer in the logs (rotated away?); its end is unknown" % gone]
    assert follower.stats["late_runs"] == 1
    assert not set(follower.state["open"]) & {gone, "hv01/x/1.000:2"}
    follow.finish()
    follow.check()


@pytest.mark.parametrize("kwargs, message", [
    (dict(kinds=["crash"]), "unknown event kinds crash"),
    (dict(late_margin=-1), "late_margin"),
    (dict(checkpoint=""), "checkpoint path is required"),
    (dict(checkpoint="/nonexistent/dir/cp"), "directory of the checkpoint /nonexistent/dir/cp does not exist"),
])
def test_bad_options(tmp_path, kwargs, message):
    options = dict(checkpoint=str(tmp_path / "cp"))
    options.update(kwargs)
    with pytest.raises(ValueError, match=message):
        event_follower.EventFollower(**options)


def test_bad_start_fails_the_first_poll(tmp_path):
    log = event_scenarios.AuditdLog(tmp_path / "log")
    follower = event_follower.EventFollower(str(tmp_path / "cp"), auditd_conf=log.conf, start="yesteryear")
    with pytest.raises(ValueError, match="yesteryear"):
        follower.poll()


def test_lines_written_while_a_run_reads_are_read_by_the_next_poll(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    steps = iter(follow.scenario.steps)
    pending = []

    def run_then_append(**kwargs):
        result = run(**kwargs)
        if kwargs.get("save_checkpoint", True):
            for dummy in range(2):
                step = next(steps, None)
                if step is not None:
                    follow.write(step)  # auditd appends after the reader reached the end
                    pending.extend(step.expect)
        return result

    follow.kwargs = dict(run=run_then_append)
    follow.restart()
    for dummy in range(len(follow.scenario.steps) + 2):
        follow.poll()
    follow.finish()
    follow.check()
    assert len(pending) == len(follow.scenario.expected)


def test_state_path_that_is_no_regular_file_is_neither_read_nor_replaced(tmp_path):
    follow = Follow(tmp_path, event_scenarios.lifecycle())
    path = follow.checkpoint + ".events"
    os.mkfifo(path)
    follower = follow.restart()
    follow.play(follow.scenario.steps[:2])
    assert stat.S_ISFIFO(os.stat(path).st_mode)
    assert any("not a regular file" in warning for warning in follower.warnings), follower.warnings
    assert [e["kind"] for e in follow.events] == ["started", "migrated_in"]


HTTPD = ('avc:  denied  { read } for  pid=812 comm="httpd" name="f%d" dev="dm-0" ino=4 '
         "scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=0")


@pytest.mark.parametrize("kinds", [None, ["avc"]])
def test_a_flood_of_unattributed_denials_is_listed_or_counted_never_lost(tmp_path, monkeypatch, kinds):
    """More denials of no guest between two polls than are listed: the newest are events, one ``avc_flood`` says
    how many were not; across polls, a rotation and a restart, each once."""
    monkeypatch.setattr(session_unattributed, "MAX_LISTED", 20)
    log = event_scenarios.AuditdLog(tmp_path / "log")
    checkpoint = str(tmp_path / "guest_events.checkpoint")
    clock = Clock(event_scenarios.T0 - 1)
    builder = Log(t=event_scenarios.T0, serial=5000)
    events = []

    def follower():
        return event_follower.EventFollower(checkpoint, auditd_conf=log.conf, host="hv", clock=clock, kinds=kinds)

    def denials(count, rotate_after=None):
        for number in range(count):
            if number == rotate_after:
                log.rotate()
            log.append([builder.add("AVC", HTTPD % builder.serial)])
            builder.tick(0.25)
        clock.now = builder.t + 3

    def poll(source):
        got = source.poll()
        source.commit()
        events.extend(got)

    source = follower()
    poll(source)
    denials(75)
    poll(source)
    denials(10)
    poll(source)
    source = follower()  # a restart
    denials(50, rotate_after=17)
    poll(source)
    clock.now += LATER
    poll(source)
    fingerprints = [e["fingerprint"] for e in events]
    assert len(fingerprints) == len(set(fingerprints))
    avcs = [e["details"]["number"] for e in events if e["kind"] == "avc"]
    floods = [(e["details"]["not_listed"], e["details"]["first_number"], e["details"]["last_number"])
              for e in events if e["kind"] == "avc_flood"]
    assert avcs == list(range(56, 86)) + list(range(116, 136))
    assert floods == [(55, 1, 75), (30, 86, 135)]
    assert all(e["host"] == "hv" and e["name"] is None and e["details"]["attributed"] is False for e in events)
    # the flood's place in time: before the first denial listed after it
    flood = [e for e in events if e["kind"] == "avc_flood"][1]
    after = events[events.index(flood) + 1]
    assert after["details"]["number"] == 116 and flood["evidence"] == after["evidence"]
