# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the hardening suite: budgets, case counter, engine runner, invariants.

Everything the property tests check about *any* result lives in
``check_result`` and ``check_line_accounting`` so that every strategy
checks the same promises (listed in docs/hardening.md).
"""
from __future__ import absolute_import, division, print_function

import atexit
import binascii
import collections
import contextlib
import datetime
import json
import os
import re
import shutil
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
SAMPLES = os.path.join(FIXTURES, "samples")
REAL = os.path.join(FIXTURES, "real-libvirt")
CORPUS = os.path.join(FIXTURES, "corpus")

# ``share``: the fixed-seed part of ``make test``; ``fuzz``: ``make fuzz``.
PROFILE = os.environ.get("HARDENING_PROFILE", "share")
# make fuzz: every property runs its fuzz budget times FACTOR / 60 (FUZZ_FACTOR=60 is the default run)
FACTOR = int(os.environ.get("HARDENING_FUZZ_FACTOR", "60"))

CASES = collections.Counter()

STATES = ("running", "stopped", "crashed", "failed", "down", "lost")
NOW = 1767225600.0          # 2026-01-01T00:00:00Z: fixed "now" for keyword time parsing
HOST = "testhost"


# Bugs found by this suite and not fixed yet: each has a strict xfail test,
# and a property test that would trip over one steps around exactly that
# case while its name is listed here (``if "name" in KNOWN_BUGS: ...``).
# When the bug is fixed, remove the xfail marker, the name and the step.
KNOWN_BUGS = frozenset((
))


def budget(share, fuzz):
    """max_examples of one property: ``share`` in make test, ``fuzz`` (scaled by FACTOR/60) in make fuzz.

    The fuzz budgets are weighted by cost: cheap properties get many cases,
    the ones that run the engine several times on 1 MB or real logs fewer;
    at the default factor they add up to more than 100 000.
    """
    if PROFILE != "fuzz":
        return share
    return max(share, fuzz * FACTOR // 60)


def sometimes(name, every=8):
    """True for every case in the share, for one case in ``every`` in make fuzz (costly double checks)."""
    return PROFILE != "fuzz" or CASES[name] % every == 1


def count(name):
    """Count one generated case of test ``name``."""
    CASES[name] += 1


def uid_resolver(uid):
    return {0: "root"}.get(uid)


def peak_rss_kib():
    """Peak resident memory of this process (KiB): VmHWM of /proc/self/status where there is one.

    ``ru_maxrss`` of a process started with ``subprocess`` is at least the
    resident memory of the process it was forked from (Linux keeps the
    larger of the two across exec), so a child of a large pytest process
    reports pytest's size instead of its own.
    """
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (IOError, OSError):
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# ------------------------------------------------------------------ files

_SCRATCH = []


def scratch_dir():
    """A private directory for files written by property tests (removed at exit)."""
    if not _SCRATCH:
        path = tempfile.mkdtemp(prefix="virtaudit-fuzz-")
        atexit.register(shutil.rmtree, path, True)
        _SCRATCH.append(path)
    return _SCRATCH[0]


def write(name, data):
    """Write bytes ``data`` to the scratch file ``name`` and return its path."""
    path = os.path.join(scratch_dir(), name)
    with open(path, "wb") as handle:
        handle.write(data)
    return path


def read(path):
    with open(path, "rb") as handle:
        return handle.read()


def sample_logs():
    """Every valid log the suite mutates: the sample logs and the real libvirt capture."""
    names = sorted(n for n in os.listdir(SAMPLES) if n.endswith(".log"))
    paths = [os.path.join(SAMPLES, n) for n in names]
    paths.append(os.path.join(REAL, "raw-lifecycle.log"))
    return paths


def corpus_files():
    """Every upstream file of tests/fixtures/corpus (not our README.md notes)."""
    out = []
    for top, _dirs, files in os.walk(CORPUS):
        for name in files:
            if name != "README.md":
                out.append(os.path.join(top, name))
    return sorted(out)


# ------------------------------------------------------------------ the engine

def engine(paths, **options):
    """run() with the suite's fixed host name, clock and uid table."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run
    options.setdefault("default_host", HOST)
    options.setdefault("now", NOW)
    options.setdefault("uid_resolver", uid_resolver)
    return run(paths=list(paths), **options)


FULL = dict(all_events=True, proof=True, raw=True, auvirt_lines=True, show_uuid=True)


