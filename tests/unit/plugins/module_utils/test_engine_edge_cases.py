# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real-world edge cases of the session engine, each a small hand-written log of known truth.

The logs are written literally, record by record, as libvirt, the kernel,
systemd and auditd write them; the expected results are the truth of what
happened on the host, not what the code did.  docs/session-model.md states
the rule behind each case.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

U = "61616161-0000-4000-8000-000000000001"
V = ("pid=1523 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:virtqemud_t:s0 msg=")
OK = ' exe="/usr/sbin/virtqemud" hostname=? addr=? terminal=? res=success\''
FAIL = ' exe="/usr/sbin/virtqemud" hostname=? addr=? terminal=? res=failed\''


def LBL(event_id, node=None):
    return _node(node) + ("type=VIRT_MACHINE_ID msg=audit(%s): %s'virt=kvm vm=\"g1\" uuid=%s "
                          "vm-ctx=system_u:system_r:svirt_t:s0:c1,c2 img-ctx=system_u:object_r:svirt_image_t:s0:c1,c2 "
                          "model=selinux%s" % (event_id, V, U, OK))


def AA_LBL(event_id):
    return ("type=VIRT_MACHINE_ID msg=audit(%s): %s'virt=kvm vm=\"g1\" uuid=%s vm-ctx=libvirt-%s "
            "img-ctx=libvirt-%s model=apparmor%s" % (event_id, V, U, U, U, OK))


def START(event_id, pid, res=OK, node=None, vm="g1", uuid=U):
    return _node(node) + ("type=VIRT_CONTROL msg=audit(%s): %s'virt=kvm op=start reason=booted vm=\"%s\" uuid=%s "
                          "vm-pid=%s%s" % (event_id, V, vm, uuid, pid, res))


def STOP(event_id, node=None, vm="g1", uuid=U):
    return _node(node) + ("type=VIRT_CONTROL msg=audit(%s): %s'virt=kvm op=stop reason=shutdown vm=\"%s\" uuid=%s "
                          "vm-pid=0%s" % (event_id, V, vm, uuid, OK))


def SVC(event_id):
    return ("type=SERVICE_START msg=audit(%s): pid=1 uid=0 auid=4294967295 ses=4294967295 "
            "subj=system_u:system_r:init_t:s0 msg='unit=cron comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" "
            "hostname=? addr=? terminal=? res=success'" % event_id)


def DSTART(event_id):
    return ("type=DAEMON_START msg=audit(%s): op=start ver=3.0.9 format=raw kernel=6.1.0-18-amd64 "
            "auid=4294967295 pid=812 uid=0 ses=4294967295 subj=system_u:system_r:auditd_t:s0 res=success" % event_id)


def AVC(event_id, node=None, permissive=0):
    return _node(node) + ("type=AVC msg=audit(%s): avc:  denied  { write } for  pid=4242 comm=\"qemu-kvm\" "
                          "name=\"g1.qcow2\" dev=\"dm-0\" ino=1835101 scontext=system_u:system_r:svirt_t:s0:c1,c2 "
                          "tcontext=system_u:object_r:default_t:s0 tclass=file permissive=%d" % (event_id, permissive))


def SYSC(event_id, node=None):
    return _node(node) + ("type=SYSCALL msg=audit(%s): arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c "
                          "a1=55d0c0a0b0c0 a2=80002 a3=0 items=0 ppid=1 pid=4242 auid=4294967295 uid=107 gid=107 "
                          "euid=107 suid=107 fsuid=107 egid=107 sgid=107 fsgid=107 tty=(none) ses=4294967295 "
                          "comm=\"qemu-kvm\" exe=\"/usr/libexec/qemu-kvm\" subj=system_u:system_r:svirt_t:s0:c1,c2 "
                          "key=(null)" % event_id)


def _node(node):
    return "node=%s " % node if node else ""


def result_of(tmp_path, lines, **options):
    log = tmp_path / "audit.log"
    log.write_text(u"\n".join(lines) + u"\n")
    options.setdefault("all_events", True)
    return run(paths=[str(log)], default_host="hv", uid_resolver={0: "root", 107: "qemu"}.get,
               now=1800000000, **options)


def test_late_record_is_not_a_reboot(tmp_path):
    """1. The SYSCALL of an earlier AVC, written after later records, is a late record (its serial was seen,
    its time is earlier than the previous record's) - not the serial restart of a reboot."""
    out = result_of(tmp_path, [
        LBL("1710144000.000:1000"), START("1710144000.600:1001", 4242),
        AVC("1710144020.000:1003", permissive=1).replace("pid=4242 comm=\"qemu-kvm\"", "pid=999 comm=\"other\"")
        .replace("s0:c1,c2", "s0:c9,c10"),
        SVC("1710144030.000:1100"),
        SYSC("1710144020.000:1003").replace("pid=4242", "pid=999").replace("s0:c1,c2", "s0:c9,c10"),
        STOP("1710144100.000:1101"),
    ])
    assert [(s["state"], s["stop_reason"]) for s in out["sessions"]] == [("stopped", "shutdown")]
    assert out["host_events"] == []


