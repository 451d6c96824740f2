"""Make the collection importable as ``ansible_collections.virtaudit.auvirt``.

ansible-test already runs the unit tests from inside an
``ansible_collections/virtaudit/auvirt`` tree.  Plain ``pytest`` runs from a
checkout with any name, so a link farm is made in a private temporary
directory and put first on ``sys.path``.  Nothing is written to the checkout.
"""
import atexit
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _importable():
    try:
        __import__("ansible_collections.virtaudit.auvirt.plugins.module_utils")
    except ImportError:
        return False
    return True


def _link_farm():
    parts = ROOT.split(os.sep)
    if len(parts) >= 3 and parts[-3:-1] == ["ansible_collections", "virtaudit"] and parts[-1] == "auvirt":
        sys.path.insert(0, os.sep.join(parts[:-3]) or os.sep)
        return
    top = tempfile.mkdtemp(prefix="virtaudit-pytest-")
    atexit.register(shutil.rmtree, top, True)
    ns = os.path.join(top, "ansible_collections", "virtaudit")
    os.makedirs(ns)
    os.symlink(ROOT, os.path.join(ns, "auvirt"))
    sys.path.insert(0, top)


if not _importable():
    for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
        del sys.modules[name]
    _link_farm()

FIXTURES = os.path.join(ROOT, "tests", "fixtures")
