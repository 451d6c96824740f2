# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults: a log that is missing, a directory, unreadable, empty, rotated
while it is read, a compressed file cut short.

What the engine promises (docs/hardening.md, "Faults"):

* a log that cannot be read fails the task with a message naming the path
  (and ``become`` when it is a permission problem); nothing is guessed;
* the files read are those named when the run starts, each read once to
  the end it had when it was opened: a rotation during the run neither
  loses a record of those files nor reads one twice (records written after
  the rotation go to a new file that the next run reads);
* a damaged compressed file is read up to the damage and reported as a
  parse error with its path.
"""
from __future__ import absolute_import, division, print_function

import errno
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest

from hardening_util import FULL, HERE, LogWriter, ROOT, SAMPLES, basic, check_result, engine, read, uuid_of

from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files, log_set, session_report
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import LogAccessError
from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_facts, guest_session_info

SELINUX = os.path.join(SAMPLES, "sessions-selinux.log")
MODULES = (guest_session_info, guest_session_facts)


def _log_error(module, kind, result, path, status):
    """guest_session_info fails naming the path; guest_session_facts (a facts module) returns empty facts
    whose status and message say why.  Returns the message."""
    if module is guest_session_info:
        assert kind == "fail" and result["path"] == path and path in result["msg"], result
        return result["msg"]
    facts = result["ansible_facts"]["virt_sessions"]
    assert kind == "exit" and facts["status"] == status and path in facts["message"], result
    assert facts["sessions"] == 0
    return facts["message"]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_missing_log(run_module, tmp_path, module):
    path = str(tmp_path / "audit.log")
    with pytest.raises(LogAccessError) as err:
        engine([path])
    assert path in str(err.value) and "no such file" in str(err.value)
    kind, result = run_module(module, {"paths": [SELINUX, path]})
    _log_error(module, kind, result, path, "no_audit_log")


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_directory_instead_of_file(run_module, tmp_path, module):
    with pytest.raises(LogAccessError) as err:
        engine([str(tmp_path)])
    assert str(tmp_path) in str(err.value) and "directory" in str(err.value)
    kind, result = run_module(module, {"paths": [str(tmp_path)]})
    assert "directory" in _log_error(module, kind, result, str(tmp_path), "unreadable")


def _deny(path):
    real_open = open

    def fake_open(name, *args, **kwargs):
        if os.path.abspath(str(name)) == os.path.abspath(path):
            raise IOError(errno.EACCES, "Permission denied", name)
        return real_open(name, *args, **kwargs)
    return fake_open


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_permission_denied_simulated(run_module, monkeypatch, tmp_path, module):
    """open() refused (simulated: the suite runs as root): the task fails naming the path and become."""
    path = str(tmp_path / "audit.log")
    shutil.copy(SELINUX, path)
    monkeypatch.setattr(log_set, "open", _deny(path), raising=False)
    with pytest.raises(LogAccessError) as err:
        engine([path])
    assert err.value.permission and path in str(err.value) and "become" in str(err.value)
    kind, result = run_module(module, {"paths": [path]})
    message = _log_error(module, kind, result, path, "permission_denied")
    assert "permission denied" in message and "become: true" in message


def _unprivileged():
    """argv prefix that runs a command as nobody, or None."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv") if hasattr(shutil, "which") else None
    if not setpriv:
        return None
    return [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _world_python():
    """A Python interpreter an unprivileged user may run, with the venv's packages on its path."""
    candidates = [sys.executable, "/usr/bin/python3"]
    for python in candidates:
        probe = subprocess.call(
            (_unprivileged() or []) + [python, "-c", "import sys"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe == 0:
            return python
    return None


def test_permission_denied_for_real(tmp_path):
    """guest_session_info run as a process by an unprivileged user on a 0600 root file."""
    prefix = _unprivileged()
    python = _world_python() if prefix is not None else None
    if prefix is None or python is None:
        pytest.skip("needs root and setpriv (to become nobody) and a Python nobody may run")
    version = "%d.%d" % sys.version_info[:2]
    probe = subprocess.check_output([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
    if probe.decode().strip() != version:
        pytest.skip("no Python %s that nobody may run" % version)
    top = tempfile.mkdtemp(prefix="virtaudit-nobody-")
    try:
        os.chmod(top, 0o755)
        farm = os.path.join(top, "farm", "ansible_collections", "virtaudit")
        os.makedirs(farm)
        os.symlink(ROOT, os.path.join(farm, "auvirt"))
        log = os.path.join(top, "audit.log")
        shutil.copy(SELINUX, log)
        os.chmod(log, 0o600)
        args = os.path.join(top, "args.json")
        with open(args, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"paths": [log], "host": "testhost", "_ansible_remote_tmp": top}}, handle)
        os.chmod(args, 0o644)
        import ansible
        site = os.path.dirname(os.path.dirname(ansible.__file__))
        env = dict(os.environ, HOME=top, PYTHONPATH=os.pathsep.join([os.path.join(top, "farm"), site]))
        proc = subprocess.Popen(prefix + [python, os.path.join(ROOT, "plugins", "modules", "guest_session_info.py"), args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=top)
        out, err = proc.communicate(timeout=120)
    finally:
        shutil.rmtree(top, True)
    assert proc.returncode == 1, (out, err)
    result = json.loads(out.decode("utf-8"))
    assert result["failed"] is True and result["path"] == log
    assert result["msg"] == ("cannot read audit log %s: permission denied (the audit logs are readable by root only: "
                             "run the task with become: true)" % log)


def test_permission_denied_on_one_rotated_file_fails_the_run(monkeypatch, tmp_path):
    """No partial answer when one file of the rotation set is unreadable."""
    for name in ("audit.log.2", "audit.log.1", "audit.log"):
        shutil.copy(SELINUX, str(tmp_path / name))
    conf = tmp_path / "auditd.conf"
    conf.write_text(u"log_file = %s\n" % (tmp_path / "audit.log"))
    denied = str(tmp_path / "audit.log.1")
    monkeypatch.setattr(log_set, "open", _deny(denied), raising=False)
    with pytest.raises(LogAccessError) as err:
        engine([], auditd_conf=str(conf))
    assert err.value.path == denied


@pytest.mark.parametrize("content", [b"", b"\n", b"\n\n\r\n"], ids=["empty", "newline", "blank-lines"])
def test_empty_log(run_module, tmp_path, content):
    path = str(tmp_path / "audit.log")
    with open(path, "wb") as handle:
        handle.write(content)
    result = engine([path], **FULL)
    check_result(result, [path])
    assert result["sessions"] == [] and result["parse_errors"]["count"] == 0
    assert result["sources"][0]["records"] == 0 and result["coverage"]["first_record"] is None
    assert result["auvirt_lines"] == []
    kind, facts = run_module(guest_session_facts, {"paths": [path], "host": "testhost"})
    assert kind == "exit" and facts["ansible_facts"]["virt_sessions"]["sessions"] == 0
    assert facts["ansible_facts"]["virt_sessions"]["last_event"] is None


def test_gzip_rotated_file_cut_short_keeps_what_is_readable(tmp_path):
    """The intact part of a damaged compressed file still counts (no exception either way)."""
    log = LogWriter()
    for number in range(1, 41):
        log.session("guest%02d" % number, uuid_of(number))
        log.noise(20)
    packed = gzip.compress(log.data())
    path = str(tmp_path / "audit.log.1.gz")
    with open(path, "wb") as handle:
        handle.write(packed[:len(packed) * 3 // 4])
    result = engine([path], **FULL)
    check_result(result, [path])
    sample = result["parse_errors"]["samples"][-1]
    assert sample["path"] == path and "ends early" in sample["reason"]
    assert len(result["sessions"]) >= 20


def test_gzip_cut_short_yields_records_before_the_damage(tmp_path):
    packed = gzip.compress(read(SELINUX))
    path = str(tmp_path / "audit.log.1.gz")
    with open(path, "wb") as handle:
        handle.write(packed[:len(packed) * 3 // 4])
    result = engine([path])
    assert result["sources"][0]["records"] > 0
    assert "web01" in [s["name"] for s in result["sessions"]]


# ------------------------------------------------------------------ rotation while reading

def _rotation_set(folder):
    """audit.log.1 and audit.log: two guests' sessions, the second spanning both files."""
    first = LogWriter(t=1767225600.0, serial=100)
    first.session("one", uuid_of(1))
    first.noise(30)
    first.session("two", uuid_of(2), stop=False)
    first.noise(30)
    second = LogWriter(t=first.t + 60, serial=first.serial)
    second.noise(30)
    second.stop("two", uuid_of(2))
    second.session("three", uuid_of(3))
    second.noise(30)
    later = LogWriter(t=second.t + 60, serial=second.serial)
    later.session("four", uuid_of(4))
    paths = [os.path.join(folder, "audit.log.1"), os.path.join(folder, "audit.log")]
    for path, log in zip(paths, (first, second)):
        with open(path, "wb") as handle:
            handle.write(log.data())
    return paths, later.data()


def _rotate(folder, new_records):
    """What auditd does: audit.log.1 -> .2, audit.log -> .1, a new audit.log."""
    os.rename(os.path.join(folder, "audit.log.1"), os.path.join(folder, "audit.log.2"))
    os.rename(os.path.join(folder, "audit.log"), os.path.join(folder, "audit.log.1"))
    with open(os.path.join(folder, "audit.log"), "wb") as handle:
        handle.write(new_records)


def _run_rotating(monkeypatch, folder, paths, new_records, after):
    """run() on ``paths``; the files rotate after ``after`` records have been read."""
    monkeypatch.setattr(log_files, "CHUNK", 512)      # stream the files in small blocks
    original = session_report.group_events
    state = {"rotated": False}

    def grouping(records, *args, **kwargs):
        def tap():
            for number, record in enumerate(records):
                if number == after and not state["rotated"]:
                    _rotate(folder, new_records)
                    state["rotated"] = True
                yield record
        return original(tap(), *args, **kwargs)

    monkeypatch.setattr(session_report, "group_events", grouping)
    result = engine(paths, **FULL)
    assert state["rotated"], "the rotation did not happen during the read"
    return result


def test_rotation_while_reading_the_live_log(monkeypatch, tmp_path):
    """Rotated while audit.log (the last file) is read: the open file is read to its end."""
    folder = str(tmp_path)
    paths, later = _rotation_set(folder)
    expected = engine(paths, **FULL)
    in_first = len([r for r in read(paths[0]).splitlines() if b"VIRT_" in r])
    result = _run_rotating(monkeypatch, folder, paths, later, after=in_first + 2)
    assert basic(result) == basic(expected)
    assert [s["records"] for s in result["sources"]] == [s["records"] for s in expected["sources"]]
    assert "four" not in [s["name"] for s in result["sessions"]]


def test_rotation_while_reading_an_older_file(monkeypatch, tmp_path):
    """Rotated while audit.log.1 is read: the old audit.log is still read (every file is opened first)."""
    folder = str(tmp_path)
    paths, later = _rotation_set(folder)
    expected = engine(paths, **FULL)
    result = _run_rotating(monkeypatch, folder, paths, later, after=2)
    assert basic(result) == basic(expected)


def test_auditd_conf_pointing_nowhere(run_module, tmp_path):
    """auditd.conf names a log that does not exist: the task fails naming that log."""
    conf = tmp_path / "auditd.conf"
    target = str(tmp_path / "nowhere" / "audit.log")
    conf.write_text(u"log_file = %s\n" % target)
    kind, result = run_module(guest_session_info, {"auditd_conf": str(conf)})
    assert kind == "fail" and result["path"] == target


def test_fifo_does_not_hang(tmp_path):
    """A named pipe given as a log (nobody writes to it): the run must end, not block for ever."""
    fifo = str(tmp_path / "audit.log")
    os.mkfifo(fifo)
    code = ("import sys; sys.path[:0] = %r\n"
            "import conftest\n"
            "from hardening_util import engine\n"
            "from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import LogAccessError\n"
            "try:\n    engine([%r])\nexcept LogAccessError as exc:\n    print('refused:', exc)\n" % ([HERE], fifo))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE)
    try:
        out, err = proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("run() blocked on a named pipe for 5 s")
    assert proc.returncode == 0, err
    assert b"refused:" in out and fifo.encode() in out
