# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the differential tests.

* makes ``ansible_collections.virtaudit.auvirt`` importable (the link farm
  of tests/unit/conftest.py is reused, not copied);
* ``auvirt``: the path of the real auvirt.  When /usr/bin/auvirt is missing
  and we are root, tests/differential/install_auvirt.sh installs Debian's
  ``auditd`` package (no daemon is started, see the script).  When that is
  impossible the live tests are SKIPPED with a loud reason, and the terminal
  summary ends with a banner ``*** PARTLY SKIPPED differential: ... ***``
  (make test's summary shows it): the comparisons with the auvirt outputs
  stored with the samples still run, the live ones did not.
  VIRTAUDIT_REQUIRE_AUVIRT=1 turns the skip into a failure (CI on a Debian
  12 runner) - except where the distribution's auditd is audit-userspace
  >= 4.0 (Debian 13, ...), which has no auvirt at all: there the live
  comparison cannot be required, and the summary says why.
  VIRTAUDIT_AUVIRT=/path/to/auvirt uses another binary.
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

_STATE = {'checked': False, 'path': None, 'reason': None, 'no_auvirt_here': False}
# install_auvirt.sh: the distribution's auditd is audit-userspace >= 4.0 (no auvirt)
NO_AUVIRT_HERE = 3


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
            tail = out.decode('utf-8', 'replace').strip().splitlines()[-3:]
            if proc.returncode == NO_AUVIRT_HERE:
                _STATE['no_auvirt_here'] = True
                reason = ' | '.join(tail).replace('install_auvirt: ', '')
            elif proc.returncode != 0 or not os.access(path, os.X_OK):
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
        if auvirt_compare.must_fail(os.environ.get('VIRTAUDIT_REQUIRE_AUVIRT'), _STATE['no_auvirt_here']):
            pytest.fail(message)
        pytest.skip(message)
    return path


def pytest_terminal_summary(terminalreporter):
    if _STATE['checked'] and _STATE['reason']:
        terminalreporter.write_sep('!', 'real auvirt NOT available', red=True, bold=True)
        terminalreporter.write_line(_STATE['reason'], red=True)
        terminalreporter.write_line('the live differential tests were SKIPPED, not passed; the recorded '
                                    'auvirt outputs were compared', red=True)
        # the banner make test's summary reads (scripts/summary.sh)
        terminalreporter.write_line('*** PARTLY SKIPPED differential: live comparison with the real auvirt not '
                                    'run: %s; compared with the stored auvirt outputs only ***' % _STATE['reason'])
