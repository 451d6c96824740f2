# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checkpoints that must not be trusted: another user's, damaged, edited, of the wrong shape,
special files, bombs.  Each gives a warning and a full read - never an exception, never
different sessions - and the next run writes a good checkpoint again."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import hashlib
import json
import os
import threading
import zlib

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint as checkpoints
from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_state
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures")
REAL = os.path.join(FIXTURES, "real-libvirt", "raw-lifecycle.log")


def result(paths, **kw):
    return run(paths=paths, all_events=True, proof=True, default_host="hv", uid_resolver={0: "root"}.get,
               now=1800000000, **kw)


def whole(out):
    return dict((k, v) for k, v in out.items() if k not in ("checkpoint", "warnings"))


def resumed(out):
    """What a resumed run returns like a full read: all but what describes this run's own reading."""
    out = dict(whole(out), coverage=dict(out["coverage"]))
    del out["sources"]
    for key in ("first_record", "first_record_epoch", "last_record", "last_record_epoch"):
        del out["coverage"][key]
    return out


@pytest.fixture
def half_read(tmp_path):
    """A log of which the first half was read with a checkpoint, then the rest appended."""
    with open(REAL, "rb") as handle:
        data = handle.read().splitlines(True)
    log = tmp_path / "audit.log"
    state = tmp_path / "state.json"
    log.write_bytes(b"".join(data[:len(data) // 2]))
    result([str(log)], checkpoint=str(state))
    with open(str(log), "ab") as handle:
        handle.write(b"".join(data[len(data) // 2:]))
    return str(log), state, result([str(log)])


def read_parts(state):
    header, payload = state.read_bytes().split(b"\n", 1)
    return json.loads(header.decode("utf-8")), json.loads(payload.decode("utf-8"))


def write_parts(state, header, payload, checksum=True):
    data = json.dumps(payload).encode("utf-8")
    if checksum:
        header = dict(header, sha256=hashlib.sha256(data).hexdigest())
    state.write_bytes(json.dumps(header).encode("utf-8") + b"\n" + data)
    os.chmod(str(state), 0o600)


def full_read_with_warning(log, state, full, fragment):
    out = result([log], checkpoint=str(state))
    assert out["checkpoint"]["used"] is False
    assert any(fragment in warning for warning in out.get("warnings", [])), out.get("warnings")
    assert whole(out) == whole(full)
    assert out["checkpoint"]["saved"]
    again = result([log], checkpoint=str(state))  # the file written instead is trusted again
    assert again["checkpoint"]["used"] and "warnings" not in again
    assert resumed(again) == resumed(full)


def test_good_checkpoint_is_used(half_read):
    log, state, full = half_read
    out = result([log], checkpoint=str(state))
    assert out["checkpoint"]["used"] and "warnings" not in out
    assert resumed(out) == resumed(full)


def test_checkpoint_of_another_user_is_not_trusted(half_read, monkeypatch):
    """Issue: a checkpoint planted in a shared directory by another uid was used by root."""
    log, state, full = half_read
    monkeypatch.setattr(checkpoints.os, "geteuid", lambda: os.stat(str(state)).st_uid + 1)
    out = result([log], checkpoint=str(state))
    assert not out["checkpoint"]["used"] and "not to this user" in out["warnings"][0]
    assert whole(out) == whole(full)


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666])
def test_checkpoint_others_may_write_is_not_trusted(half_read, mode):
    log, state, full = half_read
    os.chmod(str(state), mode)
    full_read_with_warning(log, state, full, "may be written by other users")


def test_edited_checkpoint_is_detected(half_read):
    """Issue: a negative offset doubled the sessions without a warning."""
    log, state, full = half_read
    header, payload = read_parts(state)
    payload["position"]["offset"] = -payload["position"]["offset"]
    write_parts(state, header, payload, checksum=False)
    full_read_with_warning(log, state, full, "damaged or was edited")


@pytest.mark.parametrize("where, value, fragment", [
    (("position", "offset"), -100, "state.position.offset: expected an int >= 0, got -100"),
    (("position", "offset"), "100", "state.position.offset: expected an int >= 0, got '100'"),
    (("position", "lines"), None, "state.position.lines"),
    (("position", "head_bytes"), 1.5, "state.position.head_bytes"),
    (("options",), [], "state.options: expected an object"),
    (("engine", "hosts"), [], "state.engine.hosts: expected an object"),
    (("engine", "sessions"), {"0": 1}, "state.engine.sessions: expected a list"),
    (("engine", "unattributed"), [[1, -1, 0]], "state.engine.unattributed: expected an object"),
    (("engine", "unattributed", "counts"), [[1, -1, 0]], "state.engine.unattributed.counts[0][1]"),
    (("engine", "unattributed", "listed"), [[]], "state.engine.unattributed.listed: expected a list of 2 items"),
    (("engine", "unattributed", "listed"), [[{"host": "hv", "number": 0, "epoch": 1.0, "id": "1.000:1"}], []],
     "state.engine.unattributed.listed[0][0].number"),
    (("engine", "unattributed", "listed"), [[], [{"host": "hv", "number": 1, "id": "1.000:1"}]],
     "state.engine.unattributed.listed[1][0]: epoch is missing"),
    (("engine", "unattributed", "numbers"), {"hv": [1, -2]}, "state.engine.unattributed.numbers.hv[1]"),
    (("serials", "nodes"), [["hv", 1, 2, 3, 4]], "state.serials.nodes[0][2]: expected a string"),
    (("serials", "gaps"), [{}], "state.serials.gaps[0]"),
    (("reader", "tail"), [1], "state.reader.tail[0]"),
    (("reader", "held"), [[0, {"text": "x"}]], "state.reader.held[0][1]"),
    (("reader", "recent"), [[0, 1, None, "1.000", "5", "yes", "x"]], "state.reader.recent[0][5]"),
    (("reader", "open"), [[0, 1, -1]], "state.reader.open[0][2]"),
    (("reader", "parse_errors"), {"count": -1, "samples": []}, "state.reader.parse_errors.count"),
    (("reader", "span"), [[1, 2]], "state.reader.span: expected a list of 2 items"),
    (("grouper",), [[]], "state.grouper[0]: expected a list of at least one item"),
    (("grouper",), [[{"text": "type=X msg=audit(1.000:1): x", "source": 0, "line": 1, "previous": None}]],
     "state.grouper[0][0]: companions is missing"),
    (("serials", "firsts"), [["hv", 1, "000"]], "state.serials.firsts[0][1]: expected a string"),
    (("engine", "hosts", "hv", "boot_epoch"), "x", "state.engine.hosts.hv.boot_epoch"),
    (("engine", "virt_records"), True, "state.engine.virt_records"),
    (("written_at",), None, "state.written_at"),
    (("extra",), 1, "unexpected key 'extra'"),
])
def test_checkpoint_of_the_wrong_shape_is_not_used(half_read, where, value, fragment):
    """Issue: 13 of 26 tampered shapes (with a valid checksum) raised KeyError, TypeError, IndexError."""
    log, state, full = half_read
    header, payload = read_parts(state)
    target = payload
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    write_parts(state, header, payload)
    full_read_with_warning(log, state, full, fragment)


@pytest.mark.parametrize("change", ["session field", "open index", "resource index", "details", "details shape"])
def test_checkpoint_that_breaks_the_run_later_is_dropped(half_read, change):
    """A state of the right shape that still does not fit (an index out of range, details that do not
    decode): the run is made again from the logs alone."""
    log, state, full = half_read
    header, payload = read_parts(state)
    sessions = payload["engine"]["sessions"]
    frozen = [s["frozen"] for s in sessions if "frozen" in s]
    running = [s for s in sessions if "frozen" not in s]
    if change == "open index":
        payload["engine"]["hosts"]["hv"]["open"] = [len(sessions) + 5]
    elif change == "resource index":
        running[0]["open_resources"] = [999]
    elif change == "details":
        frozen[0]["details"] = base64.b64encode(b"not zlib").decode("ascii")
    elif change == "details shape":
        frozen[0]["details"] = base64.b64encode(zlib.compress(b'{"labels": 1}')).decode("ascii")
    else:
        frozen[0]["uuid"] = 5
    write_parts(state, header, payload)
    fragment = "state.engine.sessions" if change == "session field" else "could not be used"
    full_read_with_warning(log, state, full, fragment)


def test_zlib_bomb_in_a_checkpoint_is_bounded(half_read, monkeypatch):
    """Issue: a 1.4 MB checkpoint decoded to 2 GB.  Details decode to at most MAX_DETAILS_BYTES."""

    monkeypatch.setattr(session_state, "MAX_DETAILS_BYTES", 1 << 20)
    log, state, full = half_read
    header, payload = read_parts(state)
    frozen = [s["frozen"] for s in payload["engine"]["sessions"] if "frozen" in s]
    bomb = zlib.compressobj(9)
    text = bomb.compress(b"[" + b" " * (8 << 20)) + bomb.flush()
    frozen[0]["details"] = base64.b64encode(text).decode("ascii")
    write_parts(state, header, payload)
    full_read_with_warning(log, state, full, "decode to more than 1048576 bytes")


def test_deeply_nested_checkpoint(half_read):
    log, state, full = half_read
    header, dummy = read_parts(state)
    data = b"[" * 100000 + b"]" * 100000
    state.write_bytes(json.dumps(dict(header, sha256=hashlib.sha256(data).hexdigest())).encode("utf-8") + b"\n" + data)
    full_read_with_warning(log, state, full, "not valid JSON")


def test_oversized_checkpoint(half_read, monkeypatch):
    log, state, full = half_read
    monkeypatch.setattr(checkpoints, "MAX_BYTES", 1000)
    out = result([log], checkpoint=str(state))
    assert not out["checkpoint"]["used"] and "larger than 1000 bytes" in out["warnings"][0]
    assert whole(out) == whole(full)


def test_old_format_is_read_in_full(half_read):
    log, state, full = half_read
    dummy, payload = read_parts(state)
    state.write_text(json.dumps(dict(payload, format=checkpoints.FORMAT, version=2)))
    os.chmod(str(state), 0o600)
    full_read_with_warning(log, state, full, "not written by this version")


def test_fifo_at_the_checkpoint_path_does_not_hang(tmp_path):
    """Issue: a FIFO at `checkpoint` hung the module.  It is neither read nor replaced."""
    fifo = tmp_path / "state.json"
    os.mkfifo(str(fifo))
    outcome = {}

    def target():
        outcome["out"] = result([REAL], checkpoint=str(fifo))

    worker = threading.Thread(target=target)
    worker.daemon = True
    worker.start()
    worker.join(60)
    assert "out" in outcome, "run() blocked on a FIFO"
    out = outcome["out"]
    assert "a FIFO, not a regular file" in out["warnings"][0]
    assert "not a regular file: not written" in out["warnings"][1]
    assert out["checkpoint"] == {"path": str(fifo), "used": False, "saved": False}
    assert whole(out) == whole(result([REAL]))
    assert os.path.exists(str(fifo)) and not os.path.isfile(str(fifo))


def test_device_at_the_checkpoint_path_is_not_replaced():
    out = result([REAL], checkpoint="/dev/null")
    assert "a device, not a regular file" in out["warnings"][0]
    assert out["checkpoint"]["saved"] is False
    assert not os.path.isfile("/dev/null")


def test_details_of_all_ended_sessions_are_bounded_together(tmp_path, monkeypatch):
    """Every ended session within its own limit, all of them together beyond the checkpoint's: a full read."""
    monkeypatch.setattr(session_state, "MAX_DETAILS_BYTES", 1 << 20)
    budget = session_state.DecodeBudget(1 << 20)
    text = base64.b64encode(zlib.compress(b'{"labels": [], "resources": [], "avcs": [], "anomalies": [], "ids": ["'
                                          + b"7" * (600 << 10) + b'"], "raw": {}, "extra_events": [], "crash": null}'))
    assert session_state.decode_details(text.decode("ascii"), budget)["ids"]
    assert 0 < budget.left < 1 << 19
    with pytest.raises(session_state.StateError, match="together"):
        session_state.decode_details(text.decode("ascii"), budget)
    budget.left = 0
    with pytest.raises(session_state.StateError, match="together"):
        session_state.decode_details(text.decode("ascii"), budget)