def half_read(directory, source):
    """``(log, checkpoint path, full-read result)``: the first half of the log ``source`` copied to
    ``directory``/audit.log and read with the checkpoint ``directory``/state.json, then the rest appended."""
    with open(source, "rb") as handle:
        data = handle.read().splitlines(True)
    log = os.path.join(directory, "audit.log")
    state = os.path.join(directory, "state.json")
    with open(log, "wb") as handle:
        handle.write(b"".join(data[:len(data) // 2]))
    engine([log], checkpoint=state, **FULL)
    with open(log, "ab") as handle:
        handle.write(b"".join(data[len(data) // 2:]))
    return log, state, engine([log], **FULL)


def basic(result):
    """The sessions without the optional parts (what every option set shares)."""
    keys = ("host", "name", "uuid", "virt", "state", "start", "start_epoch", "start_reason", "end", "end_epoch",
            "stop_reason", "duration_seconds", "pid", "user", "label", "first_seen", "first_seen_epoch",
            "start_id", "end_id")
    return [dict((k, s.get(k)) for k in keys) for s in result["sessions"]]


# ------------------------------------------------------------------ invariants

_ISO = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})\+00:00$")


def iso_epoch(text):
    m = _ISO.match(text)
    assert m, "not ISO 8601 UTC with milliseconds: %r" % (text,)
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups())
    delta = datetime.datetime(y, mo, d, h, mi, s) - datetime.datetime(1970, 1, 1)
    return delta.days * 86400 + delta.seconds + ms / 1000.0


def _check_time(session, key):
    text, epoch = session.get(key), session.get(key + "_epoch")
    assert (text is None) == (epoch is None), "%s and %s_epoch disagree: %r %r" % (key, key, text, epoch)
    if text is not None:
        assert abs(iso_epoch(text) - epoch) < 0.0015, "%s %r is not %s_epoch %r" % (key, text, key, epoch)


def check_session(session, monotonic=True):
    """The promises of docs/session-model.md about one session."""
    state = session["state"]
    assert state in STATES, session
    assert isinstance(session["uuid"], str) and session["uuid"] == session["uuid"].lower(), session
    for key in ("start", "end", "first_seen"):
        _check_time(session, key)
    start, end, duration = session["start_epoch"], session["end_epoch"], session["duration_seconds"]
    if state == "failed":
        assert start is not None and end == start and duration == 0, session
    elif state in ("running", "lost"):
        assert end is None and duration is None, session
    else:
        assert end is not None, session
    if state != "failed":
        if start is not None and end is not None:
            assert abs(duration - (end - start)) < 0.0015, session
        else:
            assert duration is None, session
    if monotonic and start is not None and end is not None:
        assert end >= start, "session ends before it starts: %r" % (session,)
    if session["pid"] is not None:
        assert isinstance(session["pid"], int) and session["pid"] > 0, session
    for item in session.get("resources", []):
        assert item["result"] in ("success", "failed"), item
        if item["closed_epoch"] is not None and monotonic:
            assert item["closed_epoch"] >= item["opened_epoch"], item


_DATELIKE = re.compile(r"^[0-9]+-[0-9][0-9]-[0-9][0-9]T[0-9:.]+[+]00:00$")


def _walk(value, key=None):
    """(key, value) of every leaf of a result."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def check_result(result, paths, monotonic=True):
    """Invariants of any run() result: shape, states, times, counts, JSON."""
    text = json.dumps(result, sort_keys=True, allow_nan=False)
    assert json.loads(text) == result, "the result does not survive a JSON round trip"
    for session in result["sessions"]:
        check_session(session, monotonic)
    summary = result["summary"]
    assert set(summary["states"]) == set(STATES)
    assert sum(summary["states"].values()) == summary["sessions"]
    if result["sessions"] or summary["sessions"] == 0:
        assert summary["sessions"] == len(result["sessions"])
        tally = collections.Counter(s["state"] for s in result["sessions"])
        assert dict((k, tally.get(k, 0)) for k in STATES) == summary["states"]
    errors = result["parse_errors"]
    assert errors["count"] >= len(errors["samples"])
    for sample in errors["samples"]:
        assert sample["path"] in paths, sample
        assert isinstance(sample["line"], int) and sample["line"] >= 1, sample
    assert [s["path"] for s in result["sources"]] == list(paths)
    for key, value in _walk(result):
        if isinstance(value, str) and _DATELIKE.match(value) and key not in ("raw", "text", "detail", "name", "value"):
            iso_epoch(value)
    if "auvirt_lines" in result:
        for line in result["auvirt_lines"]:
            assert not re.search(u"[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]", line), "auvirt line breaks: %r" % (line,)
            assert not re.search(u"[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]", line), \
                "auvirt line with a bidirectional control: %r" % (line,)
    return text


def line_count(data):
    """Lines as the reader counts them: every LF, plus an unterminated last line."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def _pieces(data):
    if not data:
        return []
    pieces = data.split(b"\n")
    if data.endswith(b"\n"):
        pieces.pop()
    return pieces


def blank_lines(data):
    """(ASCII-blank lines, lines that are blank to Python's str.strip) of ``data``."""
    ascii_blank = unicode_blank = 0
    for piece in _pieces(data):
        if b"\x00" in piece:
            continue
        if not piece.strip(b" \t\r\x0b\x0c"):
            ascii_blank += 1
        if not piece.decode("utf-8", "replace").strip():
            unicode_blank += 1
    return ascii_blank, unicode_blank


def check_line_accounting(result, datas):
    """Every line is a record, a duplicate of the previous file, a parse error or blank.

    ``datas`` are the bytes of the files read (uncompressed).  Lines that
    are blank only to Unicode (a lone U+001C..U+001F, U+0085, U+00A0, ...)
    may be counted as blank or as parse errors (see test_known_bugs).
    """
    lines = sum(line_count(d) for d in datas)
    ascii_blank = sum(blank_lines(d)[0] for d in datas)
    unicode_blank = sum(blank_lines(d)[1] for d in datas)
    counted = sum(s["records"] + s.get("duplicates", 0) for s in result["sources"]) + result["parse_errors"]["count"]
    assert lines - unicode_blank <= counted <= lines - ascii_blank, (
        "lines %d (blank %d..%d) but records+duplicates+parse errors = %d" % (lines, ascii_blank, unicode_blank, counted))


# ------------------------------------------------------------------ reading modes

@contextlib.contextmanager
def patched(module, name, value):
    """``module.name`` is ``value`` inside the block (for property tests, where fixtures cannot patch per case)."""
    before = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, before)


# ------------------------------------------------------------------ writing logs

def enc(value):
    """libvirt's virAuditEncode of ``value`` (str or bytes): quoted, or upper-case hex."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    if any(b < 0x21 or b >= 0x7F or b == 0x22 for b in bytearray(raw)):
        return binascii.hexlify(raw).decode("ascii").upper()
    return '"%s"' % raw.decode("ascii")


def decoded(value):
    """What a hex-encoded ``value`` reads back as (invalid UTF-8 as backslash escapes)."""
    raw = value if isinstance(value, bytes) else value.encode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


TAIL = ' exe="/usr/sbin/virtqemud" hostname=? addr=? terminal=? res=%s\''
SENDER = "pid=1523 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:virtqemud_t:s0 msg='"


class LogWriter(object):
    """Format-exact libvirt records (spec section 4), one event per line."""

    def __init__(self, t=1767225600.0, serial=1000, node=None):
        self.t = t
        self.serial = serial
        self.node = node
        self.lines = []

    def add(self, rtype, body, serial=None):
        if serial is None:
            serial = self.serial
            self.serial += 1
        prefix = "node=%s " % self.node if self.node else ""
        ms = int(round((self.t - int(self.t)) * 1000))
        self.lines.append("%stype=%s msg=audit(%d.%03d:%d): %s" % (prefix, rtype, int(self.t), ms, serial, body))
        self.t += 0.5
        return self.lines[-1]

    def virt(self, rtype, inner, res="success"):
        return self.add(rtype, SENDER + inner + TAIL % res)

    def label(self, vm, uuid, level="s0:c1,c2"):
        self.virt("VIRT_MACHINE_ID", "virt=kvm vm=%s uuid=%s vm-ctx=system_u:system_r:svirt_t:%s "
                  "img-ctx=system_u:object_r:svirt_image_t:%s model=selinux" % (enc(vm), uuid, level, level))
        self.virt("VIRT_MACHINE_ID", "virt=kvm vm=%s uuid=%s vm-ctx=+107:+107 img-ctx=+107:+107 model=dac"
                  % (enc(vm), uuid))

    def disk(self, vm, uuid, path, reason="start", old=None):
        self.virt("VIRT_RESOURCE", "virt=kvm resrc=disk reason=%s vm=%s uuid=%s old-disk=%s new-disk=%s"
                  % (reason, enc(vm), uuid, enc(old) if old else '"?"', enc(path)))

    def start(self, vm, uuid, pid=4242, res="success"):
        self.virt("VIRT_CONTROL", "virt=kvm op=start reason=booted vm=%s uuid=%s vm-pid=%d"
                  % (enc(vm), uuid, pid if res == "success" else -1), res=res)

    def stop(self, vm, uuid, reason="shutdown"):
        self.virt("VIRT_CONTROL", "virt=kvm op=stop reason=%s vm=%s uuid=%s vm-pid=-1" % (reason, enc(vm), uuid))

    def session(self, vm, uuid, pid=4242, level="s0:c1,c2", disk=None, stop=True):
        self.label(vm, uuid, level)
        self.disk(vm, uuid, disk or "/var/lib/libvirt/images/guest.qcow2")
        self.start(vm, uuid, pid)
        if stop:
            self.t += 60
            self.stop(vm, uuid)

    def system(self, rtype):
        return self.add(rtype, "pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 "
                        "msg=' comm=\"systemd-update-utmp\" exe=\"/usr/lib/systemd/systemd-update-utmp\" "
                        "hostname=? addr=? terminal=? res=success'")

    def noise(self, n=1):
        for dummy in range(n):
            self.add("SYSCALL", "arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd a2=0 a3=0 "
                     'items=1 ppid=1 pid=99 auid=0 uid=0 gid=0 comm="cat" exe="/usr/bin/cat" key=(null)')

    def data(self):
        return ("\n".join(self.lines) + "\n").encode("utf-8")


def uuid_of(number):
    return "%08x-1111-4222-8333-%012x" % (number, number)
