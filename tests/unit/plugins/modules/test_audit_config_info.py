# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""audit_config_info: libvirt .conf parsing, auditctl -s, the process table, and a run of the module."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import subprocess
import sys

import ansible_collections
from ansible_collections.virtaudit.auvirt.plugins.module_utils import audit_config as utils
from ansible_collections.virtaudit.auvirt.plugins.modules import audit_config_info as mod


def test_parse_libvirt_conf():
    text = "# audit_level = 0\naudit_level = 2\n  audit_logging=1  # copy to the libvirt log\nfoo = 3\naudit_level = 0\n"
    assert utils.parse_libvirt_conf(text) == {"audit_level": 0, "audit_logging": 1}
    assert utils.parse_libvirt_conf("#audit_level = 0\n") == {"audit_level": None, "audit_logging": None}


def test_effective_level():
    confs = [{"exists": True, "audit_level": None}, {"exists": True, "audit_level": 2}, {"exists": False, "audit_level": 0}]
    assert utils.effective_level(confs) == (1, True)
    assert utils.effective_level(confs + [{"exists": True, "audit_level": 0}]) == (0, False)
    assert utils.effective_level([{"exists": False, "audit_level": None}]) == (None, None)


def test_parse_auditctl_status_both_formats():
    new = "enabled 1\nfailure 1\npid 812\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\nbacklog_wait_time 60000\nloginuid_immutable 0 unlocked\n"
    got = utils.parse_auditctl_status(new)
    assert got["enabled"] == 1 and got["pid"] == 812 and got["loginuid_immutable"] == "0 unlocked"
    old = "AUDIT_STATUS: enabled=0 flag=1 pid=0 rate_limit=0 backlog_limit=320 lost=0 backlog=0\n"
    assert utils.parse_auditctl_status(old)["enabled"] == 0


def fake_process(proc, pid, comm, uid=0, exe=None):
    """/proc/PID of a process as the kernel shows it: comm, status (Uid line) and the exe link."""
    directory = proc / str(pid)
    directory.mkdir(parents=True)
    (directory / "comm").write_text(comm + "\n")
    if uid is not None:
        (directory / "status").write_text("Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nPid:\t%d\n"
                                          "Uid:\t%d\t%d\t%d\t%d\nGid:\t0\t0\t0\t0\n" % (comm, pid, uid, uid, uid, uid))
    if exe is not None:
        os.symlink(exe, str(directory / "exe"))


def test_process_table_and_cmdline(tmp_path):
    proc = tmp_path / "proc"
    for pid, comm in ((1, "systemd"), (812, "auditd"), (900, "auditd-helper")):
        fake_process(proc, pid, comm, exe="/usr/sbin/" + comm)
    (proc / "self").mkdir()
    (proc / "cmdline").write_text("BOOT_IMAGE=/vmlinuz ro audit=0 quiet\n")
    assert utils.find_auditd(str(proc))[0] == 812
    assert utils.kernel_cmdline_audit(str(proc)) is False
    (proc / "812" / "comm").write_text("sshd\n")
    assert utils.find_auditd(str(proc))[0] is None
    (proc / "cmdline").write_text("ro quiet\n")
    assert utils.kernel_cmdline_audit(str(proc)) is None
    assert utils.find_auditd(str(tmp_path / "nothing")) == (None, [])


def test_a_process_that_is_only_named_auditd_is_not_auditd(tmp_path):
    """Issue: a copy of sleep named auditd, run by nobody, gave auditd_running: true."""
    proc = tmp_path / "proc"
    fake_process(proc, 400, "auditd", uid=65534, exe="/tmp/x/auditd")      # run by nobody
    fake_process(proc, 401, "auditd", uid=0, exe="/usr/bin/sleep")         # root's sleep, renamed comm
    fake_process(proc, 402, "auditd", uid=None, exe="/usr/sbin/auditd")    # no status: owner unknown
    pid, rejected = utils.find_auditd(str(proc))
    assert pid is None
    assert [(item["pid"], item["reason"].split(":")[0]) for item in rejected] == [
        (400, "runs as uid 65534, not root"), (401, "its program is /usr/bin/sleep"), (402, "owner unknown")]
    # the real one: root, /usr/sbin/auditd (also after an upgrade replaced the binary)
    fake_process(proc, 812, "auditd", uid=0, exe="/usr/sbin/auditd (deleted)")
    assert utils.find_auditd(str(proc))[0] == 812


