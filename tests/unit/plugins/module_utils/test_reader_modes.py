# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every way of reading a log gives the result of a full read of the same bytes.

The modes: a full read; tiny blocks (a block boundary between almost every
two lines); an incremental run from a checkpoint written after part of the
log (cut at a line end or inside a line); each also with a time window.  The logs: every fixture
log and every shape tools/auditgen.py writes (node= prefixes, UNKNOWN[n]
records, three nodes interleaved, ENRICHED, AVC-heavy, a rotated set with
compressed files).  The whole result is compared: sessions with every
detail, summary, host events, coverage, sources, parse errors.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import os
import shutil
import sys

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
sys.path.insert(0, os.path.join(ROOT, "tools"))

import auditgen  # noqa: E402  pylint: disable=wrong-import-position

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log  # noqa: E402
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.readmodes import merged_sources  # noqa: E402

NOW = 1800000000
OPTIONS = dict(all_events=True, proof=True, raw=True, default_host="hv",
               uid_resolver={0: "root"}.get, now=NOW)

V = ("pid=1523 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:virtqemud_t:s0 msg=")
OK = ' exe="/usr/sbin/virtqemud" hostname=? addr=? terminal=? res=success\''
U = "61616161-0000-4000-8000-000000000001"
GUEST = "61616161-0000-4000-8000-000000000002"
SERVICE = ("pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='unit=cron "
           "comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'")
# a guest starts, the host reboots (auditd starts again, the kernel's serials restart at 20)
REBOOT_LOG = "".join(line + "\n" for line in (
    "type=VIRT_MACHINE_ID msg=audit(1710144000.000:10): " + V + "'virt=kvm vm=\"g1\" uuid=" + U
    + " vm-ctx=system_u:system_r:svirt_t:s0:c1,c2 img-ctx=system_u:object_r:svirt_image_t:s0:c1,c2 model=selinux" + OK,
    "type=VIRT_CONTROL msg=audit(1710144000.600:11): " + V + "'virt=kvm op=start reason=booted vm=\"g1\" uuid=" + U
    + " vm-pid=4242" + OK,
    "type=SERVICE_START msg=audit(1710144100.000:200): " + SERVICE,
    "type=DAEMON_START msg=audit(1710147000.000:4213): op=start ver=3.0.9 format=raw kernel=6.1.0-18-amd64 "
    "auid=4294967295 pid=812 uid=0 ses=4294967295 subj=system_u:system_r:auditd_t:s0 res=success",
    "type=SERVICE_START msg=audit(1710147001.000:20): " + SERVICE,
    "type=SERVICE_START msg=audit(1710148000.000:30): " + SERVICE,
))


def test_reboot_inside_a_block_before_the_window(tmp_path):
    """The serial restart lies in a block wholly before ``start``: g1 still went down with the host."""
    log = tmp_path / "audit.log"
    log.write_text(REBOOT_LOG)
    full = run(paths=[str(log)], all_events=True, default_host="hv", now=1710150000)
    assert [(s["name"], s["state"]) for s in full["sessions"]] == [("g1", "down")]
    windowed = run(paths=[str(log)], all_events=True, start="1710148500", default_host="hv", now=1710150000)
    # g1 went down at the reboot (1710144100), long before the window: it is not in it
    assert [(s["name"], s["state"]) for s in windowed["sessions"]] == []
    assert windowed["summary"]["states"]["running"] == 0
    # a window that reaches back to the guest's run shows it down
    earlier = run(paths=[str(log)], all_events=True, start="1710144050", default_host="hv", now=1710150000)
    assert [(s["name"], s["state"], s["end_id"]) for s in earlier["sessions"]] == [("g1", "down", "1710144100.000:200")]


# ------------------------------------------------------------------ the logs

AVC = ('avc:  denied  { read } for  pid=4242 comm="qemu-kvm"%s dev="dm-0" ino=1835101 '
       "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:svirt_image_t:s0 tclass=file permissive=0")
SYSCALL = ("arch=c000003e syscall=257 success=no exit=-13 a0=ffffff9c a1=55d0c0a0b0c0 a2=80002 a3=0 items=1 ppid=1 "
           'pid=4242 auid=4294967295 uid=107 gid=107 euid=107 tty=(none) ses=4294967295 comm="qemu-kvm" '
           'exe="/usr/bin/qemu-system-x86_64" subj=system_u:system_r:svirt_t:s0:c1,c2 key=(null)')
