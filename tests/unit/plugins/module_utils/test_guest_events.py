# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Results -> guest events (module_utils/guest_events.py): golden files and the rules of docs/events.md.

Golden files (tests/unit/golden_events/NAME.txt): one line per event,
``time kind host name reason evidence``, then ``open SESSION_ID`` for every
session still open and ``pending N``; ``#`` lines are comments.  They are
checked by hand against the logs (the scenarios' own ``expect`` lists are
checked separately, below).  VIRTAUDIT_WRITE_GOLDEN=1 rewrites them - then
read every changed line before committing.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re

import pytest

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils import event_scenarios
from ansible_collections.virtaudit.auvirt.plugins.module_utils import guest_events, session_unattributed
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
GOLDEN_DIR = os.path.join(TESTS, "unit", "golden_events")
SAMPLES = os.path.join(TESTS, "fixtures", "samples")
SAMPLE_LOGS = ("sessions-selinux", "migration-two-nodes", "anom-tail", "apparmor", "record-catalog", "lxc")
LATER = 7 * 86400.0  # "now" a week after the last record: every grace period is over
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00$")
KEYS = {"kind", "host", "name", "uuid", "session_id", "time", "epoch", "reason", "evidence", "fingerprint", "details"}


def _uid(uid):
    return {0: "root"}.get(uid)


def _result(path, host="testhost"):
    return run(paths=[path], all_events=True, default_host=host, uid_resolver=_uid)


def _derive(result, now=None):
    if now is None:
        now = result["coverage"]["last_record_epoch"] + LATER
    return guest_events.happenings(result, now=now)


def _scenario_result(tmp_path, scenario, steps=None):
    path = str(tmp_path / ("%s.log" % scenario.name))
    with open(path, "w") as handle:
        for step in scenario.steps[:steps]:
            handle.write("".join(line + "\n" for line in step.lines))
    return _result(path, host=scenario.hosts[0].name)


def _golden_text(events, open_sessions, pending, header):
    lines = ["# %s" % header, "# time kind host name reason evidence"]
    lines += [guest_events.compact(event) for event in events]
    lines += ["open %s" % sid for sid in sorted(open_sessions)]
    lines.append("pending %d" % pending)
    return "\n".join(lines) + "\n"


def _check_golden(name, text):
    path = os.path.join(GOLDEN_DIR, name + ".txt")
    if os.environ.get("VIRTAUDIT_WRITE_GOLDEN"):
        with open(path, "w") as handle:
            handle.write(text)
    with open(path) as handle:
        expected = [line for line in handle.read().splitlines() if not line.startswith("#")]
    got = [line for line in text.splitlines() if not line.startswith("#")]
    assert got == expected, "\n".join(["golden %s differs:" % path] + ["- " + line for line in expected if line not in got]
                                      + ["+ " + line for line in got if line not in expected])


@pytest.mark.parametrize("name", SAMPLE_LOGS)
def test_golden_sample_logs(name):
    events, open_sessions, pending = _derive(_result(os.path.join(SAMPLES, name + ".log")))
    _check_golden(name, _golden_text(events, open_sessions, pending,
                                     "guest events of tests/fixtures/samples/%s.log (host testhost), "
                                     "a week after its last record" % name))


@pytest.mark.parametrize("name", sorted(event_scenarios.SCENARIOS))
def test_golden_scenarios(name, tmp_path):
    scenario = event_scenarios.SCENARIOS[name]()
    events, open_sessions, pending = _derive(_scenario_result(tmp_path, scenario))
    _check_golden("scenario-" + name, _golden_text(
        events, open_sessions, pending, "guest events of scenario %s (tests/unit/plugins/module_utils/"
                                        "event_scenarios.py), a week after its last record" % name))


@pytest.mark.parametrize("name", sorted(event_scenarios.SCENARIOS))
def test_scenarios_bring_the_events_they_expect(name, tmp_path):
    scenario = event_scenarios.SCENARIOS[name]()
    events = _derive(_scenario_result(tmp_path, scenario))[0]
    got = [(e["kind"], e["host"], e["name"], e["reason"]) for e in events]
    assert sorted(got, key=str) == sorted(scenario.expected, key=str)


@pytest.mark.parametrize("name", ("sessions-selinux", "apparmor", "record-catalog"))
def test_enriched_log_gives_the_same_events(name):
    raw = _derive(_result(os.path.join(SAMPLES, name + ".log")))
    enriched = _derive(_result(os.path.join(SAMPLES, name + "-enriched.log")))
    assert [(e["fingerprint"], e["time"], e["reason"], e["evidence"]) for e in raw[0]] == \
        [(e["fingerprint"], e["time"], e["reason"], e["evidence"]) for e in enriched[0]]


