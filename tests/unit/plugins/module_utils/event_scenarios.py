# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hypervisor logs written step by step (tools/auditgen.py), each step with the guest events it must bring.

Used by the guest event tests: the golden files of the derivation
(tests/unit/golden_events/), the follower's incremental tests and the
event source tests in tests/eda.  ``expect`` is the ground truth written
down by the scenario itself - ``(kind, host, guest name, reason)`` - never
derived from the engine.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
if os.path.join(ROOT, "tools") not in sys.path:
    sys.path.insert(0, os.path.join(ROOT, "tools"))

import auditgen  # noqa: E402  pylint: disable=wrong-import-position

T0 = auditgen.DEMO_DAY + 6 * 3600  # 2026-03-02T06:00:00Z
UNSET = 4294967295


class Step(object):
    """Lines to append to the log, and the events they bring."""

    def __init__(self, lines, expect, note):
        self.lines = lines
        self.expect = expect
        self.note = note


class Scenario(object):
    """Hosts writing one log (several hosts: ``node=`` prefixes, as a collecting host has it)."""

    def __init__(self, name, hosts):
        self.name = name
        self.hosts = hosts
        self.steps = []
        self._taken = dict((host.name, 0) for host in hosts)
        self._expect = []

    def expect(self, kind, host, guest=None, reason=None):
        self._expect.append((kind, host, guest, reason))

    def step(self, note=""):
        """Close a step: the lines every host wrote since the last one (host by host), and what was expected."""
        lines = []
        for host in self.hosts:
            lines.extend(host.lines[self._taken[host.name]:])
            self._taken[host.name] = len(host.lines)
        self.steps.append(Step(lines, self._expect, note))
        self._expect = []
        return self

    @property
    def lines(self):
        return [line for step in self.steps for line in step.lines]

    @property
    def expected(self):
        return [item for step in self.steps for item in step.expect]

    def text(self):
        return "".join(line + "\n" for line in self.lines)


def abend(host, guest):
    """The ANOM_ABEND of the guest's qemu (SIGSEGV), without the stop libvirt writes after it."""
    subj = " subj=system_u:system_r:svirt_t:%s" % guest.mcs if guest.mcs else ""
    host.event([("ANOM_ABEND", 'auid=%d uid=107 gid=107 ses=%d%s pid=%d comm="qemu-kvm" exe="/usr/libexec/qemu-kvm" '
                 'sig=11 res=1' % (UNSET, UNSET, subj, guest.pid), None)])


def audit_abort(host):
    """auditd gives up (disk full, ...): DAEMON_ABORT with auditd's own serial."""
    host.event([("DAEMON_ABORT", "op=disk-full auid=%d pid=812 uid=0 ses=%d res=failed" % (UNSET, UNSET), None)],
               serial=host.auditd_serial)
    host.auditd_serial += 1


def guests():
    return auditgen.demo_guests()


def one_host(name, host, t0, seed, serial, first=None):
    """``(guests, host, scenario)`` of a one-host scenario; ``first``: a guest started at once (expected)."""
    g = guests()
    h = auditgen.Host(host, t0, seed=seed, serial=serial)
    s = Scenario(name, [h])
    if first:
        h.start_guest(g[first])
        s.expect("started", host, first, "booted")
    return g, h, s


def lifecycle(t0=T0):
    """One SELinux host: every guest happening, a shutdown with a guest still running, the boot after it."""
    g, h, s = one_host("lifecycle", "hv01", t0, 11, 20000)
    h.noise(4)
    s.step("background only")
    h.tick(30)
    h.start_guest(g["web01"])
    s.expect("started", "hv01", "web01", "booted")
    h.tick(20)
    h.migrate_in(g["db01"])
    s.expect("migrated_in", "hv01", "db01", "migrated")
    s.step("two guests arrive")
    h.tick(60)
    h.hotplug(g["web01"], "pci", "0000:3b:00.0")
    h.noise(3)
    h.avc(g["web01"], "/var/lib/libvirt/images/shared.img")
    s.expect("avc", "hv01", "web01", "denied")
    h.tick(5)
    h.start_guest(g["batch07"], ok=False)
    s.expect("failed_start", "hv01", "batch07", "booted")
    s.step("hot-plug, denial, failed start")
    h.tick(40)
    h.start_guest(g["app02"])
    s.expect("started", "hv01", "app02", "booted")
    h.tick(300)
    h.crash_guest(g["app02"])
    s.expect("anomaly", "hv01", "app02", "ANOM_ABEND")
    s.expect("crashed", "hv01", "app02", "failed")
    s.step("a crash")
    h.tick(120)
    h.stop_guest(g["web01"], "shutdown")
    s.expect("stopped", "hv01", "web01", "shutdown")
    h.tick(10)
    h.stop_guest(g["db01"], "migrated")
    s.expect("migrated_out", "hv01", "db01", "migrated")
    h.tick(10)
    h.start_guest(g["cache01"])
    s.expect("started", "hv01", "cache01", "booted")
    h.noise(2)
    s.step("stop, migration away, a new guest")
    h.tick(600)
    h.shutdown()
    s.expect("audit_stopped", "hv01", None, "end")
    s.step("the host shuts down with cache01 running")
    h.boot()
    s.expect("down", "hv01", "cache01", "shutdown")
    h.noise(2)
    h.tick(20)
    h.start_guest(g["cache01"])
    s.expect("started", "hv01", "cache01", "booted")
    s.step("the host is back")
    return s


