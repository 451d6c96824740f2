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

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_config import DEFAULT_LIBVIRT_CONFIGS, audit_config


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
    result = audit_config(params["libvirt_config_paths"], params["use_auditctl"], params["proc_path"],
                          module.get_bin_path, module.run_command)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
