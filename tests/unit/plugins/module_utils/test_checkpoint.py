# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental runs: a run from a checkpoint returns what a full read returns."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import gzip
import os
import shutil

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint as checkpoints
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
SELINUX = os.path.join(FIXTURES, "samples", "sessions-selinux.log")
REAL = os.path.join(FIXTURES, "real-libvirt", "raw-lifecycle.log")
MIGRATION = os.path.join(FIXTURES, "samples", "migration-two-nodes.log")


def lines_of(path):
    with open(path, "rb") as handle:
        return handle.read().splitlines(True)


def result(paths, **kw):
    kw.setdefault("default_host", "hv")
    out = run(paths=paths, all_events=True, proof=True, uid_resolver={0: "root"}.get, now=1800000000, **kw)
    return out


def comparable(out):
    return {"sessions": out["sessions"], "summary": out["summary"], "host_events": out["host_events"],
            "missing": out["coverage"]["serial_gaps"]["missing_events"]}


@pytest.mark.parametrize("source", [SELINUX, REAL, MIGRATION], ids=os.path.basename)
def test_two_step_run_equals_full_read_at_every_cut(tmp_path, source):
    data = lines_of(source)
    full = comparable(result([source]))
    step = max(1, len(data) // 25)
    for cut in range(1, len(data), step):
        log = tmp_path / "audit.log"
        state = tmp_path / "state.json"
        if state.exists():
            state.unlink()
        log.write_bytes(b"".join(data[:cut]))
        first = result([str(log)], checkpoint=str(state))
        assert first["checkpoint"]["saved"] and not first["checkpoint"]["used"]
        with open(str(log), "ab") as handle:
            handle.write(b"".join(data[cut:]))
        second = result([str(log)], checkpoint=str(state))
        assert second["checkpoint"]["used"], second.get("warnings")
        assert second["sources"][0]["start_line"] == cut
        assert comparable(second) == full, "cut after line %d" % cut


@pytest.mark.parametrize("compress", [False, True])
def test_rotation_between_runs(tmp_path, compress):
    data = lines_of(SELINUX)
    cut1, cut2 = len(data) // 3, 2 * len(data) // 3
    log = tmp_path / "audit.log"
    conf = tmp_path / "auditd.conf"
    conf.write_text(u"log_file = %s\n" % log)
    state = str(tmp_path / "state.json")
    log.write_bytes(b"".join(data[:cut1]))
    result(None, auditd_conf=str(conf), checkpoint=state)
    # auditd appends, then rotates: audit.log -> audit.log.1 (maybe compressed), new audit.log
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[cut1:cut2]))
    if compress:
        with open(str(log), "rb") as src, gzip.open(str(tmp_path / "audit.log.1.gz"), "wb") as dst:
            shutil.copyfileobj(src, dst)
        log.unlink()
    else:
        os.rename(str(log), str(tmp_path / "audit.log.1"))
    log.write_bytes(b"".join(data[cut2:]))
    second = result(None, auditd_conf=str(conf), checkpoint=state)
    assert second["checkpoint"]["used"], second.get("warnings")
    assert second["checkpoint"]["resumed_at"]["line"] == cut1
    assert [os.path.basename(s["path"]) for s in second["sources"]] == [
        "audit.log.1.gz" if compress else "audit.log.1", "audit.log"]
    assert comparable(second) == comparable(result([SELINUX]))


def test_replaced_log_is_detected_and_read_in_full(tmp_path):
    data = lines_of(SELINUX)
    log = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    log.write_bytes(b"".join(data[:40]))
    result([str(log)], checkpoint=state)
    log.write_bytes(b"".join(data[20:]))  # another file in its place
    second = result([str(log)], checkpoint=state)
    assert not second["checkpoint"]["used"]
    assert "does not match" in second["warnings"][0]
    assert comparable(second) == comparable(result([str(log)]))


def test_truncated_log_is_detected(tmp_path):
    data = lines_of(SELINUX)
    log = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    log.write_bytes(b"".join(data[:60]))
    result([str(log)], checkpoint=state)
    log.write_bytes(b"".join(data[:30]))
    second = result([str(log)], checkpoint=state)
    assert not second["checkpoint"]["used"]
    assert "truncated" in second["warnings"][0]


def test_changed_host_name_forces_a_full_read(tmp_path):
    log = tmp_path / "audit.log"
    log.write_bytes(b"".join(lines_of(SELINUX)))
    state = str(tmp_path / "state.json")
    result([str(log)], checkpoint=state)
    second = result([str(log)], checkpoint=state, default_host="other")
    assert not second["checkpoint"]["used"] and "default_host" in second["warnings"][0]


