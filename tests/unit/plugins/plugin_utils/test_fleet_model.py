# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Aggregation and migration stitching of the fleet model."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import json
import os
import random
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, UUID_B, demo_results, host_result, ok_fact, session  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_sessions import session_id, stitch_migrations  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_summary import stats_artifact  # noqa: E402

TARGETS = ["hv01", "hv02", "hv03", "hv04"]


def demo_fleet(**kwargs):
    facts = demo_results()
    return build_fleet(TARGETS, [facts[t] for t in TARGETS], window={"now_epoch": DAY + 86400}, **kwargs)


def test_demo_fleet_hosts_and_missing():
    fleet = demo_fleet()
    assert [h["name"] for h in fleet["hosts"]] == TARGETS
    assert [h["status"] for h in fleet["hosts"]] == ["ok", "ok", "ok", "failed"]
    assert fleet["missing_hosts"] == [{"name": "hv04", "status": "failed", "msg": "cannot read audit log /srv/hv04/audit.log: no such file"}]
    assert fleet["summary"]["hosts_reporting"] == 3 and fleet["summary"]["hosts_missing"] == 1
    by_name = dict((h["name"], h) for h in fleet["hosts"])
    assert by_name["hv02"]["states"] == {"running": 2, "stopped": 0, "crashed": 1, "failed": 0, "down": 2, "lost": 0}
    assert by_name["hv01"]["sessions"] == 4 and by_name["hv03"]["sessions"] == 3


def test_demo_fleet_sessions_carry_host_and_module_keys():
    fleet = demo_fleet()
    assert len(fleet["sessions"]) == 12
    for item in fleet["sessions"]:
        for key in ("host", "name", "uuid", "state", "start", "start_epoch", "end", "stop_reason", "label", "start_id",
                    "inventory_host", "session_id", "migrated_from", "migrated_to"):
            assert key in item
        assert item["inventory_host"] == item["host"]
    assert fleet["summary"]["states"] == {"running": 4, "stopped": 4, "crashed": 1, "failed": 1, "down": 2, "lost": 0}


def test_demo_migration_is_stitched_across_hosts():
    fleet = demo_fleet()
    assert len(fleet["migrations"]) == 1
    mig = fleet["migrations"][0]
    assert (mig["name"], mig["source_host"], mig["destination_host"]) == ("db01", "hv01", "hv02")
    # destination logs its start (Prepare) before the source logs its stop: the overlap is expected
    assert mig["started_epoch"] < mig["completed_epoch"]
    assert 0 < mig["overlap_seconds"] < 60
    sessions = dict((s["session_id"], s) for s in fleet["sessions"])
    assert sessions[mig["source_session"]]["migrated_to"] == mig["destination_session"]
    assert sessions[mig["destination_session"]]["migrated_from"] == mig["source_session"]
    guest = [g for g in fleet["guests"] if g["name"] == "db01"][0]
    assert guest["hosts"] == ["hv01", "hv02"] and guest["migrations"] == 1 and len(guest["sessions"]) == 3
    assert fleet["unmatched_migrations"] == []


def test_output_order_is_deterministic():
    facts = demo_results()
    first = build_fleet(TARGETS, [facts[t] for t in TARGETS], window={"now_epoch": DAY + 86400})
    shuffled_targets = list(TARGETS)
    random.Random(3).shuffle(shuffled_targets)
    shuffled_facts = copy.deepcopy([facts[t] for t in shuffled_targets])
    for fact in shuffled_facts:
        if fact.get("result"):
            random.Random(5).shuffle(fact["result"]["sessions"])
    second = build_fleet(shuffled_targets, shuffled_facts, window={"now_epoch": DAY + 86400})
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_results_by_dict_and_missing_inputs():
    result = host_result([session()])
    fleet = build_fleet(["a", "b", "c"], {"a": ok_fact(result), "b": {"status": "unreachable", "msg": "ssh: connection refused"}})
    statuses = dict((h["name"], (h["status"], h["msg"])) for h in fleet["hosts"])
    assert statuses["a"] == ("ok", None)
    assert statuses["b"] == ("unreachable", "ssh: connection refused")
    assert statuses["c"][0] == "missing" and "no result" in statuses["c"][1]
    assert [m["name"] for m in fleet["missing_hosts"]] == ["b", "c"]
    assert [f["host"] for f in fleet["findings"] if f["rule"] == "host_missing"] == ["b", "c"]


def test_ok_without_result_counts_as_failed():
    fleet = build_fleet(["a"], [{"status": "ok"}])
    assert fleet["hosts"][0]["status"] == "failed"


def test_duplicate_sessions_from_a_central_log_are_merged():
    s1 = session(host="hv1")
    central = host_result([s1, session(host="hv2", uuid=UUID_B, name="db01")])
    fleet = build_fleet(["hv1", "logserver"], [ok_fact(host_result([s1])), ok_fact(central)])
    assert len(fleet["sessions"]) == 2
    assert sorted((s["host"], s["inventory_host"]) for s in fleet["sessions"]) == [("hv1", "hv1"), ("hv2", "logserver")]