def test_denial_during_a_failed_start_belongs_to_that_start(tmp_path):
    """2. The usual "guest won't start because of SELinux" evidence: the AVC between the label and a failed
    op=start is the start's."""
    out = result_of(tmp_path, [
        LBL("1710144000.000:1001"), AVC("1710144000.700:1002"), START("1710144000.900:1003", 0, res=FAIL),
    ])
    session, = out["sessions"]
    assert session["state"] == "failed"
    assert [a["id"] for a in session["avcs"]] == ["1710144000.700:1002"]
    assert session["avcs"][0]["matched_by"] == "scontext"
    assert out["summary"]["avcs_unattributed"] == 0
    assert "1710144000.700:1002" in [e["id"] for e in session["events"]]


@pytest.mark.parametrize("res", [OK, FAIL], ids=["started", "failed"])
def test_apparmor_denial_during_the_start_belongs_to_it(tmp_path, res):
    """2. The same for AppArmor: the guest's profile libvirt-UUID names it before op=start."""
    denial = ("type=AVC msg=audit(1710144000.700:1002): apparmor=\"DENIED\" operation=\"open\" "
              "profile=\"libvirt-%s\" name=\"/var/lib/libvirt/images/g1.qcow2\" pid=4242 comm=\"qemu-system-x86\" "
              "requested_mask=\"r\" denied_mask=\"r\" fsuid=64055 ouid=64055" % U)
    out = result_of(tmp_path, [AA_LBL("1710144000.000:1001"), denial, START("1710144000.900:1003", 4242, res=res)])
    session, = out["sessions"]
    assert [(a["id"], a["matched_by"]) for a in session["avcs"]] == [("1710144000.700:1002", "profile")]
    assert out["summary"]["avcs_unattributed"] == 0


def test_core_dump_of_a_helper_does_not_crash_the_guest(tmp_path):
    """3. swtpm (same svirt label, another pid) dumps core: listed with the guest, the guest not crashed."""
    out = result_of(tmp_path, [
        LBL("1710144000.000:1001"), START("1710144000.600:1002", 4242),
        "type=ANOM_ABEND msg=audit(1710144600.000:1003): auid=4294967295 uid=107 gid=107 ses=4294967295 "
        "subj=system_u:system_r:svirt_t:s0:c1,c2 pid=5555 comm=\"swtpm\" exe=\"/usr/bin/swtpm\" sig=11 res=1",
        STOP("1710147600.000:1004"),
    ])
    session, = out["sessions"]
    assert (session["state"], session["stop_reason"]) == ("stopped", "shutdown")
    assert [(a["pid"], a["comm"], a["matched_by"]) for a in session["anomalies"]] == [(5555, "swtpm", "subj")]


def test_core_dump_of_the_guests_qemu_still_crashes_it(tmp_path):
    out = result_of(tmp_path, [
        LBL("1710144000.000:1001"), START("1710144000.600:1002", 4242),
        "type=ANOM_ABEND msg=audit(1710144600.000:1003): auid=4294967295 uid=107 gid=107 ses=4294967295 "
        "subj=system_u:system_r:svirt_t:s0:c1,c2 pid=4242 comm=\"qemu-kvm\" exe=\"/usr/libexec/qemu-kvm\" sig=11 res=1",
    ])
    session, = out["sessions"]
    assert (session["state"], session["end_id"]) == ("crashed", "1710144600.000:1003")


@pytest.mark.parametrize("profile, name, pid, comm", [
    ("docker-default", "/dev/net/tun", 31337, "openvpn"),
    ("/usr/sbin/cupsd", "/dev/urandom", 1234, "cupsd"),
])
def test_apparmor_denial_of_another_profile_is_not_the_guests(tmp_path, profile, name, pid, comm):
    """4. A path the guest also opened is not enough: another profile, another pid."""
    tun = ("type=VIRT_RESOURCE msg=audit(1710144000.100:1002): %s'virt=kvm resrc=net reason=open vm=\"g1\" uuid=%s "
           "net=52:54:00:00:00:01 path=\"/dev/net/tun\" rdev=0A:C8%s" % (V, U, OK))
    cgroup = ("type=VIRT_RESOURCE msg=audit(1710144000.100:1003): %s'virt=kvm resrc=cgroup reason=allow vm=\"g1\" "
              "uuid=%s cgroup=\"/machine/qemu-1-g1.libvirt-qemu/\" class=path path=\"/dev/urandom\" rdev=01:09 acl=rw%s"
              % (V, U, OK))
    denial = ("type=AVC msg=audit(1710144100.000:1010): apparmor=\"DENIED\" operation=\"open\" class=\"file\" "
              "profile=\"%s\" name=\"%s\" pid=%d comm=\"%s\" requested_mask=\"wr\" denied_mask=\"wr\" fsuid=0 ouid=0"
              % (profile, name, pid, comm))
    out = result_of(tmp_path, [AA_LBL("1710144000.000:1001"), tun, cgroup, START("1710144000.600:1004", 4242), denial])
    session, = out["sessions"]
    assert session["avcs"] == []
    assert out["summary"]["avcs_unattributed"] == 1


