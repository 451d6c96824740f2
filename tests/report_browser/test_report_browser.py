# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML fleet report opened in a real headless Chromium (Debian's chromium package).

The demo fleet's report is written by the collection playbook, then opened
twice: once with ``--screenshot`` (the PNG is kept for people to look at) and
once with ``--dump-dom`` after a small hook was added to the page: it records
script errors, counts what rendered (timeline bars, table rows), clicks a
table header and records whether the rows got sorted.
"""

from __future__ import absolute_import, division, print_function

import html
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.environ.get("VIRTAUDIT_COLLECTIONS_PATH", os.path.join(ROOT, ".cache"))
STAGED = os.path.join(COLLECTIONS, "ansible_collections", "virtaudit", "auvirt", "playbooks", "fleet_report.yml")
SHOT_DIR = os.environ.get("FLEET_REPORT_SCREENSHOT_DIR")
CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)

pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed (make report-browser installs it)"),
    pytest.mark.skipif(not os.path.exists(STAGED), reason="collection not staged at %s (run make stage)" % COLLECTIONS),
]

HOOK_HEAD = """<script>
window.__reportErrors = [];
window.addEventListener("error", function (e) { window.__reportErrors.push(String(e.message || e)); });
window.addEventListener("unhandledrejection", function (e) { window.__reportErrors.push("rejection: " + String(e.reason)); });
</script>"""

HOOK_TAIL = """<script>
(function () {
  var out = {errors: window.__reportErrors, ready: document.documentElement.getAttribute("data-report-ready")};
  try {
    out.svgs = document.querySelectorAll("svg.timeline").length;
    out.bars = document.querySelectorAll("svg.timeline rect.bar").length;
    out.barsWithWidth = Array.prototype.filter.call(document.querySelectorAll("svg.timeline rect.bar"),
      function (r) { return r.getBBox().width > 0; }).length;
    out.markers = document.querySelectorAll("svg.timeline line.marker").length;
    out.tables = {};
    Array.prototype.forEach.call(document.querySelectorAll("table[id]"), function (t) { out.tables[t.id] = t.tBodies[0].rows.length; });
    out.firstSection = document.querySelector("main h2").id;
    var table = document.getElementById("sessions-table");
    if (table) {
      var th = table.tHead.rows[0].cells[5];  // Duration
      th.click();
      var asc = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[5].getAttribute("data-sort"); });
      th.click();
      var desc = Array.prototype.map.call(table.tBodies[0].rows, function (r) { return r.cells[5].getAttribute("data-sort"); });
      out.sortAsc = asc; out.sortDesc = desc; out.sortDir = th.getAttribute("data-dir");
    }
    var hosts = document.getElementById("hosts-table");
    if (hosts) { hosts.tHead.rows[0].cells[2].click(); out.hostsSorted = hosts.getAttribute("id"); }
    out.visibleWidth = document.body.scrollWidth;
  } catch (e) { out.errors.push("check: " + e.message); }
  document.body.setAttribute("data-check", JSON.stringify(out));
}());
</script>"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    dest = str(tmp_path_factory.mktemp("report"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_LOCALHOST_WARNING="false",
               PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", ""))
    results = str(tmp_path_factory.mktemp("results"))
    proc = subprocess.run(["ansible-playbook", "virtaudit.auvirt.fleet_report", "-i", os.path.join(ROOT, "demo", "inventory.yml"),
                           "-e", "fleet_report_dest=" + dest, "-e", "fleet_report_results_dir=" + results,
                           "-e", '{"fleet_report_formats": ["html"]}'],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
    return os.path.join(dest, "fleet_report.html")


def chromium(*args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--disable-extensions", "--disable-background-networking", "--user-data-dir=" + os.environ.get("TMPDIR", "/tmp") + "/fleet-report-chromium",
           "--virtual-time-budget=3000"] + list(args)
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=120, check=False)


