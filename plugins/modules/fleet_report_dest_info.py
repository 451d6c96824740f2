#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_report_dest_info
short_description: What is at a fleet report's destination - who owns it, and what the previous report said
version_added: 0.1.0
description:
  - Run by M(virtaudit.auvirt.fleet_report_write) on the report host before it builds a report.
  - Says whether O(dest) exists and whether it belongs to another user than the one the module runs as (a directory
    somebody else created there would keep the report theirs); M(virtaudit.auvirt.fleet_report_files) then takes it
    over when running as root, or refuses to write into it, and the report says which.
  - Reads the previous report (O(previous)) line by line and returns its digest - per session its fingerprint and
    state, per finding its fingerprint and what it was, per host its status - a few bytes per session, so that the new
    report can say what changed without the old report travelling to the controller. A previous report that is not a
    regular file of this user, that others may write, or that lies in a directory of another user is not trusted and
    not read.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.platform
attributes:
  check_mode:
    support: full
    details:
      - Reads only.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  dest:
    description: The report directory (C(fleet_report_dest)).
    type: path
    required: true
  previous:
    description:
      - The previous report's C(fleet_report.json) (C(fleet_report_previous)); defaults to the one in O(dest).
    type: path
  read_previous:
    description: Read the previous report at all.
    type: bool
    default: true
seealso:
  - module: virtaudit.auvirt.fleet_report_write
  - module: virtaudit.auvirt.fleet_report_files
"""

EXAMPLES = r"""
- name: Look at the report directory before writing a report
  virtaudit.auvirt.fleet_report_dest_info:
    dest: /srv/www/reports/virt
  register: dest_info
"""

RETURN = r"""
euid:
  description: The user the module runs as.
  returned: always
  type: int
  sample: 0
dest:
  description:
    - C(path); C(exists); C(uid) and C(owner) (its owner's name) when it exists; C(foreign) - it (or the symbolic link
      that is there) belongs to another user; C(symlink); C(can_take_over) - the module runs as root, so
      M(virtaudit.auvirt.fleet_report_files) will make it this user's.
  returned: always
  type: dict
  sample: {path: /srv/www/reports/virt, exists: true, uid: 1000, owner: alice, foreign: true, symlink: false, can_take_over: true}
previous:
  description:
    - C(path); C(found) - a trusted previous report was read; C(msg) - why not; C(digest) - what the previous report
      said (C(generated), C(generated_epoch), C(window_start_epoch), C(window_end_epoch), C(sessions) - fingerprint to
      state, C(findings) - fingerprint to rule, severity, title, host, guest, times and waived, C(hosts) - name to
      status, C(changes) - its own comparison).
  returned: always
  type: dict
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtaudit.auvirt.plugins.module_utils import report_digest
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import owner_name, owners


def describe(path, euid):
    """``dest`` of the result: existence and ownership of ``path`` (a symbolic link and what it points to)."""
    out = {"path": path, "exists": False, "uid": None, "owner": None, "foreign": False, "symlink": False, "can_take_over": euid == 0}
    found = owners(path)
    if found is None:
        return out
    uid, target, out["symlink"] = found
    out["exists"] = True
    other = [owner for owner in (uid, target) if owner != euid]
    out["uid"] = other[0] if other else uid
    out["owner"] = owner_name(out["uid"])
    out["foreign"] = bool(other)
    if out["symlink"]:
        out["can_take_over"] = False  # a link is replaced by nobody: fleet_report_files refuses it
    return out


def main():
    module = AnsibleModule(
        argument_spec=dict(
            dest=dict(type="path", required=True),
            previous=dict(type="path"),
            read_previous=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    euid = os.geteuid()
    dest = describe(params["dest"], euid)
    path = params["previous"] or os.path.join(params["dest"], "fleet_report.json")
    previous = {"path": path, "found": False, "msg": None, "digest": None}
    if not params["read_previous"]:
        previous["msg"] = "not asked for"
    elif dest["foreign"] and not params["previous"]:
        previous["msg"] = "%s belongs to %s (uid %s), not to this user: the report there is not compared with" % (
            params["dest"], dest["owner"] or "another user", dest["uid"])
    else:
        try:
            digest = report_digest.read(path)
        except report_digest.DigestError as exc:
            previous["msg"] = str(exc)
        else:
            if digest is None:
                previous["msg"] = "no previous report at %s" % path
            else:
                previous.update(found=True, digest=digest)
    module.exit_json(changed=False, euid=euid, dest=dest, previous=previous)


if __name__ == "__main__":
    main()
