# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reader and grouper: files, rotation, compression, bad lines, event grouping."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gzip
import os

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_events import group_events
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_reader import iter_records
from ansible_collections.virtaudit.auvirt.plugins.module_utils.block_scan import ReadStats
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_set import LogAccessError, auditd_log_file, default_log_set
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import compact_facts, run

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log

A = "aaaaaaaa-1111-4222-8333-444444444444"
B = "bbbbbbbb-1111-4222-8333-444444444444"


def records(paths, keep_raw=False):
    stats = ReadStats()
    return list(iter_records(paths, stats, keep_raw=keep_raw)), stats


def test_auditd_conf_log_file(tmp_path):
    conf = tmp_path / "auditd.conf"
    conf.write_text(u"# comment\nlog_format = ENRICHED\nlog_file = /srv/audit/a.log\n")
    assert auditd_log_file(str(conf)) == "/srv/audit/a.log"
    assert auditd_log_file(str(tmp_path / "missing.conf")) == "/var/log/audit/audit.log"


def test_default_log_set_oldest_first_with_gz_and_missing(tmp_path):
    base = tmp_path / "audit.log"
    for name in ("audit.log", "audit.log.1", "audit.log.3.gz", "audit.log.4", "audit.log.10x", "other.log.2"):
        (tmp_path / name).write_text(u"")
    paths, missing, skipped = default_log_set(str(base))
    assert [os.path.basename(p) for p in paths] == ["audit.log.4", "audit.log.3.gz", "audit.log.1", "audit.log"]
    assert [os.path.basename(p) for p in missing] == ["audit.log.2"]
    assert skipped == {"count": 0, "paths": []}


def test_default_log_set_gaps_are_ranges_and_odd_numbers_are_not_rotations(tmp_path):
    """Issue: one audit.log.20260301 made 20 260 300 "missing rotated files" (2.9 GB); .99999999 a MemoryError."""
    base = tmp_path / "audit.log"
    for name in ("audit.log", "audit.log.1", "audit.log.5", "audit.log.9.gz", "audit.log.999", "audit.log.1000",
                 "audit.log.20260301", "audit.log.99999999", "audit.log.0", "audit.log.01"):
        (tmp_path / name).write_text(u"")
    paths, missing, skipped = default_log_set(str(base))
    assert [os.path.basename(p) for p in paths] == ["audit.log.999", "audit.log.9.gz", "audit.log.5", "audit.log.1",
                                                    "audit.log"]
    assert [os.path.basename(p) for p in missing] == ["audit.log.{2..4}", "audit.log.{6..8}", "audit.log.{10..998}"]
    assert skipped["count"] == 5
    assert [os.path.basename(p) for p in skipped["paths"]] == ["audit.log.0", "audit.log.01", "audit.log.1000",
                                                               "audit.log.20260301", "audit.log.99999999"]
    conf = tmp_path / "auditd.conf"
    conf.write_text(u"log_file = %s\n" % base)
    result = run(auditd_conf=str(conf), default_host="hv")
    assert result["coverage"]["missing_rotated_files"] == missing
    assert result["coverage"]["skipped_files"] == skipped
    assert result["coverage"]["complete"] is False
    assert compact_facts(result)["coverage"]["missing_rotated_files"] == 3 + 3 + 989