def test_every_event_has_the_documented_keys():
    events = _derive(_result(os.path.join(SAMPLES, "sessions-selinux.log")))[0]
    kinds = set()
    for event in events:
        kinds.add(event["kind"])
        assert set(event) == KEYS, event
        assert event["kind"] in guest_events.KINDS
        assert ISO_RE.match(event["time"]), event
        assert abs(EventId.epoch(event["evidence"][-1]) - event["epoch"]) < 400, event
        assert event["time"] == guest_events.iso(event["epoch"])
        assert re.match(r"^[0-9a-f]{64}$", event["fingerprint"])
        assert event["evidence"] == sorted(event["evidence"], key=EventId.key)
        assert json.loads(json.dumps(event)) == event
        if event["kind"] in ("avc", "anomaly"):
            assert event["details"]["attributed"] is (event["name"] is not None)
        if event["name"] is None:
            assert event["kind"] in ("records_lost", "audit_stopped", "avc", "anomaly") and event["session_id"] is None
        else:
            assert event["session_id"].startswith("testhost/%s/" % event["uuid"])
    assert kinds == {"started", "failed_start", "stopped", "migrated_out", "crashed", "down", "avc", "anomaly",
                     "audit_stopped"}
    assert len(set(e["fingerprint"] for e in events)) == len(events)


def test_details_of_a_crash_and_a_down():
    events = _derive(_result(os.path.join(SAMPLES, "sessions-selinux.log")))[0]
    crash = [e for e in events if e["kind"] == "crashed"][0]
    assert crash["name"] == "crashy" and crash["reason"] == "failed"
    assert crash["details"]["signal"] == 11 and crash["details"]["abend_id"] == "1710147000.000:1069"
    assert crash["session_id"] == "testhost/3d9a1b7e-5c6f-4a2b-8e9d-1f0a2b3c4d5e/1710145201.124:1062"
    down = [e for e in events if e["kind"] == "down"][0]
    assert down["details"]["host_shutdown"] is True and down["details"]["boot_id"] == "1710162300.100:4213"
    assert down["time"] == "2024-03-11T13:00:00.512+00:00"


def test_fingerprint_depends_only_on_what_happened():
    one = _derive(_result(os.path.join(SAMPLES, "sessions-selinux.log")))[0]
    two = _derive(_result(os.path.join(SAMPLES, "sessions-selinux.log")), now=2e9)[0]
    assert [e["fingerprint"] for e in one] == [e["fingerprint"] for e in two]
    assert guest_events.fingerprint("started", "hv1", "x") != guest_events.fingerprint("stopped", "hv1", "x")
    assert guest_events.fingerprint("avc", "hv1", "1.000:1") != guest_events.fingerprint("avc", "hv2", "1.000:1")


def test_crash_waits_for_the_stop_record(tmp_path):
    scenario = event_scenarios.abend_only()
    result = _scenario_result(tmp_path, scenario)
    abend = [e for e in _derive(result)[0] if e["kind"] == "anomaly"][0]
    events, open_sessions, pending = guest_events.happenings(result, now=abend["epoch"] + 5)
    assert [e["kind"] for e in events] == ["started", "anomaly"]
    assert pending == 1 and len(open_sessions) == 1
    events, open_sessions, pending = guest_events.happenings(result, now=abend["epoch"] + guest_events.CRASH_GRACE)
    assert [e["kind"] for e in events] == ["started", "anomaly", "crashed"]
    assert events[-1]["reason"] == "abend" and events[-1]["time"] == abend["time"]
    assert (pending, open_sessions) == (0, {})


def test_crash_with_its_stop_record_is_certain_at_once():
    result = _result(os.path.join(SAMPLES, "anom-tail.log"))
    events = guest_events.happenings(result, now=result["coverage"]["last_record_epoch"])[0]
    assert [e["reason"] for e in events if e["kind"] == "crashed"] == ["failed", "failed"]


def test_down_waits_for_the_boot(tmp_path):
    scenario = event_scenarios.lifecycle()
    shut = [n for n, step in enumerate(scenario.steps) if step.note.startswith("the host shuts down")][0]
    result = _scenario_result(tmp_path, scenario, steps=shut + 1)
    last = result["coverage"]["last_record_epoch"]
    events, open_sessions, pending = guest_events.happenings(result, now=last + 60)
    assert "down" not in [e["kind"] for e in events]
    assert pending == 1 and [sid.split("/")[0] for sid in open_sessions] == ["hv01"]
    # a host whose records stop at the shutdown: reported a day later, without a boot
    events = guest_events.happenings(result, now=last + guest_events.DOWN_GRACE)[0]
    down = [e for e in events if e["kind"] == "down"]
    assert len(down) == 1 and down[0]["details"]["boot_id"] is None and down[0]["name"] == "cache01"


def test_gap_at_the_end_of_the_data_waits(tmp_path):
    scenario = event_scenarios.lost_and_gap()
    result = _scenario_result(tmp_path, scenario)
    gap = [e for e in _derive(result)[0] if e["kind"] == "records_lost"][0]
    assert gap["details"]["missing_events"] == 25 and gap["host"] == "hv04"
    events, dummy, pending = guest_events.happenings(result, now=gap["epoch"] + 1)
    assert "records_lost" not in [e["kind"] for e in events] and pending == 1


