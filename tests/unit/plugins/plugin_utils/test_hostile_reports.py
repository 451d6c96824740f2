# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Hostile guest names from a log, through the engine, into all four reports, parsed back."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import json
import os
import sys
from html.parser import HTMLParser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import write_report  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_csv, fleet_render  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_results import record_from_module  # noqa: E402
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log, enc  # noqa: E402

HOSTILE = [
    "<script>alert(1)</script>",
    '=HYPERLINK("x")',
    '"; rm -rf /',
    "two\nlines",
    "tab\there",
    "pipe|and`backticks`",
    "A" * 4096,
]
NOT_UTF8 = "41FF42"  # vm=41FF42: the bytes A, 0xff, B
T0 = 1710144000.0


def hostile_log(tmp_path):
    log = Log(t=T0)
    uuids = []
    for number, name in enumerate(HOSTILE + [None]):
        uuid = "%08x-1111-4222-8333-444444444444" % (number + 1)
        uuids.append(uuid)
        if name is None:
            line = log.start("placeholder", uuid, pid=900 + number)
            log.lines[-1] = line.replace(enc("placeholder"), NOT_UTF8)
        else:
            log.start(name, uuid, pid=900 + number)
        log.tick(60)
    return log.write(tmp_path / "audit.log"), uuids


def fleet_of(tmp_path):
    path, uuids = hostile_log(tmp_path)
    result = run(paths=[path], evidence=True, default_host="hv1", uid_resolver={0: "root"}.get, now=T0 + 3600)
    record = record_from_module("hv1", dict(result, changed=False), check_audit=False, now=T0 + 3600)
    return build_fleet(["hv1"], [record], window={"now_epoch": T0 + 3600}), uuids


def render(name, fleet, tmp_path):
    files = write_report(fleet, tmp_path / "report", formats=[name.split(".")[1]])
    return files[name], files


EXPECTED = HOSTILE + ["A\\xffB"]


class _Cells(HTMLParser):
    """Text of every table cell, and every element name, of an HTML page."""

    def __init__(self):
        HTMLParser.__init__(self, convert_charrefs=True)
        self.cells = []
        self.tags = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_engine_keeps_the_names(tmp_path):
    fleet, uuids = fleet_of(tmp_path)
    by_uuid = dict((s["uuid"], s["name"]) for s in fleet["sessions"])
    assert [by_uuid[u] for u in uuids] == EXPECTED


def test_json_report_round_trips_the_names(tmp_path):
    fleet, uuids = fleet_of(tmp_path)
    data = json.loads(render("fleet_report.json", fleet, tmp_path)[0])
    by_uuid = dict((s["uuid"], s["name"]) for s in data["sessions"])
    assert [by_uuid[u] for u in uuids] == EXPECTED


def test_csv_report_round_trips_the_names_inertly(tmp_path):
    fleet, uuids = fleet_of(tmp_path)
    for text in (fleet_csv.to_csv(fleet, "UTC"), render("fleet_report.csv", fleet, tmp_path)[0]):
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == len(EXPECTED)
        by_uuid = dict((r["uuid"], r["name"]) for r in rows)
        for uuid, name in zip(uuids, EXPECTED):
            got = by_uuid[uuid]
            if name[0] in "=+-@":
                assert got == "'" + name  # a spreadsheet shows it as text, never as a formula
            else:
                assert got == name


def test_html_report_shows_the_names_as_text_only(tmp_path):
    fleet, dummy = fleet_of(tmp_path)
    html, files = render("fleet_report.html", fleet, tmp_path)
    for text in (html, files["fleet_report_hosts/hv1.html"]):
        page = _Cells()
        page.feed(text)
        for name in EXPECTED:
            if "\n" in name or "\t" in name:
                assert any(cell.split() == name.split() for cell in page.cells), repr(name)
            else:
                assert name in page.cells, name[:40]  # escaped in the page, the exact name as text
        assert page.tags.count("script") == 1  # the report's own sorting script only


def test_markdown_report_keeps_its_table_structure(tmp_path):
    fleet, dummy = fleet_of(tmp_path)
    md = render("fleet_report.md", fleet, tmp_path)[0]
    assert "<script>" not in md
    for block in md.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        if not rows:
            continue
        width = rows[0].count("|") - rows[0].count("\\|")
        for line in rows:
            assert line.count("|") - line.count("\\|") == width, line[:80]
    # the cell text, un-escaped, is the name (newlines and tabs become spaces: a table cell is one line)
    assert "| pipe\\|and\\`backticks\\` |" in md
    assert "| two lines |" in md and "| tab here |" in md
    assert "| &lt;script&gt;alert(1)&lt;/script&gt; |" in md