NOISE = ("pid=99 uid=0 auid=0 ses=3 msg='op=PAM:session_open grantors=pam_unix acct=\"root\" exe=\"/usr/sbin/crond\" "
         "hostname=? addr=? terminal=cron res=success'")


def avc_arrangements():
    """A guest's AVC events in every arrangement the reader must put together (line list)."""
    log = Log(t=1710144000.0, serial=1000)
    log.boot_sequence("web", GUEST)
    log.daemon("DAEMON_START", 77)

    def event(*types, **kw):
        serial = log.serial
        log.serial += 1
        log.tick(1)
        for rtype in types:
            if rtype == "AVC":
                log.add("AVC", AVC % kw.get("name", ' name="disk%d.img"' % serial), serial=serial)
            elif rtype == "SYSCALL":
                log.add("SYSCALL", SYSCALL, serial=serial)
            elif rtype == "PATH":
                log.add("PATH", 'item=0 name="/var/lib/libvirt/images/p%d.img" inode=1 dev=fd:00' % serial, serial=serial)
            elif rtype == "NOISE":
                log.add("USER_START", NOISE)
            elif rtype == "RESOURCE":
                log.resource("web", GUEST, "disk", "attach", 'old-disk="?" new-disk="/img/hot%d.qcow2"' % serial)
            else:
                log.add(rtype, "x=%d" % serial, serial=serial)
        return serial

    event("AVC", "SYSCALL", "PROCTITLE")                           # as the kernel writes them
    event("SYSCALL", "PATH", "AVC", name="")                        # the AVC after its other records (name from PATH)
    event("AVC", "NOISE", "RESOURCE", "NOISE", "SYSCALL")           # other events (and one the engine reads) between
    event("AVC", "AVC", "SYSCALL", "PATH", "AVC_PATH")              # two AVC records in one event
    event(*(("SYSCALL",) + ("NOISE",) * 20 + ("AVC", "NOISE", "PATH")), name="")
    event("AVC")                                                    # no other records (no syscall context)
    far = event("AVC")
    crowd = log.serial
    log.serial += 1
    for item in range(70):                                          # one event with 70 PATH records
        log.add("PATH", 'item=%d name="/usr/lib/f%d" inode=1 dev=fd:00' % (item, item), serial=crowd)
    log.add("SYSCALL", SYSCALL, serial=far)                         # too far away: not part of that event
    log.daemon("DAEMON_END", 78)
    log.tick(1).add("SYSCALL", SYSCALL.replace("uid=107", "uid=0"), serial=far)  # another time: another event
    event("AVC", *(("NOISE",) * 3 + ("SYSCALL", "CWD", "PROCTITLE")))
    log.tick(60).stop("web", GUEST)
    return log.lines


SHAPES = {
    "plain": dict(),
    "node": dict(node="hv01.example.com"),
    "unknown": dict(unknown_every=50),
    "three-nodes": dict(nodes=["hv01.example.com", "hv02.example.com", "hv03.example.com"]),
    "enriched": dict(enriched=True),
    "avc-heavy": dict(denials=0.3),
    "rotated-gz": dict(rotate=4),
}


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    """Each shape of auditgen's bench log (small: 1200 lines, busy guests), as a list of files; and the AVC events."""
    top = tmp_path_factory.mktemp("shapes")
    out = {"avc-arrangements": [str(top / "avc.log")]}
    with open(out["avc-arrangements"][0], "w") as handle:
        handle.write("\n".join(avc_arrangements()) + "\n")
    for name, options in sorted(SHAPES.items()):
        folder = top / name
        folder.mkdir()
        options = dict(options)
        rotate = options.pop("rotate", 0)
        stats = auditgen.write_bench(str(folder / "audit.log"), records=1200, seed=5, guests=6, noise=0.7,
                                     rotate=rotate, **options)
        out[name] = stats.get("files", [str(folder / "audit.log")])
    return out


def fixture_logs():
    found = []
    for sub in ("samples", "real-libvirt"):
        directory = os.path.join(FIXTURES, sub)
        found.extend(os.path.join(directory, n) for n in sorted(os.listdir(directory)) if n.endswith(".log"))
    return found


LOGS = [pytest.param(("fixture", path), id=os.path.basename(path)) for path in fixture_logs()]
LOGS += [pytest.param(("shape", name), id=name) for name in sorted(SHAPES) + ["avc-arrangements"]]


