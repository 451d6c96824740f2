# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""guest_events under a real ansible-rulebook: a crashed guest runs a playbook within 10 seconds.

Needs ansible-rulebook (tests/requirements-eda.txt, installed by ``make eda``)
and a Java 17 runtime (``make eda`` installs Debian's openjdk-17-jre-headless
when it runs as root).  Without them the test is SKIPPED with the reason,
printed in the summary; VIRTAUDIT_REQUIRE_RULEBOOK=1 makes that a failure.
"""

from __future__ import absolute_import, division, print_function

import calendar
import glob
import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils import event_scenarios

import rulebook_run
from conftest import NOTES, skip_loudly

REACTION_LIMIT = 10.0


@pytest.fixture(scope="module")
def versions():
    try:
        java = rulebook_run.java_version()[1]
        rulebook = rulebook_run.rulebook_version()
    except rulebook_run.Unavailable as exc:
        if os.environ.get("VIRTAUDIT_REQUIRE_RULEBOOK") == "1":
            pytest.fail("ansible-rulebook cannot run: %s" % exc)
        skip_loudly("guest_events under ansible-rulebook: %s" % exc)
    return rulebook, java


def _live(host):
    host.at(time.time())
    return host


def test_crashed_guest_runs_the_playbook_within_ten_seconds(tmp_path, versions):
    g = event_scenarios.guests()
    log = event_scenarios.AuditdLog(tmp_path / "log")
    h = event_scenarios.auditgen.Host("hv01", time.time() - 600, seed=31, serial=40000)
    # history: a crash that happened before the rulebook started must not run the playbook
    h.start_guest(g["app02"])
    h.tick(60)
    event_scenarios.abend(h, g["app02"])
    h.tick(1)
    h.stop_guest(g["app02"], "crashed")
    h.noise(3)
    log.append(h.lines)
    del h.lines[:]
    with rulebook_run.RulebookRun(str(tmp_path / "rulebook"), auditd_conf=log.conf, host="hv01") as rulebook:
        ready = rulebook.wait_ready()
        _live(h).start_guest(g["web01"])
        log.append(h.lines)
        del h.lines[:]
        time.sleep(2)
        log.rotate()  # auditd rotates between the start and the crash
        caused = time.time()
        _live(h)
        event_scenarios.abend(h, g["web01"])
        h.tick(0.2)
        h.stop_guest(g["web01"], "crashed")
        log.append(h.lines)
        event, seconds = rulebook.wait_reaction("crashed", caused, timeout=REACTION_LIMIT)
        time.sleep(2)  # room for a reaction that must not come
        reactions = sorted(glob.glob(os.path.join(rulebook.reactions, "*.json")))
        output = rulebook.log()
    assert event["kind"] == "crashed" and event["name"] == "web01" and event["reason"] == "crashed"
    assert event["host"] == "hv01" and event["uuid"] == g["web01"].uuid
    assert len(event["evidence"]) == 2 and event["details"]["signal"] == 11
    assert event["meta"]["source"]["name"] == "virtaudit.auvirt.guest_events"
    assert len(reactions) == 1, reactions  # not for the crash of app02 before the start
    assert "started" in output and "web01" in output  # the print_event rule saw the start
    assert seconds <= REACTION_LIMIT
    received = calendar.timegm(time.strptime(event["meta"]["received_at"][:19], "%Y-%m-%dT%H:%M:%S")) \
        + float("0." + event["meta"]["received_at"][20:].rstrip("Z") or "0")
    NOTES.append("%s, %s: reaction to a crash (ANOM_ABEND + stop reason=crashed) in %.2f s (playbook written; "
                 "the event was on the queue after %.2f s); the source was ready %.1f s after ansible-rulebook "
                 "started" % (versions[0], versions[1], seconds, received - caused, ready - rulebook.started))


def test_command_line_entry_point_for_the_end_to_end_test(tmp_path, versions):
    g = event_scenarios.guests()
    log = event_scenarios.AuditdLog(tmp_path / "log")
    h = event_scenarios.auditgen.Host("hv01", time.time() - 60, seed=32, serial=8000)
    h.start_guest(g["db01"])
    log.append(h.lines)
    del h.lines[:]
    proc = subprocess.Popen([sys.executable, rulebook_run.__file__, "--workdir", str(tmp_path / "work"),
                             "--auditd-conf", log.conf, "--host", "hv01", "--timeout", str(REACTION_LIMIT)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout.readline().decode().strip() == "READY"
        caused = time.time()
        _live(h)
        event_scenarios.abend(h, g["db01"])
        h.stop_guest(g["db01"], "crashed")
        log.append(h.lines)
        proc.stdin.write(("%.3f\n" % caused).encode())
        proc.stdin.close()
        answer = json.loads(proc.stdout.readline().decode())
        assert proc.wait(60) == 0, answer
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert answer["event"]["kind"] == "crashed" and answer["event"]["name"] == "db01"
    assert 0 < answer["seconds"] <= REACTION_LIMIT
