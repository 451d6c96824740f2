# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CSV, Markdown escaping, the view and the timeline geometry; the role's templates with hostile values."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import json
import os
import re
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, UUID_B, demo_results, host_result, ok_fact, session, write_report  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_csv, fleet_escape, fleet_index, fleet_pages  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_render, fleet_timeline  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402

EVIL = '<script>alert("x")</script>'


def hostile_fleet():
    """Every log-derived string carries markup, formula prefixes or Markdown control characters."""
    avc = {"id": "1772413000.000:150", "time": "t", "epoch": DAY + 3000, "operation": EVIL, "name": "|pipe|*bold*", "lsm": "selinux"}
    res = {"kind": "dev", "reason": "attach", "value": "<img src=x onerror=alert(1)>", "result": "success", "opened": "t",
           "opened_epoch": DAY + 5000, "id": "1772414600.000:151", "details": {"bus": "usb"}}
    sessions = [
        session(host="<b>hv1</b>", name=EVIL, label="=HYPERLINK(\"http://x\")", avcs=[avc], resources=[res], state="crashed",
                stop_reason="failed"),
        session(host="<b>hv1</b>", name="+1+2", uuid=UUID_B, label="@SUM(A1)", start_reason="-x", serial=300, start=DAY + 8000, end=DAY + 9000),
    ]
    facts = [ok_fact(host_result(sessions), audit={"auditd_running": False, "audit_enabled": None,
                                                   "libvirt": [{"path": "/etc/<x>/libvirtd.conf", "exists": True, "audit_level": 0}]}),
             {"status": "failed", "msg": "cannot read </td><script>alert(2)</script>"}]
    return build_fleet(["<b>hv1</b>", "hv&2"], facts, window={"now_epoch": DAY + 86400, "start_input": EVIL},
                       allowed_guests=["web[0-9]+"])


def test_csv_one_row_per_session_and_formulas_neutralised():
    fleet = hostile_fleet()
    text = fleet_csv.to_csv(fleet, "Europe/Berlin")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(fleet["sessions"]) == 2
    assert list(rows[0].keys()) == list(fleet_csv.CSV_COLUMNS)
    by_uuid = dict((r["uuid"], r) for r in rows)
    other = by_uuid[UUID_B]
    assert other["name"] == "'+1+2" and other["label"] == "'@SUM(A1)" and other["start_reason"] == "'-x"
    first = [r for r in rows if r["uuid"] != UUID_B][0]
    assert first["label"] == "'=HYPERLINK(\"http://x\")"
    assert first["name"] == EVIL  # not a formula: kept, quoting makes it one cell
    assert first["avcs"] == "1" and first["hotplugs"] == "1"
    assert first["start_local"].endswith(" CET")
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))


def test_neutralise_cell_keeps_numbers():
    assert fleet_escape.neutralise_cell(-1) == -1
    assert fleet_escape.neutralise_cell(None) == ""
    assert fleet_escape.neutralise_cell("\tx") == "'\tx"
    assert fleet_escape.neutralise_cell(True) == "true"


