# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""guest_session_info through AnsibleModule: arguments in, exit_json/fail_json out."""
from __future__ import absolute_import, division, print_function

import errno
import gzip
import os
import re
import shutil

import pytest
import yaml

from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_set
from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_info

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))

SELINUX = "sessions-selinux.log"
STATES = ("running", "stopped", "crashed", "failed", "down", "lost")
TOP_KEYS = {"changed", "sessions", "summary", "host_events", "sources", "coverage", "parse_errors"}
# what the sample log holds (see tests/fixtures/samples/README.md)
SELINUX_SESSIONS = [
    ("web01", "stopped"), ("db01", "failed"), ("db01", "down"), ("crashy", "crashed"),
    ("Win 10 Pro", "stopped"), ("mig01", "stopped"), ("db01", "running"), ("batch01", "stopped"),
]


def documented_session_keys():
    """Session keys of the table in docs/session-model.md (section "Session")."""
    with open(os.path.join(ROOT, "docs", "session-model.md")) as handle:
        text = handle.read()
    section = text.split("\n## Session\n", 1)[1].split("\n### ", 1)[0]
    keys = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            keys.update(re.findall(r"`([a-z_]+)`", line.split("|")[1]))
    assert len(keys) > 10, "could not read the session table of docs/session-model.md"
    return keys


def returned_session_keys():
    """(always, conditional) keys of sessions[] in the module's RETURN."""
    contains = yaml.safe_load(guest_session_info.RETURN)["sessions"]["contains"]
    always = set(k for k, v in contains.items() if "returned" not in v)
    return always, set(contains) - always


def test_sessions_of_sample_log(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)], "host": "testhost"})
    assert kind == "exit", result
    assert result["changed"] is False
    assert TOP_KEYS <= set(result)
    assert "auvirt_lines" not in result
    assert [(s["name"], s["state"]) for s in result["sessions"]] == SELINUX_SESSIONS
    web01 = result["sessions"][0]
    assert web01["host"] == "testhost"
    assert web01["uuid"] == web01["uuid"].lower()
    assert web01["start"] == "2024-03-11T08:00:01.124+00:00"
    assert web01["start_epoch"] == pytest.approx(1710144001.124)
    assert web01["stop_reason"] == "shutdown"
    assert web01["user"] == "root"        # uid 0 through the host's passwd
    assert web01["duration_seconds"] == pytest.approx(web01["end_epoch"] - web01["start_epoch"])
    summary = result["summary"]
    assert summary["sessions"] == len(SELINUX_SESSIONS)
    assert set(summary["states"]) == set(STATES)
    assert summary["states"]["stopped"] == 4 and summary["states"]["running"] == 1
    assert summary["hosts"] == ["testhost"]
    assert [s["path"] for s in result["sources"]] == [sample(SELINUX)]
    assert result["parse_errors"]["count"] == 0


def test_session_keys_match_model_and_return_doc(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)], "host": "testhost"})
    assert kind == "exit", result
    model = documented_session_keys()
    always, conditional = returned_session_keys()
    assert always == model, "RETURN sessions[] and docs/session-model.md disagree"
    for session in result["sessions"]:
        assert set(session) == model, session["name"]
    kind, full = run_module(guest_session_info, {"paths": [sample(SELINUX)], "host": "testhost",
                                                 "all_events": True, "proof": True, "raw": True})
    assert kind == "exit", full
    for session in full["sessions"]:
        extra = set(session) - model
        assert extra == conditional, session["name"]


def test_default_host_is_the_machine_name(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)]})
    assert kind == "exit", result
    import socket
    assert result["summary"]["hosts"] == [socket.gethostname()]


def test_check_mode_returns_the_same_and_changes_nothing(run_module, sample, tmp_path):
    log = tmp_path / "audit.log"
    shutil.copy(sample(SELINUX), str(log))
    before = (log.read_bytes(), os.stat(str(log)).st_mtime, sorted(os.listdir(str(tmp_path))))
    args = {"paths": [str(log)], "host": "testhost", "all_events": True}
    kind, normal = run_module(guest_session_info, args)
    kind_check, checked = run_module(guest_session_info, args, check_mode=True)
    assert kind == kind_check == "exit"
    assert checked["changed"] is False
    assert checked["sessions"] == normal["sessions"]
    assert checked["summary"] == normal["summary"]
    assert (log.read_bytes(), os.stat(str(log)).st_mtime, sorted(os.listdir(str(tmp_path)))) == before


