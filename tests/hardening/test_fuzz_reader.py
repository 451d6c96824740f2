# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests of the reader and the engine on damaged input.

Random bytes, lines made of audit-like pieces, CRLF, NUL bytes, invalid
UTF-8, lines of 1 MB, logs cut at any byte, compressed logs cut short.
Every result must satisfy ``check_result`` (no exception, valid states and
times, consistent counts, JSON) and ``check_line_accounting`` (every line is
a record, a duplicate, a parse error or blank), and the same input must
give the same output - also read in blocks of any size, with any window
and resumed from a checkpoint at any byte.  What each test adds is in its
docstring and in docs/hardening.md.
"""
from __future__ import absolute_import, division, print_function

import gzip
import os
import re
import zlib

import pytest

from hypothesis import given, settings, strategies as st

from hardening_util import (
    FULL, LogWriter, basic, budget, check_line_accounting, check_result, count, engine, enc, patched, read,
    sample_logs, sometimes, uuid_of, write,
)

from ansible_collections.virtaudit.auvirt.plugins.module_utils import log_files
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.readmodes import merged_sources

LOGS = sample_logs()
LOG_TEXT = dict((p, read(p)) for p in LOGS)
ENGINE_TYPES = ("VIRT_CONTROL", "VIRT_RESOURCE", "VIRT_MACHINE_ID", "AVC", "SYSTEM_BOOT", "SYSTEM_SHUTDOWN",
                "DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "ANOM_")


def lines_of(data):
    return data.splitlines(True)


def header_type(line):
    """The record type of a raw line (bytes), or None."""
    head = line.split(b" msg=audit(", 1)[0]
    if b"type=" not in head:
        return None
    return head.rsplit(b"type=", 1)[1].decode("ascii", "replace")


def is_noise(line):
    """A record the session engine does not read (not a libvirt, LSM, anomaly or host record)."""
    rtype = header_type(line)
    return rtype is not None and not rtype.startswith(ENGINE_TYPES) and rtype not in ("SYSCALL", "PATH", "PROCTITLE", "CWD")


def last_stamp(lines):
    """``SECONDS.MILLIS:SERIAL`` of the last record: added records join its event (no false reboot)."""
    for line in reversed(lines):
        if b"msg=audit(" in line:
            return line.split(b"msg=audit(", 1)[1].split(b")", 1)[0]
    return b"1.000:1"


def run_checked(paths, datas, monotonic=False, options=None):
    result = engine(paths, **(FULL if options is None else options))
    check_result(result, paths, monotonic=monotonic)
    if not any(d.startswith(b"\x1f\x8b") for d in datas):  # read as gzip: lines unknown
        check_line_accounting(result, datas)
    return result


# ------------------------------------------------------------------ strategies

UUIDS = [uuid_of(n) for n in (1, 2, 3)] + [uuid_of(4).upper(), "not-a-uuid", "?", ""]
NAMES = ["web01", "Win 10 Pro", "a\"b", "<b>", "caf\xe9", "x" * 40]
TYPES = ["VIRT_CONTROL", "VIRT_RESOURCE", "VIRT_MACHINE_ID", "AVC", "SYSCALL", "PATH", "PROCTITLE",
         "SYSTEM_BOOT", "SYSTEM_SHUTDOWN", "DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "ANOM_ABEND",
         "ANOM_PROMISCUOUS", "UNKNOWN[2500]", "UNKNOWN[2501]", "UNKNOWN[1400]", "UNKNOWN[99999]", "EOE", "USER_AVC"]
FIELD_VALUES = {
    "virt": ["kvm", "qemu", "lxc", "?"],
    "op": ["start", "stop", "init", "attach", "?"],
    "reason": ["booted", "shutdown", "destroyed", "failed", "crashed", "migrated", "start", "attach", "detach",
               "update", "open", "allow", "deny", "snapshot", "reboot"],
    "uuid": UUIDS,
    "vm": [enc(n) for n in NAMES] + ["?", '"?"', "ZZ", "4"],
    "vm-pid": ["-1", "0", "4242", "99999999999999999999999", "abc"],
    "pid": ["4242", "1", "-5", "x"],
    "res": ["success", "failed", "succ", "1", "0"],
    "resrc": ["disk", "net", "mem", "vcpu", "iothread", "cgroup", "dev", "hostdev", "tpm", "shmem", "fs", "rng",
              "chardev", "bogus"],
    "old-disk": ['"?"', enc("/img/a.qcow2"), enc("/img/b c.qcow2")],
    "new-disk": ['"?"', enc("/img/a.qcow2"), enc("/img/b c.qcow2"), ""],
    "old-mem": ["0", "1048576", "x"],
    "new-mem": ["0", "2097152", "-3"],
    "class": ["path", "major", "all", "?"],
    "path": [enc("/dev/null"), enc("/dev/vhost-net"), "?"],
    "category": ["pty", "?"],
    "bus": ["pci", "usb", "?"],
    "device": [enc("0000:03:00.0"), enc("USB redirdev")],
    "vm-ctx": ["system_u:system_r:svirt_t:s0:c1,c2", "libvirt-" + uuid_of(1), "+107:+107", "?", "s0"],
    "img-ctx": ["system_u:object_r:svirt_image_t:s0:c1,c2", "?"],
    "model": ["selinux", "apparmor", "dac", "none"],
    "scontext": ["system_u:system_r:svirt_t:s0:c1,c2", "system_u:system_r:svirt_t:s0", "x"],
    "tcontext": ["system_u:object_r:svirt_image_t:s0:c1,c2", "s0"],
    "apparmor": ['"DENIED"', '"STATUS"', '"ALLOWED"'],
    "profile": ['"libvirt-%s"' % uuid_of(1), '"libvirt-%s//qemu_bridge_helper"' % uuid_of(2), '"x"'],
    "sig": ["6", "11", "x"],
    "uid": ["0", "107", "4294967295", "-1", "99999999999999999999"],
    "msg": ["'", "'virt=kvm", "''"],
}
KEYS = sorted(FIELD_VALUES)

field = st.sampled_from(KEYS).flatmap(lambda k: st.tuples(st.just(k), st.sampled_from(FIELD_VALUES[k])))
junk_token = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
body = st.lists(st.one_of(field.map(lambda kv: "%s=%s" % kv), junk_token), max_size=12).map(" ".join)


@st.composite
def audit_line(draw):
    """One audit-like line (bytes, no line end): a real header or a broken one, a body from real field names."""
    rtype = draw(st.sampled_from(TYPES))
    sec = draw(st.integers(min_value=0, max_value=4102444799))
    ms = draw(st.sampled_from(["%03d" % draw(st.integers(0, 999)), "1", "1234", ""]))
    serial = draw(st.integers(min_value=0, max_value=2 ** 40))
    node = draw(st.sampled_from(["", "", "node=hv1 ", "node=hv2 ", "node= "]))
    text = draw(body)
    if draw(st.booleans()):
        text = "pid=1 uid=0 auid=4294967295 ses=4294967295 msg='%s exe=\"/usr/sbin/libvirtd\" res=%s'" % (
            text, draw(st.sampled_from(FIELD_VALUES["res"])))
    line = "%stype=%s msg=audit(%d.%s:%d): %s" % (node, rtype, sec, ms, serial, text)
    if draw(st.integers(0, 9)) == 0:
        line += "\x1dAUID=\"root\" UID=\"root\""
    raw = line.encode("utf-8")
    mangle = draw(st.integers(0, 19))
    if mangle == 0:
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut]
    elif mangle == 1:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + draw(st.binary(min_size=1, max_size=8)) + raw[at:]
    elif mangle == 2:
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + b"\x00" + raw[at:]
    return raw


line_end = st.sampled_from([b"\n", b"\n", b"\n", b"\r\n", b"\n\n", b"\r", b" \n"])


@st.composite
def soup(draw):
    parts = draw(st.lists(st.tuples(st.one_of(audit_line(), st.binary(max_size=64)), line_end), max_size=40))
    data = b"".join(a + b for a, b in parts)
    if draw(st.booleans()) and data.endswith(b"\n"):
        data = data[:-1]
    return data


# ------------------------------------------------------------------ random input

@settings(max_examples=budget(300, 40000))
@given(st.binary(max_size=2048))
def test_random_bytes(data):
    count("random_bytes")
    path = write("random.log", data)
    result = engine([path], **FULL)
    check_result(result, [path], monotonic=False)
    if not data.startswith(b"\x1f\x8b"):
        check_line_accounting(result, [data])
    if sometimes("random_bytes"):
        assert engine([path], **FULL) == result, "same input, different output"


OPTION_SETS = [FULL, {}, dict(summary_only=True, auvirt_lines=True), dict(all_events=True, auvirt_lines=True),
               dict(proof=True, auvirt_lines=True)]


@settings(max_examples=budget(400, 25000))
@given(soup(), st.sampled_from(OPTION_SETS))
def test_audit_like_lines(data, options):
    """Lines made of real record types and field names, mangled; with each set of options."""
    count("audit_like_lines")
    path = write("soup.log", data)
    result = run_checked([path], [data], options=options)
    if sometimes("audit_like_lines"):
        assert engine([path], **options) == result, "same input, different output"


@settings(max_examples=budget(60, 3000))
@given(st.lists(soup(), min_size=2, max_size=4))
def test_audit_like_lines_several_files(datas):
    """The same across several files (rotation set order, duplicate detection at file starts)."""
    count("audit_like_lines_several_files")
    paths = [write("soup-%d.log" % i, d) for i, d in enumerate(datas)]
    run_checked(paths, datas)


# ------------------------------------------------------------------ reading modes

EPOCH_2000 = 946684800


def record_times(data):
    """The epochs of the well-formed headers of ``data``."""
    out = []
    for match in re.finditer(br"msg=audit\((\d{1,10})\.(\d{3}):", data):
        out.append(int(match.group(1)) + int(match.group(2)) / 1000.0)
    return out


@st.composite
def window(draw, data):
    """``start``/``end`` options: none, a record's time (or next to one), or any time."""
    times = [t for t in record_times(data) if EPOCH_2000 + 400 < t < 4102444799]  # what parse_window takes
    moment = st.one_of(st.sampled_from(times).map(lambda t: t + draw(st.sampled_from([-0.001, 0, 0.001, -400, 400])))
                       if times else st.nothing(), st.floats(min_value=EPOCH_2000, max_value=4102444799))
    bounds = sorted(draw(st.lists(moment, min_size=2, max_size=2)))
    out = {}
    if draw(st.booleans()):
        out["start"] = "%.3f" % bounds[0]
    if draw(st.booleans()):
        out["end"] = "%.3f" % bounds[1]
    return out


