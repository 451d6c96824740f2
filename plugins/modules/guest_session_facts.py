#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: guest_session_facts
short_description: Compact libvirt guest session facts from the Linux audit log
version_added: 0.1.0
description:
  - Reads the audit log of a libvirt hypervisor with the same engine and options as
    M(virtaudit.auvirt.guest_session_info) and sets a compact C(ansible_facts['virt_sessions']) -
    session counts per state, the guests running now, the first and last event time and whether the
    logs are complete.
  - Small enough for AWX fact storage, and usable as a facts module in C(FACTS_MODULES) with C(gather_facts).
  - As a facts module it never fails fact gathering because of the audit log - on a host that has none
    (not a hypervisor), or where it cannot be read (fact gathering without C(become); C(/var/log/audit) is
    readable by root only), it returns empty counts with RV(ansible_facts.virt_sessions.status) saying why,
    and a warning. Bad options (an invalid O(start), O(uuid), ...) still fail the task.
  - Full detail stays in M(virtaudit.auvirt.guest_session_info).
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.facts
  - virtaudit.auvirt._attributes.facts_module
  - virtaudit.auvirt._attributes.log_options
seealso:
  - module: virtaudit.auvirt.guest_session_info
"""

EXAMPLES = r"""
- name: Gather guest session facts
  virtaudit.auvirt.guest_session_facts:
  become: true

- name: Guests running now
  ansible.builtin.debug:
    msg: "{{ ansible_facts['virt_sessions']['running'] | map(attribute='name') | list }}"

# As a facts module of gather_facts (ansible.cfg):
#   [defaults]
#   facts_modules = ansible.builtin.setup, virtaudit.auvirt.guest_session_facts
- name: Gather facts with the session summary
  hosts: hypervisors
  become: true
  gather_facts: true
  module_defaults:
    virtaudit.auvirt.guest_session_facts:
      start: -1d
  tasks:
    - name: Hosts with crashed guests
      ansible.builtin.debug:
        msg: "{{ ansible_facts['virt_sessions']['states']['crashed'] }} crashed"
"""

RETURN = r"""
ansible_facts:
  description: Facts to add to C(ansible_facts).
  returned: always
  type: complex
  contains:
    virt_sessions:
      description: Compact summary of the guest sessions in the logs (or in the window).
      returned: always
      type: dict
      contains:
        status:
          description:
            - C(ok) when the logs were read; C(no_audit_log) when the log does not exist, C(permission_denied)
              when it may not be read (run with C(become)), C(unreadable) when it cannot be read otherwise (a
              directory, a device). Then every count is 0 and RV(ansible_facts.virt_sessions.message) says why.
          type: str
          sample: ok
        message:
          description: Why the logs could not be read; null when RV(ansible_facts.virt_sessions.status) is C(ok).
          type: str
          sample: null
        states:
          description: Number of sessions per state (running, stopped, crashed, failed, down, lost).
          type: dict
          sample: {running: 1, stopped: 4, crashed: 1, failed: 1, down: 1, lost: 0}
        sessions:
          description: Number of sessions.
          type: int
          sample: 8
        running:
          description: The guests running at the end of the logs - C(name), C(uuid), C(host), C(since), C(since_epoch).
          type: list
          elements: dict
          sample:
            - {name: db01, uuid: 8c2f6a71-3e4d-4b5c-9d8e-7f6a5b4c3d2e, host: hv1,
               since: "2024-03-11T13:06:01.124+00:00", since_epoch: 1710162361.124}
        first_event:
          description: Time of the first record read, ISO 8601 UTC.
          type: str
        first_event_epoch:
          description: Time of the first record read, epoch seconds.
          type: float
        last_event:
          description: Time of the last record read, ISO 8601 UTC.
          type: str
          sample: "2024-03-12T15:33:00.000+00:00"
        last_event_epoch:
          description: Time of the last record read, epoch seconds.
          type: float
        avcs:
          description: Number of AVC records attributed to sessions.
          type: int
        anomalies:
          description: Number of anomaly records attributed to sessions.
          type: int
        failed_operations:
          description: Failed starts plus failed resource operations.
          type: int
        coverage:
          description: C(complete), C(reaches_window_start), C(missing_events), C(missing_rotated_files) (a count of files).
          type: dict
        parse_errors:
          description: Number of lines that were not audit records.
          type: int
        sources:
          description: Number of files read.
          type: int
        collected_at:
          description: When the facts were collected, ISO 8601 UTC.
          type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import (
    LogAccessError,
    compact_facts,
    log_argument_spec,
    run_module,
    unavailable_facts,
)


def main():
    module = AnsibleModule(argument_spec=log_argument_spec(), supports_check_mode=True)
    try:
        facts = compact_facts(run_module(module, raise_log_errors=True))
    except LogAccessError as exc:
        # fact gathering goes on: a host without a readable audit log has no sessions to report
        module.warn("%s; virt_sessions facts are empty" % exc)
        facts = unavailable_facts(exc)
    module.exit_json(changed=False, ansible_facts={"virt_sessions": facts})


if __name__ == "__main__":
    main()