def host_crash(t0=T0):
    """A host that dies without SYSTEM_SHUTDOWN: seen by the serials starting again at the next boot."""
    dummy, h, s = one_host("host_crash", "hv02", t0, 12, 52000, first="web01")
    h.noise(5)
    s.step("a guest runs")
    h.boot(after=240)
    s.expect("down", "hv02", "web01", "host_crash")
    h.noise(2)
    s.step("the host boots again, no shutdown before")
    return s


def abend_only(t0=T0):
    """The qemu of a guest dies and libvirt logs no stop: a crash only after the grace period."""
    g, h, s = one_host("abend_only", "hv03", t0, 13, 3000, first="app02")
    h.tick(90)
    abend(h, g["app02"])
    s.expect("anomaly", "hv03", "app02", "ANOM_ABEND")
    s.expect("crashed", "hv03", "app02", "abend")
    s.step("ANOM_ABEND, no stop")
    return s


def lost_and_gap(t0=T0):
    """A guest started again while its session never ended (its stop is lost), and event serials that jump."""
    g, h, s = one_host("lost_and_gap", "hv04", t0, 14, 7000, first="web01")
    h.noise(2)
    s.step("web01 runs")
    h.tick(60)
    h.serial += 25  # 25 events never reach the log
    s.expect("records_lost", "hv04", None, None)
    h.noise(1)
    h.tick(30)
    h.start_guest(g["web01"])
    s.expect("lost", "hv04", "web01", None)
    s.expect("started", "hv04", "web01", "booted")
    s.step("records lost, web01 started again")
    h.tick(30)
    h.stop_guest(g["web01"], "destroyed")
    s.expect("stopped", "hv04", "web01", "destroyed")
    audit_abort(h)
    s.expect("audit_stopped", "hv04", None, "abort")
    s.step("stopped; auditd aborts")
    return s


def unattributed(t0=T0):
    """A denial of an unlabelled guest's qemu: matched to no session, an avc event of no guest (docs/events.md)."""
    g, h, s = one_host("unattributed", "hv05", t0, 15, 900, first="legacy01")
    h.tick(10)
    h.avc(g["legacy01"], "/srv/share/data.img")
    s.expect("avc", "hv05", None, "denied")
    s.step("an unattributed denial")
    return s


def two_nodes(late=1200, t0=T0):
    """A collecting host's log: hv1 and hv2 (``node=``); db01 migrates hv1 -> hv2; hv1 shuts down with web01
    running and comes back only after hv2 logged ``late`` seconds of guest activity."""
    g = guests()
    h1 = auditgen.Host("hv1", t0, seed=21, serial=11000, node="hv1")
    h2 = auditgen.Host("hv2", t0, seed=22, serial=61000, node="hv2", daemon_pid=1611)
    s = Scenario("two_nodes", [h1, h2])
    h1.start_guest(g["web01"])
    s.expect("started", "hv1", "web01", "booted")
    h1.start_guest(g["db01"])
    s.expect("started", "hv1", "db01", "booted")
    h2.at(h1.now)
    h2.start_guest(g["app02"])
    s.expect("started", "hv2", "app02", "booted")
    s.step("guests on both nodes")
    h2.at(h1.now + 60)
    h2.migrate_in(g["db01"])
    s.expect("migrated_in", "hv2", "db01", "migrated")
    h1.at(h2.now + 5)
    h1.stop_guest(g["db01"], "migrated")
    s.expect("migrated_out", "hv1", "db01", "migrated")
    s.step("db01 migrates")
    h1.tick(30)
    h1.shutdown()
    s.expect("audit_stopped", "hv1", None, "end")
    s.step("hv1 shuts down with web01 running")
    h2.at(h1.now + 10)
    for dummy in range(4):
        h2.tick(late / 4.0)
        h2.avc(g["app02"], "/srv/a.img")
        s.expect("avc", "hv2", "app02", "denied")
        s.step("hv2 goes on")
    h1.at(h2.now + 5)
    h1.boot()
    s.expect("down", "hv1", "web01", "shutdown")
    h1.noise(1)
    s.step("hv1 is back")
    return s


SCENARIOS = {
    "lifecycle": lifecycle,
    "host_crash": host_crash,
    "abend_only": abend_only,
    "lost_and_gap": lost_and_gap,
    "unattributed": unattributed,
    "two_nodes": two_nodes,
}


class AuditdLog(object):
    """A log directory written like auditd writes it: whole lines appended to ``audit.log``, rotated by
    renaming ``audit.log.N`` to ``.N+1`` and ``audit.log`` to ``.1`` (the oldest beyond ``num_logs`` removed),
    with an ``auditd.conf`` naming the live log."""

    def __init__(self, directory, num_logs=5):
        self.dir = str(directory)
        self.path = os.path.join(self.dir, "audit.log")
        self.conf = os.path.join(self.dir, "auditd.conf")
        self.num_logs = num_logs
        self.rotations = 0
        if not os.path.isdir(self.dir):
            os.makedirs(self.dir)
        with open(self.conf, "w") as handle:
            handle.write("log_file = %s\nnum_logs = %d\nmax_log_file_action = ROTATE\n" % (self.path, num_logs))
        open(self.path, "a").close()

    def append(self, lines):
        with open(self.path, "a") as handle:
            handle.write("".join(line + "\n" for line in lines))
            handle.flush()

    def rotate(self):
        oldest = "%s.%d" % (self.path, self.num_logs - 1)
        if os.path.exists(oldest):
            os.remove(oldest)
        for number in range(self.num_logs - 2, 0, -1):
            name = "%s.%d" % (self.path, number)
            if os.path.exists(name):
                os.rename(name, "%s.%d" % (self.path, number + 1))
        os.rename(self.path, self.path + ".1")
        open(self.path, "w").close()
        self.rotations += 1