def test_md_escape():
    assert fleet_escape.md_escape("a|b") == "a\\|b"
    assert fleet_escape.md_escape("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert fleet_escape.md_escape("*x* _y_ `z` [l](u) ~s~") == "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~s\\~"
    assert fleet_escape.md_escape("two\nlines") == "two lines"
    assert fleet_escape.md_escape(None) == ""


def demo_fleet(**kwargs):
    facts = demo_results()
    targets = ["hv01", "hv02", "hv03", "hv04"]
    window = {"start_epoch": DAY - 3600, "end_epoch": DAY + 82800 - 1e-6, "now_epoch": DAY + 82800}
    return build_fleet(targets, [facts[t] for t in targets], window=window, **kwargs)


def test_view_and_timeline_geometry():
    fleet = demo_fleet()
    view = fleet_render.main_view(fleet, "Europe/Berlin")
    assert view["window"] == "2026-03-02 00:00:00 CET - 2026-03-02 23:59:59 CET"
    assert view["inline"] and [t["host"] for t in view["timelines"]] == ["hv01", "hv02", "hv03"]
    assert sum(len(t["bars"]) for t in view["timelines"]) == len(fleet["sessions"]) == view["sessions"]["total"]
    hv02 = view["timelines"][1]
    assert [lane["label"] for lane in hv02["lanes"]] == ["app02", "cache01", "db01"]
    assert [m["type"] for m in hv02["markers"]] == ["shutdown", "boot"]
    left, right = hv02["plot_x"], hv02["plot_x"] + hv02["plot_width"]
    for timeline in view["timelines"]:
        for item in timeline["bars"]:
            assert left <= item["x"] <= right and item["x"] + item["width"] <= right + 3
            assert item["colour"] == fleet_timeline.STATE_COLOURS[item["state"]]
    # ticks fall on round local hours
    assert hv02["ticks"] and all(re.match(r"^03-0[12] \d\d:00$", t["label"]) for t in hv02["ticks"])
    assert all(int(t["label"][6:8]) % 3 == 0 for t in hv02["ticks"]), [t["label"] for t in hv02["ticks"]]
    running = [b for b in view["timelines"][0]["bars"] if b["state"] == "running"][0]
    assert running["open_end"] and running["x"] + running["width"] == right
    assert [m["source"] for m in view["migrations"]["rows"]] == ["hv01"]
    assert view["findings"]["rows"][0]["severity"] == "high" and view["verdict"] == "Highest finding severity: high."
    assert [r["rule"] for r in view["rule_summary"]][:2] == ["avc_denial", "guest_down"]


def test_host_pages_carry_each_hosts_part():
    fleet = demo_fleet()
    index = fleet_index.HostIndex(fleet, "UTC")
    hv02 = fleet_render.host_view(index, "hv02")
    assert [s["name"] for s in hv02["sessions"]] == ["app02", "cache01", "db01", "db01", "cache01"]
    assert [(m["source"], m["destination"]) for m in hv02["migrations"]] == [("hv01", "hv02")]
    assert set(f["rule"] for f in hv02["findings"]) >= {"guest_crashed", "guest_down"}
    assert [e["type"] for e in hv02["host_events"]][0] == "host shutdown"
    assert len(hv02["timeline"]["bars"]) == 5 and hv02["back"] == "../fleet_report.html"
    hv01 = fleet_render.host_view(index, "hv01")
    assert [(m["source"], m["destination"]) for m in hv01["migrations"]] == [("hv01", "hv02")]
    assert all(f["host"] in ("hv01", "") for f in hv01["findings"])


def test_big_fleets_cut_the_main_page_and_keep_every_row_elsewhere(tmp_path):
    fleet = demo_fleet()
    view = fleet_render.main_view(fleet, "UTC", max_rows=3, inline_sessions=5)
    assert not view["inline"] and view["timelines"] == [] and view["sessions"] is None
    assert view["findings"]["shown"] == 3 and view["findings"]["total"] == len(fleet["findings"]) > 3
    assert len(view["hosts"]) == 4  # every host, always
    files = write_report(fleet, tmp_path, max_rows=3, inline_sessions=5)
    html = files["fleet_report.html"]
    assert "Showing the first 3 of %d findings" % len(fleet["findings"]) in html
    assert 'id="sessions-table"' not in html and "<svg" not in html
    assert 'href="fleet_report_hosts/hv02.html"' in html
    assert sorted(n for n in files if n.startswith("fleet_report_hosts/")) == [
        "fleet_report_hosts/hv01.html", "fleet_report_hosts/hv02.html", "fleet_report_hosts/hv03.html"]
    assert 'id="sessions-table"' in files["fleet_report_hosts/hv02.html"]
    assert "Showing the first 3" in files["fleet_report.md"] and "| Host | Guest | State |" not in files["fleet_report.md"]
    data = json.loads(files["fleet_report.json"])
    assert len(data["findings"]) == len(fleet["findings"]) and len(data["sessions"]) == 12


@pytest.mark.parametrize("name", ["hv01", "<b>hv1</b>", "../../etc/passwd", ".hidden", "a/b", "hv 01", "ünï"])
def test_host_page_names_are_safe_and_distinct(name):
    page = fleet_pages.host_page(name)
    assert page.startswith("fleet_report_hosts/") and page.endswith(".html")
    base = page[len("fleet_report_hosts/"):]
    assert re.match(r"^[A-Za-z0-9_][A-Za-z0-9._-]*$", base), page
    assert fleet_pages.host_page(name) == page
    assert fleet_pages.host_page(name + "x") != page


def test_html_escapes_every_log_value(tmp_path):
    files = write_report(hostile_fleet(), tmp_path)
    pages = [files["fleet_report.html"]] + [text for name, text in files.items() if name.endswith(".html") and "/" in name]
    assert len(pages) == 2
    for html in pages:
        # only the report's own script element, no injected markup
        assert html.count("<script") == 1 and "alert(" not in html.split("<script>")[1].split("</script>")[0]
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>hv1</b>" not in html
        assert "&lt;b&gt;hv1&lt;/b&gt;" in html
        # self-contained: no external references
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
        assert 'class="bar state-crashed"' in html
    main = files["fleet_report.html"]
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in main and "hv&amp;2" in main
    assert "cannot read &lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in main
    assert "&lt;img src=x onerror=alert(1)&gt;" in main


def test_markdown_escapes_every_log_value(tmp_path):
    md = write_report(hostile_fleet(), tmp_path, formats=["md"])["fleet_report.md"]
    assert "<script" not in md and "<b>" not in md and "<img" not in md
    assert "&lt;script&gt;alert(\"x\")&lt;/script&gt;" in md
    assert "\\|pipe\\|" in md
    # every table row keeps its column count: no value broke out of its cell
    for block in md.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if not lines:
            continue
        width = len(re.findall(r"(?<!\\)\|", lines[0]))
        for line in lines:
            assert len(re.findall(r"(?<!\\)\|", line)) == width, line


def test_csv_and_json_files(tmp_path):
    fleet = hostile_fleet()
    files = write_report(fleet, tmp_path, formats=["csv", "json"])
    assert sorted(files) == ["fleet_report.csv", "fleet_report.json", "fleet_report_findings.csv"]
    assert len(list(csv.reader(io.StringIO(files["fleet_report.csv"])))) == 3
    data = json.loads(files["fleet_report.json"])
    for key in ("sessions", "hosts", "missing_hosts", "findings", "summary", "collection"):
        assert key in data
    assert all("host" in s and "uuid" in s and "state" in s and "evidence" in s for s in data["sessions"])
    assert data == json.loads(json.dumps(fleet))


def _lab(colour):
    """CIE L*a*b* of a #rrggbb colour (sRGB, D65)."""
    rgb = [int(colour[i:i + 2], 16) / 255.0 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2], 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2],
           0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2])
    f = [(v / w) ** (1.0 / 3) if v / w > 0.008856 else 7.787 * v / w + 16.0 / 116 for v, w in zip(xyz, (0.95047, 1.0, 1.08883))]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _delta_e(one, two):
    return sum((a - b) ** 2 for a, b in zip(_lab(one), _lab(two))) ** 0.5


def test_state_colours_and_the_host_event_marker_are_told_apart(tmp_path):
    colours = dict(fleet_timeline.STATE_COLOURS, host_event=fleet_timeline.MARKER_COLOUR)
    assert _delta_e(colours["crashed"], colours["host_event"]) > 40  # was #c62828 against #b71c1c: 6
    names = sorted(colours)
    for number, one in enumerate(names):
        for two in names[number + 1:]:
            assert _delta_e(colours[one], colours[two]) > 20, (one, two)
    facts = demo_results()
    fleet = build_fleet(["hv01", "hv02", "hv03", "hv04"], facts, window={"now_epoch": DAY + 86400})
    html = write_report(fleet, tmp_path, formats=["html"])["fleet_report_hosts/hv02.html"]
    assert 'class="marker" x1=' in html and 'stroke="%s"' % fleet_timeline.MARKER_COLOUR in html
