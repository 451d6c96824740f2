#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
module: fleet_report_files
short_description: Install the files of a report from a tar archive, all or none
version_added: 0.1.0
description:
  - Extracts the regular files of a tar archive (plain or gzip) on the managed node into O(dest), the way
    M(virtaudit.auvirt.fleet_report_write) delivers the fleet report to the report host in one transfer.
  - Every file is first written next to its destination under a temporary name; only when all of them are
    written are they renamed into place. If anything fails (a full disk, say), the temporary files are removed
    and the files of the previous report stay whole.
  - Files whose content did not change are left alone. In the subdirectories named by O(prune), files that the
    archive does not contain any more (pages of hosts that left the report) are removed.
  - Only plain relative paths are accepted from the archive; links, devices, absolute paths and C(..) are refused.
  - O(dest), and the subdirectories of it that the archive uses, must belong to the user the module runs as - a
    directory another user created there would leave the report in their hands. Running as root, the module takes
    such a directory over (owner and group of root, O(dir_mode)) and says so (RV(taken_over) and a warning); as
    anyone else it refuses to write. A directory that is a symbolic link belonging to another user is refused.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
extends_documentation_fragment:
  - virtaudit.auvirt._attributes
  - virtaudit.auvirt._attributes.platform
attributes:
  check_mode:
    support: full
    details:
      - Reports which files would change; writes nothing.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
options:
  src:
    description:
      - The tar archive on the managed node.
    type: path
    required: true
  dest:
    description:
      - Directory the files go to; created (with parents) when missing.
    type: path
    required: true
  mode:
    description:
      - Mode of the files.
    type: raw
    default: "0640"
  dir_mode:
    description:
      - Mode of O(dest) and of the subdirectories the archive contains.
    type: raw
    default: "0750"
  prune:
    description:
      - Subdirectories of O(dest) (from the archive) whose files not in the archive are removed.
    type: list
    elements: str
    default: []
  remove_src:
    description:
      - Remove O(src) when done.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Install a report archive copied to the report host
  virtaudit.auvirt.fleet_report_files:
    src: /tmp/report.tar.gz
    dest: /srv/www/reports/virt
    prune: [fleet_report_hosts]
    remove_src: true
"""

RETURN = r"""
files:
  description: Every file of the archive, as a path under O(dest).
  returned: always
  type: list
  elements: str
  sample: [/srv/www/reports/virt/fleet_report.html]
written:
  description: The files whose content or mode changed (would change, in check mode).
  returned: always
  type: list
  elements: str
removed:
  description: Files removed from the O(prune) subdirectories.
  returned: always
  type: list
  elements: str
taken_over:
  description: Directories that belonged to another user and were (in check mode, would be) made this user's - C(path), C(uid), C(owner).
  returned: always
  type: list
  elements: dict
  sample: [{path: /srv/www/reports/virt, uid: 1000, owner: alice}]