@settings(max_examples=budget(80, 4000))
@given(st.one_of(st.sampled_from(LOGS).map(LOG_TEXT.get), soup()), st.data())
def test_reading_modes_give_the_full_read(blob, data):
    """Blocks of any size and a run resumed from a checkpoint written at any byte, with a
    window anywhere or none: the whole result of one full read of the same bytes."""
    count("reading_modes")
    if blob.startswith(b"\x1f\x8b"):
        blob = b"\n" + blob
    if not blob.endswith(b"\n"):
        blob += b"\n"  # a checkpoint run leaves an unfinished last line for the next run
    path = write("modes.log", blob)
    full = run_checked([path], [blob])
    size = data.draw(st.integers(8, 3000), label="block size")
    with patched(log_files, "CHUNK", size):
        assert engine([path], **FULL) == full, "blocks of %d bytes" % size
    options = dict(FULL, **data.draw(window(blob), label="window"))
    if len(options) > len(FULL):
        full = engine([path], **options)
        check_result(full, [path], monotonic=False)
        with patched(log_files, "CHUNK", size):
            assert engine([path], **options) == full, "blocks of %d bytes, window %r" % (size, options)
    cut = data.draw(st.integers(0, len(blob)), label="checkpoint after byte")
    state = write("modes.checkpoint", b"")
    os.remove(state)
    write("modes.log", blob[:cut])
    first = engine([path], checkpoint=state, **options)
    write("modes.log", blob)
    second = engine([path], checkpoint=state, **options)
    assert second.pop("checkpoint")["used"] == bool(first["checkpoint"]["saved"])
    if first["checkpoint"]["saved"]:
        second["sources"] = merged_sources(first["sources"], second["sources"])
    assert second == full, "checkpoint after byte %d" % cut