def test_session_whose_start_is_not_in_the_log(tmp_path):
    scenario = event_scenarios.lifecycle()
    path = str(tmp_path / "tail.log")
    lines = scenario.lines
    start = [n for n, line in enumerate(lines) if "op=stop reason=shutdown" in line][0]
    with open(path, "w") as handle:
        handle.write("".join(line + "\n" for line in lines[start:]))
    events = _derive(_result(path, host="hv01"))[0]
    stop = [e for e in events if e["kind"] == "stopped"][0]
    assert stop["name"] == "web01" and "/seen-" in stop["session_id"]
    assert "started" not in [e["kind"] for e in events if e["name"] == "web01"]


def test_unattributed_denial_is_an_event_of_no_guest(tmp_path):
    result = _scenario_result(tmp_path, event_scenarios.unattributed())
    assert result["summary"]["avcs_unattributed"] == 1
    started, avc = _derive(result)[0]
    assert (started["kind"], avc["kind"]) == ("started", "avc")
    item, = result["unattributed"]["avcs"]
    assert avc["host"] == "hv05" and avc["name"] is None and avc["uuid"] is None and avc["session_id"] is None
    assert (avc["time"], avc["epoch"], avc["evidence"]) == (item["time"], item["epoch"], [item["id"]])
    assert avc["reason"] == "denied"
    assert avc["fingerprint"] == guest_events.fingerprint("avc", "hv05", item["id"])
    assert avc["details"] == dict([(key, item[key]) for key in (
        "lsm", "result", "operation", "comm", "name", "pid", "scontext", "tcontext", "tclass", "profile", "user",
        "matched_by", "number")] + [("attributed", False)])
    assert avc["details"]["lsm"] == "selinux" and avc["details"]["number"] == 1 and avc["details"]["pid"]


def _flood_result(tmp_path, monkeypatch, count):
    monkeypatch.setattr(session_unattributed, "MAX_LISTED", 5)
    log = Log(t=1710144000.0, serial=100, node="hv9")
    for number in range(count):
        log.add("AVC", 'avc:  denied  { read } for  pid=812 comm="httpd" name="f%d" dev="dm-0" ino=4 '
                "scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file "
                "permissive=0" % number)
        log.tick(2)
    log.add("ANOM_PROMISCUOUS", "dev=eth0 prom=256 old_prom=0 auid=0 uid=0 gid=0 ses=1")
    return run(paths=[log.write(tmp_path / "audit.log")], all_events=True, default_host="hv")


def test_a_single_result_says_how_many_were_not_listed(tmp_path, monkeypatch):
    result = _flood_result(tmp_path, monkeypatch, 12)
    events = _derive(result)[0]
    assert [e["kind"] for e in events] == ["avc_flood"] + ["avc"] * 5 + ["anomaly"]
    flood = events[0]
    first = result["unattributed"]["avcs"][0]
    assert flood["host"] == "hv9" and flood["details"] == {"not_listed": 7, "first_number": None,
                                                           "last_number": None, "attributed": False}
    assert (flood["time"], flood["evidence"], flood["reason"]) == (first["time"], [first["id"]], None)
    assert [e["details"]["number"] for e in events[1:6]] == [8, 9, 10, 11, 12]
    assert events[-1]["reason"] == "ANOM_PROMISCUOUS" and events[-1]["details"]["attributed"] is False


def test_numbers_of_an_earlier_result_say_how_many_came_between(tmp_path, monkeypatch):
    result = _flood_result(tmp_path, monkeypatch, 12)
    # the last result saw 3 denials of hv9: 4 to 7 were neither listed now nor then
    events = guest_events.happenings(result, numbers={"hv9": [3, 0]})[0]
    flood, = [e for e in events if e["kind"] == "avc_flood"]
    assert flood["details"] == {"not_listed": 4, "first_number": 4, "last_number": 12, "attributed": False}
    assert flood["fingerprint"] == guest_events.fingerprint("avc_flood", "hv9", "4-12")
    # every one came since: nothing missing
    events = guest_events.happenings(result, numbers={"hv9": [9, 0]})[0]
    assert "avc_flood" not in [e["kind"] for e in events]
    # numbers of another reading (fewer logs, counted again from 1): no guess
    events = guest_events.happenings(result, numbers={"hv9": [40, 0]})[0]
    assert "avc_flood" not in [e["kind"] for e in events]
    # a host the last result had none of: all of them came since
    events = guest_events.happenings(result, numbers={})[0]
    assert [e["details"]["not_listed"] for e in events if e["kind"] == "avc_flood"] == [7]


def test_iso_and_ids():
    assert guest_events.iso(1710144001.124) == "2024-03-11T08:00:01.124+00:00"
    assert guest_events.iso(1710144001.9996) == "2024-03-11T08:00:02.000+00:00"
    assert EventId.epoch("1710144001.124:1016") == 1710144001.124
    assert EventId.epoch("junk") is None
    assert EventId.key("1710144001.124:9") < EventId.key("1710144001.124:10")