"""

import hashlib
import os
import stat
import tarfile
import tempfile

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import owner_name, owners

CHUNK = 1 << 20


def _mode(module, value, name):
    if isinstance(value, int):
        return value
    try:
        return int(str(value), 8)
    except ValueError:
        module.fail_json(msg="%s: %r is not an octal mode such as '0640'" % (name, value))


def _digest(handle):
    digest = hashlib.sha256()
    for block in iter(lambda: handle.read(CHUNK), b""):
        digest.update(block)
    return digest.hexdigest()


def _same(path, digest, mode):
    try:
        info = os.lstat(path)
        if not stat.S_ISREG(info.st_mode) or stat.S_IMODE(info.st_mode) != mode:
            return False
        with open(path, "rb") as handle:
            return _digest(handle) == digest
    except (IOError, OSError):
        return False


def _members(module, archive):
    out = []
    for member in archive.getmembers():
        name = member.name
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if member.isdir():
            continue
        if not member.isfile() or name.startswith("/") or ".." in parts or not parts:
            module.fail_json(msg="refusing archive member %r: only relative paths of regular files are installed" % name)
        out.append(("/".join(parts), member))
    return out


def _make_dir(path, mode):
    if not os.path.isdir(path):
        os.makedirs(path, mode)
    if stat.S_IMODE(os.stat(path).st_mode) != mode:
        os.chmod(path, mode)


def _foreign_dirs(module, dest, names):
    """The directories the report is written into (``dest`` and the subdirectories of ``names``) that exist and belong to
    another user: ``[{path, uid, owner}]``.  Fails the module when it may not take them over."""
    euid = os.geteuid()
    candidates = [dest] + sorted(set(os.path.join(dest, os.path.dirname(name)) for name in names if "/" in name))
    found = []
    for path in candidates:
        owned = owners(path)
        if owned is None:
            continue
        uid, target, is_link = owned
        if is_link:
            if uid != euid or target != euid:
                module.fail_json(msg="refusing to write the report into %s: it is a symbolic link that belongs to uid %d (%s), not to uid "
                                     "%d that writes the report" % (path, uid if uid != euid else target,
                                                                    owner_name(uid if uid != euid else target) or "?", euid))
            continue
        if uid == euid:
            continue
        if euid != 0:
            module.fail_json(msg="refusing to write the report into %s: it belongs to uid %d (%s), not to uid %d that writes the report; "
                                 "remove it, give it to that user, or write the report as root (fleet_report_report_become), which "
                                 "takes it over" % (path, uid, owner_name(uid) or "?", euid))
        found.append({"path": path, "uid": uid, "owner": owner_name(uid)})
    return found


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="path", required=True),
            dest=dict(type="path", required=True),
            mode=dict(type="raw", default="0640"),
            dir_mode=dict(type="raw", default="0750"),
            prune=dict(type="list", elements="str", default=[]),
            remove_src=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    dest = params["dest"]
    mode = _mode(module, params["mode"], "mode")
    dir_mode = _mode(module, params["dir_mode"], "dir_mode")
    result = dict(changed=False, files=[], written=[], removed=[], taken_over=[])
    temps = []
    try:
        with tarfile.open(params["src"], "r:*") as archive:
            members = _members(module, archive)
            result["taken_over"] = _foreign_dirs(module, dest, [name for name, dummy in members])
            for item in result["taken_over"]:
                module.warn("%s belonged to uid %d (%s); it %s taken over by uid %d" % (
                    item["path"], item["uid"], item["owner"] or "?", "would be" if module.check_mode else "was", os.geteuid()))
            plan = []
            for name, member in members:
                target = os.path.join(dest, name)
                handle = archive.extractfile(member)
                digest = _digest(handle)
                result["files"].append(target)
                if not _same(target, digest, mode):
                    plan.append((name, member, target))
                    result["written"].append(target)
            wanted = set(name for name, dummy in members)
            for sub in params["prune"]:
                directory = os.path.join(dest, sub)
                if os.path.isdir(directory) and not os.path.islink(directory):
                    for entry in sorted(os.listdir(directory)):
                        path = os.path.join(directory, entry)
                        if "%s/%s" % (sub.strip("/"), entry) not in wanted and os.path.isfile(path) and not entry.startswith("."):
                            result["removed"].append(path)
            if module.check_mode or not (plan or result["removed"] or result["taken_over"]):
                result["changed"] = bool(plan or result["removed"] or result["taken_over"])
                module.exit_json(**result)
            for item in result["taken_over"]:
                os.chown(item["path"], os.geteuid(), os.getegid())
                os.chmod(item["path"], dir_mode)
            _make_dir(dest, dir_mode)
            for name, member, target in plan:
                _make_dir(os.path.dirname(target), dir_mode)
                fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target) + ".", suffix=".tmp", dir=os.path.dirname(target))
                temps.append((tmp, target))
                with os.fdopen(fd, "wb") as out:
                    source = archive.extractfile(member)
                    for block in iter(lambda: source.read(CHUNK), b""):
                        out.write(block)
                os.chmod(tmp, mode)
        for tmp, target in temps:
            os.rename(tmp, target)
        temps = []
        for path in result["removed"]:
            os.unlink(path)
    except (IOError, OSError, tarfile.TarError) as exc:
        for tmp, dummy in temps:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        module.fail_json(msg="cannot install the report files in %s: %s" % (dest, getattr(exc, "strerror", None) or exc), **result)
    finally:
        if params["remove_src"] and not module.check_mode:
            try:
                os.unlink(params["src"])
            except OSError:
                pass
    result["changed"] = True
    module.exit_json(**result)


if __name__ == "__main__":
    main()
