#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_report_collect
short_description: Collect one hypervisor's part of the fleet report into a result file on the controller
version_added: 0.1.0
description:
  - On the hypervisor, reads the audit logs with the engine of M(virtaudit.auvirt.guest_session_info) and
    checks the audit configuration like M(virtaudit.auvirt.audit_config_info) - in one run, so the host is
    contacted once.
  - It returns only what the fleet report needs - the sessions without their resources and timelines, each
    with a short summary of the evidence of its findings (AVC denials, anomalies and hot-plugged devices -
    counts, first time, up to 50 event ids), plus the summary, host events, coverage, sources, parse errors
    and the host's clock. O(all_events) adds every resource, denial, anomaly and timeline event.
  - On the controller (the action plugin), the result is checked and written once to
    C(<results_dir>/<inventory host>.json); the task returns only a few counts, so the result never passes
    through host variables. A host that cannot be reached, whose module fails or whose result is malformed
    gets a result file that says so; the task itself does not fail. Before the module runs, the file is
    replaced by one that says the collection did not finish, which stays if the task is interrupted (for
    example by its C(timeout)).
  - The role M(virtaudit.auvirt.fleet_report) runs it on every hypervisor; M(virtaudit.auvirt.fleet_report_write)
    builds the report from the result files.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.action
  - virtaudit.auvirt._attributes.log_options
attributes:
  action:
    support: full
    details:
      - The result file is written on the controller by the action plugin.
  async:
    support: none
  check_mode:
    support: full
    details:
      - Nothing changes on the hypervisor (the O(checkpoint) is not written). The result file on the controller is
        written in check mode too - the report step needs it; the reports themselves are not written.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  results_dir:
    description:
      - Directory on the controller for the result files, one per inventory host (created with mode C(0700); the
        files are C(0600)). A host's file is replaced by every run.
    type: path
    required: true
  inventory_host:
    description:
      - Name the result is filed under; defaults to the task's C(inventory_hostname).
    type: str
  run_id:
    description:
      - Identifies the run; the report step of the same run only uses results with this id.
    type: str
  window:
    description:
      - The report window this host was asked for, kept in the result file (C(start), C(end), as given).
    type: dict
    default: {}
  all_events:
    description:
      - Also return every resource, AVC, anomaly, security label and timeline event of every session (the report
        writes them to a file per host).
    type: bool
    default: false
  check_audit_config:
    description:
      - Also report whether auditd runs, whether the kernel audits and libvirt's C(audit_level), as
        M(virtaudit.auvirt.audit_config_info) does.
    type: bool
    default: true
  libvirt_config_paths:
    description:
      - libvirt daemon configuration files to read C(audit_level) from (see M(virtaudit.auvirt.audit_config_info)).
    type: list
    elements: path
    default:
      - /etc/libvirt/libvirtd.conf
      - /etc/libvirt/virtqemud.conf
      - /etc/libvirt/virtlxcd.conf
  use_auditctl:
    description:
      - Run C(auditctl -s) to read the kernel's audit status (needs root), else read the kernel command line.
    type: bool
    default: true
  proc_path:
    description:
      - Where the proc file system is mounted.
    type: path
    default: /proc
notes:
  - O(host) defaults to the inventory host name here (the action plugin sets it), not to the machine's host name.
  - Without the action plugin (for example through C(ansible -m) with a module path only) nothing is written;
    the module then just returns its result.
seealso:
  - module: virtaudit.auvirt.fleet_report_write
  - module: virtaudit.auvirt.guest_session_info
  - module: virtaudit.auvirt.audit_config_info
"""

EXAMPLES = r"""
- name: Collect this host's part of the fleet report
  virtaudit.auvirt.fleet_report_collect:
    results_dir: /srv/virtaudit/results
    start: "-7d"
  become: true
  timeout: 1800
"""

RETURN = r"""
status:
  description: C(ok), C(failed) or C(unreachable) - what the result file says about the host.
  returned: always
  type: str
  sample: ok
msg:
  description: Why the host has no usable result (status other than C(ok)).
  returned: when status is not ok
  type: str
path:
  description: The result file on the controller.
  returned: always
  type: str
  sample: /srv/virtaudit/results/hv01.json
sessions:
  description: Number of sessions in the result.
  returned: always
  type: int
  sample: 172
findings_evidence:
  description: Number of sessions that carry evidence (denials, anomalies or hot-plugs).
  returned: always
  type: int
  sample: 12
"""

import socket

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_config import DEFAULT_LIBVIRT_CONFIGS, audit_config
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import log_argument_spec, run_module


def main():
    argument_spec = log_argument_spec()
    argument_spec.update(
        results_dir=dict(type="path", required=True),
        inventory_host=dict(type="str"),
        run_id=dict(type="str"),
        window=dict(type="dict", default={}),
        all_events=dict(type="bool", default=False),
        check_audit_config=dict(type="bool", default=True),
        libvirt_config_paths=dict(type="list", elements="path", default=list(DEFAULT_LIBVIRT_CONFIGS)),
        use_auditctl=dict(type="bool", default=True),
        proc_path=dict(type="path", default="/proc"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if not params["host"]:
        params["host"] = socket.gethostname()
    result = run_module(module, all_events=params["all_events"], evidence=True)
    result["audit"] = None
    if params["check_audit_config"]:
        result["audit"] = audit_config(params["libvirt_config_paths"], params["use_auditctl"], params["proc_path"],
                                       module.get_bin_path, module.run_command)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
