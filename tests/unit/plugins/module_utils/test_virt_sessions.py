# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Session engine scenarios, each built from format-exact synthetic lines."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest
from hypothesis import given, settings, strategies as st

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log

A = "aaaaaaaa-1111-4222-8333-444444444444"
B = "bbbbbbbb-1111-4222-8333-444444444444"


def sessions_of(tmp_path, log, **kw):
    path = log.write(tmp_path / "audit.log")
    kw.setdefault("default_host", "hv")
    kw.setdefault("uid_resolver", {0: "root"}.get)
    return run(paths=[path], **kw)


def one(result, **match):
    found = [s for s in result["sessions"] if all(s[k] == v for k, v in match.items())]
    assert len(found) == 1, (match, result["sessions"])
    return found[0]


def test_start_stop_session(tmp_path):
    log = Log()
    log.boot_sequence("web", A, pid=77)
    t0 = log.t
    log.tick(60).stop("web", A, "destroyed")
    s = sessions_of(tmp_path, log, all_events=True)["sessions"][0]
    assert (s["state"], s["start_reason"], s["stop_reason"], s["pid"]) == ("stopped", "booted", "destroyed", 77)
    assert s["start_epoch"] == pytest.approx(t0)
    assert s["duration_seconds"] == pytest.approx(60.0)
    assert s["label"] == "system_u:system_r:svirt_t:s0:c1,c2"
    assert s["user"] == "root"
    assert [r["close_reason"] for r in s["resources"]] == ["stop", "stop"]
    assert [lab["model"] for lab in s["security_labels"]] == ["selinux", "dac"]


@pytest.mark.parametrize("reason,state", [("failed", "crashed"), ("crashed", "crashed"), ("saved", "stopped"),
                                          ("migrated", "stopped"), ("from-snapshot", "stopped"), ("shutdown", "stopped")])
def test_stop_reasons_map_to_states(tmp_path, reason, state):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(5).stop("web", A, reason)
    s = sessions_of(tmp_path, log)["sessions"][0]
    assert (s["state"], s["stop_reason"]) == (state, reason)


def test_failed_start_closes_its_resources(tmp_path):
    log = Log()
    log.label("db", A)
    log.resource("db", A, "disk", "start", 'old-disk="?" new-disk="/img/db.qcow2"')
    log.start("db", A, res="failed")
    s = sessions_of(tmp_path, log, all_events=True)["sessions"][0]
    assert s["state"] == "failed"
    assert s["pid"] is None
    assert s["duration_seconds"] == 0.0
    assert s["end_epoch"] == s["start_epoch"]
    assert s["resources"][0]["close_reason"] == "start-failed"


