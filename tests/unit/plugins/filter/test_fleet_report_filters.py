# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter plugin: thin wrappers, errors as AnsibleFilterError, per-host facts from registered results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtaudit.auvirt.plugins.filter import fleet_report as plugin

MODULE_RESULT = {"changed": False, "sessions": [], "summary": {"hosts": []}, "host_events": [], "sources": [],
                 "coverage": {}, "parse_errors": {"count": 0, "samples": []}, "invocation": {"module_args": {}}}
AUDIT_RESULT = {"changed": False, "failed": False, "auditd_running": True, "audit_enabled": None, "libvirt": [],
                "invocation": {"module_args": {}}}


def test_filters_are_registered():
    names = set(plugin.FilterModule().filters())
    assert names == {"fleet_report_window", "fleet_report_host", "fleet_report_model", "fleet_report_view",
                     "fleet_report_csv", "fleet_report_md", "fleet_report_stats"}


def test_host_fact_ok_keeps_only_the_result_keys():
    fact = plugin.fleet_report_host(MODULE_RESULT, AUDIT_RESULT)
    assert fact["status"] == "ok"
    assert sorted(fact["result"]) == ["coverage", "host_clock", "host_events", "parse_errors", "sessions", "sources", "summary"]
    assert fact["audit"] == {"auditd_running": True, "audit_enabled": None, "libvirt": []}
    assert plugin.fleet_report_host(MODULE_RESULT, AUDIT_RESULT, False)["audit"] is None


def test_host_fact_unreachable_failed_and_skipped():
    unreachable = {"unreachable": True, "changed": False, "msg": "Failed to connect to the host via ssh"}
    assert plugin.fleet_report_host({"skipped": True}, unreachable) == {"status": "unreachable", "msg": unreachable["msg"]}
    assert plugin.fleet_report_host(unreachable, {})["status"] == "unreachable"
    # the role registers with failed_when: false - a failure has no 'sessions'
    failed = {"changed": False, "failed": False, "msg": "cannot read audit log /x: no such file", "path": "/x"}
    assert plugin.fleet_report_host(failed, AUDIT_RESULT) == {"status": "failed", "msg": failed["msg"]}
    assert plugin.fleet_report_host({"failed": True}, {})["status"] == "failed"
    assert plugin.fleet_report_host({"skipped": True, "changed": False}, {})["status"] == "failed"
    # a failing audit_config_info does not make the host missing
    fact = plugin.fleet_report_host(MODULE_RESULT, {"failed": False, "msg": "MODULE FAILURE"})
    assert fact["status"] == "ok" and fact["audit"] is None


def test_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="fleet_report_start"):
        plugin.fleet_report_window("someday")
    with pytest.raises(AnsibleFilterError, match="unknown time zone"):
        plugin.fleet_report_window("", "", "Nowhere/Nothing")
    with pytest.raises(AnsibleFilterError, match="unknown rule"):
        plugin.fleet_report_model([None], ["a"], rules={"nope": False})
    with pytest.raises(AnsibleFilterError, match="fail_on"):
        plugin.fleet_report_model([None], ["a"], fail_on="bad")


def test_model_view_csv_stats_chain():
    window = plugin.fleet_report_window("2026-03-02", "2026-03-02", "UTC", "2026-03-03T00:00:00Z")
    assert window["module_start"] == "1772409600.000000"
    facts = [plugin.fleet_report_host(MODULE_RESULT, AUDIT_RESULT), None]
    fleet = plugin.fleet_report_model(facts, ["a", "b"], window=window, max_session_hours="2", migration_slack="60")
    assert fleet["summary"]["hosts_missing"] == 1 and fleet["generated"] == "2026-03-03T00:00:00.000+00:00"
    view = plugin.fleet_report_view(fleet, "UTC", "T")
    assert view["title"] == "T" and view["missing_hosts"][0]["name"] == "b"
    assert plugin.fleet_report_csv(fleet).startswith("host,inventory_host,name,uuid")
    assert plugin.fleet_report_stats(fleet, ["/r/x.json"])["reports"] == ["/r/x.json"]
    assert plugin.fleet_report_md("a|b") == "a\\|b"