def test_apparmor_denial_of_the_guests_qemu_pid_is_the_guests(tmp_path):
    """4. Without the profile (a denial logged under another label), the guest's qemu pid still names it."""
    denial = ("type=AVC msg=audit(1710144100.000:1010): apparmor=\"DENIED\" operation=\"open\" class=\"file\" "
              "profile=\"unconfined\" name=\"/dev/net/tun\" pid=4242 comm=\"qemu-system-x86\" requested_mask=\"wr\" "
              "denied_mask=\"wr\" fsuid=0 ouid=0")
    out = result_of(tmp_path, [AA_LBL("1710144000.000:1001"), START("1710144000.600:1004", 4242), denial])
    session, = out["sessions"]
    assert [a["matched_by"] for a in session["avcs"]] == ["pid"]


def test_clock_skew_between_nodes_does_not_split_an_avc_from_its_syscall(tmp_path):
    """5. hvB's clock is 5 s ahead: its record in between must not age hvA's open AVC event out."""
    out = result_of(tmp_path, [
        LBL("1710144000.000:7001", node="hvA"), START("1710144000.600:7002", 4242, node="hvA"),
        AVC("1710144600.000:7003", node="hvA"),
        STOP("1710144605.500:3001", node="hvB", vm="other", uuid="62626262-0000-4000-8000-000000000002"),
        SYSC("1710144600.000:7003", node="hvA"),
    ])
    session = [s for s in out["sessions"] if s["host"] == "hvA"][0]
    assert [(a["id"], a["user"], a["comm"]) for a in session["avcs"]] == [("1710144600.000:7003", "qemu", "qemu-kvm")]


def test_clock_skew_between_nodes_does_not_split_an_event_of_two_denials(tmp_path):
    """5. The same skew between the two AVC records of one hvA event (two denials of one system call): the
    event is one AVC of the guest, not two (the grouper ages an event by the clock of its own node)."""
    second = AVC("1710144600.000:7003", node="hvA").replace("{ write }", "{ read }")
    out = result_of(tmp_path, [
        LBL("1710144000.000:7001", node="hvA"), START("1710144000.600:7002", 4242, node="hvA"),
        AVC("1710144600.000:7003", node="hvA"),
        STOP("1710144605.500:3001", node="hvB", vm="other", uuid="62626262-0000-4000-8000-000000000002"),
        second, SYSC("1710144600.000:7003", node="hvA"),
    ], proof=True)
    session = [s for s in out["sessions"] if s["host"] == "hvA"][0]
    assert [(a["id"], a["user"]) for a in session["avcs"]] == [("1710144600.000:7003", "qemu")]
    assert out["summary"]["avcs"] == 1


def test_reboot_seen_only_through_system_boot_ends_at_the_last_record_of_the_old_boot(tmp_path):
    """6. The guest went down with the host; the last record of the old boot is the SERVICE_START at 09:20."""
    boot = ("type=SYSTEM_BOOT msg=audit(1710149405.000:5): pid=830 uid=0 auid=4294967295 ses=4294967295 "
            "subj=system_u:system_r:init_t:s0 msg=' comm=\"systemd-update-utmp\" "
            "exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'")
    out = result_of(tmp_path, [
        LBL("1710144000.000:11"), START("1710144000.600:12", 4242), SVC("1710148800.000:20"),
        DSTART("1710149400.000:4213"), boot,
    ])
    session, = out["sessions"]
    assert (session["state"], session["end"]) == ("down", "2024-03-11T09:20:00.000+00:00")


def test_session_that_began_before_the_logs_is_in_windows_before_its_first_record(tmp_path):
    """7. The logs begin at 08:00 and hold no start of g2: it ran from before 08:00 to its stop at 12:00."""
    stop = ("type=VIRT_CONTROL msg=audit(1710158400.000:102): %s'virt=kvm op=stop reason=shutdown vm=\"g2\" "
            "uuid=62626262-0000-4000-8000-000000000002 vm-pid=0%s" % (V, OK))
    out = result_of(tmp_path, [SVC("1710144000.000:100"), SVC("1710145800.000:101"), stop],
                    start="2024-03-11T09:00Z", end="2024-03-11T10:00Z")
    assert out["coverage"]["complete"] is True
    session, = out["sessions"]
    assert (session["name"], session["start"], session["state"]) == ("g2", None, "stopped")
    # not before the logs: nothing says the guest ran then
    before = result_of(tmp_path, [SVC("1710144000.000:100"), SVC("1710145800.000:101"), stop],
                       start="2024-03-11T06:00Z", end="2024-03-11T07:00Z")
    assert before["sessions"] == []


