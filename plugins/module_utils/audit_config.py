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

DEFAULT_LIBVIRT_CONFIGS = ["/etc/libvirt/libvirtd.conf", "/etc/libvirt/virtqemud.conf", "/etc/libvirt/virtlxcd.conf"]
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
        if os.path.exists(path):
            try:
                with open(path, "rb") as handle:
                    text = handle.read().decode("utf-8", "replace")
            except (IOError, OSError) as exc:
                entry["error"] = str(exc)
            else:
                entry["exists"] = True
                entry.update(parse_libvirt_conf(text))
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


def find_auditd(proc_path):
    """Pid of a running auditd from the process table, or None."""
    try:
        names = os.listdir(proc_path)
    except OSError:
        return None
    for name in sorted((n for n in names if n.isdigit()), key=int):
        try:
            with open(os.path.join(proc_path, name, "comm"), "rb") as handle:
                comm = handle.read().decode("utf-8", "replace").strip()
        except (IOError, OSError):
            continue
        if comm == "auditd":
            return int(name)
    return None


def kernel_cmdline_audit(proc_path):
    """False for ``audit=0`` on the kernel command line, True for ``audit=1``, None otherwise."""
    try:
        with open(os.path.join(proc_path, "cmdline"), "rb") as handle:
            words = handle.read().decode("utf-8", "replace").split()
    except (IOError, OSError):
        return None
    for word in words:
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
    pid = find_auditd(proc_path)
    result = dict(auditd_running=pid is not None, auditd_pid=pid, auditd_source="proc",
                  audit_enabled=None, audit_enabled_source="unknown", audit_status={})
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
                    if status.get("pid") and not result["auditd_running"]:
                        result["auditd_running"], result["auditd_pid"], result["auditd_source"] = True, status["pid"], "auditctl"
    if result["audit_enabled"] is None:
        cmdline = kernel_cmdline_audit(proc_path)
        if cmdline is not None:
            result["audit_enabled"], result["audit_enabled_source"] = cmdline, "cmdline"
    confs = read_libvirt_confs(libvirt_config_paths)
    level, enabled = effective_level(confs)
    result.update(libvirt=confs, libvirt_audit_level=level, libvirt_audit_enabled=enabled)
    return result
