# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures of the real-hypervisor end-to-end test (docs/e2e.md).

Every test runs once per platform (tests/e2e/platforms.py: Debian 12 and
Debian 13, one on the host, the other in a debootstrap root) and log format.

* ``capture``: runs capture.py once per platform (real auditd, libvirtd and
  qemu; RAW then ENRICHED) and returns its output directory.  When the
  machine cannot do it (not root, packages not installable, the kernel
  refuses auditing, another audit/libvirt daemon is running) every test of
  that platform is SKIPPED with the reason and a banner is printed at the
  end - never passed.  VIRTAUDIT_REQUIRE_E2E=1 turns the skip into a failure.
* ``playbook_result``: the collection run through a real ``ansible-playbook``
  against localhost on the captured log of one platform and format.

Environment:
  VIRTAUDIT_E2E_OUTPUT    output directory (default .cache/e2e in the checkout); emptied first
  VIRTAUDIT_E2E_REUSE     judge an existing output directory (PLATFORM/capture in it) instead of capturing
  VIRTAUDIT_E2E_PLATFORMS platforms to run (default all: debian12,debian13)
  VIRTAUDIT_E2E_FORMATS   formats to capture (default RAW,ENRICHED)
  VIRTAUDIT_E2E_VIRT      "qemu" forces TCG even where /dev/kvm works
  VIRTAUDIT_E2E_KEEP_TMP  keep the temporary directory (images, configs, daemon logs)
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

import platforms  # noqa: E402  pylint: disable=wrong-import-position
import records  # noqa: E402  pylint: disable=wrong-import-position

# a cold debootstrap root is made inside the capture (about 70 s from a near mirror)
CAPTURE_TIMEOUT = 1200
PLAYBOOK_TIMEOUT = 300
FORMATS = [f.strip().upper() for f in os.environ.get("VIRTAUDIT_E2E_FORMATS", "RAW,ENRICHED").split(",") if f.strip()]
PLATFORMS = platforms.selected()

# per platform name: capture directory, skip reason or error, timings;
# per (platform, format): the record traits (records.py) and package versions
_STATE = {"platforms": {}, "notes": [], "output_ready": False, "records": {}}


def _platform_state(name):
    return _STATE["platforms"].setdefault(name, {"capture": None, "skip": None, "error": None, "timings": {}})


def output_dir():
    return os.path.abspath(os.environ.get("VIRTAUDIT_E2E_OUTPUT") or os.path.join(ROOT, ".cache", "e2e"))


def results_dir():
    """Where the results go: the output directory, or the reused one."""
    reuse = os.environ.get("VIRTAUDIT_E2E_REUSE")
    return os.path.abspath(reuse) if reuse else output_dir()


def pytest_configure(config):
    config.addinivalue_line("markers", "auvirt: only on the platforms whose audit package still has auvirt")


def pytest_generate_tests(metafunc):
    """platform x format; an ``auvirt`` test only on the platforms that have auvirt."""
    if "platform" in metafunc.fixturenames:
        names = [p["name"] for p in PLATFORMS
                 if p["auvirt"] or not metafunc.definition.get_closest_marker("auvirt")]
        metafunc.parametrize("platform", names, scope="session")
    if "fmt" in metafunc.fixturenames:
        metafunc.parametrize("fmt", FORMATS)


def _run_capture(name):
    reuse = os.environ.get("VIRTAUDIT_E2E_REUSE")
    if reuse:
        capture_dir = os.path.join(os.path.abspath(reuse), name, "capture")
        if not os.path.isdir(capture_dir):
            return capture_dir, 77, "no capture of %s in %s" % (name, reuse)
        return capture_dir, 0, "(reused %s)" % capture_dir
    out = output_dir()
    if not _STATE["output_ready"]:
        if os.path.isdir(out):
            shutil.rmtree(out)
        _STATE["output_ready"] = True
    os.makedirs(os.path.join(out, name))
    capture_dir = os.path.join(out, name, "capture")
    log_path = os.path.join(out, name, "capture.log")
    cmd = [sys.executable, os.path.join(HERE, "capture.py"), "--out", capture_dir, "--platform", name,
           "--formats", ",".join(FORMATS)]
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
    _platform_state(name)["timings"]["capture"] = time.time() - started
    with open(log_path, "rb") as log_file:
        text = log_file.read().decode("utf-8", "replace")
    return capture_dir, rc, text


