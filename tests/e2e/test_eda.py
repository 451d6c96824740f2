# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Guest events through a real ansible-rulebook on the real hypervisor (docs/e2e.md, docs/events.md).

In one pass per platform capture.py ran ansible-rulebook with the
guest_events source beside the lifecycle (rulebook_beside.py): a qemu killed
with SIGSEGV must have made the rulebook run its playbook within 10 s of the
kill; auditd rotated its log in the middle and ansible-rulebook was stopped
and started again on its checkpoint - and the events it received over both
starts must be exactly those the ground truth implies, each once
(eda_judge.py).  Without ansible-rulebook or Java 17 the part is SKIPPED
with the reason (VIRTAUDIT_REQUIRE_RULEBOOK=1: a failure).
"""

from __future__ import absolute_import, division, print_function

import glob
import json
import os
import sys

import pytest

import eda_judge
import ground_truth
import records

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "eda"))

import rulebook_run  # noqa: E402  pylint: disable=wrong-import-position

PART = "guest events under ansible-rulebook"


@pytest.fixture
def eda(platform, capture, meta, e2e_skip_part):
    """What the pass with ansible-rulebook beside it left: eda.json, the events each start received, the truth."""
    fmt = meta.get("eda_format")
    if not fmt:
        e2e_skip_part(platform, PART, "the capture had no pass with ansible-rulebook (capture.py --eda-format none)")
    workdir = os.path.join(capture, fmt, "eda")
    with open(os.path.join(workdir, "eda.json")) as handle:
        info = json.load(handle)
    if info["skipped"]:
        if os.environ.get("VIRTAUDIT_REQUIRE_RULEBOOK") == "1":
            pytest.fail("%s: ansible-rulebook cannot run: %s" % (platform, info["skipped"]))
        e2e_skip_part(platform, PART, info["skipped"])
    if info["error"]:
        pytest.fail("%s: the ansible-rulebook part of the capture failed: %s" % (platform, info["error"]),
                    pytrace=False)
    actions = ground_truth.load_actions(os.path.join(capture, fmt, "actions.jsonl"))
    log = os.path.join(capture, fmt, "audit.log")
    return {
        "fmt": fmt, "dir": workdir, "info": info, "actions": actions,
        "runs": [rulebook_run.received_events(os.path.join(workdir, run["output"])) for run in info["runs"]],
        "expected": eda_judge.expected_events(actions, records.traits(log)["missing_kernel_serials"]),
        "truth": ground_truth.expected_sessions(actions, meta["virt"]),
    }


def _fail_on(problems):
    if problems:
        pytest.fail("%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems)), pytrace=False)


def test_crash_runs_the_playbook_within_ten_seconds(platform, eda, e2e_note):
    """qemu killed with SIGSEGV: libvirt's op=stop, the crashed event, the rulebook's playbook - within 10 s."""
    sigsegv = [a for a in eda["actions"] if a["event"] == "stop:failed:SIGSEGV"]
    assert len(sigsegv) == 1, sigsegv
    events = eda_judge.received_once(eda["runs"])[0]
    crashed = [e["fingerprint"] for e in events if e["kind"] == "crashed"]
    reactions = [os.path.basename(p)[len("crashed-"):-len(".json")]
                 for p in glob.glob(os.path.join(eda["dir"], "reactions", "crashed-*.json"))]
    crash = eda["info"]["crash"]
    _fail_on(eda_judge.judge_crash(crash, sigsegv[0], reactions, crashed))
    event = crash["event"]
    first = eda["info"]["runs"][0]
    e2e_note("%s %s: %s, %s: SIGSEGV to the playbook's reaction %.2f s (op=stop %.2f s after the kill, on "
             "ansible-rulebook's queue after %.2f s); the source read the log %.1f s after ansible-rulebook started"
             % (platform, eda["fmt"], eda["info"]["versions"][0], eda["info"]["versions"][1], crash["seconds"],
                event["epoch"] - crash["kill"], rulebook_run.received_at(event) - crash["kill"],
                first["ready"] - first["started"]))


def test_every_event_once_as_the_ground_truth(platform, eda, e2e_note):
    """Over both starts: each event the actions imply received exactly once, at its time; nothing else."""
    _fail_on(eda_judge.judge_events(eda["runs"], eda["expected"], eda["info"]["host"]))
    events = eda_judge.received_once(eda["runs"])[0]
    delays = sorted(rulebook_run.received_at(e) - e["epoch"] for e, run in
                    ((e, eda["info"]["runs"][e["run"] - 1]) for e in events) if e["epoch"] >= run["ready"])
    waits = ", ".join("%s %.1f s" % (what, seconds) for what, seconds in eda["info"]["waits"])
    e2e_note("%s %s: %d events received by %d starts of ansible-rulebook, as the ground truth; logged while the "
             "source ran, on the queue %.2f-%.2f s (median %.2f s) after the record; the capture waited: %s"
             % (platform, eda["fmt"], len(events), len(eda["runs"]), delays[0], delays[-1],
                delays[len(delays) // 2], waits))


def test_rotation_in_the_middle_loses_and_repeats_nothing(eda):
    """auditd rotated (SIGUSR1) while the source ran: events from both files, a session across it whole."""
    _fail_on(eda_judge.judge_rotation(eda["info"], eda["runs"], eda["truth"]["sessions"],
                                      eda["truth"]["auditd_rotations"]))


def test_restart_resumes_from_the_checkpoint(eda):
    """Stopped, actions, started again on the checkpoint: what happened meanwhile comes once, nothing again."""
    _fail_on(eda_judge.judge_restart(eda["info"], eda["runs"], eda["expected"]))
