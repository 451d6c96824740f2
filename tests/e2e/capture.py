# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive real guests through a real libvirtd while a real auditd writes the log.

Run as root:  python3 tests/e2e/capture.py --out DIR [--platform NAME] [--formats RAW,ENRICHED]

The platform (tests/e2e/platforms.py) is the host's own Debian release,
driven on "/", or another one, driven in a root made by make_root.sh
(debootstrap, cached): then every command runs through ``chroot ROOT``,
proc, sysfs, /sys/fs/cgroup, /dev, /dev/pts and a fresh /run are mounted
into the root for the run and unmounted afterwards.

What it does (docs/e2e.md has the long version):

1. installs the packages when missing (install_packages.sh on the host,
   make_root.sh for a chroot), refuses to run
   next to an audit daemon or libvirt daemon it did not start, and takes a
   lock so that two runs never overlap;
2. starts virtlogd and libvirtd in the foreground as its own children, with
   configuration, sockets and logs in a private temporary directory
   (``audit_level = 1``);
3. for every log format: starts auditd (``-n -s nochange -c CONFDIR``) with a
   log file of its own, ``auditctl -e 1``, drives the guests through the
   scripted lifecycle with ``virsh``, restarts auditd in the middle, stops
   auditd with one guest still running, restores the audit state and removes
   that pass's guests;
4. tears everything down in ``finally`` (and on SIGTERM/SIGINT/SIGHUP):
   guests destroyed and undefined, daemons stopped by the pids it started,
   the kernel audit state and /dev/kvm permissions restored, firewall
   chains and tables libvirt made removed, the temporary directory removed,
   the root's mounts undone.

Everything the test needs is written to DIR: per format ``audit.log``,
``actions.jsonl`` (the ground truth, one JSON object per action, written as
the action happens) and ``guests.json``; ``meta.json`` (versions, virt type,
timings, audit state) for the run.

Exit status: 0 done; 77 skipped (the reason is in DIR/SKIPPED and on stderr:
not root, cannot install, kernel refuses auditing, another audit or libvirt
daemon is running); 1 failed (DIR/ERROR).
"""

from __future__ import absolute_import, division, print_function

import argparse
import errno
import fcntl
import glob
import json
import os
import platform
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import xml.etree.ElementTree as ET

import platforms

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
INSTALL_SCRIPT = os.path.join(HERE, "install_packages.sh")
MAKE_ROOT_SCRIPT = os.path.join(HERE, "make_root.sh")
LOCK_FILE = "/run/lock/virtaudit-e2e.lock"
QEMU_BIN = "/usr/bin/qemu-system-x86_64"
SKIP = 77

# The guests.  No OS image: 64 MiB, 1 vCPU (of 2), a small qcow2 disk, one
# NIC of type 'ethernet' (libvirt creates a tap device, no bridge, no
# firewall rules), a serial pty.  e2e-alpha has NUMA + maxMemory for DIMM
# hot-plug.  e2e-charlie's disk is never created (failed start).  The name of
# e2e-delta-... is longer than auvirt's 22-character column on purpose.
GUESTS = [
    {"key": "alpha", "name": "e2e-alpha", "uuid": "e2e0a1a1-0000-4000-8000-0000000000a1",
     "mac": "52:54:00:e2:e0:a1", "dimm": True},
    {"key": "bravo", "name": "e2e-bravo", "uuid": "e2e0b2b2-0000-4000-8000-0000000000b2",
     "mac": "52:54:00:e2:e0:b2"},
    {"key": "charlie", "name": "e2e-charlie", "uuid": "e2e0c3c3-0000-4000-8000-0000000000c3",
     "mac": "52:54:00:e2:e0:c3", "missing_disk": True},
    {"key": "delta", "name": "e2e-delta-left-running-at-the-end", "uuid": "e2e0d4d4-0000-4000-8000-0000000000d4",
     "mac": "52:54:00:e2:e0:d4"},
    {"key": "unicode", "name": u"e2e vm \u00fcn\u00ef", "uuid": "e2e0e5e5-0000-4000-8000-0000000000e5",
     "mac": "52:54:00:e2:e0:e5"},
]

DOMAIN_XML = u"""<domain type='{virt}'>
  <name>{name}</name>
  <uuid>{uuid}</uuid>
{maxmem}  <memory unit='KiB'>65536</memory>
  <currentMemory unit='KiB'>65536</currentMemory>
  <vcpu placement='static' current='1'>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <boot dev='hd'/>
  </os>
{cpu}  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{emulator}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='{disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <controller type='scsi' index='0' model='virtio-scsi'/>
    <interface type='ethernet'>
      <mac address='{mac}'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <console type='pty'>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='virtio'/>
  </devices>
</domain>
"""
MAXMEM_XML = u"  <maxMemory slots='2' unit='KiB'>1048576</maxMemory>\n"
CPU_XML = u"  <cpu>\n    <numa>\n      <cell id='0' cpus='0-1' memory='65536' unit='KiB'/>\n    </numa>\n  </cpu>\n"
DIMM_XML = u"""<memory model='dimm'>
  <target>
    <size unit='KiB'>131072</size>
    <node>0</node>
  </target>