# ------------------------------------------------------------------ valid logs, damaged

log_path = st.sampled_from(LOGS)


@settings(max_examples=budget(40, 1500))
@given(log_path, st.data())
def test_crlf_changes_nothing(path, data):
    """Any subset of the lines ending in CRLF instead of LF: the same result."""
    count("crlf")
    lines = lines_of(LOG_TEXT[path])
    chosen = data.draw(st.sets(st.integers(0, len(lines) - 1)))
    mixed = b"".join(l[:-1] + b"\r\n" if i in chosen and l.endswith(b"\n") else l for i, l in enumerate(lines))
    damaged = write("crlf.log", mixed)
    original = engine([path], **FULL)
    result = run_checked([damaged], [mixed], monotonic=True)
    assert strip_sources(result, damaged) == strip_sources(original, path)


def strip_sources(result, path):
    out = dict(result)
    out["sources"] = [dict((k, v) for k, v in s.items() if "bytes" not in k and k != "compressed") for s in result["sources"]]
    text = repr(out).replace(repr(path)[1:-1], "LOG")
    return text


def test_crlf_everywhere_on_every_log():
    for path in LOGS:
        crlf = LOG_TEXT[path].replace(b"\n", b"\r\n")
        damaged = write("crlf-all.log", crlf)
        assert strip_sources(engine([damaged], **FULL), damaged) == strip_sources(engine([path], **FULL), path), path


