# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A real ansible-rulebook beside one capture pass: the guest_events source follows the log as auditd writes it.

capture.py calls it at fixed points of the lifecycle of one pass (docs/e2e.md,
"Guest events through ansible-rulebook"):

* ``begin()`` when the pass's auditd runs: ansible-rulebook starts with
  tests/eda/rulebooks/guest_crashed.yml (tests/eda/rulebook_run.py) on the
  pass's log, the source's ``start`` being the beginning of the pass, so what
  the lifecycle does while the JVM starts is put on the queue too;
* ``ready()`` before the first guest is killed: the source follows the log;
* ``received(...)`` until ansible-rulebook has received a given event - before
  auditd rotates its log (the checkpoint then lies in the file auditd
  renames) and before the source is stopped;
* ``crash_reaction(kill)``: how long after the kill the rulebook's playbook
  wrote the ``crashed`` event down;
* ``stop()``, then lifecycle actions, then ``restart()`` on the same workdir
  and checkpoint;
* ``finish(since)`` after auditd's last stop: until its ``audit_stopped`` was
  received, then ansible-rulebook is stopped.

Everything is in WORKDIR (``PASS/eda``): ansible-rulebook's output of each
start, the reactions, the checkpoint, and ``eda.json`` - what ran when.  The
source reads the log by path: an ``auditd.conf`` of its own there names
auditd's log file as this machine sees it (inside the root for a chroot
platform, whose own auditd.conf names it as the root sees it).

When ansible-rulebook or Java 17 is missing, ``eda.json`` says SKIPPED and
why.  A failure of this part (the source not ready, an event not received in
time, ansible-rulebook ending) is written to ``eda.json`` and ends only this
part: the rest of the capture goes on, and the EDA test fails with it.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "eda"))

import rulebook_run  # noqa: E402  pylint: disable=wrong-import-position

INTERVAL = 0.5          # the source's poll interval
READY_TIMEOUT = 180     # JVM and rulebook start on a busy machine
RECEIVE_TIMEOUT = 60
REACTION_WAIT = 60      # a slower reaction is still measured (the test wants 10 s)
INFO = "eda.json"


def versions():
    """ansible-rulebook's version (of the Python that runs this) and the Java runtime's first line."""
    try:
        from importlib import metadata
        rulebook = "ansible-rulebook %s" % metadata.version("ansible-rulebook")
    except Exception:  # pylint: disable=broad-except
        rulebook = "ansible-rulebook (version unknown)"
    try:
        java = rulebook_run.java_version()[1]
    except rulebook_run.Unavailable as exc:
        java = str(exc)
    return rulebook, java


