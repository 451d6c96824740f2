# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Ended sessions frozen while the log is read (runs without details) change nothing in the result."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_state, virt_sessions
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
LOGS = [os.path.join(FIXTURES, sub, name)
        for sub in ("samples", "real-libvirt") if os.path.isdir(os.path.join(FIXTURES, sub))
        for name in sorted(os.listdir(os.path.join(FIXTURES, sub))) if name.endswith(".log")]


def sessions_only(paths, **kw):
    out = run(paths=paths, default_host="hv", uid_resolver={0: "root"}.get, now=1800000000,
              auvirt_lines=True, **kw)
    return {key: out[key] for key in ("sessions", "summary", "host_events", "coverage", "auvirt_lines")}


@pytest.mark.parametrize("path", LOGS, ids=os.path.basename)
def test_freezing_after_every_event_gives_the_same_result(path, monkeypatch):
    monkeypatch.setattr(virt_sessions, "COMPACT_EVERY", 10 ** 9)
    kept = sessions_only([path])
    frozen = []
    original = virt_sessions.SessionEngine._compact

    def counting(self):
        before = sum(isinstance(s, session_state.FrozenSession) for s in self.sessions)
        original(self)
        frozen.append(sum(isinstance(s, session_state.FrozenSession) for s in self.sessions) - before)

    monkeypatch.setattr(virt_sessions.SessionEngine, "_compact", counting)
    monkeypatch.setattr(virt_sessions, "COMPACT_EVERY", 1)
    assert sessions_only([path]) == kept
    with_window = sessions_only([path], start="1710144030")
    monkeypatch.setattr(virt_sessions, "COMPACT_EVERY", 10 ** 9)
    assert with_window == sessions_only([path], start="1710144030")
    if os.path.basename(path) in ("raw-lifecycle.log", "sessions-selinux.log"):
        assert sum(frozen) > 0  # sessions that ended were frozen, and nothing changed


def test_frozen_sessions_reach_a_checkpoint_with_their_details(tmp_path, monkeypatch):
    """Sessions-only runs with a checkpoint keep the details as text: a later everything-on run needs them."""
    monkeypatch.setattr(virt_sessions, "COMPACT_EVERY", 1)
    real = os.path.join(FIXTURES, "real-libvirt", "raw-lifecycle.log")
    with open(real, "rb") as handle:
        data = handle.read().splitlines(True)
    log = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    log.write_bytes(b"".join(data[:len(data) // 2]))
    run(paths=[str(log)], checkpoint=state, default_host="hv", uid_resolver={0: "root"}.get, now=1800000000)
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[len(data) // 2:]))
    kw = dict(all_events=True, proof=True, default_host="hv", uid_resolver={0: "root"}.get, now=1800000000)
    second = run(paths=[str(log)], checkpoint=state, **kw)
    assert second["checkpoint"]["used"]
    assert second["sessions"] == run(paths=[real], **kw)["sessions"]


def test_details_not_kept_are_not_made_up():
    session = virt_sessions.Session("hv", "u", "web", "kvm")
    session.state = "stopped"
    frozen = session_state.FrozenSession(session_state.frozen_state(session, False))
    assert frozen.tally() == session.tally()
    with pytest.raises(AttributeError, match="not kept"):
        frozen.resources