@pytest.fixture(scope="session")
def capture(platform):
    state = _platform_state(platform)
    if state["capture"] is None and state["skip"] is None and state["error"] is None:
        capture_dir, rc, text = _run_capture(platform)
        if rc == 0:
            state["capture"] = capture_dir
        elif rc == 77:
            reason = text if os.environ.get("VIRTAUDIT_E2E_REUSE") else "capture skipped"
            skipped = os.path.join(capture_dir, "SKIPPED")
            if os.path.exists(skipped):
                with open(skipped) as handle:
                    reason = handle.read().strip()
            state["skip"] = reason
        else:
            error = ""
            if os.path.exists(os.path.join(capture_dir, "ERROR")):
                with open(os.path.join(capture_dir, "ERROR")) as handle:
                    error = handle.read()
            state["error"] = "capture.py --platform %s failed (rc=%s)\n%s\n--- capture log (tail) ---\n%s" % (
                platform, rc, error, "\n".join(text.splitlines()[-40:]))
    if state["skip"]:
        message = "*** REAL HYPERVISOR END-TO-END TEST NOT RUN on %s: %s ***" % (platform, state["skip"])
        if os.environ.get("VIRTAUDIT_REQUIRE_E2E"):
            pytest.fail(message)
        pytest.skip(message)
    if state["error"]:
        pytest.fail(state["error"], pytrace=False)
    return state["capture"]


@pytest.fixture
def platform_info(platform):
    return platforms.by_name(platform)


@pytest.fixture
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


def run_playbook(platform, fmt, capture_dir, collections):
    if (platform, fmt) in _PLAYBOOK:
        return _PLAYBOOK[(platform, fmt)]
    result_dir = os.path.join(results_dir(), platform, "results-%s" % fmt)
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
    _platform_state(platform)["timings"]["playbook %s" % fmt] = time.time() - started
    text = proc.stdout.decode("utf-8", "replace")
    with open(os.path.join(result_dir, "ansible-playbook.log"), "w") as handle:
        handle.write(" ".join(cmd) + "\n" + text)
    if proc.returncode != 0:
        pytest.fail("ansible-playbook failed (rc=%d):\n%s" % (proc.returncode, text[-6000:]), pytrace=False)
    results = {"dir": result_dir, "output": text}
    for name in ("full", "lines", "summary"):
        with open(os.path.join(result_dir, name + ".json")) as handle:
            results[name] = json.load(handle)
    _PLAYBOOK[(platform, fmt)] = results
    return results


@pytest.fixture
def playbook_result(platform, fmt, capture, staged_collections):
    return run_playbook(platform, fmt, capture, staged_collections)


@pytest.fixture(scope="session")
def e2e_note():
    """note(text): a line for the terminal summary (auvirt differences, timings)."""
    return _STATE["notes"].append


@pytest.fixture
def e2e_output(platform, capture):
    """Where the platform's results and reports go (in the output directory, or the reused one)."""
    return os.path.join(results_dir(), platform)


@pytest.fixture(scope="session")
def e2e_records():
    """record(platform, fmt, traits, versions): one column of record-differences.md."""
    def record(platform, fmt, traits, versions):
        _STATE["records"][(platform, fmt)] = {"traits": traits, "versions": versions}
    return record


def _write_record_differences():
    if not _STATE["records"]:
        return None
    path = os.path.join(results_dir(), "record-differences.md")
    with open(path, "w") as handle:
        handle.write(records.report(_STATE["records"]))
    return path


def _auditd_version(capture_dir):
    try:
        with open(os.path.join(capture_dir, "meta.json")) as handle:
            return "auditd %s" % json.load(handle)["versions"]["auditd"]
    except (IOError, OSError, ValueError, KeyError):
        return "audit-userspace >= 4.0"


def pytest_terminal_summary(terminalreporter):
    states = [(p["name"], _STATE["platforms"][p["name"]]) for p in PLATFORMS if p["name"] in _STATE["platforms"]]
    if not states:
        return
    write = terminalreporter.write_line
    terminalreporter.section("real hypervisor end-to-end")
    for name, state in states:
        if state["skip"]:
            write("%s: NOT RUN: %s" % (name, state["skip"]))
        elif state["error"]:
            write("%s: FAILED: the capture did not complete; see %s"
                  % (name, os.path.join(output_dir(), name, "capture.log")))
        else:
            for what, seconds in sorted(state["timings"].items()):
                write("%s: time %-20s %6.1f s" % (name, what, seconds))
            if not platforms.by_name(name)["auvirt"]:
                write("%s: no auvirt comparison: its audit package (%s) has no auvirt"
                      % (name, _auditd_version(state["capture"])))
    for text in _STATE["notes"]:
        write(text)
    differences = _write_record_differences()
    if differences:
        write("how the platforms' logs differ: %s" % differences)
    write("output: %s" % results_dir())
    skipped = ["%s: %s" % (name, state["skip"]) for name, state in states if state["skip"]]
    # the banners scripts/summary.sh reads (make test's summary)
    if skipped and len(skipped) == len(states):
        write("*** SKIPPED e2e: the real hypervisor end-to-end test did not run: %s ***" % "; ".join(skipped))
    elif skipped:
        write("*** PARTLY SKIPPED e2e: %s ***" % "; ".join(skipped))