def test_filters_and_views(run_module, sample):
    args = {"paths": [sample(SELINUX)], "host": "testhost"}
    kind, result = run_module(guest_session_info, dict(args, vm=["db01"]))
    assert kind == "exit", result
    assert [s["state"] for s in result["sessions"]] == ["failed", "down", "running"]

    kind, result = run_module(guest_session_info, dict(args, summary_only=True))
    assert kind == "exit", result
    assert result["sessions"] == []
    assert result["summary"]["sessions"] == len(SELINUX_SESSIONS)

    kind, result = run_module(guest_session_info, dict(args, vm=["web01"], auvirt_lines=True))
    assert kind == "exit", result
    assert len(result["auvirt_lines"]) == 1
    assert result["auvirt_lines"][0].startswith("web01 ")
    assert "Mon Mar 11 08:00 - 11:16" in result["auvirt_lines"][0]

    kind, result = run_module(guest_session_info, dict(args, vm=["web01"], all_events=True, proof=True))
    assert kind == "exit", result
    web01 = result["sessions"][0]
    assert web01["resources"] and all(r["result"] in ("success", "failed") for r in web01["resources"])
    assert web01["start_id"] in web01["proof"]


def test_time_window(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)], "host": "testhost",
                                                   "start": "2024-03-12T00:00:00+00:00"})
    assert kind == "exit", result
    # only batch01 (runs over midnight) and the db01 that never stopped reach 12 March
    assert sorted(s["name"] for s in result["sessions"]) == ["batch01", "db01"]


def test_gzip_and_rotated_default_log_set(run_module, sample, tmp_path):
    with open(sample(SELINUX), "rb") as handle:
        lines = handle.read().splitlines(True)
    half = len(lines) // 2
    with gzip.open(str(tmp_path / "audit.log.1.gz"), "wb") as handle:
        handle.writelines(lines[:half])
    (tmp_path / "audit.log").write_bytes(b"".join(lines[half:]))
    conf = tmp_path / "auditd.conf"
    conf.write_text(u"log_format = RAW\nlog_file = %s\n" % (tmp_path / "audit.log"))
    kind, split = run_module(guest_session_info, {"auditd_conf": str(conf), "host": "testhost"})
    assert kind == "exit", split
    assert [os.path.basename(s["path"]) for s in split["sources"]] == ["audit.log.1.gz", "audit.log"]
    kind, whole = run_module(guest_session_info, {"paths": [sample(SELINUX)], "host": "testhost"})
    assert [(s["name"], s["state"], s["start_id"]) for s in split["sessions"]] == \
        [(s["name"], s["state"], s["start_id"]) for s in whole["sessions"]]


def test_missing_log_fails_naming_the_path(run_module, tmp_path):
    missing = str(tmp_path / "no-such-audit.log")
    kind, result = run_module(guest_session_info, {"paths": [missing]})
    assert kind == "fail"
    assert missing in result["msg"]
    assert result["path"] == missing


def test_directory_instead_of_log_fails(run_module, tmp_path):
    kind, result = run_module(guest_session_info, {"paths": [str(tmp_path)]})
    assert kind == "fail"
    assert str(tmp_path) in result["msg"]


def test_permission_denied_mentions_become(run_module, sample, monkeypatch, tmp_path):
    locked = tmp_path / "audit.log"
    shutil.copy(sample(SELINUX), str(locked))
    real_open = open

    def deny(path, *args, **kwargs):
        if str(path) == str(locked):
            raise IOError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, *args, **kwargs)

    # tests run as root in CI, where chmod 000 does not deny anything
    monkeypatch.setattr(log_set, "open", deny, raising=False)
    kind, result = run_module(guest_session_info, {"paths": [str(locked)]})
    assert kind == "fail"
    assert str(locked) in result["msg"]
    assert "permission denied" in result["msg"].lower()
    assert "become" in result["msg"]


def test_invalid_uuid_fails(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)], "uuid": ["not-a-uuid"]})
    assert kind == "fail"
    assert "not-a-uuid" in result["msg"]


def test_invalid_start_fails(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)], "start": "the day before"})
    assert kind == "fail"
    assert "the day before" in result["msg"]


def test_unknown_option_is_rejected(run_module, sample):
    kind, result = run_module(guest_session_info, {"paths": [sample(SELINUX)], "since": "-7d"})
    assert kind == "fail"
    assert "since" in result["msg"]
