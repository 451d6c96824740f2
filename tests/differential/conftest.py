# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the differential tests.

* makes ``ansible_collections.virtaudit.auvirt`` importable (the link farm
  of tests/unit/conftest.py is reused, not copied);
* ``auvirt``: the path of the real auvirt.  When /usr/bin/auvirt is missing
  and we are root, tests/differential/install_auvirt.sh installs Debian's
  ``auditd`` package (no daemon is started, see the script).  When that is
  impossible the live tests are SKIPPED with a loud reason and a banner in
  the terminal summary - never passed.  Set VIRTAUDIT_REQUIRE_AUVIRT=1 to
  turn the skip into a failure (CI on a Debian 12 runner), and
  VIRTAUDIT_AUVIRT=/path/to/auvirt to use another binary.
"""

from __future__ import absolute_import, division, print_function

import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import auvirt_compare  # noqa: E402  pylint: disable=wrong-import-position


def _load_unit_conftest():
    name = '_virtaudit_unit_conftest'
    if name in sys.modules:
        return
    path = os.path.join(os.path.dirname(HERE), 'unit', 'conftest.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


_load_unit_conftest()

_STATE = {'checked': False, 'path': None, 'reason': None}


def _find_auvirt():
    if _STATE['checked']:
        return _STATE['path'], _STATE['reason']
    _STATE['checked'] = True
    path = auvirt_compare.AUVIRT
    reason = None
    if not os.access(path, os.X_OK):
        if path != auvirt_compare.DEFAULT_AUVIRT:
            reason = 'VIRTAUDIT_AUVIRT=%s is not an executable file' % path
        elif os.geteuid() != 0:
            reason = '%s is missing and we are not root: cannot install Debian\'s auditd' % path
        else:
            proc = subprocess.Popen(['sh', auvirt_compare.INSTALL_SCRIPT],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            out, _err = proc.communicate()
            if proc.returncode != 0 or not os.access(path, os.X_OK):
                tail = out.decode('utf-8', 'replace').strip().splitlines()[-3:]
                reason = ('%s is missing and installing Debian\'s auditd failed (rc=%d): %s'
                          % (path, proc.returncode, ' | '.join(tail)))
    if reason is None:
        _STATE['path'] = path
    _STATE['reason'] = reason
    return _STATE['path'], reason


@pytest.fixture(scope='session')
def auvirt():
    path, reason = _find_auvirt()
    if path is None:
        message = '*** REAL AUVIRT NOT AVAILABLE - LIVE DIFFERENTIAL TEST NOT RUN: %s ***' % reason
        if os.environ.get('VIRTAUDIT_REQUIRE_AUVIRT'):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pytest_terminal_summary(terminalreporter):
    if _STATE['checked'] and _STATE['reason']:
        terminalreporter.write_sep('!', 'real auvirt NOT available', red=True, bold=True)
        terminalreporter.write_line(_STATE['reason'], red=True)
        terminalreporter.write_line('the live differential tests were SKIPPED, not passed', red=True)
