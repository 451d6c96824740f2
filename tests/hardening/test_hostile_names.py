# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile guest names (and disk paths, AVC comm/name) in every output.

The names are written into the log exactly as libvirt writes them
(virAuditEncode: ``vm="..."``, or upper-case hex when a byte is ``"``, a
space or control, DEL or non-ASCII; the kernel encodes AVC ``comm=`` and
``name=`` the same way).  Each output is parsed back and compared:

* the structured result (sessions, resources, AVCs), its JSON, the ``vm``
  filter, the facts of guest_session_facts;
* the JSON printed by guest_session_info run as a real process;
* the auvirt-style lines: one line per row, a fixed number of TAB-separated
  columns, and every field unescapes to the decoded value
  (docs/auvirt-differences.md, P11).

Bytes that are not UTF-8 come back as backslash escapes (``\\xe9``).
"""
from __future__ import absolute_import, division, print_function

import json
import os
import subprocess
import sys
import tempfile
import shutil

import pytest
from hypothesis import given, settings, strategies as st

from hardening_util import (
    FULL, LogWriter, ROOT, budget, check_result, count, decoded, enc, engine, uuid_of, write,
)

from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_facts, guest_session_info

HOSTILE = [
    ("html", u"<script>alert(1)</script>"),
    ("formula", u'=HYPERLINK("x")'),
    ("shell", u'"; rm -rf /'),
    ("newlines", u"web01\nforged\troot\tMon Jan  1 00:00\r\nrow"),
    ("tabs", u"a\tb\t\tc"),
    ("pipe-backtick", u"a|b`id`|c"),
    ("non-utf8", b"caf\xe9-\xff\xfe-\xc3"),
    ("long", u"L" * 4096),
    ("unicode-breaks", u"x\u2028y\u2029z\x85w\x0bv\x0cu\x1cend"),
    ("bidi", u"web01\u202e10bew\u2066x\u2069\u200f"),
    ("backslashes", u"back\\slash\\t\\x41\\u2028"),
    ("quotes", u"it's 'quoted' msg='res=failed' uuid=00000000-0000-0000-0000-000000000000"),
    ("single-quotes", u"it's'x'"),
    ("msg-inside", u"msg='res=failed'uuid=1'"),
    ("ansi", u"\x1b[31mred\x1b[0m\x07"),
    ("leading-space", u" x"),
    ("unicode", u"g\u00e4st-\u6d4b\u8bd5-\U0001f600"),
    ("csv-injection", u"@SUM(1+1)*cmd|' /C calc'!A0"),
    ("percent", u"%s%n%x{0}"),
]
IDS = [name for name, _value in HOSTILE]


def hostile_log(names, running=True):
    """For every name: a stopped session with a hostile disk and AVC, then a running one."""
    log = LogWriter()
    for number, (_label, name) in enumerate(names, 1):
        uuid = uuid_of(number)
        raw = name if isinstance(name, bytes) else name.encode("utf-8")
        level = "s0:c%d,c%d" % (number, number + 100)
        log.session(name, uuid, pid=5000 + number, level=level, disk=b"/img/" + raw + b".qcow2", stop=False)
        log.add("AVC", "avc:  denied  { read } for  pid=%d comm=%s name=%s dev=\"dm-0\" ino=1 "
                "scontext=system_u:system_r:svirt_t:%s tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0"
                % (5000 + number, enc(raw[:15]), enc(raw), level))
        log.t += 60
        log.stop(name, uuid)
        if running:
            log.session(name, uuid, pid=6000 + number, level=level, stop=False)
    return log.data()


def expected_names(names):
    return [decoded(name) for _label, name in names]


def unescape(text):
    """The inverse of auvirt_format.escape()."""
    out, i = [], 0
    simple = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif nxt == "x":
            out.append(chr(int(text[i + 2:i + 4], 16)))
            i += 4
        elif nxt == "u":
            out.append(chr(int(text[i + 2:i + 6], 16)))
            i += 6
        else:
            raise AssertionError("unknown escape in %r" % text)
    return "".join(out)


@pytest.fixture(scope="module")
def hostile_run():
    data = hostile_log(HOSTILE)
    path = write("hostile.log", data)
    return path, engine([path], **FULL)


def test_structured_result_has_the_decoded_values(hostile_run):
    path, result = hostile_run
    check_result(result, [path])
    names = expected_names(HOSTILE)
    assert [s["name"] for s in result["sessions"]] == [n for n in names for _twice in (1, 2)]
    assert [s["state"] for s in result["sessions"]] == ["stopped", "running"] * len(HOSTILE)
    assert result["parse_errors"]["count"] == 0
    for (_label, raw), session in zip(HOSTILE, result["sessions"][::2]):
        raw = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        disks = [r["value"] for r in session["resources"] if r["kind"] == "disk"]
        assert disks == [decoded(b"/img/" + raw + b".qcow2")]
        (avc,) = session["avcs"]
        assert (avc["comm"], avc["name"]) == (decoded(raw[:15]), decoded(raw))
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("index", range(len(HOSTILE)), ids=IDS)
def test_vm_filter_selects_by_decoded_name(hostile_run, index):
    path, _result = hostile_run
    name = expected_names(HOSTILE)[index]
    selected = engine([path], vm=[name])["sessions"]
    assert [(s["name"], s["uuid"]) for s in selected] == [(name, uuid_of(index + 1))] * 2


def _columns(line, all_events):
    cols = line.split("\t")
    first = cols[0]
    kind = None
    if all_events:
        kind, first = first[:7].strip(), first[7:]
    return kind, unescape(first.rstrip(" ")), cols


@pytest.mark.parametrize("options", [{}, {"show_uuid": True}], ids=["default", "show_uuid"])
def test_auvirt_lines_default_view_round_trip(hostile_run, options):
    path, _result = hostile_run
    lines = engine([path], auvirt_lines=True, **options)["auvirt_lines"]
    names = expected_names(HOSTILE)
    assert len(lines) == 2 * len(HOSTILE), "one line per session"
    width = 4 if options else 3
    for number, line in enumerate(lines):
        _kind, name, cols = _columns(line, False)
        assert len(cols) == width, (line, cols)
        assert name == names[number // 2]
        if options:
            assert cols[1] == uuid_of(number // 2 + 1)


def test_auvirt_lines_all_events_round_trip(hostile_run):
    path, _result = hostile_run
    lines = engine([path], auvirt_lines=True, all_events=True, show_uuid=True)["auvirt_lines"]
    names = expected_names(HOSTILE)
    by_uuid = dict((uuid_of(n + 1), n) for n in range(len(HOSTILE)))
    kinds = {}
    for line in lines:
        if not line:
            continue
        kind, name, cols = _columns(line, True)
        index = by_uuid[cols[1]]
        assert name == names[index], line
        raw = HOSTILE[index][1]
        raw = raw if isinstance(raw, bytes) else raw.encode("utf-8")
        kinds.setdefault(kind, 0)
        kinds[kind] += 1
        if kind == "resrc":
            assert len(cols) == 7 and cols[4].strip() == "disk"
            assert unescape(cols[6]) in (decoded(b"/img/" + raw + b".qcow2"), "/var/lib/libvirt/images/guest.qcow2")
        elif kind == "avc":
            assert len(cols) == 9, cols
            assert (unescape(cols[6]), unescape(cols[7])) == (decoded(raw[:15]), decoded(raw))
        elif kind in ("start", "stop"):
            assert len(cols) == 5, cols
        else:
            raise AssertionError("unexpected row %r" % line)
    assert kinds == {"resrc": 2 * len(HOSTILE), "avc": len(HOSTILE), "start": 2 * len(HOSTILE), "stop": len(HOSTILE)}


def test_modules_in_process(run_module, hostile_run):
    path, result = hostile_run
    kind, info = run_module(guest_session_info, {"paths": [path], "host": "testhost", "all_events": True})
    assert kind == "exit"
    assert [s["name"] for s in info["sessions"]] == [s["name"] for s in result["sessions"]]
    kind, facts = run_module(guest_session_facts, {"paths": [path], "host": "testhost"})
    assert kind == "exit"
    running = facts["ansible_facts"]["virt_sessions"]["running"]
    assert [(r["name"], r["uuid"]) for r in running] == [
        (n, uuid_of(i + 1)) for i, n in enumerate(expected_names(HOSTILE))]


def test_module_process_json_output(hostile_run):
    """guest_session_info run the way Ansible runs it (a process, JSON on stdout)."""
    path, result = hostile_run
    top = tempfile.mkdtemp(prefix="virtaudit-module-")
    try:
        farm = os.path.join(top, "ansible_collections", "virtaudit")
        os.makedirs(farm)
        os.symlink(ROOT, os.path.join(farm, "auvirt"))
        args = os.path.join(top, "args.json")
        with open(args, "w") as handle:
            json.dump({"ANSIBLE_MODULE_ARGS": {"paths": [path], "host": "testhost", "all_events": True,
                                               "auvirt_lines": True, "_ansible_remote_tmp": top}}, handle)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([top] + [p for p in sys.path if p]))
        proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "plugins", "modules", "guest_session_info.py"), args],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=top)
        out, err = proc.communicate(timeout=120)
    finally:
        shutil.rmtree(top, True)
    assert proc.returncode == 0, err
    printed = json.loads(out.decode("utf-8"))
    assert [s["name"] for s in printed["sessions"]] == [s["name"] for s in result["sessions"]]
    assert [[r["value"] for r in s["resources"]] for s in printed["sessions"]] == [
        [r["value"] for r in s["resources"]] for s in result["sessions"]]
    assert [[(a["comm"], a["name"]) for a in s["avcs"]] for s in printed["sessions"]] == [
        [(a["comm"], a["name"]) for a in s["avcs"]] for s in result["sessions"]]
    for line in printed["auvirt_lines"]:
        assert "\n" not in line and "\r" not in line


# ------------------------------------------------------------------ any name

name_bytes = st.one_of(
    st.binary(min_size=1, max_size=64),
    st.text(min_size=1, max_size=64).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


@settings(max_examples=budget(150, 6000))
@given(name_bytes)
def test_any_name_round_trips(raw):
    """Any byte string as a guest name: decoded back in the result, one line per row in
    auvirt lines, and unescaped back from them (names ending in spaces excepted: the
    column padding hides trailing spaces)."""
    count("any_name")
    path = write("any-name.log", hostile_log([("any", raw)], running=False))
    result = engine([path], **FULL)
    check_result(result, [path])
    name = decoded(raw)
    if name == "?":
        return   # libvirt's "no value": vm="?" is None, as for any other field
    assert [s["name"] for s in result["sessions"]] == [name]
    assert json.loads(json.dumps(result))["sessions"][0]["name"] == name
    lines = engine([path], auvirt_lines=True, show_uuid=True)["auvirt_lines"]
    assert len(lines) == 1
    _kind, parsed, cols = _columns(lines[0], False)
    assert len(cols) == 4
    assert parsed == name.rstrip(" ")
