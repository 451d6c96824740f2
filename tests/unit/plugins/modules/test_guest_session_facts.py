# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""guest_session_facts through AnsibleModule: ansible_facts['virt_sessions']."""
from __future__ import absolute_import, division, print_function

import errno
import shutil

import pytest
from ansible.module_utils import basic

from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_set
from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_facts, guest_session_info

SELINUX = "sessions-selinux.log"
FACT_KEYS = {"status", "message", "states", "sessions", "running", "first_event", "first_event_epoch", "last_event",
             "last_event_epoch", "avcs", "anomalies", "failed_operations", "coverage", "parse_errors",
             "sources", "collected_at"}


def test_facts_of_sample_log(run_module, sample):
    kind, result = run_module(guest_session_facts, {"paths": [sample(SELINUX)], "host": "testhost"})
    assert kind == "exit", result
    assert result["changed"] is False
    assert set(result) == {"changed", "ansible_facts"}
    facts = result["ansible_facts"]["virt_sessions"]
    assert set(facts) == FACT_KEYS
    assert facts["sessions"] == 8
    assert facts["states"] == {"running": 1, "stopped": 4, "crashed": 1, "failed": 1, "down": 1, "lost": 0}
    assert [(g["name"], g["host"], g["since"]) for g in facts["running"]] == \
        [("db01", "testhost", "2024-03-11T13:06:01.124+00:00")]
    assert facts["first_event"] == "2024-03-11T08:00:00.000+00:00"
    assert facts["last_event"] == "2024-03-12T15:33:00.000+00:00"
    assert facts["sources"] == 1
    assert facts["parse_errors"] == 0
    assert facts["coverage"]["complete"] is True
    assert (facts["status"], facts["message"]) == ("ok", None)


def test_facts_agree_with_info(run_module, sample):
    args = {"paths": [sample("apparmor.log")], "host": "testhost"}
    kind, info = run_module(guest_session_info, args)
    assert kind == "exit", info
    kind, facts = run_module(guest_session_facts, args)
    assert kind == "exit", facts
    facts = facts["ansible_facts"]["virt_sessions"]
    assert facts["states"] == info["summary"]["states"]
    assert facts["sessions"] == info["summary"]["sessions"] > 0
    assert facts["avcs"] == info["summary"]["avcs"]
    assert [g["uuid"] for g in facts["running"]] == \
        [s["uuid"] for s in info["sessions"] if s["state"] == "running"]


def test_check_mode(run_module, sample):
    args = {"paths": [sample(SELINUX)], "host": "testhost", "vm": ["crashy"]}
    kind, normal = run_module(guest_session_facts, args)
    kind_check, checked = run_module(guest_session_facts, args, check_mode=True)
    assert kind == kind_check == "exit"
    assert checked["changed"] is False
    normal = normal["ansible_facts"]["virt_sessions"]
    checked = checked["ansible_facts"]["virt_sessions"]
    normal.pop("collected_at")
    checked.pop("collected_at")
    assert checked == normal
    assert checked["states"]["crashed"] == 1 and checked["sessions"] == 1


@pytest.fixture
def warnings(monkeypatch):
    said = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: said.append(text))
    return said


def _unavailable(result, status, path, warnings):
    """Fact gathering goes on (issue: the README's facts_modules setting broke it on hosts without a log)."""
    assert "failed" not in result, result
    facts = result["ansible_facts"]["virt_sessions"]
    assert set(facts) == FACT_KEYS
    assert facts["status"] == status and path in facts["message"]
    assert facts["sessions"] == 0 and facts["running"] == [] and facts["states"]["running"] == 0
    assert facts["coverage"]["complete"] is False
    assert len(warnings) == 1 and path in warnings[0] and "facts are empty" in warnings[0]
    return facts


def test_missing_log_gives_empty_facts_naming_the_path(run_module, tmp_path, warnings):
    missing = str(tmp_path / "audit.log")
    kind, result = run_module(guest_session_facts, {"paths": [missing]})
    assert kind == "exit"
    _unavailable(result, "no_audit_log", missing, warnings)


def test_missing_default_log_names_auditd_log_file(run_module, tmp_path, warnings):
    conf = tmp_path / "auditd.conf"
    live = tmp_path / "var" / "audit.log"
    conf.write_text(u"log_file = %s\n" % live)
    kind, result = run_module(guest_session_facts, {"auditd_conf": str(conf)})
    assert kind == "exit"
    _unavailable(result, "no_audit_log", str(live), warnings)


def test_permission_denied_mentions_become(run_module, sample, monkeypatch, tmp_path, warnings):
    locked = tmp_path / "audit.log"
    shutil.copy(sample(SELINUX), str(locked))
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path) == str(locked):
            raise OSError(errno.EPERM, "Operation not permitted", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(log_set, "open", deny, raising=False)
    kind, result = run_module(guest_session_facts, {"paths": [str(locked)]})
    assert kind == "exit"
    facts = _unavailable(result, "permission_denied", str(locked), warnings)
    assert "become" in facts["message"]


def test_directory_as_log_is_unreadable(run_module, tmp_path, warnings):
    kind, result = run_module(guest_session_facts, {"paths": [str(tmp_path)]})
    assert kind == "exit"
    _unavailable(result, "unreadable", str(tmp_path), warnings)


def test_bad_options_still_fail(run_module, sample):
    kind, result = run_module(guest_session_facts, {"paths": [sample(SELINUX)], "start": "yesterday-ish"})
    assert kind == "fail" and "start" in result["msg"]