def test_corrupt_checkpoint_warns_and_reads_everything(tmp_path):
    state = tmp_path / "state.json"
    state.write_text(u"{not json")
    out = result([SELINUX], checkpoint=str(state))
    assert "not valid JSON" in out["warnings"][0]
    assert comparable(out) == comparable(result([SELINUX]))
    assert checkpoints.load(str(state))["options"]["default_host"] == "hv"


def test_failed_write_keeps_previous_checkpoint(tmp_path, monkeypatch):
    log = tmp_path / "audit.log"
    data = lines_of(SELINUX)
    log.write_bytes(b"".join(data[:50]))
    state = tmp_path / "state.json"
    result([str(log)], checkpoint=str(state))
    before = state.read_text()

    def full_disk(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(checkpoints.os, "rename", full_disk)
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[50:]))
    out = result([str(log)], checkpoint=str(state))
    assert out["checkpoint"]["saved"] is False
    assert "No space left" in out["warnings"][0] and "unchanged" in out["warnings"][0]
    assert state.read_text() == before
    assert [n for n in os.listdir(str(tmp_path)) if n.startswith(".state")] == []
    assert comparable(out) == comparable(result([SELINUX]))


def test_line_being_written_is_left_for_the_next_run(tmp_path):
    data = lines_of(SELINUX)
    log = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    half = data[30][:40]
    log.write_bytes(b"".join(data[:30]) + half)
    first = result([str(log)], checkpoint=state)
    assert first["parse_errors"]["count"] == 0
    with open(str(log), "ab") as handle:
        handle.write(data[30][40:] + b"".join(data[31:]))
    second = result([str(log)], checkpoint=state)
    assert second["checkpoint"]["used"]
    assert comparable(second) == comparable(result([SELINUX]))


def test_no_write_when_asked_not_to(tmp_path):
    state = tmp_path / "state.json"
    out = run(paths=[SELINUX], checkpoint=str(state), save_checkpoint=False, default_host="hv")
    assert out["checkpoint"]["saved"] is False and not state.exists()


def test_raw_lines_come_back_after_a_checkpoint(tmp_path):
    data = lines_of(REAL)
    log = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    cut = len(data) // 2
    log.write_bytes(b"".join(data[:cut]))
    result([str(log)], checkpoint=state, raw=True)
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[cut:]))
    second = result([str(log)], checkpoint=state, raw=True)
    assert second["checkpoint"]["used"], second.get("warnings")
    full = result([REAL], raw=True)
    assert [s["raw"] for s in second["sessions"]] == [s["raw"] for s in full["sessions"]]
    assert any(s["raw"] for s in full["sessions"])


def test_asking_for_raw_lines_later_reads_everything(tmp_path):
    log = tmp_path / "audit.log"
    log.write_bytes(b"".join(lines_of(SELINUX)))
    state = str(tmp_path / "state.json")
    result([str(log)], checkpoint=state)
    second = result([str(log)], checkpoint=state, raw=True)
    assert not second["checkpoint"]["used"] and "raw" in second["warnings"][0]
    assert second["sessions"] == result([SELINUX], raw=True)["sessions"]


def test_ended_sessions_are_carried_as_text_until_their_details_are_asked_for(tmp_path, monkeypatch):
    """Three runs: the second, sessions only, neither decodes nor re-encodes ended sessions; the third
    (everything on) still returns what a full read returns."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_state

    data = lines_of(REAL)
    log = tmp_path / "audit.log"
    state = tmp_path / "state.json"
    cut1, cut2 = len(data) // 3, 2 * len(data) // 3
    log.write_bytes(b"".join(data[:cut1]))
    result([str(log)], checkpoint=str(state))
    frozen_before = [item["frozen"]["details"] for item in checkpoints.load(str(state))["engine"]["sessions"]
                     if "frozen" in item]
    assert frozen_before, "the first third of the capture has ended sessions"
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[cut1:cut2]))

    def no_details(self):
        raise AssertionError("details of an ended session decoded for %s" % self.uuid)

    with monkeypatch.context() as patch:
        patch.setattr(session_state.FrozenSession, "details", no_details)
        plain = run(paths=[str(log)], checkpoint=str(state), default_host="hv", uid_resolver={0: "root"}.get,
                    now=1800000000)
    assert plain["checkpoint"]["used"]
    partial = run(paths=[str(log)], default_host="hv", uid_resolver={0: "root"}.get, now=1800000000)
    assert plain["sessions"] == partial["sessions"] and plain["summary"] == partial["summary"]
    frozen_after = [item["frozen"]["details"] for item in checkpoints.load(str(state))["engine"]["sessions"]
                    if "frozen" in item]
    assert frozen_after[:len(frozen_before)] == frozen_before
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[cut2:]))
    third = result([str(log)], checkpoint=str(state))
    assert third["checkpoint"]["used"]
    assert comparable(third) == comparable(result([REAL]))