def _noise_positions(lines):
    return [i for i, line in enumerate(lines) if is_noise(line)]


@settings(max_examples=budget(40, 1500))
@given(log_path, st.data())
def test_nul_byte_in_a_line(path, data):
    """A NUL byte anywhere in one line: that line (only) is a parse error with its number."""
    count("nul_byte")
    lines = lines_of(LOG_TEXT[path])
    index = data.draw(st.integers(0, len(lines) - 1))
    line = lines[index]
    at = data.draw(st.integers(0, len(line) - 1))
    damaged_lines = list(lines)
    damaged_lines[index] = line[:at] + b"\x00" + line[at:]
    blob = b"".join(damaged_lines)
    damaged = write("nul.log", blob)
    result = run_checked([damaged], [blob], monotonic=True)
    original = engine([path])
    assert result["parse_errors"]["count"] == 1
    sample = result["parse_errors"]["samples"][0]
    assert (sample["path"], sample["line"]) == (damaged, index + 1) and "NUL" in sample["reason"]
    assert result["sources"][0]["records"] == original["sources"][0]["records"] - 1
    if is_noise(line):
        assert basic(engine([damaged])) == basic(original)


@settings(max_examples=budget(40, 1500))
@given(log_path, st.data())
def test_invalid_utf8_in_unread_records(path, data):
    """Invalid UTF-8 bytes in records the engine does not read: nothing changes but the bytes."""
    count("invalid_utf8")
    lines = lines_of(LOG_TEXT[path])
    noise = _noise_positions(lines)
    if not noise:
        lines.append(b"type=USER msg=audit(" + last_stamp(lines) + b"): pid=1 uid=0 msg='op=x res=success'\n")
        noise = [len(lines) - 1]
    picks = data.draw(st.lists(st.sampled_from(noise), min_size=1, max_size=5))
    damaged_lines = list(lines)
    for index in picks:
        junk = data.draw(st.binary(min_size=1, max_size=6).map(lambda b: bytes(bytearray(0x80 | c for c in bytearray(b)))))
        damaged_lines[index] = damaged_lines[index].rstrip(b"\n") + b" x=" + junk + b"\n"
    blob = b"".join(damaged_lines)
    damaged = write("utf8.log", blob)
    result = run_checked([damaged], [blob], monotonic=True)
    assert basic(result) == basic(engine([path], **FULL))
    assert result["sources"][0]["records"] == len(lines)


