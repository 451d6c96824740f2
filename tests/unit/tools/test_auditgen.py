# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/auditgen.py: deterministic, format-exact, and the engine reads back what it wrote."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import io
import os
import re
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import auditgen  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run  # noqa: E402

LINE_RE = re.compile(r"^(?:node=\S+ )?type=([A-Z_]+) msg=audit\((\d+)\.(\d{3}):(\d+)\): (.*)$")
VIRT_RE = re.compile(r"^pid=\d+ uid=0 auid=4294967295 ses=4294967295(?: subj=\S+)? msg='virt=\S+ (.*) "
                     r"exe=\"/usr/sbin/(virtqemud|libvirtd)\" hostname=\? addr=\? terminal=\? res=(success|failed)'$")
NOISE_TYPES = {"SYSCALL", "EXECVE", "CWD", "PATH", "PROCTITLE", "USER_START", "USER_END", "CRED_ACQ", "CRED_DISP", "CRED_REFR",
               "USER_ACCT", "USER_AUTH", "USER_CMD", "LOGIN", "SERVICE_START", "SERVICE_STOP", "NETFILTER_CFG", "BPF"}


def root_only(uid):
    return {0: "root"}.get(uid)


def engine(paths, default_host="gen", **kwargs):
    return run(paths=paths, all_events=True, default_host=default_host, now=2e9, uid_resolver=root_only, **kwargs)


def check_lines(lines):
    """Format checks; returns the record types seen."""
    types = {}
    last = None
    for line in lines:
        body = line.split(auditgen.GS, 1)[0]
        match = LINE_RE.match(body)
        assert match, line
        rtype = match.group(1)
        types[rtype] = types.get(rtype, 0) + 1
        if rtype.startswith("VIRT_"):
            assert VIRT_RE.match(match.group(5)), line
        stamp = int(match.group(2)) * 1000 + int(match.group(3))
        assert last is None or stamp >= last, line
        last = stamp
    return types


def test_demo_is_deterministic_and_the_bundled_logs_are_current(tmp_path):
    first = auditgen.demo_fleet()
    assert first == auditgen.demo_fleet()
    assert first != auditgen.demo_fleet(seed=1)
    paths = auditgen.write_demo(str(tmp_path))
    for path in paths:
        bundled = os.path.join(ROOT, "demo", "logs", os.path.basename(path))
        with open(path, "rb") as new, open(bundled, "rb") as old:
            assert new.read() == old.read(), "demo/logs is stale: run python3 tools/auditgen.py demo --out demo/logs"


def test_demo_format():
    fleet = auditgen.demo_fleet()
    for host, lines in fleet.items():
        types = check_lines(lines)
        assert {"VIRT_CONTROL", "VIRT_RESOURCE", "VIRT_MACHINE_ID"} <= set(types)
        assert len(NOISE_TYPES & set(types)) >= 10, host
    # hv03 writes ENRICHED records, the others RAW
    assert any(auditgen.GS in line for line in fleet["hv03"])
    assert not any(auditgen.GS in line for line in fleet["hv01"])
    # a name with a space, quote and '<' is hex-encoded like libvirt does
    assert auditgen.encode_value('qa <sandbox> & "=1+2"') == auditgen.hexify('qa <sandbox> & "=1+2"')
    assert any("vm=%s " % auditgen.hexify('qa <sandbox> & "=1+2"') in line for line in fleet["hv03"])
    assert auditgen.encode_value("web01") == '"web01"'
    assert auditgen.encode_value("vm-\u00fc") == "766D2DC3BC"


def test_demo_reads_back_as_designed():
    got = {}
    for host in ("hv01", "hv02", "hv03"):
        result = engine([os.path.join(ROOT, "demo", "logs", host + ".log")])
        assert result["parse_errors"]["count"] == 0
        assert result["coverage"]["serial_gaps"]["missing_events"] == 0
        got[host] = [(s["name"], s["state"], s["start_reason"], s["stop_reason"]) for s in result["sessions"]]
    assert got["hv01"] == [("web01", "running", "booted", None), ("db01", "stopped", "booted", "migrated"),
                           ("build01", "stopped", "booted", "shutdown"), ("batch07", "failed", "booted", None)]
    assert got["hv02"] == [("app02", "crashed", "booted", "failed"), ("cache01", "down", "booted", None),
                           ("db01", "down", "migrated", None), ("db01", "running", "booted", None), ("cache01", "running", "booted", None)]
    assert got["hv03"] == [("legacy01", "running", "booted", None), ("test-vm", "stopped", "booted", "destroyed"),
                           ('qa <sandbox> & "=1+2"', "stopped", "booted", "shutdown")]


def test_reboot_restarts_serials_and_is_seen():
    host = auditgen.Host("h", 1772409600, serial=5000)
    guest = auditgen.Guest("g1", "12345678-1234-4234-8234-123456789abc", "52:54:00:00:00:01")
    host.start_guest(guest)
    host.noise(5)
    host.reboot(guests=[guest])
    host.noise(2)
    serials = [int(LINE_RE.match(line).group(4)) for line in host.lines if not line.startswith(("type=DAEMON_",))]
    reset = [i for i in range(1, len(serials)) if serials[i] < serials[i - 1]]
    assert len(reset) == 1 and serials[reset[0]] == 5