class RulebookBeside(object):
    """ansible-rulebook on one pass's log; see the module docstring.  ``log`` prints a progress line."""

    def __init__(self, workdir, log_file, host, start, log):
        self.workdir = workdir
        self.log_file = log_file
        self._log = log
        self.rulebook = None
        self.info = {"host": host, "log_file": log_file, "start": round(start, 3), "interval": INTERVAL,
                     "skipped": None, "error": None, "runs": [], "crash": None, "waits": []}

    @property
    def active(self):
        return self.rulebook is not None and self.info["error"] is None

    def _save(self):
        with open(os.path.join(self.workdir, INFO), "w") as handle:
            json.dump(self.info, handle, indent=2, sort_keys=True, ensure_ascii=False)

    def _step(self, what, function, *args):
        """Run one step; a failure ends the EDA part (written down), never the capture."""
        if not self.active:
            return None
        try:
            return function(*args)
        except Exception as exc:  # pylint: disable=broad-except
            self.info["error"] = "%s: %s\n%s" % (what, exc, traceback.format_exc())
            self._log("rulebook: FAILED (%s): %s" % (what, str(exc).splitlines()[0] if str(exc) else exc))
            self.teardown()
            return None
        finally:
            self._save()

    def begin(self):
        os.makedirs(self.workdir, 0o700)
        conf = os.path.join(self.workdir, "auditd.conf")
        with open(conf, "w") as handle:
            handle.write("# the pass's auditd log as this machine sees it, for the guest_events source\n"
                         "log_file = %s\nnum_logs = 2\n" % self.log_file)
        self.info["versions"] = versions()
        self.rulebook = rulebook_run.RulebookRun(self.workdir, auditd_conf=conf, host=self.info["host"],
                                                 interval=INTERVAL, start="%.3f" % self.info["start"])
        try:
            self._start()
        except rulebook_run.Unavailable as exc:
            self.rulebook = None
            self.info["skipped"] = str(exc)
            self._log("rulebook: SKIPPED: %s" % exc)
        self._save()

    def _start(self):
        self.rulebook.start()
        self.info["runs"].append({"output": os.path.basename(self.rulebook.output), "started": self.rulebook.started,
                                  "ready": None, "stop_asked": None, "stopped": None, "exit": None})
        self._log("rulebook: ansible-rulebook started (pid %d), start %d"
                  % (self.rulebook.proc.pid, len(self.info["runs"])))

    def _ready(self):
        run = self.info["runs"][-1]
        if run["ready"] is None:
            run["ready"] = self.rulebook.wait_ready(READY_TIMEOUT)
            self._log("rulebook: the source read the log %.1f s after ansible-rulebook started"
                      % (run["ready"] - run["started"]))
        return run["ready"]

    def ready(self):
        """Wait until the source of the current start has read the log (timed: the wait is part of the cost)."""
        began = time.time()
        self._step("ready", self._ready)
        self._wait_done("ready", began)

    def _wait_done(self, what, began):
        """What the capture waited for, and how long (the wall time this part adds)."""
        if self.rulebook is not None:
            self.info["waits"].append([what, round(time.time() - began, 3)])

    def received(self, what, kind, uuid=None, since=None):
        """Wait until ansible-rulebook received a ``kind`` event (of guest ``uuid``) at or after epoch ``since``."""
        began = time.time()

        def matches(event):
            return (event.get("kind") == kind and (uuid is None or event.get("uuid") == uuid)
                    and (since is None or (event.get("epoch") or 0) >= since - 1.0))

        def wait():
            self._ready()
            return self.rulebook.wait_received(matches, what, RECEIVE_TIMEOUT)
        self._step("waiting for %s" % what, wait)
        self._wait_done(what, began)

    def crash_reaction(self, kill):
        """How long after ``kill`` (epoch) the playbook wrote the crashed event down (measured by the file)."""
        def measure():
            event, seconds = self.rulebook.wait_reaction("crashed", kill, REACTION_WAIT)
            self.info["crash"] = {"kill": kill, "seconds": round(seconds, 3), "event": event}
            self._log("rulebook: the playbook reacted to the crash %.2f s after the kill" % seconds)
        began = time.time()
        self._step("the reaction to the crash", measure)
        self._wait_done("crash reaction", began)

    def _stop(self):
        run = self.info["runs"][-1]
        run["stop_asked"] = time.time()
        run["exit"] = self.rulebook.stop()
        run["stopped"] = time.time()
        self._log("rulebook: ansible-rulebook stopped (exit %s) in %.2f s"
                  % (run["exit"], run["stopped"] - run["stop_asked"]))

    def stop(self):
        began = time.time()
        self._step("stop", self._stop)
        self._wait_done("stop", began)

    def restart(self):
        """Start ansible-rulebook again on the same workdir and checkpoint (not waiting for it)."""
        self._step("restart", self._start)

    def finish(self, since):
        """After auditd's last stop: until its audit_stopped (at or after ``since``) was received; then stop."""
        self.received("the final audit_stopped", "audit_stopped", since=since)
        self.stop()

    def teardown(self):
        """Stop ansible-rulebook if it still runs (capture.py's tear-down; any failure path)."""
        if self.rulebook is not None and self.rulebook.proc is not None and self.rulebook.proc.poll() is None:
            self._log("rulebook: stopping ansible-rulebook pid %d" % self.rulebook.proc.pid)
            run = self.info["runs"][-1] if self.info["runs"] else {}
            run["stop_asked"] = time.time()
            run["exit"] = self.rulebook.stop()
            run["stopped"] = time.time()
            self._save()