@settings(max_examples=budget(4, 100))
@given(log_path, st.data())
def test_one_megabyte_lines(path, data):
    """A 1 MB line of junk (parse error) and a record with a 1 MB field: sessions unchanged."""
    count("one_megabyte_lines")
    lines = lines_of(LOG_TEXT[path])
    at = data.draw(st.integers(0, len(lines)))
    junk = data.draw(st.sampled_from([b"A", b"x=", b"\xff", b"type="])) * (1 << 20)
    big_record = b"type=PROCTITLE msg=audit(" + last_stamp(lines) + b"): proctitle=" + b"41" * (1 << 19) + b"\n"
    damaged_lines = lines[:at] + [junk + b"\n"] + lines[at:] + [big_record]
    blob = b"".join(damaged_lines)
    damaged = write("big.log", blob)
    result = run_checked([damaged], [blob], monotonic=True)
    assert basic(result) == basic(engine([path], **FULL))
    assert result["parse_errors"]["count"] == 1
    assert len(result["parse_errors"]["samples"][0]["text"]) <= 200
    assert result["sources"][0]["records"] == len(lines) + 1


# ------------------------------------------------------------------ cut logs

def _prefix_results(lines, full_lines):
    """Results of the complete lines before the cut, and of them plus the cut line whole."""
    without = write("prefix-a.log", b"".join(lines))
    with_line = write("prefix-b.log", b"".join(full_lines))
    return basic(engine([without])), basic(engine([with_line]))


@settings(max_examples=budget(60, 3000))
@given(log_path, st.data())
def test_log_cut_at_a_line_end(path, data):
    """A log cut after any complete line: a valid result, all lines accounted for."""
    count("cut_at_line_end")
    lines = lines_of(LOG_TEXT[path])
    keep = data.draw(st.integers(0, len(lines)))
    blob = b"".join(lines[:keep])
    damaged = write("cut.log", blob)
    result = run_checked([damaged], [blob], monotonic=True)
    assert result["sources"][0]["records"] == keep
    assert result["parse_errors"]["count"] == 0


@settings(max_examples=budget(60, 3000))
@given(log_path, st.data())
def test_log_cut_inside_a_line_only_loses_that_line(path, data):
    """A log cut in the middle of a line (a copy taken while auditd writes, a crash):
    the sessions are those of the log without the cut line, or with that line
    whole - never a session made of a half record."""
    count("cut_inside_line")
    text = LOG_TEXT[path]
    cut = data.draw(st.integers(1, len(text) - 1))
    blob = text[:cut]
    damaged = write("cut.log", blob)
    result = run_checked([damaged], [blob], monotonic=True)
    if blob.endswith(b"\n"):
        return
    start = blob.rfind(b"\n") + 1
    end = text.find(b"\n", cut)
    whole = text[:end + 1] if end >= 0 else text
    options = _prefix_results([text[:start]], [whole])
    assert basic(result) in options


