# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mirror the checkout into DEST/ansible_collections/virtaudit/auvirt.

ansible-test wants the collection in a real directory named
``ansible_collections/<namespace>/<name>`` (a symlink is resolved and then
rejected) and lists the files it tests through git.  This script copies the
files git knows about (tracked plus untracked-but-not-ignored, so work in
progress is tested too), deletes files that disappeared, and makes the copy
a git repository of its own (``git init``, nothing committed: ansible-test
lists ``--cached --others --exclude-standard``).

Only changed files are rewritten, so a second run is fast, and what
ansible-test leaves behind (``tests/output``) survives.

Usage: stage_collection.py [DEST_ROOT]   (default: .cache)
"""
from __future__ import absolute_import, division, print_function

import filecmp
import os
import shutil
import subprocess
import sys

NAMESPACE = "virtaudit"
NAME = "auvirt"
# never deleted from the staged copy even though git does not list them
KEEP = (".git", "tests/output", "tests/integration/inventory")


def git_files(root):
    out = subprocess.check_output(
        ["git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard"])
    deleted = subprocess.check_output(["git", "-C", root, "ls-files", "-z", "--deleted"])
    names = set(p for p in out.decode("utf-8").split("\0") if p)
    names -= set(p for p in deleted.decode("utf-8").split("\0") if p)
    # never stage a pytest-ansible style link farm, it breaks the symlinks sanity test
    return sorted(n for n in names if not n.startswith("collections/"))


def kept(rel):
    return any(rel == k or rel.startswith(k + "/") for k in KEEP)


def same(src, dst):
    if os.path.islink(src) or os.path.islink(dst):
        return os.path.islink(src) and os.path.islink(dst) and os.readlink(src) == os.readlink(dst)
    if not os.path.isfile(dst):
        return False
    return filecmp.cmp(src, dst, shallow=False)


def stage(root, dest):
    files = git_files(root)
    wanted = set(files)
    copied = 0
    for rel in files:
        src = os.path.join(root, rel)
        dst = os.path.join(dest, rel)
        if not os.path.lexists(src):
            continue
        if same(src, dst):
            continue
        parent = os.path.dirname(dst)
        if not os.path.isdir(parent):
            os.makedirs(parent)
        if os.path.lexists(dst):
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            else:
                os.unlink(dst)
        if os.path.islink(src):
            os.symlink(os.readlink(src), dst)
        else:
            shutil.copy2(src, dst)
        copied += 1

    removed = 0
    for top, dirs, names in os.walk(dest, topdown=True):
        rel_top = os.path.relpath(top, dest)
        rel_top = "" if rel_top == "." else rel_top
        dirs[:] = [d for d in dirs if not kept(os.path.join(rel_top, d) if rel_top else d)]
        for name in names:
            rel = os.path.join(rel_top, name) if rel_top else name
            if rel not in wanted and not kept(rel):
                os.unlink(os.path.join(top, name))
                removed += 1
    # drop directories left empty
    for top, dirs, names in os.walk(dest, topdown=False):
        rel_top = os.path.relpath(top, dest)
        if rel_top != "." and not kept(rel_top) and not os.listdir(top):
            os.rmdir(top)

    if not os.path.isdir(os.path.join(dest, ".git")):
        subprocess.check_call(["git", "-C", dest, "init", "-q"])
    return copied, removed


def main(argv):
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base = argv[1] if len(argv) > 1 else os.path.join(root, ".cache")
    dest = os.path.join(os.path.abspath(base), "ansible_collections", NAMESPACE, NAME)
    if not os.path.isdir(dest):
        os.makedirs(dest)
    copied, removed = stage(root, dest)
    print("staged %s (%d file(s) updated, %d removed)" % (dest, copied, removed))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
