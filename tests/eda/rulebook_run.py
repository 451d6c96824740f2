# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the guest_events source under a real ansible-rulebook and time its reaction to a crashed guest.

The rulebook is rulebooks/guest_crashed.yml: a ``crashed`` event runs the
playbook rulebooks/react.yml, which writes the event to
``WORKDIR/reactions/crashed-FINGERPRINT.json``; the reaction time is that
file's modification time minus the moment the crash was caused.

As a module (tests/eda/test_rulebook.py)::

    with RulebookRun(workdir, auditd_conf=conf, host="hv01") as rulebook:
        rulebook.wait_ready()
        caused = time.time()
        ...                                   # make a guest crash
        event, seconds = rulebook.wait_reaction("crashed", caused, timeout=10)

From the command line - the entry point for the real-hypervisor test
(tests/e2e), which starts it before it kills a qemu with SIGSEGV::

    python tests/eda/rulebook_run.py --workdir DIR [--auditd-conf /etc/audit/auditd.conf]
                                     [--host NAME] [--timeout 10]

It prints ``READY`` once the source has read the log, then reads one line
from its standard input - the epoch at which the crash was caused (empty:
now) - and prints one JSON line ``{"event": ..., "seconds": ...}`` and exits
0 when a ``crashed`` event caused a reaction within ``--timeout`` seconds,
or ``{"error": ...}`` and exits 1.  Exit 77 with a SKIPPED line when
ansible-rulebook or a Java 17 runtime is missing.

