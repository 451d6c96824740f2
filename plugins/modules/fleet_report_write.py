#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_report_write
short_description: Build the fleet report from per-host result files and write it to the report host
version_added: 0.1.0
description:
  - Reads the result files that M(virtaudit.auvirt.fleet_report_collect) wrote - of this run, of several AWX job
    slices or of earlier runs - once, on the controller; builds the fleet model (sessions of all hosts, live
    migrations stitched across hosts, guest histories, compliance findings grouped by rule, host and guest);
    writes C(fleet_report.json), C(.csv), C(.md), C(.html) and one HTML page per host; and installs them in
    O(dest) on the host the task runs on (or is delegated to) in one transfer, all files or none
    (M(virtaudit.auvirt.fleet_report_files)).
  - Returns the summary and the small set_stats artifact only. Controller work grows with the number of sessions
    shown, not with the size of the hosts' logs.
  - For every host of O(targets) the newest acceptable result is used (see O(run_id), O(max_age)); hosts without
    one are listed as missing with the reason (no result, result of another run, too old, malformed). Several
    results of one host are reported as duplicates.
  - Fails, without writing anything, when none of the O(targets) has a result (O(require_results)).
  - Implemented as an action plugin; this file documents it.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.action
attributes:
  action:
    support: full
  async:
    support: none
  check_mode:
    support: full
    details:
      - The report is built and compared with the files on the report host; nothing is written.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  targets:
    description:
      - The inventory hosts the report is about (those of C(fleet_report_hosts)).
    type: list
    elements: str
    required: true
  results:
    description:
      - Result directories (C(<dir>/<host>.json) is looked up for every target) and result files, on the controller.
    type: list
    elements: path
    required: true
  run_id:
    description:
      - Use only results of this run (the collect step of the same playbook run); others are missing.
    type: str
  max_age:
    description:
      - Hours; older results are not used (the host is missing, with the age as the reason). C(0) accepts any age.
    type: float
    default: 0
  partial:
    description:
      - Mark the report as partial (for example the report of one AWX job slice); every page says so.
    type: bool
    default: false
  partial_reason:
    description:
      - What the partial report lacks, shown with the mark.
    type: str
  require_results:
    description:
      - Fail when none of the O(targets) has a usable result (nothing is written then).
    type: bool
    default: true
  dest:
    description:
      - Directory on the report host.
    type: path
    required: true
  formats:
    description:
      - Which files to write; C(html) includes the host pages in C(fleet_report_hosts/).
    type: list
    elements: str
    choices: [html, md, csv, json]
    default: [html, md, csv, json]
  title:
    description: Title of the HTML and Markdown reports.
    type: str
    default: Guest sessions - fleet report
  timezone:
    description: Time zone of the report's times (UTC or an IANA name; needs python-dateutil).
    type: str
    default: UTC
  window:
    description: The report window as C(virtaudit.auvirt.fleet_report_window) returns it.
    type: dict
    default: {}
  rules:
    description: Rule overrides, as C(fleet_report_rules) of the role.
    type: dict
    default: {}
  allowed_guests:
    description: Regular expressions of the allowed guest names (C(guest_not_allowed)).
    type: list
    elements: str
    default: []
  max_session_hours:
    description: Sessions longer than this are C(long_session) findings; C(0) switches the rule off.
    type: float
    default: 0
  hotplug_kinds:
    description: Resource kinds whose attach is a C(hotplug) finding.
    type: list
    elements: str
    default: [dev, hostdev, disk]
  migration_slack:
    description: Seconds a destination's start may follow the source's stop and still be one live migration.
    type: float
    default: 300
  fail_on:
    description: Severity from which the summary's C(fail) is true (the role fails the job on it).
    type: str
    choices: ["none", info, low, medium, high, critical]
  file_mode:
    description: Mode of the report files.
    type: str
    default: "0640"
  dir_mode:
    description: Mode of O(dest) and of its C(fleet_report_hosts) directory.
    type: str
    default: "0750"
  max_rows:
    description: Rows per table on the main HTML page and in the Markdown report (findings, migrations, guests, host events).
    type: int
    default: 1000
  inline_sessions:
    description:
      - Up to this many sessions, the main page also shows every timeline and session; above it they are on the host
        pages only.
    type: int
    default: 2000
  template_dir:
    description: Directory of the Jinja2 templates; defaults to the templates of the role C(virtaudit.auvirt.fleet_report).
    type: path
seealso:
  - module: virtaudit.auvirt.fleet_report_collect
  - module: virtaudit.auvirt.fleet_report_files
"""

EXAMPLES = r"""
- name: Merge the results of every slice into one report
  virtaudit.auvirt.fleet_report_write:
    targets: "{{ query('ansible.builtin.inventory_hostnames', 'hypervisors') }}"
    results: [/srv/virtaudit/results]
    max_age: 24
    dest: /srv/www/reports/virt
  register: report

- name: Show the counts
  ansible.builtin.debug:
    var: report.summary
"""

RETURN = r"""
summary:
  description: Counts of the report (hosts, hosts_reporting, sessions, findings, severities, fail, ...).
  returned: success
  type: dict
missing_hosts:
  description: Hosts without a usable result.
  returned: success
  type: list
  elements: str
stats:
  description: The small artifact the role publishes with set_stats.
  returned: success
  type: dict
reports:
  description: The main report files on the report host.
  returned: success
  type: list
  elements: str
files:
  description: Number of files of the report (main files, host pages, detail files).
  returned: success
  type: int
written:
  description: Number of files that changed.
  returned: success
  type: int
timings:
  description: Seconds spent reading the results (C(load)), building the model (C(model)), writing the files (C(render)) and
    installing them (C(publish)).
  returned: success
  type: dict
"""