def test_rotated_session_continues_across_files_and_gzip(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    older = tmp_path / "audit.log.1.gz"
    with gzip.open(str(older), "wb") as handle:
        handle.write(("\n".join(log.lines) + "\n").encode("utf-8"))
    newer = Log(t=log.t + 60, serial=log.serial)
    newer.stop("web", A)
    newer.write(tmp_path / "audit.log")
    conf = tmp_path / "auditd.conf"
    conf.write_text(u"log_file = %s\n" % (tmp_path / "audit.log"))
    result = run(auditd_conf=str(conf), default_host="hv")
    session = result["sessions"][0]
    assert (session["state"], session["duration_seconds"]) == ("stopped", pytest.approx(60.0))
    assert [s["compressed"] for s in result["sources"]] == [True, False]
    assert [s["records"] for s in result["sources"]] == [5, 1]
    assert result["coverage"]["missing_rotated_files"] == []


def test_missing_file_names_path():
    with pytest.raises(LogAccessError) as err:
        records(["/nonexistent/audit.log"])
    assert "/nonexistent/audit.log" in str(err.value) and "no such file" in str(err.value)


def test_directory_is_refused(tmp_path):
    with pytest.raises(LogAccessError) as err:
        records([str(tmp_path)])
    assert "is a directory" in str(err.value)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of their mode")
def test_permission_denied_mentions_become(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(u"")
    path.chmod(0)
    with pytest.raises(LogAccessError) as err:
        records([str(path)])
    assert "permission denied" in str(err.value) and "become" in str(err.value)


def test_permission_message_mentions_become():
    assert "become: true" in str(LogAccessError("/var/log/audit/audit.log", "permission denied", permission=True))


def test_bad_lines_counted_and_sampled(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.lines.insert(2, "garbage that is not audit")
    log.lines.insert(3, "type=AVC msg=audit(17101440:12): cut")
    log.lines.insert(4, "")
    path = log.write(tmp_path / "audit.log")
    recs, stats = records([path])
    assert len(recs) == 5
    errors = stats.parse_errors()
    assert errors["count"] == 2  # blank lines are not errors
    assert [(s["line"], s["reason"]) for s in errors["samples"]] == [
        (3, "no type= field"), (4, "no msg=audit(SECONDS.MILLIS:SERIAL) header")]
    assert errors["samples"][0]["path"] == path


def test_samples_are_bounded(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(u"junk\n" * 500)
    stats = records([str(path)])[1]
    assert stats.parse_errors()["count"] == 500
    assert len(stats.parse_errors()["samples"]) == 20


def test_crlf_nul_and_invalid_utf8(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    data = ("\r\n".join(log.lines) + "\r\n").encode("utf-8")
    data += b"type=AVC msg=audit(1710144100.000:900): x\x00y\n"
    data += b"type=USER msg=audit(1710144100.000:901): msg='\xff\xfe'\n"
    path = tmp_path / "audit.log"
    path.write_bytes(data)
    recs, stats = records([str(path)])
    assert len(recs) == 5  # the USER record is counted but not handed to the engine
    assert stats.sources[0]["records"] == 6
    assert recs[0].fields()["vm"] == "web"
    assert stats.parse_errors()["samples"][0]["reason"] == "NUL byte in line"


def test_truncated_gzip_is_reported_not_fatal(tmp_path):
    log = Log()
    for dummy in range(200):
        log.syscall_noise()
    payload = gzip.compress(("\n".join(log.lines) + "\n").encode("utf-8"))
    path = tmp_path / "audit.log.1.gz"
    path.write_bytes(payload[: len(payload) // 2])
    recs, stats = records([str(path)])
    assert stats.parse_errors()["count"] == 1
    assert "ends early" in stats.parse_errors()["samples"][0]["reason"]
    assert recs == []
    assert stats.sources[0]["records"] < 200


def test_keep_raw(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    path = log.write(tmp_path / "audit.log")
    recs = records([path], keep_raw=True)[0]
    assert recs[0].raw == log.lines[0]
    recs = records([path])[0]
    assert recs[0].raw is None


def test_grouping_interleaved_records():
    log = Log()
    log.add("AVC", "a=1", serial=10)
    log.add("SYSCALL", "b=1", serial=11)
    log.add("SYSCALL", "c=1", serial=10)
    log.add("PROCTITLE", "d=1", serial=11)
    log.tick(5).add("USER", "e=1", serial=12)
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import parse_line
    events = list(group_events(parse_line(line) for line in log.lines))
    assert [(e.serial, e.types()) for e in events] == [
        (10, ["AVC", "SYSCALL"]), (11, ["SYSCALL", "PROCTITLE"]), (12, ["USER"])]


def test_grouping_keeps_nodes_apart():
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import parse_line
    one = Log(node="hv1")
    two = Log(node="hv2")
    lines = [one.add("USER", "x=1", serial=5), two.add("USER", "x=2", serial=5)]
    events = list(group_events(parse_line(line) for line in lines))
    assert [e.node for e in events] == ["hv1", "hv2"]


def test_grouping_ages_events_by_their_own_node():
    """A node whose clock is ahead (or a burst of another node's records) does not complete another node's
    events: an event waits for records of its own node that are more than max_age younger."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import parse_line
    one = Log(node="hvA", t=1710144600.0)
    two = Log(node="hvB", t=1710144605.5)
    lines = [one.add("AVC", "a=1", serial=7003), two.add("USER", "x=1", serial=3001),
             one.add("AVC", "a=2", serial=7003), one.add("SYSCALL", "b=1", serial=7003)]
    for max_open in (32, 1):
        events = list(group_events((parse_line(line) for line in lines), max_open=max_open))
        assert sorted((e.node, e.serial, e.types()) for e in events) == [
            ("hvA", 7003, ["AVC", "AVC", "SYSCALL"]), ("hvB", 3001, ["USER"])]


def test_grouping_bounds_open_events():
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import parse_line
    log = Log()
    lines = [log.add("USER", "x=%d" % i) for i in range(100)]
    seen = []
    for event in group_events((parse_line(line) for line in lines), max_open=4):
        seen.append(event.serial)
    assert seen == sorted(seen) and len(seen) == 100


def test_permission_denied_as_root_simulated(tmp_path, monkeypatch):
    import errno
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_set

    def refuse(path, mode="r"):
        raise IOError(errno.EACCES, "Permission denied", path)

    path = tmp_path / "audit.log"
    path.write_text(u"")
    monkeypatch.setattr(log_set, "open", refuse, raising=False)
    with pytest.raises(LogAccessError) as err:
        log_set.check_readable(str(path))
    assert err.value.permission is True
    assert str(path) in str(err.value) and "become: true" in str(err.value)


def test_records_and_times_per_source(tmp_path):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(10).syscall_noise(3)
    path = log.write(tmp_path / "audit.log")
    stats = records([path])[1]
    src = stats.sources[0]
    assert (src["records"], src["first_epoch"], src["last_epoch"]) == (8, 1710144000.0, 1710144010.0)
    assert src["bytes"] == os.path.getsize(path)


@pytest.mark.parametrize("gz", [False, True])
def test_overlapping_rotated_files_count_each_event_once(tmp_path, gz):
    log = Log()
    log.boot_sequence("web", A)
    log.tick(5).syscall_noise(4)
    log.tick(5).stop("web", A)
    log.boot_sequence("db", B)
    whole = log.write(tmp_path / "whole.log")
    older_lines, newer_lines = log.lines[:9], log.lines[6:]  # 3 records in both files
    older = tmp_path / "audit.log.1"
    data = ("\n".join(older_lines) + "\n").encode("utf-8")
    if gz:
        older = tmp_path / "audit.log.1.gz"
        data = gzip.compress(data)
    older.write_bytes(data)
    newer = tmp_path / "audit.log"
    newer.write_text(u"\n".join(newer_lines) + u"\n")
    once = run(paths=[whole], all_events=True, proof=True, default_host="hv")
    twice = run(paths=[str(older), str(newer)], all_events=True, proof=True, default_host="hv")
    assert twice["sessions"] == once["sessions"]
    assert twice["summary"] == once["summary"]
    assert [s["duplicates"] for s in twice["sources"]] == [0, 3]
    assert sum(s["records"] for s in twice["sources"]) == once["sources"][0]["records"]
    assert twice["coverage"]["serial_gaps"]["missing_events"] == 0


@pytest.mark.parametrize("chunk", [1 << 20, 4096])
def test_line_longer_than_the_cap_is_a_parse_error_not_kept_in_memory(tmp_path, monkeypatch, chunk):
    """A line of 24 MiB: one parse error with its line number and start; the lines after it are read;
    reading it holds a few MiB at most; a checkpoint written after it goes on after it."""
    import tracemalloc
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files

    monkeypatch.setattr(log_files, "CHUNK", chunk)
    log = Log()
    log.boot_sequence("web", A)
    before = ("\n".join(log.lines) + "\n").encode("utf-8")
    after = Log(t=log.t + 60, serial=log.serial)
    after.stop("web", A)
    long_line = b"type=PROCTITLE msg=audit(1710144001.000:104): proctitle=" + b"41" * (12 << 20) + b"\n"
    path = tmp_path / "audit.log"
    path.write_bytes(before + long_line + ("\n".join(after.lines) + "\n").encode("utf-8"))
    tracemalloc.start()
    try:
        result = run(paths=[str(path)], default_host="hv", now=1800000000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 6 * log_files.MAX_LINE
    assert [(s["name"], s["state"]) for s in result["sessions"]] == [("web", "stopped")]
    errors = result["parse_errors"]
    assert errors["count"] == 1
    sample = errors["samples"][0]
    assert (sample["line"], sample["text"]) == (6, long_line[:200].decode("ascii"))
    assert "longer than %d bytes" % log_files.MAX_LINE in sample["reason"]
    assert result["sources"][0]["records"] == 6
    # resumed from a checkpoint written after the long line
    state = str(tmp_path / "state.json")
    path.write_bytes(before + long_line)
    first = run(paths=[str(path)], checkpoint=state, default_host="hv", now=1800000000)
    assert first["parse_errors"]["count"] == 1 and first["sources"][0]["records"] == 5
    path.write_bytes(before + long_line + ("\n".join(after.lines) + "\n").encode("utf-8"))
    second = run(paths=[str(path)], checkpoint=state, default_host="hv", now=1800000000)
    assert second["checkpoint"]["resumed_at"]["line"] == 6
    assert second["sessions"] == result["sessions"] and second["parse_errors"] == errors


def test_unfinished_long_last_line_waits_for_the_next_run(tmp_path):
    """A long last line still being written: left for the next run (with a checkpoint), which reads it whole."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files

    log = Log()
    log.boot_sequence("web", A)
    head = ("\n".join(log.lines) + "\n").encode("utf-8")
    path = tmp_path / "audit.log"
    state = str(tmp_path / "state.json")
    path.write_bytes(head + b"x" * (log_files.MAX_LINE + 10))
    first = run(paths=[str(path)], checkpoint=state, default_host="hv", now=1800000000)
    assert first["parse_errors"]["count"] == 0 and first["sources"][0]["records"] == 5
    path.write_bytes(head + b"x" * (log_files.MAX_LINE + 20) + b"\n")
    second = run(paths=[str(path)], checkpoint=state, default_host="hv", now=1800000000)
    assert second["checkpoint"]["resumed_at"] == {"path": str(path), "offset": len(head), "line": 5}
    assert second["parse_errors"]["count"] == 1 and second["parse_errors"]["samples"][0]["line"] == 6


def _zeros_gzip(path, megabytes):
    """A gzip file of ``megabytes`` MiB of zero bytes (about a thousandth of that in size)."""
    import zlib
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\x00" * (1 << 20)
    with open(str(path), "wb") as handle:
        for dummy in range(megabytes):
            handle.write(deflate.compress(block))
        handle.write(deflate.flush())


def test_gzip_decompression_is_bounded_by_what_is_read(tmp_path, monkeypatch):
    """A gzip bomb (64 MiB of zeros in 64 KiB) is decompressed no further than the reader asks: never more than
    a block at once, and the zeros are one line over the cap (a parse error), not a line held in memory."""
    import zlib
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files

    largest = []
    make = zlib.decompressobj

    class Watched(object):
        def __init__(self, *args):
            self.inflate = make(*args)

        def decompress(self, data, max_length=0):
            out = self.inflate.decompress(data, max_length)
            largest.append(len(out))
            return out

        def __getattr__(self, name):
            return getattr(self.inflate, name)

    monkeypatch.setattr(log_files.zlib, "decompressobj", Watched)
    bomb = tmp_path / "audit.log.2.gz"
    _zeros_gzip(bomb, 64)
    assert os.path.getsize(str(bomb)) < 100 * 1024
    result = run(paths=[str(bomb)], default_host="hv", now=1800000000)
    assert max(largest) <= log_files.CHUNK
    assert sum(largest) == (64 << 20) + log_files.HEAD_BYTES  # once, and the first bytes (its identity)
    errors = result["parse_errors"]
    assert errors["count"] == 1 and "longer than" in errors["samples"][0]["reason"]
    assert result["sources"][0]["records"] == 0


def lines_read_on_their_own(monkeypatch):
    """The line numbers the reader reads one by one (LogReader._read_line), as a list that fills."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import audit_reader

    calls = []
    original = audit_reader.LogReader._read_line

    def counted(self, raw, source, line):
        calls.append(line)
        return original(self, raw, source, line)

    monkeypatch.setattr(audit_reader.LogReader, "_read_line", counted)
    return calls


def test_blank_lines_are_not_read_one_by_one(tmp_path, monkeypatch):
    """A run of blank lines (a 64 KiB gzip file of newlines holds 64 MiB of them) costs no step per line; the
    line numbers of what follows stay right."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import audit_reader

    calls = lines_read_on_their_own(monkeypatch)
    log = Log()
    log.boot_sequence("web", A)
    head = ("\n".join(log.lines) + "\n").encode("utf-8")
    stop = (log.tick(60).stop("web", A) + "\n").encode("utf-8")
    blank = b"\n" * 300000 + b"  \t\r\n" * 1000 + b"\r\n" * 1000
    path = tmp_path / "audit.log.1"
    path.write_bytes(head + blank + b"garbage\n" + stop)
    result = run(paths=[str(path)], default_host="hv", now=1800000000)
    garbage = 5 + 302000 + 1
    errors = result["parse_errors"]
    assert [(s["line"], s["text"]) for s in errors["samples"]] == [(garbage, "garbage")]
    assert result["sources"][0]["records"] == 6
    assert len(calls) < 100  # the garbage line (and the records read as such), not the blank ones
    assert [s["state"] for s in result["sessions"]] == ["stopped"]


def test_lines_that_cannot_be_records_are_counted_in_runs(tmp_path, monkeypatch):
    """Lines without "msg=audit(" are parse errors (but blank ones): the first are read for the samples, the
    rest counted in one step - the same count, samples and records in blocks of any size."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files

    log = Log()
    log.boot_sequence("web", A)
    head = ("\n".join(log.lines) + "\n").encode("utf-8")
    stop = (log.tick(60).stop("web", A) + "\n").encode("utf-8")
    junk = b"".join(b"junk %d\n" % n + b"\n" * (n % 3) + b" \x0c\r\n" * (n % 2) for n in range(50000))
    odd = b"\xc2\xa0\n" + b"x\x00y\n" + b"type=SYSCALL msg=audit(12.3:4): x\n"
    path = tmp_path / "audit.log"
    path.write_bytes(head + junk + odd + stop)
    calls = lines_read_on_their_own(monkeypatch)
    full = run(paths=[str(path)], default_host="hv", now=1800000000)
    assert len(calls) < 200
    errors = full["parse_errors"]
    assert errors["count"] == 50000 + 3
    assert [s["text"] for s in errors["samples"][:3]] == ["junk 0", "junk 1", "junk 2"]
    assert [s["line"] for s in errors["samples"][:3]] == [6, 7, 10]
    assert full["sources"][0]["records"] == 6
    monkeypatch.undo()
    for size in (97, 4000):
        monkeypatch.setattr(log_files, "CHUNK", size)
        assert run(paths=[str(path)], default_host="hv", now=1800000000) == full
