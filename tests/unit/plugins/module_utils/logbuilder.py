# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tiny builder of format-exact audit lines for the engine's unit tests."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import binascii

TAIL = ' exe="/usr/sbin/virtqemud" hostname=? addr=? terminal=? res=%s'
SENDER = "pid=1523 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:virtqemud_t:s0"


def enc(value):
    """libvirt's virAuditEncode: quoted, or upper-case hex when it must be."""
    raw = value.encode("utf-8")
    if any(b < 0x21 or b >= 0x7F or b == 0x22 for b in bytearray(raw)):
        return binascii.hexlify(raw).decode("ascii").upper()
    return '"%s"' % value


class Log(object):
    """Collects lines; ``t`` is the current epoch, ``serial`` the next serial."""

    def __init__(self, t=1710144000.0, serial=100, node=None):
        self.t = t
        self.serial = serial
        self.node = node
        self.lines = []

    def head(self, rtype, t=None, serial=None):
        t = self.t if t is None else t
        if serial is None:
            serial = self.serial
            self.serial += 1
        prefix = "node=%s " % self.node if self.node else ""
        return "%stype=%s msg=audit(%d.%03d:%d): " % (prefix, rtype, int(t), int(round((t - int(t)) * 1000)), serial)

    def add(self, rtype, body, t=None, serial=None, enriched=None):
        line = self.head(rtype, t, serial) + body
        if enriched:
            line += "\x1d" + enriched
        self.lines.append(line)
        return line

    def tick(self, seconds=1.0):
        self.t += seconds
        return self

    def virt(self, rtype, inner, res="success", **kw):
        return self.add(rtype, "%s msg='%s%s'" % (SENDER, inner, TAIL % res), **kw)

    def label(self, vm, uuid, ctx="system_u:system_r:svirt_t:s0:c1,c2", model="selinux", img=None, virt="kvm"):
        img = img or ctx.replace("svirt_t", "svirt_image_t").replace("system_r", "object_r")
        return self.virt("VIRT_MACHINE_ID", "virt=%s vm=%s uuid=%s vm-ctx=%s img-ctx=%s model=%s"
                         % (virt, enc(vm), uuid, ctx, img, model))

    def resource(self, vm, uuid, kind, reason, fields, res="success", virt="kvm"):
        return self.virt("VIRT_RESOURCE", "virt=%s resrc=%s reason=%s vm=%s uuid=%s %s"
                         % (virt, kind, reason, enc(vm), uuid, fields), res=res)

    def start(self, vm, uuid, pid=4242, reason="booted", res="success", virt="kvm"):
        return self.virt("VIRT_CONTROL", "virt=%s op=start reason=%s vm=%s uuid=%s vm-pid=%d"
                         % (virt, reason, enc(vm), uuid, pid if res == "success" else 0), res=res)

    def stop(self, vm, uuid, reason="shutdown", virt="kvm"):
        return self.virt("VIRT_CONTROL", "virt=%s op=stop reason=%s vm=%s uuid=%s vm-pid=0"
                         % (virt, reason, enc(vm), uuid))

    def boot_sequence(self, vm, uuid, pid=4242, ctx="system_u:system_r:svirt_t:s0:c1,c2", disk=None):
        self.label(vm, uuid, ctx)
        self.label(vm, uuid, "+107:+107", model="dac", img="+107:+107")
        self.resource(vm, uuid, "disk", "start", 'old-disk="?" new-disk=%s' % enc(disk or "/var/lib/libvirt/images/%s.qcow2" % vm))
        self.resource(vm, uuid, "mem", "start", "old-mem=0 new-mem=1048576")
        return self.start(vm, uuid, pid)

    def system(self, rtype, **kw):
        return self.add(rtype, "pid=1 uid=0 auid=4294967295 ses=4294967295 msg=' comm=\"systemd-update-utmp\" "
                        "exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'", **kw)

    def daemon(self, rtype, serial):
        return self.add(rtype, "op=start ver=3.0.9 format=raw kernel=6.1.0 auid=4294967295 pid=812 uid=0 ses=4294967295 res=success",
                        serial=serial)

    def syscall_noise(self, n=1):
        for dummy in range(n):
            self.add("SYSCALL", "arch=c000003e syscall=257 success=yes exit=3 items=1 ppid=1 pid=99 auid=0 uid=0 "
                     'comm="cat" exe="/usr/bin/cat" key=(null)')

    def write(self, path):
        with open(str(path), "w") as handle:
            handle.write("\n".join(self.lines) + "\n")
        return str(path)