def test_host_without_libvirt_is_reported_as_such(tmp_path):
    """A host with an audit log but no libvirt at all: no sessions, the report says so."""
    log = Log(t=T0)
    log.syscall_noise(5)
    path = log.write(tmp_path / "audit.log")
    result = run(paths=[path], default_host="plain", now=T0 + 60)
    audit = {"auditd_running": True, "audit_enabled": True, "libvirt": [
        {"path": "/etc/libvirt/libvirtd.conf", "exists": False, "audit_level": None},
        {"path": "/etc/libvirt/virtqemud.conf", "exists": False, "audit_level": None}]}
    record = record_from_module("plain", dict(result, changed=False, audit=audit), check_audit=True, now=T0 + 60)
    fleet = build_fleet(["plain"], [record], window={"now_epoch": T0 + 60})
    assert fleet["sessions"] == [] and fleet["hosts"][0]["status"] == "ok"
    view = fleet_render.main_view(fleet, "UTC")
    row = [h for h in view["hosts"] if h["name"] == "plain"][0]
    assert row["libvirt_audit"] == "no libvirt configuration found"
    html = render("fleet_report.html", fleet, tmp_path)[0]
    assert "no libvirt configuration found" in html


# ------------------------------------------------- bidirectional controls --

# a name that shows as "web01-exe.txt" where U+202E is honoured, and the other controls auvirt_lines escapes
BIDI = ["web01-\u202etxt.exe", "\u2066iso\u2069late", "embed\u202aed\u202c", "mark\u200e\u200f\u061c", "line\u2028para\u2029"]
BIDI_CHARS = u"\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"


def bidi_fleet(tmp_path):
    log = Log(t=T0)
    uuids = []
    for number, name in enumerate(BIDI):
        uuid = "%08x-2222-4222-8333-444444444444" % (number + 1)
        uuids.append(uuid)
        log.start(name, uuid, pid=700 + number)
        log.tick(60)
    path = log.write(tmp_path / "bidi.log")
    result = run(paths=[path], evidence=True, default_host="hv1", uid_resolver={0: "root"}.get, now=T0 + 3600)
    record = record_from_module("hv1", dict(result, changed=False), check_audit=False, now=T0 + 3600)
    fleet = build_fleet(["hv1"], [record], window={"now_epoch": T0 + 3600}, allowed_guests=["db.*"])
    return fleet, uuids


def raw_controls(text):
    return sorted(set("U+%04X" % ord(ch) for ch in text if ch in BIDI_CHARS))


def test_engine_keeps_bidi_controls_in_the_names(tmp_path):
    fleet, uuids = bidi_fleet(tmp_path)
    assert sorted(s["name"] for s in fleet["sessions"]) == sorted(BIDI)


def test_no_report_file_carries_a_raw_bidi_control(tmp_path):
    fleet, dummy = bidi_fleet(tmp_path)
    files = write_report(fleet, tmp_path / "report")
    assert {"fleet_report.html", "fleet_report.md", "fleet_report.csv", "fleet_report.json", "fleet_report_findings.csv",
            "fleet_report_hosts/hv1.html"} <= set(files)
    for name, text in files.items():
        assert raw_controls(text) == [], name


def test_json_escapes_bidi_controls_and_round_trips_the_names(tmp_path):
    fleet, dummy = bidi_fleet(tmp_path)
    text = write_report(fleet, tmp_path / "report", formats=["json"])["fleet_report.json"]
    assert "web01-\\u202etxt.exe" in text
    assert sorted(s["name"] for s in json.loads(text)["sessions"]) == sorted(BIDI)


def test_html_markdown_and_csv_mark_bidi_controls_visibly(tmp_path):
    fleet, dummy = bidi_fleet(tmp_path)
    files = write_report(fleet, tmp_path / "report")
    page = _Cells()
    page.feed(files["fleet_report.html"])
    assert "web01-\\u202etxt.exe" in page.cells and "\\u2066iso\\u2069late" in page.cells
    assert "| web01-\\\\u202etxt.exe |" in files["fleet_report.md"]  # the backslash itself is escaped for Markdown
    rows = list(csv.DictReader(io.StringIO(files["fleet_report.csv"])))
    assert sorted(r["name"] for r in rows) == sorted(n.translate(dict((ord(c), "\\u%04x" % ord(c)) for c in BIDI_CHARS)) for n in BIDI)
    findings = list(csv.DictReader(io.StringIO(files["fleet_report_findings.csv"])))
    assert "web01-\\u202etxt.exe" in [r["guest"] for r in findings]  # guest_not_allowed of that guest