</memory>
"""

AUDITD_CONF = u"""# auditd configuration of the virtaudit.auvirt end-to-end test
local_events = yes
write_logs = yes
log_file = {log}
log_group = root
log_format = {fmt}
flush = INCREMENTAL_ASYNC
freq = 20
max_log_file = 256
num_logs = 2
priority_boost = 0
name_format = none
max_log_file_action = ignore
space_left = 2
space_left_action = ignore
admin_space_left = 1
admin_space_left_action = ignore
disk_full_action = ignore
disk_error_action = syslog
use_libwrap = no
tcp_client_max_idle = 0
transport = TCP
distribute_network = no
q_depth = 2000
overflow_action = ignore
max_restarts = 0
plugin_dir = {plugins}
end_of_event_timeout = 2
"""

LIBVIRTD_CONF = u"""# libvirtd configuration of the virtaudit.auvirt end-to-end test
unix_sock_dir = "{sockdir}"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
audit_level = 1
audit_logging = 0
log_outputs = "3:file:{log}"
"""

VIRTLOGD_CONF = u"""# virtlogd configuration of the virtaudit.auvirt end-to-end test
log_outputs = "3:file:{log}"
"""


class Skip(Exception):
    """The environment cannot run the test; the reason is reported as a skip."""


class Interrupted(Exception):
    """A signal asked us to stop; tear down and leave."""


def log(msg):
    sys.stderr.write("[e2e %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def run(cmd, timeout=120, check=False, env=None):
    """Run a command; return (rc, combined output as text)."""
    try:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise RuntimeError("timed out after %ss: %s" % (timeout, " ".join(cmd)))
    except OSError as exc:
        if check:
            raise RuntimeError("cannot run %s: %s" % (cmd[0], exc))
        return 127, str(exc)
    out = proc.stdout.decode("utf-8", "replace").strip()
    if check and proc.returncode != 0:
        raise RuntimeError("%s failed (rc=%d): %s" % (" ".join(cmd), proc.returncode, out))
    return proc.returncode, out


def alive(pid):
    """True when pid is a live process (a zombie counts as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0] != "Z"
    except (IOError, OSError, IndexError):
        return False


def thread_waits(pid):
    """Where the threads of PID wait (kernel wchan and thread name), for a daemon that does not stop."""
    waits = {}
    for task in sorted(glob.glob("/proc/%d/task/*" % pid)):
        try:
            with open(task + "/comm") as handle:
                comm = handle.read().strip()
            with open(task + "/wchan") as handle:
                wchan = handle.read().strip() or "-"
        except (IOError, OSError):
            continue
        key = "%s:%s" % (comm, wchan)
        waits[key] = waits.get(key, 0) + 1
    return ", ".join("%s x%d" % item for item in sorted(waits.items())) or "?"


def parse_audit_status(out):
    """auditctl -s output -> {key: first word of the value}."""
    status = {}
    for line in out.splitlines():
        parts = line.split(None, 1)
        if len(parts) == 2:
            status[parts[0]] = parts[1].split()[0]
    return status


def pids_of(name):
    """pids of the live processes whose command name is NAME (any root: one pid namespace)."""
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as handle:
                comm = handle.read().strip()
        except (IOError, OSError):
            continue
        if comm == name[:15] and alive(int(entry)):
            pids.add(int(entry))
    return pids


def group_id(root, name):
    """gid of group NAME in ROOT/etc/group (not the host's group database), else None."""
    try:
        with open(os.path.join(root, "etc/group")) as handle:
            for line in handle:
                fields = line.strip().split(":")
                if len(fields) >= 3 and fields[0] == name:
                    return int(fields[2])
    except (IOError, OSError, ValueError):
        pass
    return None


def machine_cgroups():
    """libvirt's "machine" cgroup directories (every v1 hierarchy and the v2 one)."""
    found = set()
    for top in ("/sys/fs/cgroup", "/sys/fs/cgroup/*", "/sys/fs/cgroup/*/*"):
        found.update(p for p in glob.glob(top + "/machine") if os.path.isdir(p))
    return found


def mounts_under(path):
    """Mount points at or below PATH, deepest first (from /proc/self/mounts)."""
    path = os.path.realpath(path).rstrip("/")
    found = []
    with open("/proc/self/mounts") as handle:
        for line in handle:
            point = line.split()[1].replace("\\040", " ")
            if point == path or point.startswith(path + "/"):
                found.append(point)
    return sorted(found, key=lambda p: (-p.count("/"), p))


