#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: audit_config_info
short_description: Report whether a hypervisor records what guest session reports need
version_added: 0.1.0
description:
  - Tells whether C(auditd) is running, whether kernel auditing is enabled and which C(audit_level)
    the libvirt daemons are configured with - the three things that decide whether a libvirt
    hypervisor writes the guest lifecycle records that M(virtaudit.auvirt.guest_session_info) reads.
  - Kernel auditing is read from C(auditctl -s) when that works (it needs root), else from the kernel
    command line (C(audit=0) disables it); otherwise it is reported as unknown.
  - C(audit_level) is read from the libvirt daemon configuration files (C(libvirtd.conf) for the
    monolithic daemon, C(virtqemud.conf) and C(virtlxcd.conf) for the modular ones). An unset
    C(audit_level) means C(1), libvirt's default (audit when the kernel supports it); C(0) disables
    libvirt's audit records, C(2) makes them mandatory.
  - Changes nothing; standard library only, Python 3.6 and later.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.info_module
options:
  libvirt_config_paths:
    description:
      - libvirt daemon configuration files to read C(audit_level) and C(audit_logging) from.
      - Files that do not exist are reported with RV(libvirt[].exists=false); a path that is not a regular file
        (a FIFO, a device) or is larger than 1 MiB is reported with RV(libvirt[].error) and not read.
    type: list
    elements: path
    default:
      - /etc/libvirt/libvirtd.conf
      - /etc/libvirt/virtqemud.conf
      - /etc/libvirt/virtlxcd.conf
  use_auditctl:
    description:
      - Run C(auditctl -s) to read the kernel's audit status. Without root (or without C(auditctl)) the
        module falls back to the kernel command line.
    type: bool
    default: true
  proc_path:
    description:
      - Where the proc file system is mounted (the process table and C(cmdline) are read from it).
    type: path
    default: /proc
"""

EXAMPLES = r"""
- name: Check the audit configuration of the hypervisors
  virtaudit.auvirt.audit_config_info:
  become: true
  register: audit_config

- name: Fail when libvirt's audit records are switched off
  ansible.builtin.assert:
    that:
      - audit_config.auditd_running
      - audit_config.libvirt_audit_enabled is not false
    fail_msg: "{{ inventory_hostname }} does not record guest lifecycles"

- name: Only the modular daemon's configuration
  virtaudit.auvirt.audit_config_info:
    libvirt_config_paths:
      - /etc/libvirt/virtqemud.conf
    use_auditctl: false
"""

RETURN = r"""
auditd_running:
  description:
    - Whether the audit daemon runs. With C(auditctl -s) it is the process the kernel sends its audit records to
      (its C(pid)); otherwise a process named C(auditd) that runs as root from a program named C(auditd)
      (a process that only has the name is not counted, see RV(auditd_rejected)).
  returned: always
  type: bool
  sample: true
auditd_pid:
  description: Process id of C(auditd); null when it is not running.
  returned: always
  type: int
  sample: 812
auditd_source:
  description: Where RV(auditd_running) was read - C(auditctl) (the kernel's audit pid) or C(proc) (the process table).
  returned: always
  type: str
  sample: auditctl
auditd_rejected:
  description: Processes named C(auditd) that are not the audit daemon, with the reason.
  returned: always
  type: list
  elements: dict
  sample: [{pid: 4242, reason: "runs as uid 65534, not root"}]
  contains:
    pid:
      description: The process id.
      type: int
    reason:
      description: Why it is not the audit daemon.
      type: str
audit_enabled:
  description:
    - Whether the kernel audits - C(true) for C(enabled 1) or C(2) (locked), C(false) for C(enabled 0)
      or C(audit=0) on the kernel command line, null when it cannot be told.
  returned: always
  type: bool
  sample: true
audit_enabled_source:
  description: C(auditctl), C(cmdline) or C(unknown).
  returned: always
  type: str
  sample: auditctl
audit_status:
  description:
    - The C(auditctl -s) values (C(enabled), C(failure), C(pid), C(backlog_limit), C(lost), C(backlog), ...),
      as integers where they are numbers; empty when C(auditctl) was not used or failed.
  returned: always
  type: dict
  sample: {enabled: 1, failure: 1, pid: 812, backlog_limit: 8192, lost: 0, backlog: 0}
libvirt:
  description: One entry per file of O(libvirt_config_paths).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The file.
      type: str
      sample: /etc/libvirt/virtqemud.conf
    exists:
      description: Whether the file exists and could be read.
      type: bool
    audit_level:
      description: The C(audit_level) it sets; null when unset (libvirt then uses C(1)).
      type: int
      sample: 1
    audit_logging:
      description: The C(audit_logging) it sets; null when unset.
      type: int
    error:
      description: Why the file could not be read, when it exists but is unreadable.
      type: str
libvirt_audit_level:
  description:
    - The lowest effective C(audit_level) of the configuration files that exist (an unset value counts as C(1));
      null when none exists.
  returned: always
  type: int
  sample: 1
libvirt_audit_enabled:
  description: C(false) when an existing configuration file sets C(audit_level = 0); null when no file exists.
  returned: always
  type: bool
  sample: true
"""

import os
import re

from ansible.module_utils.basic import AnsibleModule
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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            libvirt_config_paths=dict(type="list", elements="path", default=list(DEFAULT_LIBVIRT_CONFIGS)),
            use_auditctl=dict(type="bool", default=True),
            proc_path=dict(type="path", default="/proc"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = dict(changed=False, audit_enabled=None, audit_enabled_source="unknown", audit_status={})
    if params["use_auditctl"]:
        auditctl = module.get_bin_path("auditctl")
        if auditctl:
            rc, out, _err = module.run_command([auditctl, "-s"])
            if rc == 0:
                status = parse_auditctl_status(out)
                if isinstance(status.get("enabled"), int):
                    result["audit_status"] = status
                    result["audit_enabled"] = status["enabled"] in (1, 2)
                    result["audit_enabled_source"] = "auditctl"
    result.update(auditd_status(params["proc_path"], result["audit_status"]))
    if result["audit_enabled"] is None:
        cmdline = kernel_cmdline_audit(params["proc_path"])
        if cmdline is not None:
            result["audit_enabled"], result["audit_enabled_source"] = cmdline, "cmdline"
    confs = read_libvirt_confs(params["libvirt_config_paths"])
    level, enabled = effective_level(confs)
    result.update(libvirt=confs, libvirt_audit_level=level, libvirt_audit_enabled=enabled)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