Needs ansible-rulebook (tests/requirements-eda.txt) and Java 17 on PATH or
in JAVA_HOME; the collection is taken from VIRTAUDIT_COLLECTIONS_PATH (the
staged copy of ``make stage``) or linked from this checkout.
"""

from __future__ import absolute_import, division, print_function

import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RULEBOOK = os.path.join(HERE, "rulebooks", "guest_crashed.yml")
PLAYBOOK = os.path.join(HERE, "rulebooks", "react.yml")
SKIP = 77


class Unavailable(Exception):
    """ansible-rulebook cannot run here; ``str()`` says why."""


def tool(name):
    """``name`` next to this Python (the venv), else on PATH, or None."""
    local = os.path.join(os.path.dirname(sys.executable), name)
    return local if os.access(local, os.X_OK) else shutil.which(name)


def java_version():
    """``(major version, text)`` of the Java runtime ansible-rulebook would use; Unavailable when none."""
    home = os.environ.get("JAVA_HOME")
    java = os.path.join(home, "bin", "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = "JAVA_HOME=%s has no bin/java" % home if home else "java is not on PATH and JAVA_HOME is unset"
        raise Unavailable("no Java runtime (%s); ansible-rulebook needs Java 17: "
                          "apt-get install openjdk-17-jre-headless" % where)
    try:
        out = subprocess.run([java, "-version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                             check=False).stdout.decode("utf-8", "replace")
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable("%s -version failed: %s" % (java, exc))
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    if not match:
        raise Unavailable("%s -version printed no version: %s" % (java, out.strip()[:200]))
    major = int(match.group(1))
    if major == 1 and match.group(2):
        major = int(match.group(2))
    if major < 17:
        raise Unavailable("%s is Java %d; ansible-rulebook needs Java 17 or later" % (java, major))
    return major, out.splitlines()[0]


def rulebook_version():
    """``ansible-rulebook --version`` first line; Unavailable when it is not installed."""
    exe = tool("ansible-rulebook")
    if not exe:
        raise Unavailable("ansible-rulebook is not installed (pip install -r tests/requirements-eda.txt)")
    out = subprocess.run([exe, "--version"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120,
                         check=False).stdout.decode("utf-8", "replace")
    return out.strip().splitlines()[0] if out.strip() else "ansible-rulebook (version unknown)"


def collections_path(workdir):
    """A collections path that holds virtaudit.auvirt: the staged copy, else a link to this checkout."""
    staged = os.environ.get("VIRTAUDIT_COLLECTIONS_PATH")
    if staged and os.path.isdir(os.path.join(staged, "ansible_collections", "virtaudit", "auvirt")):
        return staged
    top = os.path.join(workdir, "collections")
    link = os.path.join(top, "ansible_collections", "virtaudit", "auvirt")
    if not os.path.exists(link):
        os.makedirs(os.path.dirname(link))
        os.symlink(ROOT, link)
    return top


class RulebookRun(object):
    """ansible-rulebook with rulebooks/guest_crashed.yml on one log set, as a context manager."""

    def __init__(self, workdir, auditd_conf="/etc/audit/auditd.conf", host="localhost", interval=0.5):
        self.workdir = os.path.abspath(workdir)
        self.auditd_conf = auditd_conf
        self.host = host
        self.interval = interval
        self.reactions = os.path.join(self.workdir, "reactions")
        self.checkpoint = os.path.join(self.workdir, "guest_events.checkpoint")
        self.output = os.path.join(self.workdir, "ansible-rulebook.log")
        self.proc = None
        self.started = None
        self._out = None

    def start(self):
        java_version()
        exe = tool("ansible-rulebook")
        if not exe:
            raise Unavailable("ansible-rulebook is not installed (pip install -r tests/requirements-eda.txt)")
        for path in (self.workdir, self.reactions):
            if not os.path.isdir(path):
                os.makedirs(path, 0o700)
        variables = os.path.join(self.workdir, "vars.yml")
        with open(variables, "w") as handle:
            json.dump({"auditd_conf": self.auditd_conf, "event_host": self.host, "checkpoint": self.checkpoint,
                       "poll_interval": str(self.interval), "react_playbook": PLAYBOOK,
                       "reaction_dir": self.reactions}, handle)  # JSON is YAML
        inventory = os.path.join(self.workdir, "inventory.yml")
        with open(inventory, "w") as handle:
            handle.write("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: %s\n" % sys.executable)
        env = dict(os.environ)
        env.update(ANSIBLE_COLLECTIONS_PATH=collections_path(self.workdir),
                   PATH=os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", ""),
                   ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1", PYTHONUNBUFFERED="1")
        self._out = open(self.output, "wb")
        self.started = time.time()
        self.proc = subprocess.Popen([exe, "--rulebook", RULEBOOK, "--inventory", inventory, "--vars", variables,
                                      "-v"], cwd=self.workdir, env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        return self

    def log(self):
        with open(self.output, "rb") as handle:
            return handle.read().decode("utf-8", "replace")

    def _alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError("ansible-rulebook ended (exit %s):\n%s" % (self.proc.returncode, self.log()[-4000:]))

    def wait_ready(self, timeout=120):
        """Until the source has read the log once and saved its state (the JVM takes a while to start)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            self._alive()
            if os.path.exists(self.checkpoint + ".events"):
                return time.time()
            time.sleep(0.1)
        raise RuntimeError("the source did not read the log within %d s:\n%s" % (timeout, self.log()[-4000:]))

    def wait_reaction(self, kind, since, timeout=10.0):
        """``(event, seconds)`` of the first reaction to a ``kind`` event written after ``since``; RuntimeError
        when none came within ``timeout`` seconds after ``since``."""
        deadline = since + timeout
        while True:
            found = []
            for path in glob.glob(os.path.join(self.reactions, "%s-*.json" % kind)):
                mtime = os.stat(path).st_mtime
                if mtime >= since:
                    found.append((mtime, path))
            if found:
                mtime, path = min(found)
                with open(path) as handle:
                    return json.load(handle), mtime - since
            if time.time() > deadline:
                raise RuntimeError("no reaction to a %s event within %.1f s:\n%s"
                                   % (kind, timeout, self.log()[-4000:]))
            self._alive()
            time.sleep(0.05)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGINT, 20), (signal.SIGTERM, 10), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)  # the group of the process started above
                except OSError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        self._out.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="guest_events under ansible-rulebook: time the reaction to a crash")
    parser.add_argument("--workdir", required=True, help="directory for the checkpoint, reactions and logs")
    parser.add_argument("--auditd-conf", default="/etc/audit/auditd.conf")
    parser.add_argument("--host", default="localhost", help="name for records without node=")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds from the crash to the reaction")
    parser.add_argument("--interval", type=float, default=0.5, help="poll interval of the source")
    args = parser.parse_args(argv)
    try:
        java_version()
        rulebook_version()
    except Unavailable as exc:
        print("*** SKIPPED guest_events under ansible-rulebook: %s ***" % exc)
        return SKIP
    with RulebookRun(args.workdir, args.auditd_conf, args.host, args.interval) as rulebook:
        try:
            rulebook.wait_ready()
            print("READY", flush=True)
            line = sys.stdin.readline().strip()
            since = float(line) if line else time.time()
            event, seconds = rulebook.wait_reaction("crashed", since, args.timeout)
        except (RuntimeError, ValueError) as exc:
            print(json.dumps({"error": str(exc)}), flush=True)
            return 1
    print(json.dumps({"event": event, "seconds": round(seconds, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