def test_screenshot(report, tmp_path):
    shot = os.path.join(SHOT_DIR or str(tmp_path), "fleet_report.png")
    if SHOT_DIR and not os.path.isdir(SHOT_DIR):
        os.makedirs(SHOT_DIR)
    proc = chromium("--window-size=1300,2600", "--screenshot=" + shot, "file://" + report)
    assert os.path.exists(shot), proc.stderr
    with open(shot, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # a blank or error page compresses to a few kB; the report with its tables and timelines does not
    assert len(data) > 60000, len(data)
    assert "Uncaught" not in proc.stderr


def hooked_check(report, tmp_path):
    """Open ``report`` with the check hook in Chromium; the hook's findings and Chromium's output."""
    with open(report, encoding="utf-8") as handle:
        page = handle.read()
    hooked = page.replace("<head>", "<head>\n" + HOOK_HEAD, 1).replace("</body>", HOOK_TAIL + "\n</body>", 1)
    path = os.path.join(os.path.dirname(report), "hooked-" + os.path.basename(report))
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(hooked)
    proc = chromium("--dump-dom", "file://" + path)
    match = re.search(r'data-check="([^"]*)"', proc.stdout)
    assert match, "the check hook did not run:\n" + proc.stderr[-3000:]
    check = json.loads(html.unescape(match.group(1)))
    assert check["errors"] == [], check["errors"]
    assert "Uncaught" not in proc.stderr
    return check, proc


def test_page_renders_without_script_errors(report, tmp_path):
    check, proc = hooked_check(report, tmp_path)
    assert check["ready"] == "7"  # the report's own script ran and wired seven sortable tables
    assert check["firstSection"] == "findings"
    # one timeline per reporting host, one bar per session, the hv02 reboot marked
    assert check["svgs"] == 3 and check["bars"] == 12 and check["barsWithWidth"] == 12
    assert check["markers"] == 2
    assert check["tables"]["sessions-table"] == 12
    assert check["tables"]["hosts-table"] == 4 and check["tables"]["missing-table"] == 1
    assert check["tables"]["migrations-table"] == 1 and check["tables"]["findings-table"] >= 15
    assert check["tables"]["findings-rules-table"] >= 10
    durations = [float(v) for v in check["sortAsc"] if v]
    assert durations == sorted(durations) and len(durations) == 8
    assert [float(v) for v in check["sortDesc"] if v] == sorted(durations, reverse=True)
    assert check["sortDir"] == "desc"
    # the escaped guest name shows as text, not as markup
    assert "qa &lt;sandbox&gt; &amp; \"=1+2\"" in proc.stdout or "qa &lt;sandbox&gt; &amp; &quot;=1+2&quot;" in proc.stdout


def test_host_page_renders_and_links_back(report, tmp_path):
    page = os.path.join(os.path.dirname(report), "fleet_report_hosts", "hv02.html")
    check, proc = hooked_check(page, tmp_path)
    assert check["svgs"] == 1 and check["bars"] == 5 and check["markers"] == 2
    assert check["tables"]["sessions-table"] == 5 and check["tables"]["migrations-table"] == 1
    assert check["firstSection"] == "findings"
    assert 'href="../fleet_report.html"' in proc.stdout


def test_a_thousand_host_report_stays_usable(tmp_path):
    """1,000 hosts x 170 sessions: the main page is small, renders, sorts, and every host has its page."""
    sys.path.insert(0, os.path.join(ROOT, "tests"))
    sys.path.insert(0, os.path.join(ROOT, "tests", "unit", "plugins", "plugin_utils"))
    from collection_path import ensure_importable
    ensure_importable()
    from fleet_helpers import big_fleet
    from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_output
    fleet = big_fleet(hosts=1000, sessions_per_host=170)
    out = str(tmp_path / "big")
    names = fleet_output.write_reports(fleet, out, ["html"], "Europe/Berlin")
    main = os.path.join(out, "fleet_report.html")
    assert len(names) == 1001 and os.path.getsize(main) < 10 * 1000 * 1000
    check, proc = hooked_check(main, tmp_path)
    assert check["tables"]["hosts-table"] == 1000 and check["tables"]["findings-table"] == 1000  # capped, the rest in the JSON
    assert "sessions-table" not in check["tables"] and check["svgs"] == 0  # timelines and sessions: on the host pages
    assert "Showing the first 1000 of" in proc.stdout
    page, dummy = hooked_check(os.path.join(out, "fleet_report_hosts", "hv0500.html"), tmp_path)
    assert page["tables"]["sessions-table"] == 170 and page["bars"] == 170
