# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Self-tests of platforms.py and records.py (run everywhere, no root)."""

from __future__ import absolute_import, division, print_function

import os
import subprocess

import pytest

import platforms
import records

D12 = platforms.by_name("debian12")
D13 = platforms.by_name("debian13")


@pytest.mark.parametrize("codename, chroot, where12, where13", [
    ("bookworm", "", "host", "chroot"),      # a Debian 12 machine: Debian 13 is the chroot
    ("trixie", "", "chroot", "host"),        # a Debian 13 machine: Debian 12 is the chroot
    ("noble", "", "chroot", "chroot"),       # anything else: both
    ("bookworm", "debian12", "chroot", "chroot"),
    ("trixie", "all", "chroot", "chroot"),
])
def test_the_host_release_runs_on_the_host_the_other_in_a_root(codename, chroot, where12, where13):
    got12 = platforms.placement(D12, "/repo", codename=codename, chroot=chroot)
    got13 = platforms.placement(D13, "/repo", codename=codename, chroot=chroot)
    assert (got12[0], got13[0]) == (where12, where13)
    for where, root, name in (got12 + ("debian12",), got13 + ("debian13",)):
        assert root == ("/" if where == "host" else "/repo/.cache/e2e-root/" + name)


def test_selection():
    assert [p["name"] for p in platforms.selected("")] == ["debian12", "debian13"]
    assert [p["name"] for p in platforms.selected(" debian13 ")] == ["debian13"]
    with pytest.raises(ValueError, match="unknown end-to-end platform 'debian11'"):
        platforms.selected("debian11")


def test_os_release(tmp_path):
    path = tmp_path / "os-release"
    path.write_text('PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nVERSION_CODENAME=trixie\n')
    assert platforms.os_release(str(path))["VERSION_CODENAME"] == "trixie"
    assert platforms.os_release(str(tmp_path / "missing")) == {}


LOG = (
    "type=DAEMON_START msg=audit(1700000000.100:9000): op=start ver=4.0.2 auid=4294967295 pid=9 uid=0 res=success"
    "\x1dAUID=\"unset\" UID=\"root\"\n"
    "node=hv1 type=VIRT_MACHINE_ID msg=audit(1700000001.000:10): pid=5 uid=0 msg='virt=kvm vm=\"a\" "
    "uuid=u1 model=dac exe=\"/usr/sbin/libvirtd\" res=success'\n"
    "type=VIRT_RESOURCE msg=audit(1700000001.200:11): pid=5 uid=0 msg='virt=kvm resrc=cgroup reason=deny vm=\"a\" "
    "uuid=u1 cgroup=\"/x/\" class=all res=success'\n"
    "type=VIRT_RESOURCE msg=audit(1700000001.200:12): pid=5 uid=0 msg='virt=kvm resrc=cgroup reason=allow "
    "vm=\"a\" uuid=u1 cgroup=\"/x/\" class=path path=\"/dev/userfaultfd\" rdev=0A:101 acl=rw res=success'\n"
    "type=VIRT_CONTROL msg=audit(1700000002.500:14): pid=5 uid=0 msg='virt=kvm op=start reason=booted vm=\"a\" "
    "uuid=u1 vm-pid=7 res=success'\n"
    "type=DAEMON_END msg=audit(1700000003.000:9001): op=terminate auid=0 uid=4294967295 pid=1 res=success"
    "\x1dAUID=\"root\" UID=\"unset\"\n"
)


def test_record_traits(tmp_path):
    path = tmp_path / "audit.log"
    path.write_bytes(LOG.encode("utf-8"))
    traits = records.traits(str(path))
    assert traits["start_spans"] == [1.5]
    assert traits["cgroup_starts"] == 1
    assert traits["cgroup_paths"] == [("/dev/userfaultfd", "0A:101")]
    assert [(d["type"], d["serial"], d["uid"], d["UID"]) for d in traits["daemon"]] == [
        ("DAEMON_START", 9000, "0", "root"), ("DAEMON_END", 9001, "4294967295", "unset")]
    # auditd's own serials are not the kernel's; 13 is missing between 10 and 14
    assert traits["kernel_serials"] == [10, 14]
    assert traits["missing_kernel_serials"] == [13]
    text = records.report({("debian13", "RAW"): {"traits": traits, "versions": {"auditd": "1:4.0.2"}}})
    assert "| cgroup allow /dev/userfaultfd rdev=0A:101 | yes |" in text
    assert "| DAEMON_END | uid=4294967295 auid=0 (UID=unset AUID=root) |" in text
    assert "| kernel serials not in the log | 13 |" in text


def test_make_root_reuses_a_finished_root_without_root_privileges(tmp_path):
    """A root whose stamp matches is reused as it is (no debootstrap, no root needed)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "make_root.sh")
    dest = tmp_path / "debian13"
    dest.mkdir()
    (dest / ".e2e-root").write_text("codename=trixie packages=auditd qemu-utils qemu.conf=namespaces-off\nmade\n")
    proc = subprocess.run(["bash", script, "trixie", str(dest), "auditd", "qemu-utils"], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, check=False)
    assert proc.returncode == 0 and b"reused" in proc.stdout, proc.stdout