def _readable_prefix(compressed):
    """What a streaming gunzip recovers from a cut gzip file."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        return inflater.decompress(compressed)
    except zlib.error:
        return b""


@settings(max_examples=budget(30, 1500))
@given(log_path, st.data())
def test_gzip_cut_short(path, data):
    """A compressed rotated log that ends early: no exception, the damage is a parse
    error naming the file, and no session the intact log does not have."""
    count("gzip_cut_short")
    packed = gzip.compress(LOG_TEXT[path])
    cut = data.draw(st.integers(0, len(packed) - 1))
    damaged = write("audit.log.1.gz", packed[:cut] if cut >= 2 else b"\x1f\x8b")
    result = engine([damaged], **FULL)
    check_result(result, [damaged], monotonic=True)
    errors = result["parse_errors"]
    assert errors["count"] >= 1
    assert any(s["path"] == damaged and ("ends early" in s["reason"] or "damaged" in s["reason"]) for s in errors["samples"])
    readable = _readable_prefix(packed[:cut])
    assert result["sources"][0]["records"] <= len(readable.splitlines())
    known = set((s["uuid"], s["start_id"]) for s in engine([path])["sessions"])
    assert set((s["uuid"], s["start_id"]) for s in result["sessions"] if s["start_id"]) <= known


def test_gzip_intact_equals_plain():
    for path in LOGS:
        packed = write(os.path.basename(path) + ".gz", gzip.compress(LOG_TEXT[path]))
        result = engine([packed], **FULL)
        assert result["sources"][0]["compressed"] is True
        assert strip_sources(result, packed) == strip_sources(engine([path], **FULL), path), path


# ------------------------------------------------------------------ regressions (bugs this suite found)

def _half_written(cut_after):
    log = LogWriter()
    log.session("web01", uuid_of(7), stop=False)
    log.t += 60
    log.stop("web01", uuid_of(7))
    data = log.data()
    last = data.rstrip(b"\n").rfind(b"\n") + 1
    cut = data.index(cut_after, last) + len(cut_after)
    return write("half.log", data[:cut]), data[:last]


def test_half_written_stop_record_makes_no_bogus_session():
    path, complete = _half_written(b"uuid=00000007-11")
    result = engine([path])
    assert basic(result) == basic(engine([write("complete.log", complete)]))


def test_half_written_enrichment_gives_no_broken_user():
    log = LogWriter()
    log.label("web01", uuid_of(7))
    log.add("VIRT_CONTROL", "pid=1200 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='virt=kvm op=start "
            "reason=booted vm=\"web01\" uuid=%s vm-pid=4242 exe=\"/usr/sbin/libvirtd\" hostname=? addr=? "
            "terminal=? res=success'\x1dUID=\"root\" AUID=\"unset\"" % uuid_of(7))
    data = log.data()
    cut = data.rindex(b'UID="root"') + len(b'UID="ro')
    result = engine([write("half-enriched.log", data[:cut])])
    assert [s["user"] for s in result["sessions"]] == ["root"]


def test_half_written_start_record_is_not_a_failed_start():
    log = LogWriter()
    log.session("web01", uuid_of(7), stop=False)
    data = log.data()
    cut = data.rindex(b"res=success") + len(b"res=succ")
    result = engine([write("half.log", data[:cut])])
    assert [s["state"] for s in result["sessions"]] in ([], ["running"])
    assert result["summary"]["failed_operations"] == 0


@pytest.mark.parametrize("digits", [
    pytest.param(10, id="2286"),
    pytest.param(12, id="year-33658"),
    pytest.param(17, id="time_t-overflow"),
    pytest.param(20, id="gmtime-overflow"),
    pytest.param(400, id="float-overflow"),
])
def test_timestamp_out_of_range(digits):
    """A record with an absurd time (damaged digits): no exception, and every time in
    the result is ISO 8601 with four-digit years; the record is a parse error or kept."""
    log = LogWriter()
    log.session("web01", uuid_of(7))
    data = log.data() + b"type=SYSTEM_BOOT msg=audit(" + b"9" * digits + b".000:1): pid=1 uid=0 msg='res=success'\n"
    path = write("bigtime.log", data)
    result = engine([path], **FULL)
    check_result(result, [path], monotonic=False)
    assert [s["state"] for s in result["sessions"]] == ["stopped"]
    assert result["sources"][0]["records"] + result["parse_errors"]["count"] == len(log.lines) + 1


BAD_HEADERS = [
    b"type=VIRT_CONTROL msg=audit(0.:0): x",
    b"type=VIRT_CONTROL msg=audit(1767225700.1234:5000): pid=1 uid=0 msg='virt=kvm op=start res=success'",
    b"type=SYSCALL msg=audit(1767225700.12:5000): arch=c000003e",
    b"type=AVC msg=audit(abc:5000): avc:  denied  { read }",
    b"type=DAEMON_START msg=audit(type=SYSCALL msg=audit(1767225700.132:1475): arch=c000003e syscall=46",
]


@pytest.mark.parametrize("bad", BAD_HEADERS, ids=["no-millis", "4-digit-millis", "2-digit-millis", "no-time",
                                                  "spliced-header"])
def test_malformed_header_among_good_records(bad):
    """One line with a broken msg=audit(...) stamp among well-formed records: a parse
    error with its line number, and every other record still read."""
    log = LogWriter()
    log.session("web01", uuid_of(7))
    log.noise(3)
    after = LogWriter(t=log.t + 1, serial=log.serial)
    after.noise()
    data = log.data() + bad + b"\n" + after.data()
    path = write("bad-header.log", data)
    result = engine([path], **FULL)
    check_result(result, [path])
    assert [s["name"] for s in result["sessions"]] == ["web01"]
    assert result["parse_errors"]["count"] == 1
    assert result["parse_errors"]["samples"][0]["line"] == len(log.lines) + 1
    assert result["sources"][0]["records"] == len(log.lines) + 1
