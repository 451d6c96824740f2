# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files the module reads besides the logs: a checkpoint another user planted,
a zlib bomb in a checkpoint at the shipped limits, auditd.conf in the forms
auditd itself accepts or refuses (docs/hardening.md, "Checkpoints and
auditd.conf").

The unit tests of the checkpoint trust (tests/unit/.../test_checkpoint_trust.py)
pretend to be another user (``os.geteuid`` patched) and lower the decoding
limit; here the file really belongs to another uid, and the bomb is decoded
with the limits as shipped, in a child process whose peak memory is measured.
"""
from __future__ import absolute_import, division, print_function

import base64
import hashlib
import json
import os
import subprocess
import sys
import zlib

import pytest

from hardening_util import FULL, HERE, REAL, engine, half_read

from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_set import DEFAULT_LOG_FILE, auditd_log_file
from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_info

LOG = os.path.join(REAL, "raw-lifecycle.log")
NOBODY = 65534


def _half_read(directory):
    """(log, checkpoint path, full-read result): the first half of LOG read with a checkpoint, the rest appended."""
    return half_read(directory, LOG)


def _parts(state):
    with open(state, "rb") as handle:
        header, payload = handle.read().split(b"\n", 1)
    return json.loads(header.decode("utf-8")), json.loads(payload.decode("utf-8"))


def _write(state, header, payload):
    """Write a checkpoint whose checksum fits: what its owner could write."""
    text = json.dumps(payload).encode("utf-8")
    header = dict(header, sha256=hashlib.sha256(text).hexdigest())
    with open(state, "wb") as handle:
        handle.write(json.dumps(header).encode("utf-8") + b"\n" + text)
    os.chmod(state, 0o600)


def _whole(result):
    return dict((k, v) for k, v in result.items() if k not in ("checkpoint", "warnings"))


def _forge(state):
    """Rename the first (ended) session of the checkpoint to 'forged-guest', checksum made to fit."""
    header, payload = _parts(state)
    first = payload["engine"]["sessions"][0]
    (first.get("frozen") or first)["name"] = "forged-guest"
    _write(state, header, payload)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the checkpoint must really belong to another uid")
def test_a_checkpoint_planted_by_another_user_is_refused(tmp_path):
    """Issue 12 (3): in a shared sticky directory a checkpoint of another uid was used by root and a forged
    guest came back in the result.  Now: a warning, a full read, and the file replaced by one of this user."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o1777)
    log, state, full = _half_read(str(shared))
    _forge(state)
    # the owner's own forged file is used (the checksum is no secret): the test can tell trust from refusal
    with open(state, "rb") as handle:
        forged = handle.read()
    trusted = engine([log], checkpoint=state, save_checkpoint=False, **FULL)
    assert trusted["checkpoint"]["used"]
    assert "forged-guest" in [s["name"] for s in trusted["sessions"]]
    with open(state, "wb") as handle:
        handle.write(forged)
    os.chown(state, NOBODY, NOBODY)
    out = engine([log], checkpoint=state, **FULL)
    assert out["checkpoint"]["used"] is False
    assert any("belongs to uid %d, not to this user" % NOBODY in w for w in out.get("warnings", [])), out.get("warnings")
    assert "forged-guest" not in [s["name"] for s in out["sessions"]]
    assert _whole(out) == _whole(full)
    info = os.stat(state)
    assert out["checkpoint"]["saved"] and info.st_uid == os.geteuid() and info.st_mode & 0o777 == 0o600
    assert engine([log], checkpoint=state, **FULL)["checkpoint"]["used"]  # the file written instead is trusted


def test_a_symlink_at_the_checkpoint_path_is_replaced_not_written_through(tmp_path):
    """A link planted at the checkpoint path to a file of this user: read as a checkpoint (it is none: a warning,
    a full read), then replaced by the new checkpoint - the file it pointed to is never written."""
    precious = tmp_path / "precious.conf"
    precious.write_bytes(b"keep me\n")
    os.chmod(str(precious), 0o644)
    link = tmp_path / "state.json"
    os.symlink(str(precious), str(link))
    out = engine([LOG], checkpoint=str(link), **FULL)
    assert out["checkpoint"]["used"] is False and out.get("warnings"), out["checkpoint"]
    assert _whole(out) == _whole(engine([LOG], **FULL))
    assert precious.read_bytes() == b"keep me\n"
    assert out["checkpoint"]["saved"] and not os.path.islink(str(link)) and os.path.isfile(str(link))


_BOMB_CHILD = r"""
import json, sys
sys.path[:0] = [%(here)r]
import conftest
from hardening_util import FULL, engine, peak_rss_kib
out = engine([%(log)r], checkpoint=%(state)r, save_checkpoint=False, **FULL)
print(json.dumps({"peak_rss_kib": peak_rss_kib(),
                  "used": out["checkpoint"]["used"], "warnings": out.get("warnings", []),
                  "sessions": len(out["sessions"])}))
"""

# the interpreter with the collection loaded and a full read of the log are about 40 MiB; one session's details
# are decoded to at most MAX_DETAILS_BYTES (64 MiB), which the decompressor's output buffer holds more than once
# for a moment (measured: 165-265 MiB whatever the size of the bomb); before the bound a 1.4 MB checkpoint took 2 GB
BOMB_PEAK_MIB = 384


def _bomb(size, head=b"[", tail=b""):
    """base64 of a zlib stream of ``head``, ``size`` bytes of 'A' and ``tail``: about size/1000 bytes."""
    deflate = zlib.compressobj(9)
    chunk = b"A" * (16 << 20)
    parts = [deflate.compress(head)]
    for dummy in range(size // len(chunk)):
        parts.append(deflate.compress(chunk))
    parts.append(deflate.compress(tail))
    parts.append(deflate.flush())
    return base64.b64encode(b"".join(parts)).decode("ascii")


def _run_bomb(log, state):
    """Read ``log`` with the checkpoint ``state`` in a child process: its report, with its peak RSS (KiB)."""
    code = _BOMB_CHILD % {"here": HERE, "log": log, "state": state}
    proc = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE,
                          timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")[-3000:]
    report = json.loads(proc.stdout.decode("utf-8").strip().splitlines()[-1])
    print("bounded-input: checkpoint zlib bomb %.1f MB -> %s" % (os.path.getsize(state) / 1e6, json.dumps(report)))
    return report


def test_a_zlib_bomb_in_a_checkpoint_is_bounded_at_the_shipped_limits(tmp_path):
    """Issue 12 (3): a checkpoint of about 2 MB whose details inflate to 1.5 GB: refused at the decoding limit
    (a warning, a full read) with the limits as shipped; peak RSS measured in a child process."""
    log, state, full = _half_read(str(tmp_path))
    header, payload = _parts(state)
    frozen = [s["frozen"] for s in payload["engine"]["sessions"] if "frozen" in s]
    frozen[0]["details"] = _bomb(1536 << 20)
    _write(state, header, payload)
    assert 1 << 20 < os.path.getsize(state) < 3 << 20
    report = _run_bomb(log, state)
    assert report["used"] is False and any("decode to more than" in w for w in report["warnings"]), report
    assert report["sessions"] == len(full["sessions"])
    assert report["peak_rss_kib"] < BOMB_PEAK_MIB * 1024


def test_zlib_bombs_of_the_right_shape_in_every_ended_session_are_bounded(tmp_path):
    """The owner's checkpoint (checksum fitted) whose ended sessions each carry details of the right shape that
    inflate to 60 MB (one id of 60 MB): what the whole checkpoint may decode to must be bounded too."""
    log, state, full = _half_read(str(tmp_path))
    header, payload = _parts(state)
    frozen = [s["frozen"] for s in payload["engine"]["sessions"] if "frozen" in s]
    assert len(frozen) >= 8
    details = _bomb(60 << 20, b'{"labels": [], "resources": [], "avcs": [], "anomalies": [], "ids": ["',
                    b'"], "raw": {}, "extra_events": [], "crash": null}')
    for item in frozen:
        item["details"] = details
    _write(state, header, payload)
    assert os.path.getsize(state) < 1 << 20
    report = _run_bomb(log, state)
    assert report["used"] is False and any("decode to more than" in w and "together" in w
                                           for w in report["warnings"]), report
    assert report["sessions"] == len(full["sessions"])
    assert report["peak_rss_kib"] < BOMB_PEAK_MIB * 1024


# ------------------------------------------------------------------ auditd.conf

@pytest.mark.parametrize("text, expected", [
    (b"log_file = /srv/audit/a.log\n", "/srv/audit/a.log"),
    (b"# log_file = /nowhere/x.log\nlog_file = /srv/audit/a.log\n", "/srv/audit/a.log"),
    (b"   # log_file = /nowhere/x.log\nlog_file = /srv/audit/a.log\n", "/srv/audit/a.log"),
    (b"log_format = ENRICHED\r\nlog_file = /srv/audit/a.log\r\nnum_logs = 5\r\n", "/srv/audit/a.log"),
    (b"\tlog_file\t=\t/srv/audit/a.log\t\n", "/srv/audit/a.log"),
    (b"\xff\xfe\x00junk\nno equal sign here\n\x00\nlog_file = /srv/audit/a.log\n", "/srv/audit/a.log"),
    (b"", DEFAULT_LOG_FILE),
    (b"num_logs = 5\nmax_log_file = 8\n", DEFAULT_LOG_FILE),
    (b"log_file =\n", DEFAULT_LOG_FILE),
    (b"log_file = \n", DEFAULT_LOG_FILE),
    (b"\x00" * 4096, DEFAULT_LOG_FILE),
    (b"LOG_FILE = /srv/audit/a.log\n", "/srv/audit/a.log"),
    (b"log_file = /var/log/audit/audit.log\nlog_file = /srv/audit/a.log\n", "/srv/audit/a.log"),
    (b"log_file = /srv/audit/a.log\nlog_file =\n", "/srv/audit/a.log"),
], ids=["plain", "comment", "indented-comment", "crlf", "tabs", "binary-junk-around", "empty", "no-log_file",
        "empty-value", "blank-value", "nul-bytes", "keyword-in-capitals", "log_file-twice-the-last-wins",
        "a-later-empty-log_file-changes-nothing"])
def test_auditd_conf_forms(tmp_path, text, expected):
    conf = tmp_path / "auditd.conf"
    conf.write_bytes(text)
    assert auditd_log_file(str(conf)) == expected


def test_auditd_conf_larger_than_its_limit_fails_naming_it(run_module, tmp_path):
    """An auditd.conf of more than 1 MiB (a log given by mistake, a runaway file) is not read whole:
    the task fails naming it."""
    conf = tmp_path / "auditd.conf"
    with open(str(conf), "wb") as handle:
        handle.write(b"# padding\n" * ((1 << 20) // 10 + 1))
        handle.write(b"log_file = /srv/audit/a.log\n")
    with pytest.raises(ValueError) as exc:
        auditd_log_file(str(conf))
    assert str(conf) in str(exc.value) and "larger than" in str(exc.value)
    kind, result = run_module(guest_session_info, {"auditd_conf": str(conf)})
    assert kind == "fail" and str(conf) in result["msg"] and "larger than" in result["msg"], result


# ------------------------------------------------------------------ concurrent runs

_CONCURRENT_CHILD = r"""
import json, sys
sys.path[:0] = [%(here)r]
import conftest
from hardening_util import FULL, engine
out = engine([%(log)r], checkpoint=%(state)r, **FULL)
print(json.dumps({"used": out["checkpoint"]["used"], "saved": out["checkpoint"]["saved"],
                  "warnings": out.get("warnings", []), "sessions": out["sessions"], "summary": out["summary"]}))
"""


def test_concurrent_runs_on_one_checkpoint_lose_nothing(tmp_path):
    """Issue 12 (what held): four runs started together on one checkpoint (a timer and a manual run, say) each
    return the sessions of a full read, and the checkpoint left behind is whole and gives them again."""
    log, state, full = _half_read(str(tmp_path))
    code = _CONCURRENT_CHILD % {"here": HERE, "log": log, "state": state}
    children = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 cwd=HERE) for dummy in range(4)]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err.decode("utf-8", "replace")[-3000:]
        report = json.loads(out.decode("utf-8").strip().splitlines()[-1])
        assert report["sessions"] == full["sessions"] and report["summary"] == full["summary"], report["warnings"]
        assert report["saved"], report["warnings"]
    assert [name for name in os.listdir(str(tmp_path)) if name.endswith(".tmp")] == []  # no temporary file left
    again = engine([log], checkpoint=state, **FULL)
    assert again["checkpoint"]["used"] and "warnings" not in again
    assert again["sessions"] == full["sessions"] and again["summary"] == full["summary"]


# ------------------------------------------------------------------ names that look like templates

_PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Read the log
      virtaudit.auvirt.guest_session_info:
        paths: [%(log)s]
        auvirt_lines: true
      register: read
    - name: Use the names in a task argument and in a template expression
      ansible.builtin.copy:
        content: "{{ read.sessions | map(attribute='name') | join('\\n') }}\\n{{ read.auvirt_lines | join('\\n') }}\\n"
        dest: %(out)s
        mode: "0600"
    - name: Show one
      ansible.builtin.debug:
        msg: "{{ read.sessions[0].name }}"
"""


def test_guest_names_that_look_like_templates_are_never_rendered_on_the_controller(tmp_path):
    """Issue 12 (what held): a guest named like a Jinja expression comes back as text through ansible-playbook - in
    the registered result, in a task argument built from it and in debug output; nothing is run on the controller.
    (ansible-core of the test environment; the issue tried 2.16 and 2.19.)"""
    import ansible_collections
    from hardening_util import LogWriter, uuid_of
    marker = tmp_path / "rendered"
    names = ["{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % marker, "{%% if True %%}x{%% endif %%}",
             "{{ 7 * 7 }}"]
    writer = LogWriter()
    for number, name in enumerate(names):
        writer.session(name, uuid_of(number + 1), pid=4000 + number)
    log = tmp_path / "audit.log"
    log.write_bytes(writer.data())
    out = tmp_path / "names.txt"
    playbook = tmp_path / "play.yml"
    playbook.write_text(_PLAYBOOK % {"log": json.dumps(str(log)), "out": json.dumps(str(out))})
    top = os.path.dirname(list(ansible_collections.__path__)[0])
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=top, ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    playbook_bin = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
    proc = subprocess.run([playbook_bin, "-i", "localhost,", "-c", "local", "-e",
                           "ansible_python_interpreter=%s" % sys.executable, str(playbook)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=300, check=False)
    text = proc.stdout.decode("utf-8", "replace")
    assert proc.returncode == 0, text[-4000:]
    assert not marker.exists(), "a guest name was rendered as a template on the controller"
    written = out.read_text()
    for name in names:
        assert name in written.splitlines()
    assert "49" not in written.split()
    assert names[0] in text or json.dumps(names[0])[1:-1] in text  # debug shows it as text
