# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whether a hypervisor records what guest session reports need: auditd, kernel auditing, libvirt's audit_level.

``audit_config(libvirt_config_paths, use_auditctl, proc_path, get_bin_path,
run_command)`` returns the result of the ``audit_config_info`` module
(which the fleet report's ``fleet_report_collect`` also returns, so that a
host is asked once).  Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import re

from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import NotRegularFile, read_regular

DEFAULT_LIBVIRT_CONFIGS = ["/etc/libvirt/libvirtd.conf", "/etc/libvirt/virtqemud.conf", "/etc/libvirt/virtlxcd.conf"]
# a libvirt .conf is a few KiB; more is not a configuration file
CONFIG_LIMIT = 1 << 20
_SETTING_RE = re.compile(r"^\s*(audit_level|audit_logging)\s*=\s*(-?\d+)\s*(?:#.*)?$")


def parse_libvirt_conf(text):
    """``{'audit_level': int|None, 'audit_logging': int|None}`` from a libvirt .conf text (last setting wins)."""
    values = {"audit_level": None, "audit_logging": None}
    for line in text.splitlines():
        match = _SETTING_RE.match(line)
        if match:
            values[match.group(1)] = int(match.group(2))
    return values


def read_libvirt_confs(paths):
    out = []
    for path in paths:
        entry = {"path": path, "exists": False, "audit_level": None, "audit_logging": None}
        if os.path.lexists(path):
            try:
                data, dummy = read_regular(path, CONFIG_LIMIT)
            except (IOError, OSError, NotRegularFile) as exc:
                entry["error"] = str(exc)
            else:
                entry["exists"] = True
                entry.update(parse_libvirt_conf(data.decode("utf-8", "replace")))
        out.append(entry)
    return out


def effective_level(confs):
    levels = [1 if c["audit_level"] is None else c["audit_level"] for c in confs if c["exists"]]
    if not levels:
        return None, None
    level = min(levels)
    return level, level != 0


def parse_auditctl_status(text):
    """``auditctl -s`` output (``enabled 1`` lines, or the old one-line ``AUDIT_STATUS: enabled=1 ...``) -> dict."""
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("AUDIT_STATUS:"):
            for item in line[len("AUDIT_STATUS:"):].split():
                key, _sep, value = item.partition("=")
                values[key] = value
            continue
        parts = line.split(None, 1)
        if len(parts) == 2:
            values[parts[0]] = parts[1].strip()
    out = {}
    for key, value in values.items():
        try:
            out[key] = int(value)
        except ValueError:
            out[key] = value
    return out


def _read_small(path):
    """Text of a small /proc or configuration file, or None when it cannot be read."""
    try:
        data, dummy = read_regular(path, CONFIG_LIMIT)
    except (IOError, OSError, NotRegularFile):
        return None
    return data.decode("utf-8", "replace")


def _process_uid(directory):
    """Effective uid of a process from its ``status``, or None."""
    text = _read_small(os.path.join(directory, "status"))
    for line in (text or "").splitlines():
        if line.startswith("Uid:"):
            values = line.split()
            if len(values) >= 3 and values[2].isdigit():
                return int(values[2])
    return None


def _why_not_auditd(directory):
    """Why the process named auditd in ``directory`` is not the audit daemon, or None when it is.

    auditd runs as root from a program named auditd.  Its program link is
    readable only by root: without it the owner alone decides.
    """
    uid = _process_uid(directory)
    if uid is None:
        return "owner unknown: its status cannot be read"
    if uid != 0:
        return "runs as uid %d, not root" % uid
    try:
        exe = os.readlink(os.path.join(directory, "exe"))
    except (IOError, OSError):
        return None
    if exe.endswith(" (deleted)"):
        exe = exe[:-len(" (deleted)")]  # the package was upgraded while it runs
    if os.path.basename(exe) != "auditd":
        return "its program is %s" % exe
    return None


def find_auditd(proc_path):
    """``(pid, rejected)``: the pid of a running auditd from the process table (or None).

    ``rejected`` lists ``{pid, reason}`` of processes named auditd that are
    not the audit daemon (another owner, another program).
    """
    try:
        names = os.listdir(proc_path)
    except OSError:
        return None, []
    rejected = []
    for name in sorted((n for n in names if n.isdigit()), key=int):
        directory = os.path.join(proc_path, name)
        comm = _read_small(os.path.join(directory, "comm"))
        if comm is None or comm.strip() != "auditd":
            continue
        reason = _why_not_auditd(directory)
        if reason is None:
            return int(name), rejected
        rejected.append({"pid": int(name), "reason": reason})
    return None, rejected


def auditd_status(proc_path, status):
    """``auditd_running``, ``auditd_pid``, ``auditd_source`` and ``auditd_rejected``.

    ``status`` is the parsed ``auditctl -s`` (empty when it was not used):
    the pid the kernel sends its records to is the audit daemon, whatever
    the process table shows; without it, the process table decides.
    """
    pid, rejected = find_auditd(proc_path)
    kernel_pid = status.get("pid")
    if isinstance(kernel_pid, int) and isinstance(status.get("enabled"), int):
        if pid is not None and pid != kernel_pid:
            rejected.append({"pid": pid, "reason": "the kernel sends audit records to pid %d" % kernel_pid
                             if kernel_pid else "the kernel has no audit daemon registered (pid 0)"})
        rejected.sort(key=lambda item: item["pid"])
        running = kernel_pid > 0
        return {"auditd_running": running, "auditd_pid": kernel_pid if running else None,
                "auditd_source": "auditctl", "auditd_rejected": rejected}
    return {"auditd_running": pid is not None, "auditd_pid": pid, "auditd_source": "proc", "auditd_rejected": rejected}


def kernel_cmdline_audit(proc_path):
    """False for ``audit=0`` on the kernel command line, True for ``audit=1``, None otherwise."""
    text = _read_small(os.path.join(proc_path, "cmdline"))
    for word in (text or "").split():
        if word == "audit=0":
            return False
        if word == "audit=1":
            return True
    return None


def audit_config(libvirt_config_paths=None, use_auditctl=True, proc_path="/proc", get_bin_path=None, run_command=None):
    """The documented result of audit_config_info (without ``changed``).

    ``get_bin_path(name)`` and ``run_command(args) -> (rc, out, err)`` are the
    AnsibleModule's; without them ``auditctl`` is not used.
    """
    if libvirt_config_paths is None:
        libvirt_config_paths = list(DEFAULT_LIBVIRT_CONFIGS)
    result = dict(audit_enabled=None, audit_enabled_source="unknown", audit_status={})
    if use_auditctl and get_bin_path is not None and run_command is not None:
        auditctl = get_bin_path("auditctl")
        if auditctl:
            rc, out, _err = run_command([auditctl, "-s"])
            if rc == 0:
                status = parse_auditctl_status(out)
                if isinstance(status.get("enabled"), int):
                    result["audit_status"] = status
                    result["audit_enabled"] = status["enabled"] in (1, 2)
                    result["audit_enabled_source"] = "auditctl"
    result.update(auditd_status(proc_path, result["audit_status"]))
    if result["audit_enabled"] is None:
        cmdline = kernel_cmdline_audit(proc_path)
        if cmdline is not None:
            result["audit_enabled"], result["audit_enabled_source"] = cmdline, "cmdline"
    confs = read_libvirt_confs(libvirt_config_paths)
    level, enabled = effective_level(confs)
    result.update(libvirt=confs, libvirt_audit_level=level, libvirt_audit_enabled=enabled)
    return result