def test_the_two_halves_of_a_migration_in_one_log_are_linked():
    """Source stop reason=migrated and destination start reason=migrated of one UUID on two nodes."""
    import os
    sample = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "samples", "migration-two-nodes.log")
    out = run(paths=[sample], default_host="hv", now=1800000000)
    hv1, hv2 = sorted(out["sessions"], key=lambda s: s["host"])
    assert (hv1["host"], hv1["stop_reason"], hv2["host"], hv2["start_reason"]) == ("hv1", "migrated", "hv2", "migrated")
    assert hv1["migrated_to"] == {"host": "hv2", "start": hv2["start"], "start_epoch": hv2["start_epoch"],
                                  "start_id": hv2["start_id"]}
    assert hv2["migrated_from"] == {"host": "hv1", "end": hv1["end"], "end_epoch": hv1["end_epoch"],
                                    "end_id": hv1["end_id"]}
    assert hv1["migrated_from"] is None and hv2["migrated_to"] is None
    # the window selects the destination only: its link still names the source
    later = run(paths=[sample], default_host="hv", now=1800000000, start="2024-03-11T09:30Z")
    assert [(s["host"], s["migrated_from"]["host"]) for s in later["sessions"]] == [("hv2", "hv1")]


def test_session_before_the_logs_is_selected_by_its_own_host_and_boot(tmp_path):
    """7. The bound is the first record of the session's own host (not of another node in the file), and a
    stop without a start after a reboot began in that boot: not before it."""
    g2 = "62626262-0000-4000-8000-000000000002"
    stop = ("node=hvB type=VIRT_CONTROL msg=audit(1710158400.000:102): %s'virt=kvm op=stop reason=shutdown vm=\"g2\" "
            "uuid=%s vm-pid=0%s" % (V, g2, OK))
    lines = ["node=hvA " + SVC("1710140400.000:50"), "node=hvB " + SVC("1710144000.000:100"),
             "node=hvB " + SVC("1710145800.000:101"), stop]
    # hvB's logs begin at 08:00: a window at 07:00-07:30 (hvA's records only) is before g2 is known to run
    assert result_of(tmp_path, lines, start="2024-03-11T07:00Z", end="2024-03-11T07:30Z")["sessions"] == []
    assert [s["name"] for s in result_of(tmp_path, lines, start="2024-03-11T08:10Z",
                                         end="2024-03-11T08:20Z")["sessions"]] == ["g2"]
    boot = ("node=hvB type=SYSTEM_BOOT msg=audit(1710151200.000:5): pid=830 uid=0 auid=4294967295 ses=4294967295 "
            "subj=system_u:system_r:init_t:s0 msg=' comm=\"systemd-update-utmp\" "
            "exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? res=success'")
    rebooted = lines[:3] + [boot, "node=hvB " + SVC("1710151300.000:6"), stop.replace(":102)", ":7)")]
    # hvB rebooted at 10:00: g2 was started after that (its start record is not in the logs)
    assert result_of(tmp_path, rebooted, start="2024-03-11T09:00Z", end="2024-03-11T09:30Z")["sessions"] == []
    assert [s["name"] for s in result_of(tmp_path, rebooted, start="2024-03-11T10:10Z",
                                         end="2024-03-11T10:20Z")["sessions"]] == ["g2"]


def test_session_before_the_logs_in_a_run_from_a_checkpoint(tmp_path):
    """7. The host's first record was read by an earlier run: the run from the checkpoint still knows it."""
    stop = ("type=VIRT_CONTROL msg=audit(1710158400.000:102): %s'virt=kvm op=stop reason=shutdown vm=\"g2\" "
            "uuid=62626262-0000-4000-8000-000000000002 vm-pid=0%s" % (V, OK))
    log = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    log.write_text(u"\n".join([SVC("1710144000.000:100"), SVC("1710145800.000:101")]) + u"\n")
    options = dict(default_host="hv", now=1800000000, checkpoint=state, start="2024-03-11T09:00Z",
                   end="2024-03-11T10:00Z")
    assert run(paths=[str(log)], **options)["sessions"] == []
    with open(str(log), "a") as handle:
        handle.write(stop + "\n")
    out = run(paths=[str(log)], **options)
    assert out["checkpoint"]["used"]
    assert [(s["name"], s["start"]) for s in out["sessions"]] == [("g2", None)]
