# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""session_evidence: the short evidence summary the fleet report gets instead of every event."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_evidence as ev
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DEMO = os.path.join(ROOT, "demo", "logs")


def demo(host, **kwargs):
    return run(paths=[os.path.join(DEMO, host + ".log")], default_host=host, now=2e9, uid_resolver={0: "root"}.get, **kwargs)


def by_name(result):
    return dict((s["name"], s) for s in result["sessions"])


def test_evidence_of_the_demo_guests():
    sessions = by_name(demo("hv01", evidence=True))
    build = sessions["build01"]["evidence"]
    assert build["avcs"]["count"] == 1 and build["avcs"]["operations"] == ["write shared-builds.img"]
    assert build["avcs"]["ids"][0].count(":") == 1 and build["avcs"]["first"].startswith("2026-03-02T08:00")
    assert build["attaches"]["count"] == 2 and build["attaches"]["kinds"] == {"dev": 2}
    assert [(a["bus"], a["value"]) for a in build["attaches"]["items"]] == [("pci", "0000:3b:00.0"), ("usb", "001.004")]
    assert sessions["web01"]["evidence"] == {}
    crashed = by_name(demo("hv02", evidence=True))["app02"]["evidence"]
    assert crashed["anomalies"]["types"] == ["ANOM_ABEND sig=11"] and crashed["anomalies"]["count"] == 1


def test_evidence_is_the_same_from_engine_items_and_from_all_events_dicts():
    for host in ("hv01", "hv02", "hv03"):
        full = demo(host, all_events=True, evidence=True)
        for item in full["sessions"]:
            again = ev.session_evidence(item["avcs"], item["anomalies"], item["resources"])
            assert again == item["evidence"], item["name"]


def test_evidence_without_all_events_is_small_and_the_sessions_are_unchanged():
    plain = demo("hv02")
    small = demo("hv02", evidence=True)
    for one, two in zip(plain["sessions"], small["sessions"]):
        evidence = two.pop("evidence")
        assert one == two
        assert len(json.dumps(evidence)) < 2000
    assert "resources" not in small["sessions"][0]


def test_caps_keep_counts_exact():
    avcs = [{"epoch": 100.0 + n, "id": "%d.000:%d" % (100 + n, n), "operation": "op%d" % (n % 30), "name": "x"} for n in range(120)]
    attaches = [{"reason": "attach", "result": "success", "kind": "disk", "value": "/d%d" % n, "opened_epoch": 5.0 + n,
                 "id": "5.000:%d" % n, "details": {}} for n in range(70)]
    attaches.append({"reason": "attach", "result": "failed", "kind": "disk", "value": "/bad", "opened_epoch": 1.0, "id": "1.000:1",
                     "details": {}})
    out = ev.session_evidence(avcs, [], attaches)
    assert out["avcs"]["count"] == 120 and len(out["avcs"]["ids"]) == ev.MAX_IDS
    assert len(out["avcs"]["operations"]) == ev.MAX_KINDS and out["avcs"]["first_epoch"] == 100.0
    assert out["attaches"]["count"] == 70 and len(out["attaches"]["items"]) == ev.MAX_ATTACHES
    assert "anomalies" not in out