def test_host_shutdown_puts_running_guest_down(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(100)
    shutdown_t = log.t
    log.system("SYSTEM_SHUTDOWN")
    log.tick(1).daemon("DAEMON_END", 900)
    log.tick(60).daemon("DAEMON_START", 901)
    log.serial = 3
    log.tick(1).system("SYSTEM_BOOT")
    log.tick(10).boot_sequence("web", A, pid=99)
    result = sessions_of(tmp_path, log)
    first, second = result["sessions"]
    assert (first["state"], first["end_epoch"], first["stop_reason"]) == ("down", pytest.approx(shutdown_t), None)
    assert second["state"] == "running"
    assert [e["type"] for e in result["host_events"]] == ["shutdown", "audit_end", "audit_start", "boot"]


def test_host_crash_without_shutdown_ends_at_last_record(tmp_path):
    log = Log(serial=5000)
    log.boot_sequence("web", A)
    log.tick(30).syscall_noise()
    last_t = log.t
    log.serial = 1  # power loss: the next boot starts counting again
    log.tick(300).syscall_noise()
    result = sessions_of(tmp_path, log)
    s = result["sessions"][0]
    assert s["state"] == "down"
    assert s["end_epoch"] == pytest.approx(last_t)
    types = [e["type"] for e in result["host_events"]]
    assert "reboot_detected" in types and "crash" in types


def test_auditd_restart_is_not_a_reboot(tmp_path):
    log = Log(serial=300)
    log.boot_sequence("web", A)
    log.tick(10).daemon("DAEMON_END", 7)
    log.tick(5).daemon("DAEMON_START", 8)
    log.tick(5).syscall_noise(3)
    s = sessions_of(tmp_path, log)["sessions"][0]
    assert s["state"] == "running"
    assert s["end_epoch"] is None


def test_stop_during_shutdown_is_a_normal_stop(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(10).system("SYSTEM_SHUTDOWN")
    log.tick(1).stop("web", A, "shutdown")  # libvirt-guests stops guests late in the shutdown
    s = sessions_of(tmp_path, log)["sessions"][0]
    assert (s["state"], s["stop_reason"]) == ("stopped", "shutdown")


def test_second_start_without_stop_marks_lost(tmp_path):
    log = Log()
    log.boot_sequence("web", A, pid=1)
    log.tick(50)
    restart_t = log.t
    log.boot_sequence("web", A, pid=2)
    result = sessions_of(tmp_path, log, all_events=True)
    lost, running = result["sessions"]
    assert (lost["state"], lost["end_epoch"], lost["pid"]) == ("lost", None, 1)
    assert lost["duration_seconds"] is None
    assert all(r["closed_epoch"] is None for r in lost["resources"])
    assert running["state"] == "running" and running["start_epoch"] == pytest.approx(restart_t)
    assert result["summary"]["states"]["lost"] == 1


def test_abend_without_stop_record_is_a_crash(tmp_path):
    log = Log()
    log.boot_sequence("web", A, pid=4242)
    log.tick(20)
    crash_t = log.t
    log.add("ANOM_ABEND", "auid=4294967295 uid=107 gid=107 ses=4294967295 subj=system_u:system_r:svirt_t:s0:c1,c2 "
            'pid=4242 comm="qemu-kvm" exe="/usr/libexec/qemu-kvm" sig=11 res=1')
    s = sessions_of(tmp_path, log, all_events=True)["sessions"][0]
    assert (s["state"], s["end_epoch"]) == ("crashed", pytest.approx(crash_t))
    assert s["anomalies"][0]["matched_by"] == "pid"
    assert s["anomalies"][0]["sig"] == 11


def test_anomaly_found_by_label_when_pid_unknown(tmp_path):
    log = Log()
    log.boot_sequence("web", A, pid=10, ctx="system_u:system_r:svirt_t:s0:c5,c6")
    log.boot_sequence("other", B, pid=11, ctx="system_u:system_r:svirt_t:s0:c7,c8")
    log.tick(5).add("ANOM_ABEND", "auid=4294967295 uid=107 gid=107 ses=4294967295 "
                    "subj=system_u:system_r:svirt_t:s0:c5,c6 pid=555 comm=\"qemu-kvm\" exe=\"/usr/bin/qemu\" sig=6 res=1")
    result = sessions_of(tmp_path, log, all_events=True)
    web = one(result, name="web")
    assert web["anomalies"][0]["matched_by"] == "subj"
    assert one(result, name="other")["anomalies"] == []


def test_stop_without_start_gives_partial_session(tmp_path):
    log = Log()
    log.stop("old", A, "destroyed")
    s = sessions_of(tmp_path, log)["sessions"][0]
    assert (s["state"], s["start"], s["start_epoch"], s["stop_reason"], s["name"]) == ("stopped", None, None, "destroyed", "old")
    assert s["duration_seconds"] is None


def test_hotplug_without_start_opens_partial_running_session(tmp_path):
    log = Log()
    log.resource("old", A, "disk", "attach", 'old-disk="?" new-disk="/img/x"')
    s = sessions_of(tmp_path, log, all_events=True)["sessions"][0]
    assert (s["state"], s["start"]) == ("running", None)
    assert s["resources"][0]["value"] == "/img/x"


def test_hotplug_attach_detach_update(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(1).resource("web", A, "disk", "attach", 'old-disk="?" new-disk="/img/data"')
    log.tick(1).resource("web", A, "disk", "attach", 'old-disk="?" new-disk="/img/bad"', res="failed")
    log.tick(1).resource("web", A, "mem", "update", "old-mem=1048576 new-mem=2097152")
    log.tick(1).resource("web", A, "dev", "attach", 'bus=usb device="001.004"')
    log.tick(1).resource("web", A, "dev", "detach", 'bus=usb device="001.004"')
    log.tick(1).resource("web", A, "disk", "detach", 'old-disk="/img/data" new-disk="?"')
    log.tick(1).stop("web", A)
    res = sessions_of(tmp_path, log, all_events=True)["sessions"][0]["resources"]
    by = dict(((r["kind"], r["value"]), r) for r in res)
    assert by[("disk", "/img/data")]["close_reason"] == "detach"
    assert by[("disk", "/img/bad")]["result"] == "failed"
    assert by[("disk", "/img/bad")]["close_reason"] == "failed"
    assert by[("mem", "1048576")]["close_reason"] == "update"
    assert by[("mem", "2097152")]["close_reason"] == "stop"
    assert by[("mem", "2097152")]["details"]["old"] == "1048576"
    assert by[("dev", "001.004")]["close_reason"] == "detach"
    assert by[("dev", "001.004")]["details"]["bus"] == "usb"


def test_cgroup_classes_and_deny_closes_allow(tmp_path):
    log = Log()
    cg = 'cgroup="/sys/fs/cgroup/machine.slice/x/" '
    log.label("web", A)
    log.resource("web", A, "cgroup", "deny", cg + "class=all")
    log.resource("web", A, "cgroup", "allow", cg + 'class=path path="/dev/null" rdev=01:03 acl=rw')
    log.resource("web", A, "cgroup", "allow", cg + "class=major category=pty maj=88 acl=rw")
    log.start("web", A)
    log.tick(1).resource("web", A, "cgroup", "allow", cg + 'class=path path="/dev/sdb" rdev=08:10 acl=rw')
    log.tick(1).resource("web", A, "cgroup", "deny", cg + 'class=path path="/dev/sdb" rdev=08:10 acl=rwm')
    res = sessions_of(tmp_path, log, all_events=True)["sessions"][0]["resources"]
    assert [(r["reason"], r["value"], r["details"]["class"]) for r in res] == [
        ("deny", "all", "all"), ("allow", "/dev/null", "path"), ("allow", "pty", "major"),
        ("allow", "/dev/sdb", "path"), ("deny", "/dev/sdb", "path")]
    assert res[3]["close_reason"] == "deny"
    assert res[1]["closed_epoch"] is None  # still running


def test_all_resource_kinds_are_kept(tmp_path):
    log = Log()
    log.label("cat", A)
    fields = [
        ("fs", "start", 'old-fs="?" new-fs="/srv/share"', "/srv/share"),
        ("chardev", "start", 'old-chardev="?" new-chardev="/dev/pts/4"', "/dev/pts/4"),
        ("smartcard", "start", 'old-smartcard="?" new-smartcard="nss-smartcard-device"', "nss-smartcard-device"),
        ("rng", "start", 'old-rng="?" new-rng="/dev/urandom"', "/dev/urandom"),
        ("dev", "start", 'bus=pci device="0000:03:00.0"', "0000:03:00.0"),
        ("dev", "start", "bus=usb device=555342207265646972646576", "USB redirdev"),
        ("dev", "start", 'bus=mdev device="c2177883-f1bb-47f0-914d-32a22e3a8804"', "c2177883-f1bb-47f0-914d-32a22e3a8804"),
        ("hostdev", "start", 'disk="/dev/sdf"', "/dev/sdf"),
        ("hostdev", "start", 'chardev="/dev/ttyUSB0"', "/dev/ttyUSB0"),
        ("tpm", "start", 'device="/dev/tpm0"', "/dev/tpm0"),
        ("tpm-emulator", "start", 'device="/run/swtpm.sock"', "/run/swtpm.sock"),
        ("tpm-external", "start", 'device="/run/ext.sock"', "/run/ext.sock"),
        ("shmem", "start", "size=4194304 path=/dev/shm/shmem0", "/dev/shm/shmem0"),
        ("ivshmem-socket", "start", "path=/var/lib/libvirt/shmem.sock", "/var/lib/libvirt/shmem.sock"),
        ("evdev", "start", "path=/dev/input/event3", "/dev/input/event3"),
        ("vcpu", "start", "old-vcpu=0 new-vcpu=4", "4"),
        ("iothread", "start", "old-iothread=0 new-iothread=2", "2"),
        ("net", "open", 'net=52:54:00:c0:c0:01 path="/dev/net/tun" rdev=0A:C8', "/dev/net/tun"),
        ("net", "start", 'old-net="?" new-net="52:54:00:c0:c0:01"', "52:54:00:c0:c0:01"),
    ]
    for kind, reason, text, _value in fields:
        log.resource("cat", A, kind, reason, text)
    log.start("cat", A)
    res = sessions_of(tmp_path, log, all_events=True)["sessions"][0]["resources"]
    assert [(r["kind"], r["value"]) for r in res] == [(k, v) for k, _r, _t, v in fields]
    assert res[12]["details"]["size"] == "4194304"
    assert res[17]["details"]["net"] == "52:54:00:c0:c0:01"


def test_selinux_avc_attribution_by_source_then_target(tmp_path):
    log = Log()
    log.boot_sequence("web", A, ctx="system_u:system_r:svirt_t:s0:c1,c2")
    log.boot_sequence("db", B, ctx="system_u:system_r:svirt_t:s0:c3,c4")
    log.tick(1).add("AVC", 'avc:  denied  { write } for  pid=4242 comm="qemu-kvm" name="x" '
                    "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:svirt_image_t:s0:c3,c4 tclass=file permissive=0")
    log.tick(1).add("AVC", 'avc:  denied  { read } for  pid=1 comm="backup" name="db.qcow2" '
                    "scontext=system_u:system_r:backup_t:s0 tcontext=system_u:object_r:svirt_image_t:s0:c3,c4 tclass=file permissive=0")
    log.tick(1).add("AVC", 'avc:  denied  { read } for  pid=1 comm="x" name="y" '
                    "scontext=system_u:system_r:svirt_t:s0:c9,c9 tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0")
    result = sessions_of(tmp_path, log, all_events=True)
    web, db = one(result, name="web"), one(result, name="db")
    assert [(a["matched_by"], a["operation"]) for a in web["avcs"]] == [("scontext", "write")]
    assert [(a["matched_by"], a["comm"]) for a in db["avcs"]] == [("tcontext", "backup")]
    assert result["summary"]["avcs_unattributed"] == 1


def test_avc_after_guest_stopped_is_not_attributed(tmp_path):
    log = Log()
    log.boot_sequence("web", A, ctx="system_u:system_r:svirt_t:s0:c1,c2")
    log.tick(1).stop("web", A)
    log.tick(1).add("AVC", 'avc:  denied  { write } for  pid=4242 comm="qemu-kvm" name="x" '
                    "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0")
    result = sessions_of(tmp_path, log, all_events=True)
    assert result["sessions"][0]["avcs"] == []
    assert result["summary"]["avcs_unattributed"] == 1


def test_shared_static_label_is_ambiguous(tmp_path):
    log = Log()
    static = "system_u:system_r:svirt_t:s0"
    log.boot_sequence("web", A, ctx=static)
    log.boot_sequence("db", B, ctx=static)
    log.tick(1).add("AVC", 'avc:  denied  { write } for  pid=4242 comm="qemu-kvm" name="x" '
                    "scontext=%s tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0" % static)
    result = sessions_of(tmp_path, log, all_events=True)
    assert result["summary"]["avcs"] == 0 and result["summary"]["avcs_unattributed"] == 1


def test_avc_with_syscall_interleaved_is_grouped_once(tmp_path):
    log = Log()
    log.boot_sequence("web", A, ctx="system_u:system_r:svirt_t:s0:c1,c2")
    log.tick(1)
    serial = log.serial
    log.add("AVC", 'avc:  denied  { write } for  pid=4242 comm="qemu-kvm" name="x" '
            "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0",
            serial=serial)
    log.add("SYSCALL", "arch=c000003e syscall=257 success=no exit=-13 pid=4242 auid=4294967295 uid=107 comm=\"qemu-kvm\"",
            serial=serial + 1)
    log.add("SYSCALL", "arch=c000003e syscall=257 success=no exit=-13 pid=4242 auid=4294967295 uid=107 comm=\"qemu-kvm\"",
            serial=serial)
    log.serial = serial + 2
    s = sessions_of(tmp_path, log, all_events=True)["sessions"][0]
    assert len(s["avcs"]) == 1
    assert s["avcs"][0]["user"] == "unknown(107)"


def test_apparmor_profile_child_and_not_path(tmp_path):
    """A child profile names the guest; another profile's denial on the guest's disk path does not
    (a path alone names no guest: docs/session-model.md)."""
    log = Log()
    log.label("deb", A, ctx="libvirt-" + A, model="apparmor", img="libvirt-" + A)
    log.resource("deb", A, "disk", "start", 'old-disk="?" new-disk="/img/deb.qcow2"')
    log.start("deb", A)
    aa = ('apparmor="DENIED" operation="open" class="file" profile="%s" name="%s" pid=1 comm="qemu" '
          'requested_mask="r" denied_mask="r" fsuid=64055 ouid=0')
    log.tick(1).add("AVC", aa % ("libvirt-%s//qemu_bridge_helper" % A, "/etc/x"))
    log.tick(1).add("AVC", aa % ("/usr/sbin/other", "/img/deb.qcow2"))
    log.tick(1).add("AVC", 'apparmor="STATUS" operation="profile_load" profile="unconfined" name="libvirt-%s" pid=9' % A)
    result = sessions_of(tmp_path, log, all_events=True)
    avcs = result["sessions"][0]["avcs"]
    assert [(a["matched_by"], a["name"], a["result"]) for a in avcs] == [("profile", "/etc/x", "denied")]
    assert result["summary"]["avcs_unattributed"] == 1


def test_hosts_are_separate_and_migration_overlaps(tmp_path):
    src = Log(node="hv1")
    src.boot_sequence("app", A, pid=1)
    dst = Log(t=src.t + 100, node="hv2", serial=7000)
    dst.boot_sequence("app", A, pid=2)
    dst.lines[-1] = dst.lines[-1].replace("reason=booted", "reason=migrated")
    src.t = dst.t + 5
    src.stop("app", A, "migrated")
    log = Log()
    log.lines = src.lines[:-1] + dst.lines + src.lines[-1:]
    result = sessions_of(tmp_path, log)
    hv1, hv2 = one(result, host="hv1"), one(result, host="hv2")
    assert (hv1["state"], hv1["stop_reason"]) == ("stopped", "migrated")
    assert (hv2["state"], hv2["start_reason"]) == ("running", "migrated")
    assert result["summary"]["hosts"] == ["hv1", "hv2"]
    assert result["coverage"]["serial_gaps"]["missing_events"] == 0


def test_lxc_init_and_reboot(tmp_path):
    log = Log()
    log.resource("ct", A, "fs", "start", 'old-fs="?" new-fs="/srv/ct"', virt="lxc")
    log.start("ct", A, pid=9100, virt="lxc")
    log.virt("VIRT_CONTROL", "virt=lxc op=init vm=\"ct\" uuid=%s vm-pid=9100 init-pid=9123 pid-ns=4026532590" % A)
    log.tick(5).stop("ct", A, "reboot", virt="lxc")
    log.start("ct", A, pid=9200, reason="reboot", virt="lxc")
    result = sessions_of(tmp_path, log, all_events=True)
    first, second = result["sessions"]
    assert first["lxc_init"] == {"init_pid": 9123, "pid_ns": 4026532590, "vm_pid": 9100}
    assert (first["virt"], first["stop_reason"], second["start_reason"]) == ("lxc", "reboot", "reboot")
    assert "init" in [e["kind"] for e in first["events"]]


def test_hex_encoded_unicode_name_and_vm_filter(tmp_path):
    log = Log()
    name = u"vm-\u00fcn\u00efc\u00f8d\u00e9 x"
    log.boot_sequence(name, A)
    log.boot_sequence("plain", B)
    assert "766D2D" in log.lines[0]
    result = sessions_of(tmp_path, log, vm=[name])
    assert [s["name"] for s in result["sessions"]] == [name]


def test_uuid_filter_is_case_insensitive_and_validated(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.boot_sequence("db", B)
    assert [s["name"] for s in sessions_of(tmp_path, log, uuid=[B.upper()])["sessions"]] == ["db"]
    with pytest.raises(ValueError) as err:
        sessions_of(tmp_path, log, uuid=["not-a-uuid"])
    assert "not-a-uuid" in str(err.value)


def test_enriched_uid_names_win(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.lines[-1] += '\x1dUID="libvirtd-user" AUID="unset"'
    s = sessions_of(tmp_path, log, uid_resolver={}.get)["sessions"][0]
    assert s["user"] == "libvirtd-user"


def test_proof_and_raw(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(1).stop("web", A)
    s = sessions_of(tmp_path, log, all_events=True, proof=True, raw=True)["sessions"][0]
    assert s["proof"] == ["1710144000.000:100", "1710144000.000:101", "1710144000.000:102",
                          "1710144000.000:103", "1710144000.000:104", "1710144001.000:105"]
    assert s["raw"]["1710144001.000:105"] == [log.lines[-1]]
    plain = sessions_of(tmp_path, log, proof=True)["sessions"][0]
    assert "raw" not in plain and "resources" not in plain


def test_summary_counts(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(1).resource("web", A, "disk", "attach", 'old-disk="?" new-disk="/img/bad"', res="failed")
    log.tick(1).stop("web", A)
    log.label("db", B)
    log.start("db", B, res="failed")
    summary = sessions_of(tmp_path, log)["summary"]
    assert summary["states"] == {"running": 0, "stopped": 1, "crashed": 0, "failed": 1, "down": 0, "lost": 0}
    assert (summary["starts"], summary["stops"], summary["resources"], summary["failed_operations"]) == (1, 1, 2, 2)
    assert summary_only_is_empty(tmp_path, log)


def summary_only_is_empty(tmp_path, log):
    result = sessions_of(tmp_path, log, summary_only=True)
    return result["sessions"] == [] and result["summary"]["sessions"] == 2


LEVEL_PARTS = st.sampled_from(["s0", "s0:c1", "s0:c1,c2", "s0:c107,c434", "s0-s0:c0.c1023", "s0:cx", "s1:c5", ":c", "c1"])


@settings(max_examples=300, deadline=None)
@given(levels=st.lists(LEVEL_PARTS, max_size=6), pieces=st.lists(st.one_of(LEVEL_PARTS, st.text(max_size=8)), max_size=6),
       asked=st.integers(min_value=1, max_value=80))
def test_level_search_finds_a_running_level_exactly_when_it_is_in_the_text(levels, pieces, asked):
    """The AVC pre-check (a running guest's level in the text), asked any number of times about the same levels."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_attribution import GuestIndex
    index = GuestIndex()
    for level in levels:
        index.by_level[level] = {}
    text = "scontext=system_u:system_r:t:" + " ".join(pieces)
    for dummy in range(asked):
        got = index.level_search(text)
    assert got == any(level in text for level in levels)
