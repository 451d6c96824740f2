#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: guest_session_info
short_description: Reconstruct libvirt guest sessions from the Linux audit log
version_added: 0.1.0
description:
  - Reads the audit log of a libvirt hypervisor (the records libvirt writes for every guest start, stop,
    resource and security label, and the kernel's AVC denials, anomalies, shutdowns and boots) and returns
    one entry per guest session - what the removed C(auvirt) tool of audit-userspace reported, without its
    errors.
  - Sessions are tracked per host (C(node=)) and guest UUID, with their state (running, stopped, crashed,
    failed, down when the host went down under them, lost when the guest was started again while the
    previous session never ended), start and stop reasons, and with O(all_events) every resource, AVC
    and anomaly that belongs to them.
  - The log is streamed; memory does not grow with its size. Lines that are not audit records are
    counted and sampled in RV(parse_errors), never fatal.
  - Standard library only on the managed node; works with Python 3.6 and later.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.info_module
  - virtaudit.auvirt._attributes.log_options
options:
  all_events:
    description:
      - Return, per session, the resources (disks, NICs, host devices, cgroup device ACLs, memory, vCPUs, ...)
        with when they were assigned and released, the attributed AVC denials and anomalies, the security
        labels, and an C(events) timeline.
    type: bool
    default: false
  proof:
    description:
      - Return, per session, the ids (C(SECONDS.MILLIS:SERIAL)) of every audit event the session was built from.
    type: bool
    default: false
  raw:
    description:
      - With O(proof), also return the raw log lines of those events.
    type: bool
    default: false
  summary_only:
    description:
      - Return only RV(summary), RV(host_events), RV(sources), RV(coverage) and RV(parse_errors); RV(sessions)
        is empty.
    type: bool
    default: false
  auvirt_lines:
    description:
      - Also return the sessions as C(auvirt)-style text lines (same columns and layout as C(auvirt) for the
        options given, in UTC, without its truncation bugs). See C(docs/auvirt-differences.md).
    type: bool
    default: false
  show_uuid:
    description:
      - With O(auvirt_lines), add the UUID column (C(auvirt --show-uuid)).
    type: bool
    default: false
  show_host:
    description:
      - With O(auvirt_lines), add a host column after the guest name, which C(auvirt) never had - so that the same
        guest on two hosts (a migration, logs of several nodes in one file) can be told apart.
      - V(never) is C(auvirt)'s layout; V(auto) adds the column when the sessions come from more than one host;
        V(always) adds it anyway.
    type: str
    choices: [never, auto, always]
    default: never
notes:
  - libvirt records the libvirt daemon as the actor of every guest operation, never the client that asked for
    it, so RV(sessions[].user) is the daemon's user (normally C(root)).
  - Times are UTC; convert them on the controller.
seealso:
  - module: virtaudit.auvirt.guest_session_facts
"""

EXAMPLES = r"""
- name: Guest sessions of the last seven days
  virtaudit.auvirt.guest_session_info:
    start: -7d
  become: true
  register: guest_sessions

- name: Show the guests that crashed
  ansible.builtin.debug:
    msg: "{{ guest_sessions.sessions | selectattr('state', 'equalto', 'crashed') | map(attribute='name') | list }}"

- name: Everything about one guest yesterday, with the evidence
  virtaudit.auvirt.guest_session_info:
    uuid:
      - 5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b
    start: yesterday
    end: yesterday
    all_events: true
    proof: true
  become: true
  register: web01

- name: auvirt-style report of a copied log
  virtaudit.auvirt.guest_session_info:
    paths:
      - /srv/audit/hv1/audit.log.1
      - /srv/audit/hv1/audit.log
    auvirt_lines: true
  register: report

- name: Print it
  ansible.builtin.debug:
    var: report.auvirt_lines
"""

RETURN = r"""
sessions:
  description:
    - The selected guest sessions, sorted by start time (sessions whose start is not in the logs first).
    - The full model is described in C(docs/session-model.md).
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The C(node=) of the records, else O(host).
      type: str
      sample: hv1
    name:
      description: Guest name (hex-decoded).
      type: str
      sample: web01
    uuid:
      description: Guest UUID, lower case.
      type: str
      sample: 5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b
    virt:
      description: Virtualization type written by libvirt (C(kvm), C(qemu), C(lxc), ...).
      type: str
      sample: kvm
    state:
      description:
        - C(running) (no end seen), C(stopped), C(crashed) (stop reason C(failed)/C(crashed) or an
          C(ANOM_ABEND) of the guest's qemu), C(failed) (start failed), C(down) (the host went down
          while the guest ran), C(lost) (started again on the same host while this session never ended).
      type: str
      sample: stopped
    start:
      description: Start time, ISO 8601 UTC; null when the start is not in the logs.
      type: str
      sample: "2024-03-11T08:00:01.124+00:00"
    start_epoch:
      description: Start time, epoch seconds.
      type: float
      sample: 1710144001.124
    start_reason:
      description: C(booted), C(restored), C(migrated), C(from-snapshot) or C(reboot) (LXC).
      type: str
      sample: booted
    end:
      description: End time, ISO 8601 UTC; null while running and for lost sessions.
      type: str
      sample: "2024-03-11T11:16:01.000+00:00"
    end_epoch:
      description: End time, epoch seconds.
      type: float
      sample: 1710155761.0
    stop_reason:
      description: The libvirt stop reason; null when no stop record was seen.
      type: str
      sample: shutdown
    duration_seconds:
      description: Length of the session; 0 for a failed start; null when start or end is unknown.
      type: float
      sample: 11759.876
    pid:
      description: qemu (or libvirt_lxc) process id of the start record.
      type: int
      sample: 4242
    user:
      description: User of the process that wrote the start record (the libvirt daemon).
      type: str
      sample: root
    label:
      description: The guest's SELinux/AppArmor label (non-DAC C(vm-ctx)).
      type: str
      sample: "system_u:system_r:svirt_t:s0:c107,c434"
    first_seen:
      description: Time of the first record of the session's start sequence.
      type: str
    first_seen_epoch:
      description: RV(sessions[].first_seen) as epoch seconds.
      type: float
    start_id:
      description: Event id of the start record.
      type: str
      sample: "1710144001.124:1016"
    end_id:
      description: Event id of what ended the session (stop record, shutdown, last record before a reboot, anomaly).
      type: str
    migrated_to:
      description:
        - The other half of a live migration away from this host (C(stop_reason=migrated)) - C(host), C(start),
          C(start_epoch) and C(start_id) of the guest's incoming start there; null unless the destination's
          records are in the logs too (logs of several nodes in one file).
      type: dict
      sample: {host: hv2, start: "2024-03-11T09:00:00.000+00:00", start_epoch: 1710147600.0, start_id: "1710147600.000:3001"}
    migrated_from:
      description:
        - The other half of a live migration to this host (C(start_reason=migrated)) - C(host), C(end),
          C(end_epoch) and C(end_id) of the guest's stop on the source host; null unless the source's records are
          in the logs too.
      type: dict
      sample: {host: hv1, end: "2024-03-11T09:00:05.000+00:00", end_epoch: 1710147605.0, end_id: "1710147605.000:7010"}
    resources:
      description: With O(all_events), every resource the guest held, with C(kind), C(reason), C(value), C(result),
        C(opened), C(closed), C(close_reason), C(id), C(close_id) and C(details).
      type: list
      elements: dict
      returned: when O(all_events=true)
    avcs:
      description: With O(all_events), the AVC records attributed to the session.
      type: list
      elements: dict
      returned: when O(all_events=true)
    anomalies:
      description: With O(all_events), the anomaly records (C(ANOM_*)) attributed to the session.
      type: list
      elements: dict
      returned: when O(all_events=true)
    security_labels:
      description: With O(all_events), the labels of the session's C(VIRT_MACHINE_ID) records.
      type: list
      elements: dict
      returned: when O(all_events=true)
    events:
      description: With O(all_events), the session's timeline (C(time), C(epoch), C(id), C(kind), C(detail)).
      type: list
      elements: dict
      returned: when O(all_events=true)
    proof:
      description: With O(proof), the ids of every event the session was built from.
      type: list
      elements: str
      returned: when O(proof=true)
    raw:
      description: With O(proof) and O(raw), the log lines of those events, by event id.
      type: dict
      returned: when O(proof=true) and O(raw=true)
summary:
  description: Counts over the selected sessions.
  returned: always
  type: dict
  sample:
    sessions: 8
    states: {running: 1, stopped: 4, crashed: 1, failed: 1, down: 1, lost: 0}
    starts: 7
    stops: 5
    resources: 82
    avcs: 2
    anomalies: 1
    avcs_unattributed: 0
    anomalies_unattributed: 0
    failed_operations: 2
    first: "2024-03-11T08:00:00.000+00:00"
    first_epoch: 1710144000.0
    last: "2024-03-12T15:33:00.000+00:00"
    last_epoch: 1710257580.0
    hosts: [hv1]
host_events:
  description:
    - Host shutdowns (C(shutdown)), boots (C(boot)), reboots seen only by the event serial restarting
      (C(reboot_detected)), host crashes (C(crash), a reboot without shutdown while guests ran) and audit
      daemon starts and stops (C(audit_start), C(audit_end), C(audit_abort)), in the window (a host's newest 4096).
  returned: always
  type: list
  elements: dict
  sample:
    - {host: hv1, type: shutdown, time: "2024-03-11T13:00:00.512+00:00", epoch: 1710162000.512, id: "1710162000.512:1093"}
unattributed:
  description:
    - With O(all_events), the AVC and anomaly records attributed to no guest session that C(summary.avcs_unattributed)
      and C(summary.anomalies_unattributed) count - C(avcs) and C(anomalies), oldest first, with the fields of
      attributed ones (C(matched_by) null), C(host) and C(number) (the how-manieth of its kind of that host in all
      logs read, from 1). Of each kind only the newest 1000 read are listed; C(avcs_not_listed) and
      C(anomalies_not_listed) are the counted ones beyond those listed. C(numbers) gives, per host, how many of
      each kind all logs read held (C(avcs), C(anomalies)), whatever the window.
  returned: when O(all_events=true)
  type: dict
  sample:
    avcs:
      - {host: hv1, number: 7, time: "2024-03-11T08:00:05.000+00:00", epoch: 1710144005.0, id: "1710144005.000:105",
         lsm: selinux, result: denied, operation: read, comm: httpd, name: index.html, pid: 812,
         scontext: "system_u:system_r:httpd_t:s0", tcontext: "unconfined_u:object_r:user_home_t:s0", tclass: file,
         profile: null, user: apache, matched_by: null, permissive: "0"}
    anomalies: []
    avcs_not_listed: 0
    anomalies_not_listed: 0
    numbers: {hv1: {avcs: 7, anomalies: 0}}
sources:
  description:
    - Each file read - C(path), C(bytes), C(compressed), C(records), C(duplicates) (records repeated from the
      previous file, counted once), C(start_offset) and C(start_line) (non-zero when a checkpoint let the run
      skip what it had read), first and last record time.
  returned: always
  type: list
  elements: dict
coverage:
  description:
    - Whether the logs can tell the whole story of the window - C(reaches_window_start) (null without O(start)),
      C(serial_gaps) (event serials skipped within one boot - records the kernel dropped or that were cut out
      of the files - with the count and where), C(missing_rotated_files) (rotation numbers between 1 and the
      highest present that have no file; a run of them is one entry C(audit.log.{3..7})), C(skipped_files)
      (C(count) and up to 20 C(paths) of files named like rotations with a number auditd never writes - 0,
      a leading zero, above 999, such as a date - which are not read), first and last record, and C(complete).
  returned: always
  type: dict
parse_errors:
  description: Lines that were not audit records - C(count) and up to 20 C(samples) (path, line, reason, text); with
    O(checkpoint), also those of the runs before (as C(coverage) counts their records).
  returned: always
  type: dict
  sample: {count: 0, samples: []}
host_clock:
  description:
    - The managed node's clock when the module ran (C(time) ISO 8601 UTC, C(epoch)); the fleet report compares
      it with the controller's to find hosts whose clock is off.
  returned: always
  type: dict
  sample: {time: "2026-11-26T16:20:00.000+00:00", epoch: 1795709800.0}
checkpoint:
  description:
    - With O(checkpoint) - C(path), C(used) (whether this run went on from it), C(saved) (whether it was
      updated), and C(resumed_at) (C(path), C(offset), C(line) where reading began) when it was used.
    - With a checkpoint, RV(sources) lists only the files read in this run, from their C(start_offset).
  returned: when O(checkpoint) is set
  type: dict
  sample: {path: /var/lib/virtaudit/checkpoint.json, used: true, saved: true,
           resumed_at: {path: /var/log/audit/audit.log, offset: 7340032, line: 30211}}
auvirt_lines:
  description: With O(auvirt_lines), the sessions as auvirt-style text lines.
  returned: when O(auvirt_lines=true)
  type: list
  elements: str
  sample:
    - "web01                 \troot       \tMon Mar 11 08:00 - 11:16  (03:16)"
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import (
    log_argument_spec,
    run_module,
)


def main():
    argument_spec = log_argument_spec()
    argument_spec.update(
        all_events=dict(type="bool", default=False),
        proof=dict(type="bool", default=False),
        raw=dict(type="bool", default=False),
        summary_only=dict(type="bool", default=False),
        auvirt_lines=dict(type="bool", default=False),
        show_uuid=dict(type="bool", default=False),
        show_host=dict(type="str", default="never", choices=["never", "auto", "always"]),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    result = run_module(module, all_events=params["all_events"], proof=params["proof"], raw=params["raw"],
                        summary_only=params["summary_only"], auvirt_lines=params["auvirt_lines"],
                        show_uuid=params["show_uuid"], show_host=params["show_host"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
