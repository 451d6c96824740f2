# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the real-hypervisor end-to-end test (docs/e2e.md).

* ``capture``: runs capture.py once per pytest session (real auditd, libvirtd
  and qemu; RAW then ENRICHED) and returns its output directory.  When the
  machine cannot do it (not root, packages not installable, the kernel
  refuses auditing, another audit/libvirt daemon is running) every test that
  needs it is SKIPPED with the reason and a banner is printed at the end -
  never passed.  VIRTAUDIT_REQUIRE_E2E=1 turns the skip into a failure.
* ``playbook_result``: the collection run through a real ``ansible-playbook``
  against localhost on the captured log of one format.

Environment:
  VIRTAUDIT_E2E_OUTPUT   output directory (default .cache/e2e in the checkout); emptied first
  VIRTAUDIT_E2E_REUSE    judge an existing capture directory instead of making a new one
  VIRTAUDIT_E2E_FORMATS  formats to capture (default RAW,ENRICHED)
  VIRTAUDIT_E2E_VIRT     "qemu" forces TCG even where /dev/kvm works
  VIRTAUDIT_E2E_KEEP_TMP keep the temporary directory (images, configs, daemon logs)
"""

from __future__ import absolute_import, division, print_function

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

CAPTURE_TIMEOUT = 540
PLAYBOOK_TIMEOUT = 300
FORMATS = [f.strip().upper() for f in os.environ.get("VIRTAUDIT_E2E_FORMATS", "RAW,ENRICHED").split(",") if f.strip()]

_STATE = {"capture": None, "skip": None, "error": None, "notes": [], "timings": {}}


def output_dir():
    return os.path.abspath(os.environ.get("VIRTAUDIT_E2E_OUTPUT") or os.path.join(ROOT, ".cache", "e2e"))


def _run_capture():
    reuse = os.environ.get("VIRTAUDIT_E2E_REUSE")
    if reuse:
        return os.path.abspath(reuse), 0, "(reused %s)" % reuse
    out = output_dir()
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    capture_dir = os.path.join(out, "capture")
    log_path = os.path.join(out, "capture.log")
    cmd = [sys.executable, os.path.join(HERE, "capture.py"), "--out", capture_dir, "--formats", ",".join(FORMATS)]
    started = time.time()
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            rc = proc.wait(CAPTURE_TIMEOUT)
        except subprocess.TimeoutExpired:
            # SIGTERM lets capture.py tear everything down
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(120)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            rc = "timeout"
    _STATE["timings"]["capture"] = time.time() - started
    with open(log_path, "rb") as log_file:
        text = log_file.read().decode("utf-8", "replace")
    return capture_dir, rc, text


@pytest.fixture(scope="session")
def capture():
    if _STATE["capture"] is None and _STATE["skip"] is None and _STATE["error"] is None:
        capture_dir, rc, text = _run_capture()
        if rc == 0:
            _STATE["capture"] = capture_dir
        elif rc == 77:
            reason = "capture skipped"
            skipped = os.path.join(capture_dir, "SKIPPED")
            if os.path.exists(skipped):
                with open(skipped) as handle:
                    reason = handle.read().strip()
            _STATE["skip"] = reason
        else:
            error = ""
            if os.path.exists(os.path.join(capture_dir, "ERROR")):
                with open(os.path.join(capture_dir, "ERROR")) as handle:
                    error = handle.read()
            _STATE["error"] = "capture.py failed (rc=%s)\n%s\n--- capture log (tail) ---\n%s" % (
                rc, error, "\n".join(text.splitlines()[-40:]))
    if _STATE["skip"]:
        message = "*** REAL HYPERVISOR END-TO-END TEST NOT RUN: %s ***" % _STATE["skip"]
        if os.environ.get("VIRTAUDIT_REQUIRE_E2E"):
            pytest.fail(message)
        pytest.skip(message)
    if _STATE["error"]:
        pytest.fail(_STATE["error"], pytrace=False)
    return _STATE["capture"]


@pytest.fixture(scope="session")
def meta(capture):
    with open(os.path.join(capture, "meta.json")) as handle:
        return json.load(handle)


def _ansible_playbook():
    explicit = os.environ.get("VIRTAUDIT_ANSIBLE_PLAYBOOK")
    if explicit:
        return explicit
    venv = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
    if os.access(venv, os.X_OK):
        return venv
    found = shutil.which("ansible-playbook")
    if not found:
        pytest.fail("ansible-playbook not found: run `make venv` (or set VIRTAUDIT_ANSIBLE_PLAYBOOK)")
    return found


_PLAYBOOK = {}


@pytest.fixture(scope="session")
def staged_collections():
    """Stage the checkout like `make stage` does; return the ANSIBLE_COLLECTIONS_PATH."""
    cache = os.path.join(ROOT, ".cache")
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "stage_collection.py"), cache],
                   check=True, stdout=subprocess.PIPE)
    return cache


def run_playbook(fmt, capture_dir, collections):
    if fmt in _PLAYBOOK:
        return _PLAYBOOK[fmt]
    base = capture_dir if os.environ.get("VIRTAUDIT_E2E_REUSE") else output_dir()
    result_dir = os.path.join(base, "results-%s" % fmt)
    if os.path.isdir(result_dir):
        shutil.rmtree(result_dir)
    os.makedirs(result_dir)
    python = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else sys.executable
    bindir = os.path.dirname(_ansible_playbook())
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="false",
               ANSIBLE_PYTHON_INTERPRETER=python, PATH=bindir + os.pathsep + os.environ.get("PATH", ""))
    env.pop("ANSIBLE_CONFIG", None)
    cmd = [_ansible_playbook(), "-i", "localhost,", "-c", "local", os.path.join(HERE, "playbook.yml"),
           "-e", json.dumps({"e2e_log": os.path.join(capture_dir, fmt, "audit.log"), "e2e_result_dir": result_dir})]
    started = time.time()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=HERE, env=env,
                          timeout=PLAYBOOK_TIMEOUT, check=False)
    _STATE["timings"]["playbook %s" % fmt] = time.time() - started
    text = proc.stdout.decode("utf-8", "replace")
    with open(os.path.join(result_dir, "ansible-playbook.log"), "w") as handle:
        handle.write(" ".join(cmd) + "\n" + text)
    if proc.returncode != 0:
        pytest.fail("ansible-playbook failed (rc=%d):\n%s" % (proc.returncode, text[-6000:]), pytrace=False)
    results = {"dir": result_dir, "output": text}
    for name in ("full", "lines", "summary"):
        with open(os.path.join(result_dir, name + ".json")) as handle:
            results[name] = json.load(handle)
    _PLAYBOOK[fmt] = results
    return results


@pytest.fixture(params=FORMATS)
def fmt(request):
    return request.param


@pytest.fixture
def playbook_result(fmt, capture, staged_collections):
    return run_playbook(fmt, capture, staged_collections)


@pytest.fixture(scope="session")
def e2e_note():
    """note(text): a line for the terminal summary (auvirt differences, timings)."""
    return _STATE["notes"].append


@pytest.fixture(scope="session")
def e2e_output(capture):
    """Where results and reports go: the output directory, or the reused capture directory."""
    if os.environ.get("VIRTAUDIT_E2E_REUSE"):
        return capture
    return output_dir()


def pytest_terminal_summary(terminalreporter):
    if not (_STATE["capture"] or _STATE["skip"] or _STATE["error"]):
        return
    write = terminalreporter.write_line
    terminalreporter.section("real hypervisor end-to-end")
    if _STATE["skip"]:
        write("*** SKIPPED e2e: the real hypervisor end-to-end test did not run: %s ***" % _STATE["skip"])
        return
    if _STATE["error"]:
        write("*** FAILED e2e: the capture did not complete; see %s ***" % os.path.join(output_dir(), "capture.log"))
        return
    for name, seconds in sorted(_STATE["timings"].items()):
        write("time %-20s %6.1f s" % (name, seconds))
    for text in _STATE["notes"]:
        write(text)
    write("output: %s" % (_STATE["capture"] if os.environ.get("VIRTAUDIT_E2E_REUSE") else output_dir()))
