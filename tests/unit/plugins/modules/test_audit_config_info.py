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
from ansible_collections.virtaudit.auvirt.plugins.modules import audit_config_info as mod


def test_parse_libvirt_conf():
    text = "# audit_level = 0\naudit_level = 2\n  audit_logging=1  # copy to the libvirt log\nfoo = 3\naudit_level = 0\n"
    assert mod.parse_libvirt_conf(text) == {"audit_level": 0, "audit_logging": 1}
    assert mod.parse_libvirt_conf("#audit_level = 0\n") == {"audit_level": None, "audit_logging": None}


def test_effective_level():
    confs = [{"exists": True, "audit_level": None}, {"exists": True, "audit_level": 2}, {"exists": False, "audit_level": 0}]
    assert mod.effective_level(confs) == (1, True)
    assert mod.effective_level(confs + [{"exists": True, "audit_level": 0}]) == (0, False)
    assert mod.effective_level([{"exists": False, "audit_level": None}]) == (None, None)


def test_parse_auditctl_status_both_formats():
    new = "enabled 1\nfailure 1\npid 812\nrate_limit 0\nbacklog_limit 8192\nlost 0\nbacklog 0\nbacklog_wait_time 60000\nloginuid_immutable 0 unlocked\n"
    got = mod.parse_auditctl_status(new)
    assert got["enabled"] == 1 and got["pid"] == 812 and got["loginuid_immutable"] == "0 unlocked"
    old = "AUDIT_STATUS: enabled=0 flag=1 pid=0 rate_limit=0 backlog_limit=320 lost=0 backlog=0\n"
    assert mod.parse_auditctl_status(old)["enabled"] == 0


def test_process_table_and_cmdline(tmp_path):
    proc = tmp_path / "proc"
    for pid, comm in ((1, "systemd"), (812, "auditd"), (900, "auditd-helper")):
        (proc / str(pid)).mkdir(parents=True)
        (proc / str(pid) / "comm").write_text(comm + "\n")
    (proc / "self").mkdir()
    (proc / "cmdline").write_text("BOOT_IMAGE=/vmlinuz ro audit=0 quiet\n")
    assert mod.find_auditd(str(proc)) == 812
    assert mod.kernel_cmdline_audit(str(proc)) is False
    (proc / "812" / "comm").write_text("sshd\n")
    assert mod.find_auditd(str(proc)) is None
    (proc / "cmdline").write_text("ro quiet\n")
    assert mod.kernel_cmdline_audit(str(proc)) is None
    assert mod.find_auditd(str(tmp_path / "nothing")) is None


def run_module(args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    top = list(ansible_collections.__path__)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(p) for p in top] + sys.path))
    out = subprocess.check_output([sys.executable, mod.__file__, str(args_file)], env=env)
    return json.loads(out.decode("utf-8"))


def test_module_run(tmp_path):
    proc = tmp_path / "proc"
    (proc / "655").mkdir(parents=True)
    (proc / "655" / "comm").write_text("auditd\n")
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
