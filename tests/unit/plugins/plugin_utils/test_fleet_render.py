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

import jinja2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import DAY, ROOT, UUID_B, demo_results, host_result, ok_fact, session  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_render  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.filter.fleet_report import FilterModule  # noqa: E402

TEMPLATES = os.path.join(ROOT, "roles", "fleet_report", "templates")
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
    text = fleet_render.to_csv(fleet, "Europe/Berlin")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(fleet["sessions"]) == 2
    assert list(rows[0].keys()) == list(fleet_render.CSV_COLUMNS)
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
    assert fleet_render.neutralise_cell(-1) == -1
    assert fleet_render.neutralise_cell(None) == ""
    assert fleet_render.neutralise_cell("\tx") == "'\tx"
    assert fleet_render.neutralise_cell(True) == "true"


def test_md_escape():
    assert fleet_render.md_escape("a|b") == "a\\|b"
    assert fleet_render.md_escape("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert fleet_render.md_escape("*x* _y_ `z` [l](u) ~s~") == "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\~s\\~"
    assert fleet_render.md_escape("two\nlines") == "two lines"
    assert fleet_render.md_escape(None) == ""


def test_view_and_timeline_geometry():
    facts = demo_results()
    targets = ["hv01", "hv02", "hv03", "hv04"]
    fleet = build_fleet(targets, [facts[t] for t in targets], window={"start_epoch": DAY - 3600, "end_epoch": DAY + 82800 - 1e-6,
                                                                      "now_epoch": DAY + 82800})
    view = fleet_render.build_view(fleet, "Europe/Berlin")
    assert view["window"] == "2026-03-02 00:00:00 CET - 2026-03-02 23:59:59 CET"
    assert [t["host"] for t in view["timelines"]] == ["hv01", "hv02", "hv03"]
    assert sum(len(t["bars"]) for t in view["timelines"]) == len(fleet["sessions"])
    hv02 = view["timelines"][1]
    assert [lane["label"] for lane in hv02["lanes"]] == ["app02", "cache01", "db01"]
    assert [m["type"] for m in hv02["markers"]] == ["shutdown", "boot"]
    left, right = hv02["plot_x"], hv02["plot_x"] + hv02["plot_width"]
    for timeline in view["timelines"]:
        for item in timeline["bars"]:
            assert left <= item["x"] <= right and item["x"] + item["width"] <= right + 3
            assert item["colour"] == fleet_render.STATE_COLOURS[item["state"]]
    # ticks fall on round local hours
    assert hv02["ticks"] and all(re.match(r"^03-0[12] \d\d:00$", t["label"]) for t in hv02["ticks"])
    assert all(int(t["label"][6:8]) % 3 == 0 for t in hv02["ticks"]), [t["label"] for t in hv02["ticks"]]
    running = [b for b in view["timelines"][0]["bars"] if b["state"] == "running"][0]
    assert running["open_end"] and running["x"] + running["width"] == right
    assert [m["source"] for m in view["migrations"]] == ["hv01"]
    assert view["findings"][0]["severity"] == "high" and view["verdict"] == "Highest finding severity: high."


def _env():
    env = jinja2.Environment(trim_blocks=True, undefined=jinja2.StrictUndefined)
    for name, func in FilterModule().filters().items():
        env.filters["virtaudit.auvirt." + name] = func
    env.filters["to_nice_json"] = lambda value, indent=2, sort_keys=True: json.dumps(value, indent=indent, sort_keys=sort_keys)
    env.loader = jinja2.FileSystemLoader(TEMPLATES)
    return env


def render(name, fleet, timezone="UTC"):
    view = fleet_render.build_view(fleet, timezone)
    return _env().get_template(name).render(__fleet_report_model=fleet, __fleet_report_view=view, fleet_report_timezone=timezone)


def test_html_template_escapes_every_log_value():
    html = render("fleet_report.html.j2", hostile_fleet())
    # only the report's own script element, no injected markup
    assert html.count("<script") == 1 and "alert(" not in html.split("<script>")[1].split("</script>")[0]
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>hv1</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;hv1&lt;/b&gt;" in html and "hv&amp;2" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "cannot read &lt;/td&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    # self-contained: no external references
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert 'class="bar state-crashed"' in html


def test_markdown_template_escapes_every_log_value():
    md = render("fleet_report.md.j2", hostile_fleet())
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


def test_csv_and_json_templates():
    fleet = hostile_fleet()
    text = render("fleet_report.csv.j2", fleet)
    assert len(list(csv.reader(io.StringIO(text)))) == 3
    data = json.loads(render("fleet_report.json.j2", fleet))
    for key in ("sessions", "hosts", "missing_hosts", "findings", "summary"):
        assert key in data
    assert all("host" in s and "uuid" in s and "state" in s for s in data["sessions"])
