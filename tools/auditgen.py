# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auditgen - a deterministic generator of libvirt hypervisor audit logs.

It writes what auditd writes on a libvirt hypervisor: the libvirt records
(VIRT_MACHINE_ID, VIRT_RESOURCE, VIRT_CONTROL) of guest starts, stops,
crashes, hot-plug and live migrations, the kernel's AVC denials and
anomalies, host shutdowns and boots, and - as background noise - the
records every Linux host writes anyway (SYSCALL/CWD/PATH/PROCTITLE of
watched executions, PAM USER_*/CRED_* records of logins, cron and sudo,
SERVICE_START/STOP of systemd, NETFILTER_CFG, BPF).  Record layout and
field encoding follow docs/session-model.md and the libvirt record formats
(values with a space, a double quote, a control or a non-ASCII byte are
written as unquoted upper-case hex, as libvirt's virAuditEncode does).

Everything is seeded: the same arguments always give the same bytes.

Scenarios:

* ``demo``  - the bundled demo fleet (three hypervisors hv01..hv03 with a
  live migration hv01 -> hv02, a host reboot on hv02, a crash, a failed
  start, hot-plugged PCI/USB devices and disks, AVC denials, a guest
  without an LSM label, a guest whose name needs escaping).
* ``bench`` - a log of any size: guest lifecycles, hot-plug, cgroup
  records, AVCs, crashes and reboots mixed with background noise.
* ``fleet`` - a fleet of N hypervisors over some days, one log per host:
  about ``--sessions`` guest sessions per host, live migrations between
  the hosts, crashes, failed starts, hot-plug, AVCs, host reboots and
  background noise (the fleet report's benchmark).

Usage::

    python3 tools/auditgen.py demo --out DIR
    python3 tools/auditgen.py bench --out FILE --records 100000 [--seed 7]
        [--guests 40] [--noise 0.8] [--node NAME] [--enriched] [--gzip]
    python3 tools/auditgen.py bench --out FILE --size 50M
    python3 tools/auditgen.py fleet --out DIR --hosts 200 [--days 7]
        [--sessions 170] [--seed 11]

The functions are importable (``tools/`` is not part of the installed
collection's plugins): ``demo_fleet()`` returns ``{host: [lines]}`` and
``bench_lines()`` yields lines, ``write_fleet()`` writes a fleet's logs.
"""

from __future__ import absolute_import, division, print_function

import argparse
import heapq
import binascii
import gzip
import heapq
import io
import os
import random
import sys
import uuid as uuid_mod

UNSET = 4294967295
GS = "\x1d"  # auditd's ENRICHED separator

SELINUX_DAEMON_SUBJ = {
    "virtqemud": "system_u:system_r:virtqemud_t:s0",
    "libvirtd": "system_u:system_r:virtd_t:s0-s0:c0.c1023",
}
CGROUP_DEFAULT_PATHS = (
    ("/dev/null", "01:03"), ("/dev/full", "01:07"), ("/dev/zero", "01:05"), ("/dev/random", "01:08"),
    ("/dev/urandom", "01:09"), ("/dev/ptmx", "05:02"), ("/dev/kvm", "0A:E8"),
)

# Demo day: Monday 2026-03-02, UTC.
DEMO_DAY = 1772409600  # 2026-03-02T00:00:00Z


def encode_value(value):
    """libvirt's virAuditEncode: ``"value"`` or upper-case hex of the UTF-8 bytes."""
    raw = value.encode("utf-8")
    if any(b == 0x22 or b < 0x21 or b >= 0x7F for b in bytearray(raw)):
        return binascii.hexlify(raw).decode("ascii").upper()
    return '"%s"' % value


def hexify(text):
    return binascii.hexlify(text.encode("utf-8")).decode("ascii").upper()


class Guest(object):
    """A libvirt domain: its name, UUID, devices and, while it runs, its qemu pid."""

    def __init__(self, name, uuid, mac, disk=None, mem_kib=4194304, vcpus=2, virt="kvm", labelled=True, mcs=None):
        self.name = name
        self.uuid = uuid
        self.mac = mac
        self.disk = disk or "/var/lib/libvirt/images/%s.qcow2" % name
        self.mem_kib = mem_kib
        self.vcpus = vcpus
        self.virt = virt
        self.labelled = labelled
        self.mcs = mcs
        self.pid = None
        self.hotplugged = []

    @property
    def running(self):
        return self.pid is not None


class Host(object):
    """One hypervisor's audit log, written record by record.

    The clock is kept in integer milliseconds; every event takes the next
    kernel serial (the serials of one boot have no gaps, so a reader finds
    no lost records unless a scenario cuts some out on purpose).
    """

    def __init__(self, name, start, seed=0, lsm="selinux", daemon="virtqemud", enriched=False, node=None,
                 serial=1000, daemon_pid=1523, boot_epoch=None):
        self.name = name
        self.ms = int(round(start * 1000))
        self.rng = random.Random("%s:%s" % (name, seed))
        self.lsm = lsm
        self.daemon = daemon
        self.enriched = enriched
        self.node = node
        self.serial = serial
        self.daemon_pid = daemon_pid
        self.qemu_uid = 107 if lsm == "selinux" else 64055
        self.next_pid = daemon_pid + 1000
        self.domain_counter = 0
        self.auditd_serial = 3000 + self.rng.randint(0, 999)
        self.lines = []
        self.counts = {}
        self.boot_epoch = boot_epoch
        self.denials = 0.0  # share of noise steps that are SELinux denials of host services (see noise())

    # ------------------------------------------------------------ clock --
    @property
    def now(self):
        return self.ms / 1000.0

    def at(self, epoch):
        """Move the clock to ``epoch`` (never backwards)."""
        target = int(round(epoch * 1000))
        if target > self.ms:
            self.ms = target

    def tick(self, seconds):
        self.ms += max(1, int(round(seconds * 1000)))

    def _pid(self):
        self.next_pid += self.rng.randint(3, 40)
        return self.next_pid

    # ---------------------------------------------------------- records --
    def _stamp(self, serial=None):
        return "%d.%03d:%d" % (self.ms // 1000, self.ms % 1000, self.serial if serial is None else serial)

    def event(self, records, serial=None):
        """Write one event: ``records`` = [(type, body, enriched_suffix_or_None)], one stamp and serial."""
        stamp = self._stamp(serial)
        prefix = "node=%s " % self.node if self.node else ""
        for rtype, body, suffix in records:
            line = "%stype=%s msg=audit(%s): %s" % (prefix, rtype, stamp, body)
            if self.enriched and suffix:
                line += GS + suffix
            self.lines.append(line)
            self.counts[rtype] = self.counts.get(rtype, 0) + 1
        if serial is None:
            self.serial += 1

    def _daemon_subj(self):
        if self.lsm == "selinux":
            return " subj=" + SELINUX_DAEMON_SUBJ.get(self.daemon, SELINUX_DAEMON_SUBJ["virtqemud"])
        if self.lsm == "apparmor":
            return " subj=unconfined"
        return ""

    def virt(self, rtype, inner, res="success"):
        """One libvirt record (audit_log_user_message layout)."""
        body = ("pid=%d uid=0 auid=%d ses=%d%s msg='%s exe=\"/usr/sbin/%s\" hostname=? addr=? terminal=? res=%s'"
                % (self.daemon_pid, UNSET, UNSET, self._daemon_subj(), inner, self.daemon, res))
        self.event([(rtype, body, 'UID="root" AUID="unset"')])

    @staticmethod
    def _guest_fields(guest):
        return 'vm=%s uuid=%s' % (encode_value(guest.name), guest.uuid)

    def resource(self, guest, resrc, reason, fields, res="success"):
        self.virt("VIRT_RESOURCE", "virt=%s resrc=%s reason=%s %s %s" % (
            guest.virt, resrc, reason, self._guest_fields(guest), fields), res)

    # ------------------------------------------------------ guest life --
    def _labels(self, guest):
        fields = self._guest_fields(guest)
        if guest.labelled and self.lsm == "selinux":
            if guest.mcs is None:
                guest.mcs = "s0:c%d,c%d" % tuple(sorted(self.rng.sample(range(0, 1024), 2)))
            self.virt("VIRT_MACHINE_ID", "virt=%s %s vm-ctx=system_u:system_r:svirt_t:%s img-ctx=system_u:object_r:svirt_image_t:%s "
                      "model=selinux" % (guest.virt, fields, guest.mcs, guest.mcs))
        elif guest.labelled and self.lsm == "apparmor":
            self.virt("VIRT_MACHINE_ID", "virt=%s %s vm-ctx=libvirt-%s img-ctx=libvirt-%s model=apparmor"
                      % (guest.virt, fields, guest.uuid, guest.uuid))
        dac = "+107:+107" if self.lsm == "selinux" else "+64055:+994"
        self.virt("VIRT_MACHINE_ID", "virt=%s %s vm-ctx=%s img-ctx=%s model=dac" % (guest.virt, fields, dac, dac))

    def _cgroup_path(self, guest):
        safe = "".join(c for c in guest.name if c.isalnum() or c in "-_")[:20] or "vm"
        return "/sys/fs/cgroup/machine.slice/machine-qemu\\x2d%d\\x2d%s.scope/libvirt/" % (self.domain_counter, safe)

    def start_guest(self, guest, reason="booted", ok=True):
        """The full start sequence of libvirt (labels, tap/vhost opens, cgroup ACLs, devices, op=start)."""
        self.domain_counter += 1
        self._labels(guest)
        self.tick(0.2)
        self.resource(guest, "net", "open", 'net=%s path="/dev/net/tun" rdev=0A:C8' % guest.mac)
        self.resource(guest, "net", "open", 'net=%s path="/dev/vhost-net" rdev=0A:EE' % guest.mac)
        self.tick(0.01)
        cgroup = encode_value(self._cgroup_path(guest))
        self.resource(guest, "cgroup", "deny", "cgroup=%s class=all" % cgroup)
        for path, rdev in CGROUP_DEFAULT_PATHS:
            self.resource(guest, "cgroup", "allow", "cgroup=%s class=path path=%s rdev=%s acl=rw" % (cgroup, encode_value(path), rdev))
        self.resource(guest, "cgroup", "allow", "cgroup=%s class=major category=pty maj=88 acl=rw" % cgroup)
        self.tick(0.8)
        self.resource(guest, "disk", "start", 'old-disk="?" new-disk=%s' % encode_value(guest.disk))
        self.resource(guest, "net", "start", 'old-net="?" new-net="%s"' % guest.mac)
        self.resource(guest, "chardev", "start", 'old-chardev="?" new-chardev="/dev/pts/%d"' % self.rng.randint(1, 9))
        self.resource(guest, "rng", "start", 'old-rng="?" new-rng="/dev/urandom"')
        self.resource(guest, "mem", "start", "old-mem=0 new-mem=%d" % guest.mem_kib)
        self.resource(guest, "vcpu", "start", "old-vcpu=0 new-vcpu=%d" % guest.vcpus)
        self.tick(0.1)
        pid = self._pid() if ok else 0
        self.virt("VIRT_CONTROL", "virt=%s op=start reason=%s %s vm-pid=%d" % (
            guest.virt, reason, self._guest_fields(guest), pid), "success" if ok else "failed")
        guest.pid = pid if ok else None
        guest.hotplugged = []

    def stop_guest(self, guest, reason="shutdown"):
        """``op=stop`` (always res=success, vm-pid=0 on QEMU)."""
        self.virt("VIRT_CONTROL", "virt=%s op=stop reason=%s %s vm-pid=0" % (guest.virt, reason, self._guest_fields(guest)))
        guest.pid = None

    def crash_guest(self, guest):
        """qemu dies of SIGSEGV: ANOM_ABEND at once, ``op=stop reason=failed`` 1.5 s later."""
        subj = " subj=system_u:system_r:svirt_t:%s" % guest.mcs if (self.lsm == "selinux" and guest.mcs) else ""
        self.event([("ANOM_ABEND", 'auid=%d uid=%d gid=%d ses=%d%s pid=%d comm="qemu-kvm" exe="/usr/libexec/qemu-kvm" sig=11 res=1'
                     % (UNSET, self.qemu_uid, self.qemu_uid, UNSET, subj, guest.pid), 'AUID="unset" UID="qemu" GID="qemu"')])
        self.tick(1.5)
        self.stop_guest(guest, "failed")

    def hotplug(self, guest, kind, value=None, detach=False, ok=True):
        """Attach (or detach) a PCI/USB host device (``kind`` pci/usb), a disk or a NIC."""
        reason = "detach" if detach else "attach"
        res = "success" if ok else "failed"
        if kind in ("pci", "usb"):
            value = value or ("0000:%02x:00.0" % self.rng.randint(3, 0x5f) if kind == "pci" else "001.%03d" % self.rng.randint(2, 20))
            self.resource(guest, "dev", reason, "bus=%s device=%s" % (kind, encode_value(value)), res)
        elif kind == "disk":
            value = value or "/var/lib/libvirt/images/%s-data%d.qcow2" % (guest.name, len(guest.hotplugged) + 1)
            old, new = (encode_value(value), '"?"') if detach else ('"?"', encode_value(value))
            self.resource(guest, "disk", reason, "old-disk=%s new-disk=%s" % (old, new), res)
        elif kind == "net":
            value = value or "52:54:00:%02x:%02x:%02x" % (self.rng.randint(0, 255), self.rng.randint(0, 255), self.rng.randint(0, 255))
            old, new = ('"%s"' % value, '"?"') if detach else ('"?"', '"%s"' % value)
            self.resource(guest, "net", reason, "old-net=%s new-net=%s" % (old, new), res)
        else:
            raise ValueError("unknown hot-plug kind %r" % kind)
        if ok and not detach:
            guest.hotplugged.append((kind, value))
        return value

    def avc(self, guest, target="/var/lib/libvirt/images/shared.img", perm="write"):
        """An LSM denial of the guest's qemu: SELinux AVC + SYSCALL + PROCTITLE, or an AppArmor AVC."""
        pid = guest.pid or self._pid()
        base = os.path.basename(target)
        if self.lsm == "apparmor":
            self.event([("AVC", 'apparmor="DENIED" operation="open" class="file" profile="libvirt-%s" name="%s" pid=%d '
                                'comm="qemu-system-x86" requested_mask="wr" denied_mask="wr" fsuid=64055 ouid=0'
                         % (guest.uuid, target, pid), 'FSUID="libvirt-qemu" OUID="root"')])
            return
        # a guest without an SELinux label runs unconfined: its denials name no svirt MCS pair
        subj = "svirt_t:%s" % guest.mcs if guest.mcs else "unconfined_service_t:s0"
        self.event([
            ("AVC", 'avc:  denied  { %s } for  pid=%d comm="qemu-kvm" name="%s" dev="dm-0" ino=%d '
                    "scontext=system_u:system_r:%s tcontext=system_u:object_r:virt_image_t:s0 tclass=file permissive=0"
             % (perm, pid, base, self.rng.randint(100000, 9999999), subj), None),
            ("SYSCALL", "arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55d0c0a0b0c0 a2=80002 a3=0 items=0 ppid=1 pid=%d "
                        "auid=%d uid=%d gid=%d euid=%d suid=%d fsuid=%d egid=%d sgid=%d fsgid=%d tty=(none) ses=%d "
                        'comm="qemu-kvm" exe="/usr/libexec/qemu-kvm" subj=system_u:system_r:%s key=(null)'
             % ((pid, UNSET) + (self.qemu_uid,) * 8 + (UNSET, subj)),
             'ARCH=x86_64 SYSCALL=openat AUID="unset" UID="qemu" GID="qemu" EUID="qemu" SUID="qemu" FSUID="qemu" EGID="qemu" SGID="qemu" FSGID="qemu"'),
            ("PROCTITLE", "proctitle=%s" % hexify("/usr/libexec/qemu-kvm\0-name\0guest=%s" % guest.name), None),
        ])

    def migrate_in(self, guest):
        """Destination side of a live migration (Prepare phase): labels, resources, ``op=start reason=migrated``."""
        self.start_guest(guest, reason="migrated")

    # ------------------------------------------------------------- host --
    def shutdown(self):
        """systemd-update-utmp's SYSTEM_SHUTDOWN, then auditd stops."""
        subj = " subj=system_u:system_r:init_t:s0" if self.lsm == "selinux" else ""
        self.event([("SYSTEM_SHUTDOWN", "pid=%d uid=0 auid=%d ses=%d%s msg=' comm=\"systemd-update-utmp\" "
                                        "exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'"
                     % (self._pid(), UNSET, UNSET, subj), 'UID="root" AUID="unset"')])
        self.tick(0.5)
        self.event([("DAEMON_END", "op=terminate auid=0 uid=0 ses=%d%s pid=1 res=success" % (UNSET, subj), 'AUID="root" UID="root"')],
                   serial=self.auditd_serial)
        self.auditd_serial += 1

    def boot(self, after=180.0):
        """The host comes back: DAEMON_START (auditd's own serial), SYSTEM_BOOT, kernel serials restart."""
        self.tick(after)
        subj = " subj=system_u:system_r:auditd_t:s0" if self.lsm == "selinux" else ""
        self.event([("DAEMON_START", "op=start ver=3.1.2 format=%s kernel=6.8.9-300.fc40.x86_64 auid=%d pid=%d uid=0 ses=%d%s res=success"
                     % ("enriched" if self.enriched else "raw", UNSET, 800 + self.rng.randint(0, 99), UNSET, subj),
                     'AUID="unset" UID="root"')], serial=self.auditd_serial)
        self.auditd_serial += 1
        self.serial = 5
        self.tick(5)
        subj = " subj=system_u:system_r:init_t:s0" if self.lsm == "selinux" else ""
        self.event([("SYSTEM_BOOT", "pid=%d uid=0 auid=%d ses=%d%s msg=' comm=\"systemd-update-utmp\" "
                                    "exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'"
                     % (830 + self.rng.randint(0, 99), UNSET, UNSET, subj), 'UID="root" AUID="unset"')])
        self.daemon_pid = 1100 + self.rng.randint(0, 400)
        self.next_pid = self.daemon_pid + 500

    def reboot(self, guests=(), clean=False):
        """Reboot the host.  ``clean``: libvirt-guests shuts the guests down first; otherwise they go down with it."""
        for guest in guests:
            if guest.running and clean:
                self.stop_guest(guest, "shutdown")
                self.tick(0.3)
            elif guest.running:
                guest.pid = None
        self.shutdown()
        self.boot()

    # ------------------------------------------------------------ noise --
    def noise(self, count=1):
        """Background records every host writes: logins, cron, sudo, services, watched executions.

        With ``denials`` > 0, that share of the steps are SELinux denials of
        host services instead (a permissive or noisy host: kernel AVCs with
        their SYSCALL/CWD/PATH/PROCTITLE/AVC_PATH records, and dbus USER_AVCs).
        """
        for _dummy in range(count):
            if self.denials and self.rng.random() < self.denials:
                self._noise_denials()
            else:
                kind = self.rng.choice(("exec", "exec", "cron", "cron", "service", "sudo", "ssh", "netfilter", "bpf"))
                getattr(self, "_noise_" + kind)()
            self.tick(self.rng.uniform(0.001, 0.2))

    def _subj(self, selinux_type):
        if self.lsm == "selinux":
            return " subj=system_u:system_r:%s:s0-s0:c0.c1023" % selinux_type
        return ""

    def _pam(self, rtype, op, acct, exe, terminal, pid, auid, ses, hostname="?", addr="?", grantors="pam_unix"):
        subj = self._subj("sshd_t" if "sshd" in exe else "crond_t" if "cron" in exe else "unconfined_t")
        body = ("pid=%d uid=0 auid=%d ses=%d%s msg='op=%s grantors=%s acct=\"%s\" exe=\"%s\" hostname=%s addr=%s terminal=%s res=success'"
                % (pid, auid, ses, subj, op, grantors, acct, exe, hostname, addr, terminal))
        return (rtype, body, 'UID="root" AUID="%s"' % ("unset" if auid == UNSET else acct))

    def _noise_exec(self):
        binary = self.rng.choice(("/usr/bin/id", "/usr/bin/ls", "/usr/bin/virsh", "/usr/bin/systemctl", "/usr/bin/grep"))
        pid = self._pid()
        cwd = self.rng.choice(("/root", "/", "/var/lib/libvirt"))
        self.event([
            ("SYSCALL", "arch=c000003e syscall=59 success=yes exit=0 a0=55f1 a1=55f2 a2=55f3 a3=0 items=2 ppid=%d pid=%d auid=1000 uid=0 gid=0 "
                        "euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"%s\" exe=\"%s\"%s key=\"exec\""
             % (pid - 1, pid, os.path.basename(binary), binary, self._subj("unconfined_t")),
             'ARCH=x86_64 SYSCALL=execve AUID="admin" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"'),
            ("EXECVE", 'argc=1 a0="%s"' % os.path.basename(binary), None),
            ("CWD", 'cwd="%s"' % cwd, None),
            ("PATH", 'item=0 name="%s" inode=%d dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0'
             % (binary, self.rng.randint(1000, 999999)), 'OUID="root" OGID="root"'),
            ("PATH", 'item=1 name="/lib64/ld-linux-x86-64.so.2" inode=%d dev=fd:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL '
                     'cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0' % self.rng.randint(1000, 999999), 'OUID="root" OGID="root"'),
            ("PROCTITLE", "proctitle=%s" % hexify(os.path.basename(binary)), None),
        ])

    def _noise_cron(self):
        pid = self._pid()
        ses = self.rng.randint(100, 9000)
        exe = "/usr/sbin/crond"
        self.event([self._pam("CRED_ACQ", "PAM:setcred", "root", exe, "cron", pid, UNSET, UNSET)])
        self.event([("LOGIN", "pid=%d uid=0 subj=system_u:system_r:crond_t:s0-s0:c0.c1023 old-auid=%d auid=0 tty=(none) old-ses=%d ses=%d res=1"
                     % (pid, UNSET, UNSET, ses), 'UID="root" OLD-AUID="unset" AUID="root"')])
        self.event([self._pam("USER_START", "PAM:session_open", "root", exe, "cron", pid, 0, ses,
                              grantors="pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix")])
        self.tick(self.rng.uniform(0.05, 0.5))
        self.event([self._pam("CRED_DISP", "PAM:setcred", "root", exe, "cron", pid, 0, ses)])
        self.event([self._pam("USER_END", "PAM:session_close", "root", exe, "cron", pid, 0, ses,
                              grantors="pam_loginuid,pam_keyinit,pam_limits,pam_systemd,pam_unix")])

    def _noise_service(self):
        unit = self.rng.choice(("logrotate", "dnf-makecache", "fstrim", "sysstat-collect", "man-db-cache-update", "systemd-tmpfiles-clean"))
        subj = self._subj("init_t")
        for rtype in ("SERVICE_START", "SERVICE_STOP"):
            self.event([(rtype, "pid=1 uid=0 auid=%d ses=%d%s msg='unit=%s comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" "
                                "hostname=? addr=? terminal=? res=success'" % (UNSET, UNSET, subj, unit), 'UID="root" AUID="unset"')])
            self.tick(self.rng.uniform(0.1, 2.0))

    def _noise_sudo(self):
        pid = self._pid()
        cmd = self.rng.choice(("virsh list --all", "systemctl status virtqemud", "journalctl -u libvirtd"))
        self.event([("USER_CMD", "pid=%d uid=1000 auid=1000 ses=3%s msg='cwd=\"/home/admin\" cmd=%s exe=\"/usr/bin/sudo\" terminal=pts/0 res=success'"
                     % (pid, self._subj("unconfined_t"), hexify(cmd)), 'UID="admin" AUID="admin"')])
        self.event([self._pam("CRED_REFR", "PAM:setcred", "root", "/usr/bin/sudo", "/dev/pts/0", pid, 1000, 3)])
        self.event([self._pam("USER_START", "PAM:session_open", "root", "/usr/bin/sudo", "/dev/pts/0", pid, 1000, 3,
                              grantors="pam_keyinit,pam_limits,pam_systemd,pam_unix")])
        self.event([self._pam("USER_END", "PAM:session_close", "root", "/usr/bin/sudo", "/dev/pts/0", pid, 1000, 3,
                              grantors="pam_keyinit,pam_limits,pam_systemd,pam_unix")])

    def _noise_ssh(self):
        pid = self._pid()
        addr = "10.20.%d.%d" % (self.rng.randint(0, 255), self.rng.randint(1, 254))
        exe = "/usr/sbin/sshd"
        self.event([self._pam("USER_AUTH", "PAM:authentication", "admin", exe, "ssh", pid, UNSET, UNSET, addr, addr)])
        self.event([self._pam("USER_ACCT", "PAM:accounting", "admin", exe, "ssh", pid, UNSET, UNSET, addr, addr)])
        self.event([self._pam("CRED_ACQ", "PAM:setcred", "admin", exe, "ssh", pid, UNSET, UNSET, addr, addr)])

    def _noise_netfilter(self):
        pid = self._pid()
        self.event([
            ("NETFILTER_CFG", "table=filter:%d family=2 entries=1 op=nft_register_rule pid=%d comm=\"iptables\"" % (self.rng.randint(1, 900), pid), None),
            ("SYSCALL", "arch=c000003e syscall=46 success=yes exit=472 a0=3 a1=7ffca5d36210 a2=0 a3=7ffca5d361fc items=0 ppid=%d pid=%d "
                        "auid=%d uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=%d comm=\"iptables\" "
                        "exe=\"/usr/sbin/xtables-nft-multi\"%s key=(null)" % (self.daemon_pid, pid, UNSET, UNSET, self._subj("iptables_t")),
             'ARCH=x86_64 SYSCALL=sendmsg AUID="unset" UID="root" GID="root" EUID="root" SUID="root" FSUID="root" EGID="root" SGID="root" FSGID="root"'),
            ("PROCTITLE", "proctitle=%s" % hexify("/usr/sbin/iptables\0-w\0--table\0filter\0--insert\0LIBVIRT_INP"), None),
        ])

    def _noise_bpf(self):
        self.event([("BPF", "prog-id=%d op=%s" % (self.rng.randint(20, 400), self.rng.choice(("LOAD", "UNLOAD"))), None)])

    DENIED_SERVICES = (
        ("httpd_t", "httpd", "/usr/sbin/httpd", "user_home_t", "/home/admin/public_html/index.html", "read", 257),
        ("named_t", "named", "/usr/sbin/named", "var_t", "/var/named/data/cache.db", "write", 257),
        ("postfix_master_t", "master", "/usr/libexec/postfix/master", "etc_t", "/etc/postfix/main.cf.bak", "getattr", 262),
        ("sshd_t", "sshd", "/usr/sbin/sshd", "admin_home_t", "/root/.ssh/authorized_keys2", "read", 257),
        ("logrotate_t", "logrotate", "/usr/sbin/logrotate", "container_file_t", "/var/lib/containers/log/app.log", "rename", 82),
    )

    def _noise_denials(self):
        """A kernel AVC of a host service (sometimes without a syscall, sometimes with AVC_PATH) and dbus USER_AVCs."""
        domain, comm, exe, target, path, perm, syscall = self.rng.choice(self.DENIED_SERVICES)
        pid = self._pid()
        ino = self.rng.randint(100000, 9999999)
        avc = ('avc:  denied  { %s } for  pid=%d comm="%s" name="%s" dev="dm-0" ino=%d '
               "scontext=system_u:system_r:%s:s0 tcontext=unconfined_u:object_r:%s:s0 tclass=file permissive=1"
               % (perm, pid, comm, os.path.basename(path), ino, domain, target))
        records = [("AVC", avc, None)]
        roll = self.rng.random()
        if roll < 0.2:
            self.event(records)  # no syscall context (e.g. a socket or a kernel thread)
        else:
            if roll < 0.5:
                records.append(("AVC_PATH", 'path="%s"' % path, None))
            records += [
                ("SYSCALL", "arch=c000003e syscall=%d success=yes exit=0 a0=ffffff9c a1=55d0c0a0b0c0 a2=0 a3=0 items=1 ppid=1 "
                            "pid=%d auid=%d uid=48 gid=48 euid=48 suid=48 fsuid=48 egid=48 sgid=48 fsgid=48 tty=(none) ses=%d "
                            'comm="%s" exe="%s" subj=system_u:system_r:%s:s0 key=(null)' % (syscall, pid, UNSET, UNSET, comm, exe, domain),
                 'ARCH=x86_64 SYSCALL=openat AUID="unset" UID="apache" GID="apache" EUID="apache" SUID="apache" FSUID="apache" '
                 'EGID="apache" SGID="apache" FSGID="apache"'),
                ("CWD", 'cwd="/"', None),
                ("PATH", 'item=0 name="%s" inode=%d dev=fd:00 mode=0100644 ouid=1000 ogid=1000 rdev=00:00 '
                         "obj=unconfined_u:object_r:%s:s0 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0" % (path, ino, target),
                 'OUID="admin" OGID="admin"'),
                ("PROCTITLE", "proctitle=%s" % hexify(exe), None),
            ]
            self.event(records)
        for _dummy in range(self.rng.randint(1, 3)):
            self.tick(self.rng.uniform(0.001, 0.05))
            body = ("pid=1 uid=81 auid=%d ses=%d subj=system_u:system_r:system_dbusd_t:s0-s0:c0.c1023 "
                    "msg='avc:  denied  { send_msg } for msgtype=method_return dest=:1.%d spid=1 tpid=%d "
                    "scontext=system_u:system_r:init_t:s0 tcontext=system_u:system_r:%s:s0 tclass=dbus "
                    "permissive=1  exe=\"/usr/bin/dbus-broker\" sauid=81 hostname=? addr=? terminal=?'"
                    % (UNSET, UNSET, self.rng.randint(10, 9999), pid, domain))
            self.event([("USER_AVC", body, 'UID="dbus" AUID="unset" SAUID="dbus"')])


# ---------------------------------------------------------------- demo --

def _uuid(rng):
    return str(uuid_mod.UUID(int=rng.getrandbits(128), version=4))


def _mac(rng):
    return "52:54:00:%02x:%02x:%02x" % (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))


def demo_guests(seed=2026):
    """The guests of the demo fleet, by name."""
    rng = random.Random("guests:%s" % seed)
    specs = [
        ("web01", dict()), ("db01", dict(mem_kib=16777216, vcpus=8)), ("build01", dict(vcpus=16)),
        ("batch07", dict()), ("app02", dict()), ("cache01", dict(mem_kib=8388608)),
        ("legacy01", dict(labelled=False)), ("test-vm", dict()), ('qa <sandbox> & "=1+2"', dict()),
    ]
    return dict((name, Guest(name, _uuid(rng), _mac(rng), **kw)) for name, kw in specs)


def demo_fleet(seed=2026):
    """The demo fleet's logs: ``{host: [lines]}`` for hv01, hv02, hv03 on 2026-03-02 (UTC).

    * hv01 (SELinux, virtqemud): web01 runs all day; db01 is live-migrated to
      hv02 at 10:00; build01 gets a PCI and a USB host device hot-plugged and
      an AVC denial, then shuts down; batch07 fails to start.
    * hv02 (SELinux, virtqemud): app02 crashes (SIGSEGV); db01 arrives from
      hv01 and gets a disk hot-plugged; at 16:00 the host reboots without
      libvirt-guests, so db01 and cache01 go down with it; both are started
      again after the boot.
    * hv03 (AppArmor, libvirtd, ENRICHED log): its log only begins at 09:00;
      legacy01 has no AppArmor label; test-vm and a guest whose name needs
      escaping are not in the demo allow-list; an AppArmor denial.

    Each host is written on its own clock; the migration is coordinated by
    time only (the destination logs its ``start reason=migrated`` at 10:00:00,
    the source its ``stop reason=migrated`` at 10:00:07).
    """
    g = demo_guests(seed)
    day = DEMO_DAY
    hour = 3600

    def fill(host, until, per_hour=20):
        """Background noise up to (not past) ``until``, then move the clock there."""
        while True:
            gap = host.rng.uniform(0.5, 1.5) * 3600.0 / per_hour
            if host.now + gap + 30 >= until:
                break
            host.tick(gap)
            host.noise(1)
        host.at(until)

    h1 = Host("hv01", day - 2 * hour, seed=seed, lsm="selinux", daemon="virtqemud", serial=18000)
    fill(h1, day + 6 * hour)
    h1.start_guest(g["web01"])
    fill(h1, day + 6 * hour + 300)
    h1.start_guest(g["db01"])
    fill(h1, day + 7 * hour)
    h1.start_guest(g["build01"])
    fill(h1, day + 7.5 * hour)
    h1.hotplug(g["build01"], "pci", "0000:3b:00.0")
    fill(h1, day + 7.6 * hour)
    h1.hotplug(g["build01"], "usb", "001.004")
    fill(h1, day + 8 * hour)
    h1.avc(g["build01"], "/var/lib/libvirt/images/shared-builds.img", "write")
    fill(h1, day + 9 * hour)
    h1.stop_guest(g["build01"], "shutdown")
    fill(h1, day + 10 * hour + 7)
    h1.stop_guest(g["db01"], "migrated")
    fill(h1, day + 11 * hour)
    h1.start_guest(g["batch07"], ok=False)
    fill(h1, day + 24 * hour - 60)

    h2 = Host("hv02", day - 2 * hour, seed=seed, lsm="selinux", daemon="virtqemud", serial=52000, daemon_pid=1611)
    fill(h2, day + 6 * hour + 600)
    h2.start_guest(g["app02"])
    fill(h2, day + 8 * hour)
    h2.start_guest(g["cache01"])
    fill(h2, day + 10 * hour)
    h2.migrate_in(g["db01"])
    fill(h2, day + 12 * hour)
    h2.crash_guest(g["app02"])
    fill(h2, day + 13 * hour)
    h2.hotplug(g["db01"], "disk", "/var/lib/libvirt/images/db01-archive.qcow2")
    fill(h2, day + 16 * hour)
    h2.reboot(guests=[g["db01"], g["cache01"]], clean=False)
    fill(h2, day + 16 * hour + 600)
    h2.start_guest(g["db01"])
    h2.tick(30)
    h2.start_guest(g["cache01"])
    fill(h2, day + 24 * hour - 60)

    h3 = Host("hv03", day + 9 * hour, seed=seed, lsm="apparmor", daemon="libvirtd", enriched=True, serial=730, daemon_pid=1207)
    fill(h3, day + 9 * hour + 1200)
    h3.start_guest(g["legacy01"])
    fill(h3, day + 11 * hour)
    h3.start_guest(g["test-vm"])
    fill(h3, day + 11.5 * hour)
    h3.avc(g["test-vm"], "/run/udev/data/c189:1")
    fill(h3, day + 14 * hour)
    h3.stop_guest(g["test-vm"], "destroyed")
    fill(h3, day + 15 * hour)
    odd = g['qa <sandbox> & "=1+2"']
    h3.start_guest(odd)
    fill(h3, day + 15.5 * hour)
    h3.hotplug(odd, "usb", "002.007")
    fill(h3, day + 17 * hour)
    h3.stop_guest(odd, "shutdown")
    fill(h3, day + 24 * hour - 60)
    return {"hv01": h1.lines, "hv02": h2.lines, "hv03": h3.lines}


def write_demo(out_dir, seed=2026):
    """Write ``hv01.log`` ... into ``out_dir``; returns the paths."""
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    paths = []
    for host, lines in sorted(demo_fleet(seed).items()):
        path = os.path.join(out_dir, "%s.log" % host)
        with io.open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write("\n".join(lines) + "\n")
        paths.append(path)
    return paths


# --------------------------------------------------------------- bench --

def _stamp_ms(line):
    """Milliseconds of a line's ``msg=audit(SECONDS.MILLIS:`` stamp."""
    at = line.index("msg=audit(") + 10
    sec, ms = line[at:line.index(":", at)].split(".")
    return int(sec) * 1000 + int(ms)


def bench_lines(records=10000, seed=7, guests=40, noise=0.8, node=None, enriched=False, start=1767225600.0,
                lsm="selinux", stats=None, denials=0.0, unknown_every=0, nodes=None):
    """Yield about ``records`` lines: guest activity mixed with background noise.

    ``noise`` is the share of steps that write noise instead of guest
    activity; ``denials`` the share of noise steps that are SELinux denials
    of host services (AVC, AVC_PATH, SYSCALL, CWD, PATH, PROCTITLE, USER_AVC).
    ``unknown_every``: after that many lines, a record of a type auditd does
    not know (``type=UNKNOWN[1420]``, joined to the event before it).
    ``nodes``: the logs of several hosts (``node=NAME`` prefixes), each with
    its own guests and serials, interleaved by time as an aggregating server
    writes them.  ``stats`` (a dict) receives counts of what was written
    (``starts``, ``failed_starts``, ``stops``, ``crashes``, ``migrated_out``,
    ``hotplugs``, ``avcs``, ``reboots``, ``records``).
    """
    counts = stats if stats is not None else {}
    if nodes:
        per_node = [{} for dummy in nodes]
        streams = [bench_lines(records=1 << 62, seed="%s:%s" % (seed, name), guests=guests, noise=noise, node=name,
                               enriched=enriched, start=start, lsm=lsm, stats=per_node[n], denials=denials)
                   for n, name in enumerate(nodes)]
        steps = ([line] for line in heapq.merge(*streams, key=_stamp_ms))
    else:
        steps = _host_steps(seed, guests, noise, node, enriched, start, lsm, counts, denials)
    written = 0
    counts["records"] = 0
    for step in steps:
        for line in step:
            yield line
            written += 1
            if unknown_every and written % unknown_every == 0 and " type=DAEMON_" not in " " + line:
                written += 1
                head = line.index("msg=audit(")
                yield "%stype=UNKNOWN[1420] %s op=x" % (line[:line.index("type=")], line[head:line.index("):", head) + 2])
            counts["records"] = written
        if nodes:
            for key in per_node[0]:
                counts[key] = sum(item.get(key, 0) for item in per_node)
        if written >= records:
            break


def _host_steps(seed, guests, noise, node, enriched, start, lsm, counts, denials):
    """The endless log of one bench host (see bench_lines), step by step (lists of lines)."""
    rng = random.Random("bench:%s" % seed)
    host = Host(node or "bench", start, seed=seed, lsm=lsm, daemon="virtqemud", enriched=enriched, node=node,
                serial=1000 + rng.randint(0, 5000))
    host.denials = denials
    pool = [Guest("vm%04d" % i, _uuid(rng), _mac(rng), labelled=(i % 17 != 0)) for i in range(max(1, guests))]
    for key in ("starts", "failed_starts", "stops", "crashes", "migrated_out", "hotplugs", "avcs", "reboots"):
        counts[key] = 0
    while True:
        before = len(host.lines)
        if rng.random() < noise:
            host.noise(1)
        else:
            guest = rng.choice(pool)
            roll = rng.random()
            if not guest.running:
                ok = roll > 0.03
                host.start_guest(guest, reason=rng.choice(("booted",) * 8 + ("restored", "from-snapshot")), ok=ok)
                counts["starts" if ok else "failed_starts"] += 1
            elif roll < 0.35:
                host.stop_guest(guest, rng.choice(("shutdown", "shutdown", "destroyed", "saved")))
                counts["stops"] += 1
            elif roll < 0.38:
                host.crash_guest(guest)
                counts["crashes"] += 1
            elif roll < 0.40:
                host.stop_guest(guest, "migrated")
                counts["migrated_out"] += 1
            elif roll < 0.70:
                host.hotplug(guest, rng.choice(("pci", "usb", "disk", "net")))
                counts["hotplugs"] += 1
            elif roll < 0.85:
                host.avc(guest)
                counts["avcs"] += 1
            elif roll < 0.852:
                host.reboot(guests=pool, clean=rng.random() < 0.5)
                counts["reboots"] += 1
            else:
                host.noise(1)
        host.tick(rng.uniform(0.5, 30.0))
        new = host.lines[before:]
        del host.lines[:]
        yield new


def parse_size(text):
    """``50M``, ``2G``, ``800k``, ``12345`` -> bytes."""
    text = text.strip().upper()
    factor = 1
    for suffix, value in (("K", 1024), ("M", 1024 ** 2), ("G", 1024 ** 3)):
        if text.endswith(suffix) or text.endswith(suffix + "B"):
            factor = value
            text = text.rstrip("B")[:-1]
            break
    return int(float(text) * factor)


def rotated_names(path, files):
    """The files of a rotated set, oldest first: ``path.N-1`` ... ``path.1``, ``path``."""
    return ["%s.%d" % (path, n) for n in range(files - 1, 0, -1)] + [path]


def write_bench(path, records=None, size=None, gzip_output=False, rotate=0, gzip_from=2, **kwargs):
    """Write a bench log to ``path``: ``records`` lines, or until ``size`` bytes. Returns the stats dict.

    ``rotate``: that many files instead of one, each with an equal share of
    the lines or bytes, named as auditd rotates them (``path.N-1`` oldest,
    ``path`` the live log); those numbered ``gzip_from`` and up are
    compressed (``.gz``) as logrotate's delaycompress leaves them.  The
    stats list them as ``files``.
    """
    stats = {}
    limit = records if records is not None else (1 << 62)
    files = max(1, rotate)
    names = rotated_names(path, files)
    share_lines = -(-limit // files) if records is not None else None
    share_bytes = -(-size // files) if size is not None else None
    written = 0
    lines = iter(bench_lines(records=limit, stats=stats, **kwargs))
    stats["files"] = []
    for number, name in zip(range(files - 1, -1, -1), names):
        compressed = gzip_output or (rotate and number >= gzip_from)
        if compressed and not name.endswith(".gz"):
            name += ".gz"
        opener = gzip.open if compressed else io.open
        in_file = count = 0
        with opener(name, "wb") as handle:
            for line in lines:
                data = (line + "\n").encode("utf-8")
                handle.write(data)
                in_file += len(data)
                count += 1
                if size is not None and written + in_file >= size:
                    break
                if number and ((share_bytes is not None and in_file >= share_bytes)
                               or (share_lines is not None and count >= share_lines)):
                    break  # the next file (the last one takes what is left)
        written += in_file
        stats["files"].append(name)
        if size is not None and written >= size:
            break
    if not rotate:
        del stats["files"]
    stats["bytes"] = written
    return stats


# --------------------------------------------------------------- fleet --

FLEET_START = 1767225600.0  # 2026-01-01T00:00:00Z


def _fleet_host_name(index):
    return "hv%04d" % index


def write_fleet(out_dir, hosts=10, days=7.0, sessions=170, seed=11, start=FLEET_START, guests_per_host=9,
                noise_per_hour=10.0, flush_lines=4000):
    """Write ``hvNNNN.log`` for ``hosts`` hypervisors covering ``days`` days from ``start``.

    Every host runs ``guests_per_host`` guests that are started and stopped
    again and again so that a host logs about ``sessions`` sessions; a
    guest that ends a run may crash (3 %) or be live-migrated to another
    host (7 %: the destination logs ``start reason=migrated``, the source
    ``stop reason=migrated`` seven seconds later); starts fail 3 % of the
    time; running guests get devices hot-plugged and AVC denials; a fifth of
    the hosts reboot once (with or without libvirt-guests).  The hosts are
    simulated together in time order, so a migration is logged by both ends
    at the same moment.  Returns ``{'hosts': [names], 'paths': [...],
    'sessions', 'migrations', 'crashes', 'failed_starts', 'hotplugs',
    'avcs', 'reboots', 'lines', 'bytes'}``.
    """
    if not os.path.isdir(out_dir):
        os.makedirs(out_dir)
    rng = random.Random("fleet:%s" % seed)
    end = start + days * 86400.0
    names = [_fleet_host_name(i + 1) for i in range(hosts)]
    paths = [os.path.join(out_dir, name + ".log") for name in names]
    for path in paths:
        io.open(path, "w").close()
    machines = []
    for index, name in enumerate(names):
        lsm = "apparmor" if index % 5 == 4 else "selinux"
        daemon = "libvirtd" if lsm == "apparmor" else "virtqemud"
        machines.append(Host(name, start - 3600.0, seed=seed, lsm=lsm, daemon=daemon, serial=1000 + rng.randint(0, 90000),
                             daemon_pid=1200 + rng.randint(0, 600)))
    # the mean session (run + idle) that gives about ``sessions`` per host
    cycle = days * 86400.0 * guests_per_host / max(1, sessions)
    run_mean, idle_mean = cycle * 0.85, cycle * 0.15
    stats = dict(hosts=names, paths=paths, sessions=0, migrations=0, crashes=0, failed_starts=0, hotplugs=0, avcs=0,
                 reboots=0, lines=0, bytes=0)
    queue = []
    counter = [0]

    def schedule(when, host, action, guest=None):
        counter[0] += 1
        heapq.heappush(queue, (when, counter[0], host, action, guest))

    number = 0
    for index in range(hosts):
        for _dummy in range(guests_per_host):
            number += 1
            guest = Guest("vm%05d" % number, _uuid(rng), _mac(rng), labelled=(number % 23 != 0))
            guest.home = index
            schedule(start + rng.uniform(0, idle_mean * 2), index, "start", guest)
        if hosts > 1 and rng.random() < 0.2:
            schedule(start + rng.uniform(0.1, 0.9) * days * 86400.0, index, "reboot")
    placed = {}  # guest name -> host index where it runs
    sizes = [0] * hosts

    def flush(index, final=False):
        host = machines[index]
        if host.lines and (final or len(host.lines) >= flush_lines):
            data = "\n".join(host.lines) + "\n"
            with io.open(paths[index], "a", encoding="utf-8", newline="\n") as handle:
                handle.write(data)
            stats["lines"] += len(host.lines)
            sizes[index] += len(data.encode("utf-8"))
            del host.lines[:]

    def fill(index, until):
        host = machines[index]
        while True:
            gap = rng.expovariate(noise_per_hour / 3600.0) if noise_per_hour > 0 else until
            if host.now + gap >= until:
                break
            host.tick(gap)
            host.noise(1)
        host.at(until)

    while queue:
        when, _count, index, action, guest = heapq.heappop(queue)
        if when >= end:
            continue
        host = machines[index]
        fill(index, when)
        if action == "reboot":
            running = [g for g in placed if placed[g][0] == index]
            guests = [placed[g][1] for g in running]
            clean = rng.random() < 0.5
            host.reboot(guests=guests, clean=clean)
            stats["reboots"] += 1
            for guest_name in running:
                down = placed.pop(guest_name)[1]
                schedule(host.now + rng.uniform(60, 900), index, "start", down)
        elif action == "start":
            if guest.name in placed:
                continue
            ok = rng.random() > 0.03
            host.start_guest(guest, reason=rng.choice(("booted",) * 9 + ("restored",)), ok=ok)
            stats["sessions"] += 1
            if not ok:
                stats["failed_starts"] += 1
                schedule(host.now + rng.uniform(60, 600), index, "start", guest)
                continue
            placed[guest.name] = (index, guest)
            run = rng.expovariate(1.0 / run_mean)
            if rng.random() < 0.15:
                schedule(host.now + run * rng.uniform(0.1, 0.9), index, "hotplug", guest)
            if rng.random() < 0.08:
                schedule(host.now + run * rng.uniform(0.1, 0.9), index, "avc", guest)
            schedule(host.now + run, index, "end", guest)
        elif action in ("hotplug", "avc"):
            if placed.get(guest.name, (None,))[0] != index or not guest.running:
                continue
            if action == "hotplug":
                host.hotplug(guest, rng.choice(("pci", "usb", "disk", "net")))
                stats["hotplugs"] += 1
            else:
                host.avc(guest)
                stats["avcs"] += 1
        elif action == "end":
            if placed.get(guest.name, (None,))[0] != index or not guest.running:
                continue
            roll = rng.random()
            if roll < 0.03:
                host.crash_guest(guest)
                stats["crashes"] += 1
            elif roll < 0.10 and hosts > 1:
                target = rng.randrange(hosts - 1)
                target += target >= index
                dest = machines[target]
                fill(target, host.now)
                dest.migrate_in(guest)
                stats["sessions"] += 1
                stats["migrations"] += 1
                pid = guest.pid
                host.at(dest.now + 7.0)
                host.stop_guest(guest, "migrated")
                guest.pid = pid  # running on the destination now
                placed[guest.name] = (target, guest)
                schedule(dest.now + rng.expovariate(1.0 / run_mean), target, "end", guest)
                flush(target)
                flush(index)
                continue
            else:
                host.stop_guest(guest, rng.choice(("shutdown", "shutdown", "shutdown", "destroyed")))
            placed.pop(guest.name, None)
            schedule(host.now + rng.expovariate(1.0 / idle_mean), index, "start", guest)
        flush(index)
    for index in range(hosts):
        fill(index, end)
        flush(index, final=True)
    stats["bytes"] = sum(sizes)
    return stats


def main(argv=None):
    parser = argparse.ArgumentParser(description="Deterministic generator of libvirt hypervisor audit logs.")
    sub = parser.add_subparsers(dest="scenario")
    demo = sub.add_parser("demo", help="the bundled demo fleet (hv01..hv03)")
    demo.add_argument("--out", required=True, help="directory for hv01.log ...")
    demo.add_argument("--seed", type=int, default=2026)
    bench = sub.add_parser("bench", help="one host's log of any size with background noise")
    bench.add_argument("--out", required=True, help="file to write ('-' for stdout)")
    bench.add_argument("--records", type=int, help="number of lines")
    bench.add_argument("--size", help="stop after this many bytes (e.g. 50M)")
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--guests", type=int, default=40)
    bench.add_argument("--noise", type=float, default=0.8, help="share of steps that write background noise (0..1)")
    bench.add_argument("--node", help="prefix every line with node=NAME")
    bench.add_argument("--lsm", choices=("selinux", "apparmor", "none"), default="selinux")
    bench.add_argument("--enriched", action="store_true", help="log_format = ENRICHED")
    bench.add_argument("--gzip", action="store_true")
    bench.add_argument("--denials", type=float, default=0.0,
                       help="share of noise steps that are SELinux denials of host services (AVC, USER_AVC, AVC_PATH ...)")
    bench.add_argument("--unknown-every", type=int, default=0, help="a type=UNKNOWN[1420] record after every N lines")
    bench.add_argument("--nodes", help="comma-separated node names: their logs interleaved by time, node= prefixes")
    bench.add_argument("--rotate", type=int, default=0, help="write a rotated set of N files (OUT.N-1 ... OUT.1, OUT)")
    bench.add_argument("--gzip-from", type=int, default=2, help="with --rotate: compress OUT.N from this N up")
    fleet = sub.add_parser("fleet", help="N hypervisors' logs over some days, with live migrations between them")
    fleet.add_argument("--out", required=True, help="directory for hv0001.log ...")
    fleet.add_argument("--hosts", type=int, default=10)
    fleet.add_argument("--days", type=float, default=7.0)
    fleet.add_argument("--sessions", type=int, default=170, help="about this many guest sessions per host")
    fleet.add_argument("--guests", type=int, default=9, help="guests per host")
    fleet.add_argument("--noise", type=float, default=10.0, help="background events per host and hour")
    fleet.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    if args.scenario == "demo":
        for path in write_demo(args.out, args.seed):
            print(path)
        return 0
    if args.scenario == "bench":
        if args.records is None and args.size is None:
            parser.error("bench needs --records or --size")
        kwargs = dict(seed=args.seed, guests=args.guests, noise=args.noise, node=args.node, enriched=args.enriched, lsm=args.lsm,
                      denials=args.denials, unknown_every=args.unknown_every,
                      nodes=[n for n in (args.nodes or "").split(",") if n] or None)
        size = parse_size(args.size) if args.size else None
        if args.out == "-":
            count = 0
            for line in bench_lines(records=args.records or (1 << 62), **kwargs):
                sys.stdout.write(line + "\n")
                count += len(line) + 1
                if size is not None and count >= size:
                    break
            return 0
        stats = write_bench(args.out, records=args.records, size=size, gzip_output=args.gzip, rotate=args.rotate,
                            gzip_from=args.gzip_from, **kwargs)
        print(" ".join("%s=%s" % (key, ",".join(value) if isinstance(value, list) else value)
                       for key, value in sorted(stats.items())))
        return 0
    if args.scenario == "fleet":
        stats = write_fleet(args.out, hosts=args.hosts, days=args.days, sessions=args.sessions, seed=args.seed,
                            guests_per_host=args.guests, noise_per_hour=args.noise)
        print(" ".join("%s=%s" % item for item in sorted(stats.items()) if item[0] not in ("hosts", "paths")))
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