def wait_for(predicate, timeout, what, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(step)
    raise RuntimeError("timed out after %ss waiting for %s" % (timeout, what))


def qemu_pid_of(uuid):
    """pid of the running qemu whose command line carries this uuid, else None."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % entry, "rb") as handle:
                args = handle.read().split(b"\0")
        except (IOError, OSError):
            continue
        if args and b"qemu-system" in args[0] and uuid.encode("ascii") in args:
            if alive(int(entry)):
                return int(entry)
    return None


class Capture(object):
    def __init__(self, out, formats, platform, tmp_parent=None):
        self.out = os.path.abspath(out)
        self.formats = formats
        self.platform = platform
        self.where, self.root = platforms.placement(platform, REPO)
        self.chroot = self.where == "chroot"
        self.mounts = []            # mount points we made in the root, in order
        self.firewall_before = None
        self.cgroups_before = None
        self.tmp_parent = tmp_parent
        self.tmp = None
        self.lock = None
        self.children = {}          # name -> Popen of the daemons we started
        self.auditd = None
        self.audit_before = None    # kernel audit status before we touched it
        self.kvm_saved = None       # (mode, gid) of /dev/kvm before we touched it
        self.virt = None
        self.uri = None
        self.qemu_pids = {}         # pid -> uuid, every qemu our guests ran
        self.meta = {"started": time.time(), "passes": {}, "teardown": [], "warnings": []}
        self.actions = None
        self.seq = 0
        self.pass_dir = None
        self.fmt = None
        self.foreign_dnsmasq = set()
        self.run_libvirt_existed = True
        self.meta["platform"] = {"name": platform["name"], "title": platform["title"],
                                 "codename": platform["codename"], "where": self.where, "root": self.root}

    # ------------------------------------------------------------ helpers --

    def host(self, path):
        """The host's path of a path as the platform's commands see it."""
        return os.path.join(self.root, path.lstrip("/")) if self.chroot else path

    def inner(self, path):
        """The platform's view of a host path (inside the root for a chroot)."""
        if not self.chroot:
            return path
        root = self.root.rstrip("/")
        if not (path == root or path.startswith(root + "/")):
            raise ValueError("%s is outside the root %s" % (path, root))
        return path[len(root):] or "/"

    def command(self, cmd):
        """A command line of the platform: through chroot(8) for a chroot."""
        return (["chroot", self.root] + list(cmd)) if self.chroot else list(cmd)

    def run(self, cmd, timeout=120, check=False):
        return run(self.command(cmd), timeout=timeout, check=check)

    def audit_status(self):
        rc, out = self.run(["auditctl", "-s"], timeout=10)
        if rc != 0:
            return None, out
        return parse_audit_status(out), out

    def pkg_version(self, name):
        rc, out = self.run(["dpkg-query", "-W", "-f=${Version}", name], timeout=10)
        return out if rc == 0 else None

    def virsh(self, *args, **kwargs):
        return self.run(["virsh", "-q", "-c", self.uri] + list(args), timeout=kwargs.get("timeout", 120))

    def record(self, guest, event, before, after, rc=0, command=None, output="", **info):
        self.seq += 1
        entry = {"seq": self.seq, "format": self.fmt, "guest": guest["name"] if guest else None,
                 "uuid": guest["uuid"] if guest else None, "event": event,
                 "before": round(before, 6), "after": round(after, 6), "rc": rc,
                 "command": command, "output": output[:600]}
        entry.update(info)
        self.actions.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
        self.actions.flush()
        log("%3d %-12s %-30s rc=%d %.3fs" % (self.seq, entry["guest"] or "-", event, rc, after - before))
        return entry

    def act(self, guest, event, args, expect_rc=0, **info):
        """Run one virsh command as a ground-truth action."""
        cmd = ["virsh", "-q", "-c", self.uri] + list(args)
        before = time.time()
        rc, out = self.run(cmd, timeout=120)
        after = time.time()
        entry = self.record(guest, event, before, after, rc, cmd, out, **info)
        if expect_rc is not None and rc != expect_rc:
            raise RuntimeError("action %d (%s %s) returned %d, expected %d: %s"
                               % (entry["seq"], event, guest and guest["name"], rc, expect_rc, out))
        return entry

    def domstate(self, guest):
        rc, out = self.virsh("domstate", guest["name"])
        return out.strip() if rc == 0 else None

    def wait_shut_off(self, guest, timeout=30):
        wait_for(lambda: self.domstate(guest) == "shut off", timeout, "%s to be shut off" % guest["name"], step=0.02)
        return time.time()

    def live_info(self, guest):
        """What libvirt says the running guest has (its live XML): the truth to compare resources with."""
        rc, out = self.virsh("dumpxml", guest["name"])
        if rc != 0:
            raise RuntimeError("dumpxml %s failed: %s" % (guest["name"], out))
        root = ET.fromstring(out.encode("utf-8"))
        info = {"disks": [], "macs": [], "ptys": [], "memory_kib": None, "vcpus": None}
        info["memory_kib"] = int(root.findtext("memory"))
        vcpu = root.find("vcpu")
        info["vcpus"] = int(vcpu.get("current", vcpu.text))
        for disk in root.findall("devices/disk"):
            source = disk.find("source")
            if source is not None and source.get("file"):
                info["disks"].append({"path": source.get("file"), "target": disk.find("target").get("dev"),
                                      "device": disk.get("device")})
        for nic in root.findall("devices/interface"):
            info["macs"].append(nic.find("mac").get("address"))
        for kind in ("serial", "parallel", "channel", "console"):
            for dev in root.findall("devices/" + kind):
                source = dev.find("source")
                if dev.get("type") == "pty" and source is not None and source.get("path"):
                    if source.get("path") not in info["ptys"]:
                        info["ptys"].append(source.get("path"))
        return info

    def started(self, guest, event, args):
        """A start-like action: record it with the qemu pid and the live configuration."""
        before = time.time()
        cmd = ["virsh", "-q", "-c", self.uri] + list(args)
        rc, out = self.run(cmd, timeout=120)
        after = time.time()
        if rc != 0:
            self.record(guest, event, before, after, rc, cmd, out)
            raise RuntimeError("%s of %s failed: %s" % (event, guest["name"], out))
        pid = qemu_pid_of(guest["uuid"])
        if pid is None:
            raise RuntimeError("no qemu process found for %s after %s" % (guest["name"], event))
        self.qemu_pids[pid] = guest["uuid"]
        return self.record(guest, event, before, after, rc, cmd, out, qemu_pid=pid, live=self.live_info(guest))

    def stopped(self, guest, event, args):
        """A stop-like virsh action; settled = when libvirt reported the guest shut off."""
        before = time.time()
        cmd = ["virsh", "-q", "-c", self.uri] + list(args)
        rc, out = self.run(cmd, timeout=120)
        after = time.time()
        if rc != 0:
            self.record(guest, event, before, after, rc, cmd, out)
            raise RuntimeError("%s of %s failed: %s" % (event, guest["name"], out))
        settled = self.wait_shut_off(guest)
        return self.record(guest, event, before, after, rc, cmd, out, settled=round(settled, 6))

    def kill_qemu(self, guest, sig, event):
        pid = qemu_pid_of(guest["uuid"])
        if pid is None:
            raise RuntimeError("no qemu process for %s" % guest["name"])
        before = time.time()
        os.kill(pid, sig)
        after = time.time()
        settled = self.wait_shut_off(guest)
        return self.record(guest, event, before, after, 0, ["kill", "-%d" % sig, str(pid)], "",
                           qemu_pid=pid, signal=sig, settled=round(settled, 6))

    # ------------------------------------------------------------ set-up --

    def preflight(self):
        if os.geteuid() != 0:
            raise Skip("not root: the end-to-end test starts auditd and libvirtd and needs root")
        if not os.path.isdir("/run/lock"):
            os.makedirs("/run/lock")
        self.lock = open(LOCK_FILE, "w")
        deadline = time.time() + 900
        while True:
            try:
                fcntl.flock(self.lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.time() > deadline:
                    raise Skip("another end-to-end run holds %s" % LOCK_FILE)
                log("another end-to-end run holds %s; waiting" % LOCK_FILE)
                time.sleep(5)

        started = time.time()
        if self.chroot:
            cmd = ["bash", MAKE_ROOT_SCRIPT, self.platform["codename"], self.root] + platforms.PACKAGES
        else:
            cmd = ["bash", INSTALL_SCRIPT] + platforms.PACKAGES
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL, check=False)
        text = proc.stdout.decode("utf-8", "replace").strip() or "(no output)"
        self.meta["install_seconds"] = round(time.time() - started, 1)
        self.meta["install_output_tail"] = text.splitlines()[-3:]
        if proc.returncode == 2:
            raise Skip("%s: packages missing and not installable: %s"
                       % (self.platform["title"], text.splitlines()[-1]))
        if proc.returncode != 0:
            raise RuntimeError("%s failed (rc=%d): %s" % (os.path.basename(cmd[1]), proc.returncode, text[-2000:]))
        log(text.splitlines()[-1])
        if self.chroot:
            self.mount_root()

        status, out = self.audit_status()
        if status is None or "enabled" not in status:
            raise Skip("the kernel refuses auditing here (auditctl -s: %s)" % (out.strip() or "no status"))
        self.meta["audit_status_before"] = status
        if status.get("enabled") == "2":
            raise Skip("kernel auditing is locked (enabled 2, immutable); cannot enable/disable it for the test")
        # reading the status is not enough (a user namespace may read it): set it to what it is
        rc, out = self.run(["auditctl", "-e", status["enabled"]], timeout=10)
        if rc != 0:
            raise Skip("the kernel refuses audit control here (auditctl -e %s: %s)" % (status["enabled"], out.strip()))
        self.audit_before = status
        pid = int(status.get("pid", "0"))
        if pid and alive(pid):
            raise Skip("another audit daemon (pid %d) owns the kernel audit channel; refusing to disturb it" % pid)
        for daemon in ("libvirtd", "virtqemud", "virtlogd"):
            pids = pids_of(daemon)
            if pids:
                raise Skip("a %s not started by this test is running (pid %s); refusing to disturb it"
                           % (daemon, " ".join(str(p) for p in sorted(pids))))
        self.foreign_dnsmasq = pids_of("dnsmasq")
        self.run_libvirt_existed = os.path.exists(self.host("/run/libvirt"))
        self.firewall_before = self.firewall()
        self.cgroups_before = machine_cgroups()

        self.meta["versions"] = dict((name, self.pkg_version(name)) for name in (
            "auditd", "libvirt-daemon", "libvirt-clients", "qemu-system-x86", "qemu-utils"))
        self.meta["versions"]["kernel"] = platform.release()
        self.meta["versions"]["os"] = platforms.os_release(self.host("/etc/os-release")).get("PRETTY_NAME")

    def setup_kvm(self):
        """The guests' virt type and why; /dev/kvm made usable by the platform's kvm group when it can be.

        Also when TCG is forced: libvirt 11 probes qemu's capabilities again on
        every call (about 55 s each) when /dev/kvm is not usable by its qemu user."""
        virt, why = self._kvm()
        if os.environ.get("VIRTAUDIT_E2E_VIRT") == "qemu":
            return "qemu", "forced by VIRTAUDIT_E2E_VIRT=qemu"
        return virt, why

    def _kvm(self):
        if not os.path.exists("/dev/kvm"):
            return "qemu", "/dev/kvm does not exist"
        try:
            fd = os.open("/dev/kvm", os.O_RDWR)
            os.close(fd)
        except OSError as exc:
            return "qemu", "/dev/kvm cannot be opened: %s" % exc
        # qemu runs as libvirt-qemu (group kvm of the platform, whose gid a
        # chroot does not share with the host): /dev/kvm may be root-only or
        # belong to the host's kvm group
        kvm_gid = group_id(self.root, "kvm")
        if kvm_gid is None:
            return "qemu", "no kvm group in %s/etc/group" % self.root.rstrip("/")
        st = os.stat("/dev/kvm")
        if st.st_gid != kvm_gid or (st.st_mode & 0o060) != 0o060:
            saved = (stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)
            try:
                os.chown("/dev/kvm", st.st_uid, kvm_gid)
                self.kvm_saved = saved
                os.chmod("/dev/kvm", stat.S_IMODE(st.st_mode) | 0o060)
            except OSError as exc:
                return "qemu", "/dev/kvm is not usable by the kvm group and cannot be made so: %s" % exc
            self.meta["warnings"].append("/dev/kvm was %o %d:%d; made group kvm rw for the run (restored after)" % saved)
        return "kvm", "/dev/kvm usable"

    def start_daemon(self, name, cmd, logfile):
        handle = open(logfile, "ab")
        proc = subprocess.Popen(self.command(cmd), stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
        handle.close()
        self.children[name] = proc
        log("started %s pid %d" % (name, proc.pid))
        return proc

    def stop_daemon(self, name, timeout=20):
        proc = self.children.pop(name, None)
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.meta["teardown"].append("%s pid %d ignored SIGTERM for %ss; SIGKILL (threads waiting in: %s)"
                                             % (name, proc.pid, timeout, thread_waits(proc.pid)))
                proc.kill()
                proc.wait(10)
        log("stopped %s pid %d (rc %s)" % (name, proc.pid, proc.returncode))
        return proc.returncode

    def start_libvirt(self):
        sockdir = os.path.join(self.tmp, "run")
        os.makedirs(sockdir, 0o700)
        conf = os.path.join(self.tmp, "virtlogd.conf")
        with open(conf, "w") as handle:
            handle.write(VIRTLOGD_CONF.format(log=self.inner(os.path.join(self.tmp, "virtlogd.log"))))
        self.start_daemon("virtlogd", ["virtlogd", "-f", self.inner(conf),
                                       "-p", self.inner(os.path.join(self.tmp, "virtlogd.pid"))],
                          os.path.join(self.tmp, "virtlogd.out"))
        sock = self.host("/run/libvirt/virtlogd-sock")
        wait_for(lambda: os.path.exists(sock) or self.children["virtlogd"].poll() is not None,
                 20, "virtlogd's socket")
        if self.children["virtlogd"].poll() is not None:
            raise RuntimeError("virtlogd exited: %s" % self.tail("virtlogd.out"))

        conf = os.path.join(self.tmp, "libvirtd.conf")
        with open(conf, "w") as handle:
            handle.write(LIBVIRTD_CONF.format(sockdir=self.inner(sockdir),
                                              log=self.inner(os.path.join(self.tmp, "libvirtd.log"))))
        self.uri = "qemu+unix:///system?socket=%s/libvirt-sock" % self.inner(sockdir)
        self.start_daemon("libvirtd", ["libvirtd", "-f", self.inner(conf),
                                       "-p", self.inner(os.path.join(self.tmp, "libvirtd.pid"))],
                          os.path.join(self.tmp, "libvirtd.out"))

        def ready():
            if self.children["libvirtd"].poll() is not None:
                raise RuntimeError("libvirtd exited: %s %s" % (self.tail("libvirtd.out"), self.tail("libvirtd.log")))
            return os.path.exists(os.path.join(sockdir, "libvirt-sock")) and self.virsh("version")[0] == 0
        wait_for(ready, 60, "libvirtd to answer", step=0.2)
        self.meta["libvirtd_pid"] = self.children["libvirtd"].pid

    def tail(self, name, lines=15):
        path = os.path.join(self.tmp, name)
        try:
            with open(path, "rb") as handle:
                return " | ".join(handle.read().decode("utf-8", "replace").strip().splitlines()[-lines:])
        except (IOError, OSError):
            return "(no %s)" % name

    def cleanup_guests(self, note=None):
        """Destroy and undefine every guest of ours that libvirt knows (stale ones from an aborted run too)."""
        for guest in GUESTS:
            for name in (guest["name"], guest["uuid"]):
                rc = self.virsh("domstate", name)[0]
                if rc != 0:
                    continue
                if self.domstate(guest) not in (None, "shut off"):
                    rc, out = self.virsh("destroy", name)
                    if note:
                        self.meta["teardown"].append("%s: destroyed %s (rc %d) %s" % (note, guest["name"], rc, out))
                self.virsh("undefine", name, "--managed-save", "--snapshots-metadata")
                break

    # ------------------------------------------------------------ auditd --

    def start_auditd(self, confdir, logname):
        proc = self.start_daemon("auditd", ["auditd", "-n", "-s", "nochange", "-c", self.inner(confdir)],
                                 os.path.join(self.tmp, logname))

        def ready():
            if proc.poll() is not None:
                raise RuntimeError("auditd exited (rc %s): %s" % (proc.returncode, self.tail(logname)))
            status = self.audit_status()[0]
            return status is not None and status.get("pid") == str(proc.pid)
        wait_for(ready, 20, "auditd to register with the kernel", step=0.05)
        self.auditd = proc
        return proc

    def stop_auditd(self):
        rc = self.stop_daemon("auditd")
        self.auditd = None
        return rc

    def set_audit(self, enabled=None, backlog=None):
        if enabled is not None:
            self.run(["auditctl", "-e", str(enabled)], timeout=10, check=True)
        if backlog is not None:
            self.run(["auditctl", "-b", str(backlog)], timeout=10, check=True)

    def restore_audit(self):
        if self.audit_before is None:
            return
        self.set_audit(enabled=self.audit_before.get("enabled", "0"),
                       backlog=self.audit_before.get("backlog_limit", "64"))

    # --------------------------------------------------------- lifecycle --

    def write_guests(self, images, xmldir):
        """The guests' disks and XML; IMAGES and XMLDIR are the platform's paths."""
        guests = []
        for guest in GUESTS:
            guest = dict(guest)
            guest["disk"] = os.path.join(images, guest["key"] + (".missing.qcow2" if guest.get("missing_disk") else ".qcow2"))
            if not guest.get("missing_disk"):
                self.run(["qemu-img", "create", "-q", "-f", "qcow2", guest["disk"], "16M"], check=True)
            xml = DOMAIN_XML.format(virt=self.virt, name=guest["name"], uuid=guest["uuid"], disk=guest["disk"],
                                    mac=guest["mac"], emulator=QEMU_BIN,
                                    maxmem=MAXMEM_XML if guest.get("dimm") else u"",
                                    cpu=CPU_XML if guest.get("dimm") else u"")
            guest["xml"] = os.path.join(xmldir, guest["key"] + ".xml")
            with open(self.host(guest["xml"]), "wb") as handle:
                handle.write(xml.encode("utf-8"))
            guests.append(guest)
        extra = os.path.join(images, "extra.qcow2")
        self.run(["qemu-img", "create", "-q", "-f", "qcow2", extra, "8M"], check=True)
        late = os.path.join(images, "late.qcow2")
        self.run(["qemu-img", "create", "-q", "-f", "qcow2", late, "8M"], check=True)
        dimm = os.path.join(xmldir, "dimm.xml")
        with open(self.host(dimm), "w") as handle:
            handle.write(DIMM_XML)
        return dict((g["key"], g) for g in guests), extra, late, dimm

    def lifecycle(self, images, xmldir, confdir):
        """The scripted lifecycle; IMAGES and XMLDIR are the platform's paths, CONFDIR the host's."""
        g, extra, late, dimm = self.write_guests(images, xmldir)
        with open(os.path.join(self.pass_dir, "guests.json"), "w") as handle:
            json.dump([dict((k, v) for k, v in guest.items() if k != "xml") for guest in g.values()],
                      handle, indent=2, sort_keys=True, ensure_ascii=False)
        for guest in GUESTS:
            self.act(g[guest["key"]], "define", ["define", g[guest["key"]]["xml"]])

        a = g["alpha"]
        self.started(a, "start:booted", ["start", a["name"]])
        self.act(a, "res:attach:disk", ["attach-disk", a["name"], extra, "sda", "--targetbus", "scsi",
                                        "--subdriver", "qcow2", "--live"], path=extra)
        self.act(a, "res:detach:disk", ["detach-disk", a["name"], "sda", "--live"], path=extra)
        old = self.live_info(a)["memory_kib"]
        entry = self.act(a, "res:update:mem", ["attach-device", a["name"], dimm, "--live"])
        entry_new = self.live_info(a)["memory_kib"]
        self.record_fix(entry, old=old, new=entry_new)
        self.act(a, "noop:balloon", ["setmem", a["name"], "48M", "--live"])
        old = self.live_info(a)["vcpus"]
        entry = self.act(a, "res:update:vcpu", ["setvcpus", a["name"], "2", "--live"])
        self.record_fix(entry, old=old, new=self.live_info(a)["vcpus"])
        save = os.path.join(images, "alpha.save")
        self.stopped(a, "stop:saved", ["save", a["name"], save])
        self.started(a, "start:restored", ["restore", save])
        self.stopped(a, "stop:saved", ["managedsave", a["name"]])
        self.started(a, "start:restored", ["start", a["name"]])
        self.stopped(a, "stop:destroyed", ["destroy", a["name"]])

        # qemu killed by a signal: SIGSEGV (crash, ANOM_ABEND), SIGKILL (crash,
        # no ANOM_ABEND: no core dump), SIGTERM (libvirt calls it a shutdown)
        b = g["bravo"]
        for sig, event in ((signal.SIGSEGV, "stop:failed:SIGSEGV"), (signal.SIGKILL, "stop:failed:SIGKILL"),
                           (signal.SIGTERM, "stop:shutdown:SIGTERM")):
            self.started(b, "start:booted", ["start", b["name"]])
            time.sleep(0.3)
            self.kill_qemu(b, sig, event)

        c = g["charlie"]
        self.act(c, "start-failed:missing-disk", ["start", c["name"]], expect_rc=1)

        u = g["unicode"]
        d = g["delta"]
        self.started(u, "start:booted", ["start", u["name"]])
        self.started(d, "start:booted", ["start", d["name"]])

        # auditd restart in the middle: both guests keep running
        time.sleep(0.3)
        before = time.time()
        self.stop_auditd()
        self.start_auditd(confdir, "auditd-%s-2.out" % self.fmt)
        after = time.time()
        self.record(None, "daemon:auditd-restart", before, after, 0, ["auditd", "restart"], "",
                    auditd_pid=self.auditd.pid)
        time.sleep(0.3)

        self.act(d, "res:attach:disk", ["attach-disk", d["name"], late, "sda", "--targetbus", "scsi",
                                        "--subdriver", "qcow2", "--live"], path=late)
        self.stopped(u, "stop:destroyed", ["destroy", u["name"]])
        return g

    def record_fix(self, entry, **values):
        """Add values learnt after the action (live config) as a separate ground-truth line."""
        fix = {"seq": entry["seq"], "format": self.fmt, "fix": values}
        self.actions.write(json.dumps(fix, sort_keys=True) + "\n")
        self.actions.flush()

    def run_pass(self, fmt):
        self.fmt = fmt
        started = time.time()
        self.pass_dir = os.path.join(self.out, fmt)
        os.makedirs(self.pass_dir)
        base = os.path.join(self.tmp, fmt)
        confdir = os.path.join(base, "auditd")
        logdir = os.path.join(base, "log")
        plugins = os.path.join(confdir, "plugins.d")
        images = os.path.join(base, "images")
        xmldir = os.path.join(base, "xml")
        for path in (plugins, logdir, images, xmldir):
            os.makedirs(path)
        os.chmod(base, 0o755)
        os.chmod(images, 0o755)
        logfile = os.path.join(logdir, "audit.log")
        with open(os.path.join(confdir, "auditd.conf"), "w") as handle:
            handle.write(AUDITD_CONF.format(log=self.inner(logfile), fmt=fmt, plugins=self.inner(plugins)))
        os.chmod(os.path.join(confdir, "auditd.conf"), 0o640)

        self.actions = open(os.path.join(self.pass_dir, "actions.jsonl"), "w")
        info = {"format": fmt}
        try:
            self.start_auditd(confdir, "auditd-%s-1.out" % fmt)
            info["auditd_pid"] = self.auditd.pid
            self.set_audit(enabled=1, backlog=8192)
            status = self.audit_status()[0]
            info["lost_before"] = int(status.get("lost", "0"))
            time.sleep(0.3)
            g = self.lifecycle(self.inner(images), self.inner(xmldir), confdir)

            # the end of the capture: e2e-delta is still running
            time.sleep(0.5)
            before = time.time()
            status = self.audit_status()[0]
            info["lost_after"] = int(status.get("lost", "0"))
            self.stop_auditd()
            self.record(None, "daemon:auditd-stop", before, time.time(), 0, ["auditd", "stop"], "",
                        still_running=[g["delta"]["name"]])
        finally:
            if self.auditd is not None:
                self.stop_auditd()
            self.restore_audit()
            self.actions.close()
            # guests left running are destroyed with auditing off
            self.cleanup_guests()
            if os.path.exists(logfile):
                shutil.copy2(logfile, os.path.join(self.pass_dir, "audit.log"))
                os.chmod(os.path.join(self.pass_dir, "audit.log"), 0o644)
            info["seconds"] = round(time.time() - started, 1)
            self.meta["passes"][fmt] = info

    # ----------------------------------------------------------- teardown --

    def teardown(self):
        """Undo everything; every step runs even when an earlier one fails (failures go to meta.json).

        Returns the names of the steps that failed (the run then fails)."""
        steps = self.meta["teardown"]
        for name, step in (("guests", self._td_guests), ("daemons", self._td_daemons), ("qemu", self._td_qemu),
                           ("dnsmasq", self._td_dnsmasq), ("firewall", self._td_firewall),
                           ("audit state", self.restore_audit), ("/dev/kvm", self._td_kvm),
                           ("files", self._td_files), ("cgroups", self._td_cgroups), ("mounts", self._td_mounts)):
            try:
                step()
            except Exception as exc:  # pylint: disable=broad-except
                steps.append("%s: %s" % (name, exc))
                self.meta.setdefault("teardown_failed", []).append(name)
                log("TEARDOWN STEP FAILED (%s): %s" % (name, exc))
        if self.audit_before is not None:
            self.meta["audit_status_after"] = self.audit_status()[0]
        if self.lock is not None:
            self.lock.close()
        return self.meta.get("teardown_failed")

    def _td_guests(self):
        if self.uri and "libvirtd" in self.children:
            self.cleanup_guests(note="teardown")

    def _td_daemons(self):
        for name in ("auditd", "libvirtd", "virtlogd"):
            try:
                self.stop_daemon(name)
            except Exception as exc:  # pylint: disable=broad-except
                self.meta["teardown"].append("stop %s: %s" % (name, exc))

    def _td_qemu(self):
        # qemu processes of our guests that survived (libvirtd died, ...)
        for pid, uuid in sorted(self.qemu_pids.items()):
            if alive(pid) and qemu_pid_of(uuid) == pid:
                self.meta["teardown"].append("killed leftover qemu pid %d (%s)" % (pid, uuid))
                os.kill(pid, signal.SIGKILL)

    def _td_dnsmasq(self):
        for pid in sorted(pids_of("dnsmasq") - self.foreign_dnsmasq):
            self.meta["teardown"].append("stopped dnsmasq pid %d started during the run" % pid)
            os.kill(pid, signal.SIGTERM)

    def _td_firewall(self):
        """Remove the chains and tables libvirt made during the run (never ones that were there before)."""
        if self.firewall_before is None:
            return
        new = sorted(self.firewall() - self.firewall_before)
        for tool, table, chain in new:
            if tool == "nft":
                continue
            rc, out = self.run([tool, "-t", table, "-S"], timeout=30)
            for line in out.splitlines() if rc == 0 else []:
                words = shlex.split(line)
                if words[:1] == ["-A"] and "-j" in words and words[words.index("-j") + 1] == chain:
                    self.run([tool, "-t", table, "-D"] + words[1:], timeout=30, check=True)
        for tool, table, chain in new:
            if tool == "nft":
                self.run(["nft", "delete", "table", table, chain], timeout=30, check=True)
            else:
                self.run([tool, "-t", table, "-F", chain], timeout=30, check=True)
        for tool, table, chain in new:
            if tool != "nft":
                self.run([tool, "-t", table, "-X", chain], timeout=30, check=True)
        for item in new:
            self.meta["teardown"].append("removed firewall %s %s %s made by libvirt" % item)

    def _td_cgroups(self):
        """libvirt's empty "machine" cgroups made during the run (its guests' own are gone with them)."""
        if self.cgroups_before is None:
            return
        for path in sorted(machine_cgroups() - self.cgroups_before, key=lambda p: -p.count("/")):
            os.rmdir(path)
            self.meta["teardown"].append("removed the empty cgroup %s made by libvirt" % path)

    def firewall(self):
        """libvirt's firewall objects now: (iptables|ip6tables, table, chain) and (nft, family, table)."""
        found = set()
        for tool in ("iptables", "ip6tables"):
            rc, out = self.run([tool + "-save"], timeout=30)
            table = None
            for line in out.splitlines() if rc == 0 else []:
                if line.startswith("*"):
                    table = line[1:].strip()
                elif line.startswith(":") and table and line[1:].upper().startswith("LIBVIRT"):
                    found.add((tool, table, line[1:].split()[0]))
        rc, out = self.run(["nft", "list", "tables"], timeout=30)
        for line in out.splitlines() if rc == 0 else []:
            words = line.split()
            if len(words) == 3 and words[0] == "table" and "libvirt" in words[2]:
                found.add(("nft", words[1], words[2]))
        return found

    # the root's mounts for a chroot platform: (mount arguments, mount point in
    # the root).  /sys/fs/cgroup with everything mounted below it (cgroup v1
    # hierarchies, or the v2 one); binds are made slaves, so that undoing them
    # never propagates back to the host's own mounts
    ROOT_MOUNTS = (
        (["-t", "proc", "proc"], "/proc"),
        (["-t", "sysfs", "sysfs"], "/sys"),
        (["--rbind", "/sys/fs/cgroup"], "/sys/fs/cgroup"),
        (["--bind", "/dev"], "/dev"),
        (["--bind", "/dev/pts"], "/dev/pts"),
        (["--bind", "/dev/shm"], "/dev/shm"),
        (["-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs"], "/run"),
    )

    def mount_root(self):
        """What libvirtd, qemu and auditd need in the root: proc, sysfs, cgroups, devices, a fresh /run."""
        stale = mounts_under(self.root)
        if stale:
            self.meta["teardown"].append("unmounted %s left by an earlier run" % " ".join(stale))
            self.unmount(stale)
        for args, target in self.ROOT_MOUNTS:
            bind = args[0] in ("--bind", "--rbind")
            if bind and not os.path.ismount(args[1]):
                continue
            path = self.host(target)
            self.mounts.append(path)
            run(["mount"] + args + [path], timeout=30, check=True)
            if bind:
                run(["mount", "--make-rslave", path], timeout=30, check=True)
        log("mounted %s" % " ".join(self.inner(p) for p in mounts_under(self.root)))

    def unmount(self, points):
        for point in points:
            rc, out = run(["umount", point], timeout=30)
            if rc != 0:
                self.meta["teardown"].append("umount %s: %s; detached lazily" % (point, out))
                run(["umount", "-l", point], timeout=30, check=True)

    def _td_mounts(self):
        """Every mount in the root, deepest first (what --rbind brought along too)."""
        if not self.chroot:
            return
        self.unmount(mounts_under(self.root))
        self.mounts = []
        if mounts_under(self.root):
            raise RuntimeError("still mounted in the root: %s" % " ".join(mounts_under(self.root)))

    def _td_kvm(self):
        if self.kvm_saved is not None:
            mode, uid, gid = self.kvm_saved
            os.chown("/dev/kvm", uid, gid)
            os.chmod("/dev/kvm", mode)

    def _td_files(self):
        # libvirt's runtime directory, when no libvirt daemon had made it before us
        # (every daemon that could use it was ours and is stopped now)
        if not self.run_libvirt_existed and "libvirtd" not in self.children and "virtlogd" not in self.children:
            shutil.rmtree(self.host("/run/libvirt"), ignore_errors=True)
        for guest in GUESTS:
            path = self.host("/var/log/libvirt/qemu/%s.log" % guest["name"])
            if os.path.exists(path):
                os.unlink(path)
        if self.tmp and os.path.isdir(self.tmp):
            if os.environ.get("VIRTAUDIT_E2E_KEEP_TMP"):
                self.meta["teardown"].append("kept %s (VIRTAUDIT_E2E_KEEP_TMP)" % self.tmp)
                return
            for name in ("libvirtd.log", "virtlogd.log", "libvirtd.out"):
                if os.path.exists(os.path.join(self.tmp, name)) and os.path.isdir(self.out):
                    shutil.copy2(os.path.join(self.tmp, name), os.path.join(self.out, name))
            shutil.rmtree(self.tmp, ignore_errors=True)

    def main(self):
        os.makedirs(self.out)
        self.preflight()
        # a chroot's commands see only the root: the private directory is in its /tmp
        self.tmp = tempfile.mkdtemp(prefix="virtaudit-e2e-", dir=self.host("/tmp") if self.chroot else self.tmp_parent)
        os.chmod(self.tmp, 0o755)     # qemu (libvirt-qemu) must reach the images
        self.virt, why = self.setup_kvm()
        self.start_libvirt()
        if self.virt == "kvm" and self.virsh("domcapabilities", "--virttype", "kvm")[0] != 0:
            self.virt, why = "qemu", "libvirt finds no usable KVM"
        self.meta["virt"] = self.virt
        self.meta["virt_why"] = why
        log("guests use virt type %s (%s)" % (self.virt, why))
        self.cleanup_guests(note="stale guest of an earlier run")
        for fmt in self.formats:
            self.run_pass(fmt)


def _raise_interrupt(signum, _frame):
    raise Interrupted("signal %d" % signum)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--out", required=True, help="output directory (must not exist)")
    parser.add_argument("--formats", default="RAW,ENRICHED", help="auditd log_format of each pass")
    parser.add_argument("--platform", default=None,
                        help="platform of tests/e2e/platforms.py (default: the host's own release)")
    parser.add_argument("--tmp-parent", default=None, help="where the temporary directory goes (host platform)")
    args = parser.parse_args(argv)
    formats = [f.strip().upper() for f in args.formats.split(",") if f.strip()]
    if args.platform:
        plat = platforms.by_name(args.platform)
    else:
        plat = [p for p in platforms.PLATFORMS if p["codename"] == platforms.host_codename()]
        if not plat:
            parser.error("the host is none of the platforms; name one with --platform")
        plat = plat[0]
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    cap = Capture(args.out, formats, plat, args.tmp_parent)
    rc = 0
    try:
        cap.main()
    except Skip as exc:
        rc = SKIP
        sys.stderr.write("\n*** END-TO-END TEST SKIPPED: %s ***\n\n" % exc)
        with open(os.path.join(cap.out, "SKIPPED"), "w") as handle:
            handle.write("%s\n" % exc)
    except (Exception, Interrupted) as exc:  # pylint: disable=broad-except
        rc = 1
        text = traceback.format_exc()
        log("FAILED: %s" % exc)
        if os.path.isdir(cap.out):
            with open(os.path.join(cap.out, "ERROR"), "w") as handle:
                handle.write(text)
                if cap.tmp:
                    handle.write("\nlibvirtd.log: %s\n" % cap.tail("libvirtd.log", 40))
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        try:
            if cap.teardown():
                rc = rc if rc == 1 else 1
                log("TEARDOWN INCOMPLETE: %s" % cap.meta["teardown_failed"])
        except Exception:  # pylint: disable=broad-except
            rc = rc or 1
            log("TEARDOWN FAILED: %s" % traceback.format_exc())
        cap.meta["seconds"] = round(time.time() - cap.meta["started"], 1)
        if os.path.isdir(cap.out):
            with open(os.path.join(cap.out, "meta.json"), "w") as handle:
                json.dump(cap.meta, handle, indent=2, sort_keys=True)
        log("done in %.1f s (rc %d); teardown notes: %s" % (cap.meta["seconds"], rc, cap.meta["teardown"] or "none"))
    return rc


if __name__ == "__main__":
    sys.exit(main())