def test_duplicate_targets_are_listed_once():
    fleet = build_fleet(["a", "a"], [ok_fact(host_result([session(host="a")]))] * 2)
    assert len(fleet["hosts"]) == 1 and len(fleet["sessions"]) == 1


def _ids(sessions):
    for item in sessions:
        item["session_id"] = session_id(item)
    return sessions


def test_stitch_back_and_forth():
    sessions = _ids([
        session(host="a", state="stopped", start=DAY, end=DAY + 1000, stop_reason="migrated", serial=10),
        session(host="b", state="stopped", start=DAY + 990, end=DAY + 5000, start_reason="migrated", stop_reason="migrated", serial=20),
        session(host="a", state="running", start=DAY + 4995, start_reason="migrated", serial=30),
    ])
    migrations, unmatched = stitch_migrations(sessions)
    assert [(m["source_host"], m["destination_host"]) for m in migrations] == [("a", "b"), ("b", "a")]
    assert [m["overlap_seconds"] for m in migrations] == [10.0, 5.0]
    assert unmatched == []


def test_stitch_unmatched_and_same_host():
    sessions = _ids([
        # migrated away to a host outside the report
        session(host="a", state="stopped", start=DAY, end=DAY + 1000, stop_reason="migrated", serial=10),
        # arrival on the same host is not a migration partner
        session(host="a", state="running", start=DAY + 990, start_reason="migrated", serial=20),
    ])
    migrations, unmatched = stitch_migrations(sessions)
    assert migrations == []
    assert sorted(u["detail"].split(" ")[0] for u in unmatched) == ["arrived", "migrated"]


def test_stitch_respects_slack_and_failed_arrivals():
    sessions = _ids([
        session(host="a", state="stopped", start=DAY, end=DAY + 1000, stop_reason="migrated", serial=10),
        session(host="b", state="failed", start=DAY + 995, start_reason="migrated", serial=20),
        session(host="c", state="running", start=DAY + 1000 + 400, start_reason="migrated", serial=30),
    ])
    migrations, unmatched = stitch_migrations(sessions, slack=300)
    assert migrations == []
    migrations, unmatched = stitch_migrations(_ids([dict(s, migrated_to=None, migrated_from=None) for s in sessions]), slack=600)
    assert [(m["source_host"], m["destination_host"]) for m in migrations] == [("a", "c")]
    assert migrations[0]["overlap_seconds"] == -400.0


def test_stitch_picks_the_closest_arrival():
    sessions = _ids([
        session(host="a", state="stopped", start=DAY, end=DAY + 1000, stop_reason="migrated", serial=10),
        session(host="b", state="stopped", start=DAY + 500, end=DAY + 600, start_reason="migrated", serial=20),
        session(host="c", state="running", start=DAY + 998, start_reason="migrated", serial=30),
    ])
    migrations, unmatched = stitch_migrations(sessions)
    assert [m["destination_host"] for m in migrations] == ["c"]
    assert [u["host"] for u in unmatched] == ["b"]


def test_fail_on_threshold():
    fleet = build_fleet(["a"], [ok_fact(host_result([session(host="a", state="crashed", stop_reason="failed")]))], fail_on="high")
    assert fleet["summary"]["fail"] is True and fleet["summary"]["findings_at_or_above_fail_on"] == 1
    fleet = build_fleet(["a"], [ok_fact(host_result([session(host="a", state="failed")]))], fail_on="high")
    assert fleet["summary"]["fail"] is False and fleet["summary"]["max_severity"] == "medium"
    fleet = build_fleet(["a"], [ok_fact(host_result([session(host="a", state="failed")]))], fail_on="none")
    assert fleet["summary"]["fail"] is False and fleet["summary"]["fail_on"] is None
    with pytest.raises(ValueError, match="fleet_report_fail_on"):
        build_fleet(["a"], [None], fail_on="severe")


def test_guest_runtime_counts_running_sessions_to_the_window_end_or_the_newest_record():
    fleet = build_fleet(["a"], [ok_fact(host_result([session(host="a", state="running", start=DAY)]))],
                        window={"end_epoch": DAY + 7200, "now_epoch": DAY + 86400})
    assert fleet["guests"][0]["runtime_seconds"] == 7200.0
    # no window end: up to the host's newest record (DAY + 86000), not to the controller's clock
    fleet = build_fleet(["a"], [ok_fact(host_result([session(host="a", state="running", start=DAY)]))],
                        window={"now_epoch": DAY + 400 * 86400})
    assert fleet["guests"][0]["runtime_seconds"] == 86000.0


def test_stats_artifact_is_small_and_complete():
    fleet = demo_fleet(fail_on="high")
    stats = stats_artifact(fleet, ["/r/fleet_report.json", "/r/fleet_report.html"])
    assert stats["hosts"] == 4 and stats["hosts_reporting"] == 3 and stats["missing_hosts"] == ["hv04"]
    assert stats["states"]["down"] == 2 and stats["migrations"] == 1
    assert stats["failed_gate"] is True and stats["max_severity"] == "high"
    assert stats["reports"] == ["/r/fleet_report.html", "/r/fleet_report.json"]
    assert sum(stats["severities"].values()) == stats["findings"] == len(fleet["findings"])
    assert len(json.dumps(stats)) < 2000