def bench_stats(records, **kwargs):
    stats = {}
    lines = list(auditgen.bench_lines(records=records, stats=stats, **kwargs))
    return lines, stats


def test_bench_size_noise_and_determinism():
    lines, stats = bench_stats(3000, seed=11)
    assert len(lines) >= 3000 and stats["records"] == len(lines)
    assert lines == bench_stats(3000, seed=11)[0]
    assert lines != bench_stats(3000, seed=12)[0]
    types = check_lines(lines)
    assert len(NOISE_TYPES & set(types)) >= 12
    virt = sum(v for k, v in types.items() if k.startswith("VIRT_"))
    quiet, _stats = bench_stats(3000, seed=11, noise=0.95)
    quiet_virt = sum(1 for line in quiet if " type=VIRT_" in " " + line)
    assert quiet_virt < virt


def test_bench_reads_back(tmp_path):
    path = str(tmp_path / "bench.log.gz")
    stats = auditgen.write_bench(path, records=6000, gzip_output=True, seed=3, guests=12, noise=0.5, node="hvb")
    with gzip.open(path, "rt") as handle:
        assert all(line.startswith("node=hvb type=") for line in handle)
    result = engine([path])
    states = result["summary"]["states"]
    assert result["parse_errors"]["count"] == 0
    assert result["summary"]["hosts"] == ["hvb"]
    assert states["failed"] == stats["failed_starts"]
    assert result["summary"]["starts"] == stats["starts"]
    assert states["crashed"] == stats["crashes"]
    assert sum(states.values()) == stats["starts"] + stats["failed_starts"]
    # denials of unlabelled guests (every 17th) name no svirt MCS pair: counted, but not attributed
    assert result["summary"]["avcs"] + result["summary"]["avcs_unattributed"] == stats["avcs"]
    assert result["summary"]["avcs"] > result["summary"]["avcs_unattributed"]


def test_bench_by_size(tmp_path):
    path = str(tmp_path / "b.log")
    stats = auditgen.write_bench(path, size=200 * 1024, seed=1)
    assert 200 * 1024 <= os.path.getsize(path) < 200 * 1024 + 8192 and stats["bytes"] == os.path.getsize(path)
    assert auditgen.parse_size("50M") == 50 * 1024 ** 2 and auditgen.parse_size("800k") == 800 * 1024 and auditgen.parse_size("123") == 123


def test_cli(tmp_path, capsys):
    assert auditgen.main(["demo", "--out", str(tmp_path / "d")]) == 0
    assert sorted(os.listdir(str(tmp_path / "d"))) == ["hv01.log", "hv02.log", "hv03.log"]
    assert auditgen.main(["bench", "--out", str(tmp_path / "b.log"), "--records", "500", "--lsm", "apparmor", "--enriched"]) == 0
    assert "records=" in capsys.readouterr().out
    with io.open(str(tmp_path / "b.log"), encoding="utf-8") as handle:
        text = handle.read()
    assert "model=apparmor" in text and auditgen.GS in text
    with pytest.raises(SystemExit):
        auditgen.main(["bench", "--out", str(tmp_path / "c.log")])


def test_fleet_logs_read_back_with_stitched_migrations(tmp_path):
    from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_sessions import stitch_migrations, session_id
    out = str(tmp_path / "fleet")
    stats = auditgen.write_fleet(out, hosts=3, days=2, sessions=60, seed=5)
    again = auditgen.write_fleet(str(tmp_path / "again"), hosts=3, days=2, sessions=60, seed=5)
    assert stats["hosts"] == ["hv0001", "hv0002", "hv0003"] and again["bytes"] == stats["bytes"]
    for path, other in zip(stats["paths"], again["paths"]):
        with io.open(path, encoding="utf-8") as handle, io.open(other, encoding="utf-8") as second:
            text = handle.read()
            assert text == second.read()
        check_lines(text.splitlines())
    sessions = []
    for host, path in zip(stats["hosts"], stats["paths"]):
        result = engine([path], default_host=host)
        assert result["parse_errors"]["count"] == 0 and result["coverage"]["serial_gaps"]["missing_events"] == 0
        for item in result["sessions"]:
            item["session_id"] = session_id(item)
        sessions += result["sessions"]
    assert len(sessions) == stats["sessions"] and stats["migrations"] > 0
    assert sum(1 for s in sessions if s["state"] == "failed") == stats["failed_starts"]
    assert sum(1 for s in sessions if s["state"] == "crashed") == stats["crashes"]
    migrations, unmatched = stitch_migrations(sessions)
    assert len(migrations) == stats["migrations"] and unmatched == []
    assert set(m["source_host"] for m in migrations) | set(m["destination_host"] for m in migrations) <= set(stats["hosts"])
    assert auditgen.main(["fleet", "--out", str(tmp_path / "cli"), "--hosts", "2", "--days", "0.5", "--sessions", "10"]) == 0
    assert sorted(os.listdir(str(tmp_path / "cli"))) == ["hv0001.log", "hv0002.log"]