@pytest.fixture(params=LOGS)
def paths(request, shapes):
    kind, what = request.param
    return [what] if kind == "fixture" else shapes[what]


def stamps(paths):
    """The times of every record of ``paths`` (for windows that fall inside the log)."""
    out = []
    for path in paths:
        opener = gzip.open if path.endswith(".gz") else open
        with opener(path, "rb") as handle:
            for line in handle:
                if b"msg=audit(" in line:
                    out.append(float(line.split(b"msg=audit(", 1)[1].split(b":", 1)[0]))
    return sorted(out)


# ------------------------------------------------------------------ the modes

def test_tiny_blocks(paths, monkeypatch):
    """Blocks of a few dozen bytes (almost every line alone, AVC events split over blocks): the same result."""
    full = run(paths=paths, **OPTIONS)
    assert full["sources"][0]["records"] > 0
    for size in (97, 500):
        monkeypatch.setattr(log_files, "CHUNK", size)
        assert run(paths=paths, **OPTIONS) == full, "blocks of %d bytes" % size


def test_window(paths, monkeypatch, tmp_path):
    """``start``/``end`` inside the log: read in tiny blocks and resumed from a checkpoint, the same result."""
    times = stamps(paths)
    copies = [str(tmp_path / os.path.basename(path)) for path in paths]
    for path, copy in zip(paths, copies):
        shutil.copy(path, copy)
    with open(paths[-1], "rb") as handle:
        data = handle.read()
    state = str(tmp_path / "state.json")
    for start_at, end_at in ((0.5, None), (0.75, 0.9), (0.0, 0.1)):
        window = dict(start="%.3f" % times[int(start_at * (len(times) - 1))])
        if end_at is not None:
            window["end"] = "%.3f" % times[int(end_at * (len(times) - 1))]
        options = dict(OPTIONS, **window)
        full = run(paths=copies, **options)
        with monkeypatch.context() as patch:
            patch.setattr(log_files, "CHUNK", 211)
            assert run(paths=copies, **options) == full, window
        if copies[-1].endswith(".gz"):
            continue
        with open(copies[-1], "wb") as handle:
            handle.write(data[:len(data) // 2])
        if os.path.exists(state):
            os.remove(state)
        first = run(paths=copies, checkpoint=state, **options)
        with open(copies[-1], "wb") as handle:
            handle.write(data)
        second = run(paths=copies, checkpoint=state, **options)
        assert second.pop("checkpoint")["used"]
        second["sources"] = merged_sources(first["sources"], second["sources"])
        assert second == full, window


def test_incremental(paths, tmp_path):
    """A run from a checkpoint written after part of the last file: the result of reading it all at once."""
    if paths[-1].endswith(".gz"):
        pytest.skip("the live log is never compressed")
    copies = [str(tmp_path / os.path.basename(path)) for path in paths]
    for path, copy in zip(paths, copies):
        shutil.copy(path, copy)
    full = run(paths=copies, **OPTIONS)
    with open(paths[-1], "rb") as handle:
        data = handle.read()
    state = str(tmp_path / "state.json")
    for cut in sorted(set((len(data) // 3, len(data) // 2 + 1, len(data) - 1))):
        with open(copies[-1], "wb") as handle:
            handle.write(data[:cut])
        if os.path.exists(state):
            os.remove(state)
        first = run(paths=copies, checkpoint=state, **OPTIONS)
        assert first["checkpoint"]["saved"]
        with open(copies[-1], "wb") as handle:
            handle.write(data)
        second = run(paths=copies, checkpoint=state, **OPTIONS)
        assert second.pop("checkpoint")["used"], second.get("warnings")
        second["sources"] = merged_sources(first["sources"], second["sources"])
        assert second == full, "cut after byte %d of %d" % (cut, len(data))


def test_avc_arrangements_read_as_one_event_each(shapes):
    """What the arrangements log is for: every AVC event with its own records, the far one without."""
    result = run(paths=shapes["avc-arrangements"], **OPTIONS)
    avcs = result["sessions"][0]["avcs"]
    assert len(avcs) == 8
    assert [item["user"] for item in avcs] == ["unknown(107)"] * 5 + [None, None, "unknown(107)"]
    path = "/var/lib/libvirt/images/p%d.img"
    assert [item["name"] for item in avcs] == ["disk1005.img", path % 1006, "disk1007.img", "disk1011.img", path % 1012,
                                               "disk1034.img", "disk1035.img", "disk1037.img"]
    raw = result["sessions"][0]["raw"]
    assert [len(raw[item["id"]]) for item in avcs] == [3, 3, 2, 5, 3, 1, 1, 4]
    assert [line.split()[0] for line in raw["1710144002.000:1006"]] == ["type=SYSCALL", "type=PATH", "type=AVC"]


def test_every_cut_and_block_size_of_the_avc_arrangements(shapes, tmp_path, monkeypatch):
    """The AVC events split at every line (checkpoint) and by blocks of every size."""
    path = shapes["avc-arrangements"][0]
    full = run(paths=[path], **OPTIONS)
    with open(path, "rb") as handle:
        data = handle.read()
    for size in range(40, 900, 29):
        monkeypatch.setattr(log_files, "CHUNK", size)
        assert run(paths=[path], **OPTIONS) == full, "blocks of %d bytes" % size
    monkeypatch.undo()
    ends = [at + 1 for at in range(len(data)) if data[at:at + 1] == b"\n"]
    every_cut(tmp_path, data, ends[:-1] + [end - 7 for end in ends[1::5]])


def every_cut(tmp_path, data, cuts):
    """A run with a checkpoint written after each of ``cuts`` bytes of ``data``, and the run that goes on from it:
    the result of one read of ``data``.  Returns that result."""
    log = str(tmp_path / "audit.log")
    state = str(tmp_path / "state.json")
    with open(log, "wb") as handle:
        handle.write(data)
    full = run(paths=[log], **OPTIONS)
    for cut in cuts:
        with open(log, "wb") as handle:
            handle.write(data[:cut])
        if os.path.exists(state):
            os.remove(state)
        first = run(paths=[log], checkpoint=state, **OPTIONS)
        with open(log, "wb") as handle:
            handle.write(data)
        second = run(paths=[log], checkpoint=state, **OPTIONS)
        assert second.pop("checkpoint")["used"]
        second["sources"] = merged_sources(first["sources"], second["sources"])
        assert second == full, "cut after byte %d" % cut
    return full


BOOT = ("type=SYSTEM_BOOT msg=audit(%s): pid=830 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 "
        "msg=' comm=\"systemd-update-utmp\" exe=\"/usr/lib/systemd/systemd-update-utmp\" hostname=? addr=? terminal=? "
        "res=success'")
# two nodes in one file; hvA reboots (SYSTEM_BOOT only, no SYSTEM_SHUTDOWN, no serial restart): its guest went
# down at hvA's last record of the old boot (a record the engine does not read), not at hvB's nor auditd's
BOOT_ONLY_LOG = "".join(line + "\n" for line in (
    "node=hvA " + REBOOT_LOG.splitlines()[0].replace(":10)", ":11)"),
    "node=hvA " + REBOOT_LOG.splitlines()[1].replace(":11)", ":12)"),
    "node=hvB type=SERVICE_START msg=audit(1710144000.700:500): " + SERVICE,
    "node=hvA type=SERVICE_START msg=audit(1710148800.000:20): " + SERVICE,
    "node=hvB type=SERVICE_START msg=audit(1710149000.000:501): " + SERVICE,
    "node=hvA " + REBOOT_LOG.splitlines()[3],
    "node=hvB type=SERVICE_START msg=audit(1710149401.000:502): " + SERVICE,
    "node=hvA " + BOOT % "1710149405.000:5",
    "node=hvA type=SERVICE_START msg=audit(1710149406.000:6): " + SERVICE,
))


def test_the_end_of_a_boot_seen_only_through_system_boot_in_every_mode(tmp_path, monkeypatch):
    """The last record of hvA's old boot (09:20, a SERVICE_START) ends its guest, in blocks of every size and
    resumed from a checkpoint written after every line."""
    data = BOOT_ONLY_LOG.encode("utf-8")
    ends = [at + 1 for at in range(len(data)) if data[at:at + 1] == b"\n"]
    full = every_cut(tmp_path, data, ends[:-1])
    assert [(s["host"], s["state"], s["end"], s["end_id"]) for s in full["sessions"]] == [
        ("hvA", "down", "2024-03-11T09:20:00.000+00:00", "1710148800.000:20")]
    log = str(tmp_path / "audit.log")
    for size in range(40, 1400, 37):
        monkeypatch.setattr(log_files, "CHUNK", size)
        assert run(paths=[log], **OPTIONS) == full, "blocks of %d bytes" % size