def test_the_kernels_audit_pid_decides(tmp_path):
    """auditctl -s names the daemon the kernel sends records to: it overrides the process table."""
    proc = tmp_path / "proc"
    fake_process(proc, 400, "auditd", uid=0, exe="/usr/sbin/auditd")
    running = utils.auditd_status(str(proc), {"enabled": 1, "pid": 812})
    assert running["auditd_running"] is True and running["auditd_pid"] == 812 and running["auditd_source"] == "auditctl"
    assert running["auditd_rejected"] == [{"pid": 400, "reason": "the kernel sends audit records to pid 812"}]
    stopped = utils.auditd_status(str(proc), {"enabled": 1, "pid": 0})
    assert (stopped["auditd_running"], stopped["auditd_pid"], stopped["auditd_source"]) == (False, None, "auditctl")
    fake_process(proc, 812, "auditd", uid=0, exe="/usr/sbin/auditd")
    same = utils.auditd_status(str(proc), {"enabled": 1, "pid": 812})
    assert same["auditd_rejected"] == [{"pid": 400, "reason": "the kernel sends audit records to pid 812"}]
    unknown = utils.auditd_status(str(proc), {})
    assert (unknown["auditd_running"], unknown["auditd_pid"], unknown["auditd_source"]) == (True, 400, "proc")


def run_module(args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    top = list(ansible_collections.__path__)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(p) for p in top] + sys.path))
    out = subprocess.check_output([sys.executable, mod.__file__, str(args_file)], env=env)
    return json.loads(out.decode("utf-8"))


def test_module_run(tmp_path):
    proc = tmp_path / "proc"
    fake_process(proc, 655, "auditd", exe="/sbin/auditd")
    (proc / "cmdline").write_text("ro audit=1\n")
    conf = tmp_path / "libvirtd.conf"
    conf.write_text("audit_level = 0\n")
    result = run_module({"libvirt_config_paths": [str(conf), str(tmp_path / "virtqemud.conf")], "use_auditctl": False,
                         "proc_path": str(proc), "_ansible_check_mode": True}, tmp_path)
    assert result["changed"] is False
    assert (result["auditd_running"], result["auditd_pid"], result["auditd_source"]) == (True, 655, "proc")
    assert (result["audit_enabled"], result["audit_enabled_source"]) == (True, "cmdline")
    assert result["libvirt"] == [
        {"path": str(conf), "exists": True, "audit_level": 0, "audit_logging": None},
        {"path": str(tmp_path / "virtqemud.conf"), "exists": False, "audit_level": None, "audit_logging": None},
    ]
    assert (result["libvirt_audit_level"], result["libvirt_audit_enabled"]) == (0, False)


def test_special_files_as_libvirt_configs_do_not_hang(tmp_path):
    """A FIFO would block the open, /dev/zero would never end: both are reported, not read."""
    fifo = tmp_path / "fifo.conf"
    os.mkfifo(str(fifo))
    big = tmp_path / "big.conf"
    big.write_bytes(b"#" * (utils.CONFIG_LIMIT + 1))
    confs = utils.read_libvirt_confs([str(fifo), "/dev/zero", str(big), str(tmp_path)])
    assert [c["exists"] for c in confs] == [False] * 4
    assert "a FIFO, not a regular file" in confs[0]["error"]
    assert "a device, not a regular file" in confs[1]["error"]
    assert "larger than" in confs[2]["error"]
    assert "directory" in confs[3]["error"]
