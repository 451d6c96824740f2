# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scripts/summary.sh: the per-suite lines of `make test`.

A suite whose make target succeeded but that did not run (a banner
``*** SKIPPED SUITE: reason ***``, or pytest skipped all it collected) must
read ``SKIPPED (reason)``, never ``ok``; one that ran only in part reads
``PARTLY SKIPPED (reason)``.
"""

from __future__ import absolute_import, division, print_function

import os
import re
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SCRIPT = os.path.join(ROOT, "scripts", "summary.sh")

E2E_SKIPPED_LOG = """\
============================= test session starts ==============================
collected 74 items

tests/e2e/test_e2e.py ssssssssssssssssssssssssssssssssssssssssssssssssss [ 67%]
tests/e2e/test_judge.py ........................                         [100%]
========================== real hypervisor end-to-end ==========================
debian12: NOT RUN: another audit daemon (pid 512) owns the kernel audit channel; refusing to disturb it
*** SKIPPED e2e: the real hypervisor end-to-end test did not run: debian12: another audit daemon (pid 512) \
owns the kernel audit channel; refusing to disturb it ***
=========================== short test summary info ============================
SKIPPED [50] tests/e2e/conftest.py:160: *** REAL HYPERVISOR END-TO-END TEST NOT RUN on debian12: another audit \
daemon (pid 512) owns the kernel audit channel; refusing to disturb it ***
================= 24 passed, 50 skipped in 4.02s =================
e2e: 4 s in all
"""


def summary(tmp_path, suites):
    """Write SUITE.log / SUITE.status for each (suite, status, log); return {suite: summary line}."""
    for suite, status, log in suites:
        if status is not None:
            (tmp_path / (suite + ".status")).write_text(status + "\n")
        if log is not None:
            (tmp_path / (suite + ".log")).write_text(log)
    proc = subprocess.run(["bash", SCRIPT, str(tmp_path)] + [s[0] for s in suites], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, check=True)
    lines = {}
    for line in proc.stdout.decode("utf-8").splitlines():
        if line and not line.startswith("=") and line.split()[0] in [s[0] for s in suites]:
            lines[line.split()[0]] = line
    return lines


def test_skipped_e2e_reads_skipped_with_its_reason_not_ok(tmp_path):
    """make test once said `e2e ok 4s` for an e2e run that another audit daemon prevented."""
    line = summary(tmp_path, [("e2e", "ok 4s", E2E_SKIPPED_LOG)])["e2e"]
    assert re.match(r"^e2e +SKIPPED \(the real hypervisor end-to-end test did not run: debian12: another audit "
                    r"daemon \(pid 512\) owns the kernel audit channel; refusing to disturb it\) 4s$", line), line
    assert " ok " not in line


def test_banner_of_a_script_suite(tmp_path):
    log = "*** SKIPPED py36: no Python 3.6 interpreter found - NOT tested ***\n"
    line = summary(tmp_path, [("py36", "ok 0s", log)])["py36"]
    assert line.split(None, 1)[1] == "SKIPPED (no Python 3.6 interpreter found - NOT tested) 0s"


def test_pytest_skipping_everything_without_a_banner(tmp_path):
    log = ("SKIPPED [3] tests/report_browser/test_x.py:20: chromium is not installed\n"
           "======================== 3 skipped in 0.20s ========================\n")
    line = summary(tmp_path, [("report-browser", "ok 2s", log)])["report-browser"]
    assert line.split(None, 1)[1] == "SKIPPED (chromium is not installed) 2s"


def test_partly_skipped_suite(tmp_path):
    log = ("*** PARTLY SKIPPED differential: live comparison with the real auvirt not run: Debian's auditd "
           "1:4.0.2-2 has no auvirt; compared with the stored auvirt outputs only ***\n"
           "================= 45 passed, 41 skipped in 3.10s =================\n")
    line = summary(tmp_path, [("differential", "ok 3s", log)])["differential"]
    assert line.split(None, 1)[1] == (
        "PARTLY SKIPPED (live comparison with the real auvirt not run: Debian's auditd 1:4.0.2-2 has no auvirt; "
        "compared with the stored auvirt outputs only) 3s | ================= 45 passed, 41 skipped in 3.10s "
        "=================")


@pytest.mark.parametrize("status, log, expected", [
    ("ok 3s", "===== 12 passed, 1 skipped in 0.50s =====\n", r"ok 3s +===== 12 passed, 1 skipped in 0.50s =====$"),
    ("FAILED 9s", E2E_SKIPPED_LOG + "=========== 1 failed, 2 passed in 1.00s ===========\n", r"FAILED 9s +.*1 failed"),
    (None, None, r"not run +\(no log\)$"),
])
def test_runs_that_ran_or_failed_keep_their_status(tmp_path, status, log, expected):
    line = summary(tmp_path, [("units", status, log)])["units"]
    assert re.search(r"^units +" + expected, line), line
