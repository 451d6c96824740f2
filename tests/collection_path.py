# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the checkout importable as ``ansible_collections.virtaudit.auvirt`` (shared by the test suites).

ansible-test runs from inside an ``ansible_collections/virtaudit/auvirt``
tree already.  A checkout with any other name gets a link farm in a private
temporary directory, put first on ``sys.path``; nothing is written to the
checkout.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import atexit
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _importable():
    try:
        __import__("ansible_collections.virtaudit.auvirt.plugins.module_utils")
    except ImportError:
        return False
    return True


def ensure_importable(prefix="virtaudit-tests-"):
    if _importable():
        return
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
    parts = ROOT.split(os.sep)
    if len(parts) >= 3 and parts[-3:-1] == ["ansible_collections", "virtaudit"] and parts[-1] == "auvirt":
        sys.path.insert(0, os.sep.join(parts[:-3]) or os.sep)
        return
    top = tempfile.mkdtemp(prefix=prefix)
    atexit.register(shutil.rmtree, top, True)
    ns = os.path.join(top, "ansible_collections", "virtaudit")
    os.makedirs(ns)
    os.symlink(ROOT, os.path.join(ns, "auvirt"))
    sys.path.insert(0, top)
