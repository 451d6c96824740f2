# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A session still running at the end of the logs is open at the host's newest record (or the window end),
never at the controller's clock: durations, guest run time, long_session and the timeline axis."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fleet_helpers import write_report  # noqa: E402

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_index, fleet_render, fleet_timeline  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet  # noqa: E402
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_results import record_from_module  # noqa: E402
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log  # noqa: E402

T0 = 1709280000.0  # 2024-03-01T08:00:00Z: a log from a past year
UUID_RUN = "aaaaaaaa-1111-4222-8333-444444444444"
UUID_DONE = "bbbbbbbb-1111-4222-8333-444444444444"


def old_log(tmp_path):
    """web01 starts at 08:00 and is still running at the last record (3 days later); db01 runs 1 hour."""
    log = Log(t=T0)
    log.start("web01", UUID_RUN, pid=4242)
    log.tick(60)
    log.start("db01", UUID_DONE, pid=4343)
    log.tick(3600)
    log.stop("db01", UUID_DONE)
    log.tick(3 * 86400 - 3660)
    log.syscall_noise(1)  # the newest record: T0 + 3 days
    return log.write(tmp_path / "audit.log")


def old_fleet(tmp_path, window=None, **kwargs):
    now = time.time()  # the controller's clock: years after the log
    result = run(paths=[old_log(tmp_path)], evidence=True, default_host="hv1", now=now, uid_resolver={0: "root"}.get)
    record = record_from_module("hv1", dict(result, changed=False), check_audit=False, now=now)
    win = dict(window or {}, now_epoch=now)
    return build_fleet(["hv1"], [record], window=win, generated_epoch=now, **kwargs), result


def running(fleet):
    return [s for s in fleet["sessions"] if s["state"] == "running"][0]


def test_running_session_is_open_at_the_hosts_newest_record(tmp_path):
    fleet, result = old_fleet(tmp_path)
    last = result["coverage"]["last_record_epoch"]
    assert abs(last - (T0 + 3 * 86400)) < 2
    item = running(fleet)
    assert item["open_until_epoch"] == last
    assert item["open_until"] == result["coverage"]["last_record"]
    assert item["open_seconds"] == round(last - item["start_epoch"], 3)
    assert item["end_epoch"] is None and item["duration_seconds"] is None  # the module's keys stay the module's
    guest = [g for g in fleet["guests"] if g["uuid"] == UUID_RUN][0]
    assert guest["runtime_seconds"] == item["open_seconds"]  # about 3 days, not years


def test_window_end_before_the_newest_record_closes_the_open_end(tmp_path):
    end = T0 + 86400
    fleet, dummy = old_fleet(tmp_path, window={"end_epoch": end, "end": "2024-03-02T08:00:00.000+00:00"})
    item = running(fleet)
    assert item["open_until_epoch"] == end and item["open_seconds"] == round(end - item["start_epoch"], 3)


def test_long_session_measures_to_the_newest_record(tmp_path):
    fleet, dummy = old_fleet(tmp_path, max_session_hours=96)  # runs 72 h in the log: no finding
    assert [f for f in fleet["findings"] if f["rule"] == "long_session"] == []
    fleet, dummy = old_fleet(tmp_path, max_session_hours=48)
    found = [f for f in fleet["findings"] if f["rule"] == "long_session"]
    assert len(found) == 1 and found[0]["uuid"] == UUID_RUN
    assert "3d 00:00" in found[0]["detail"] and "still running at the newest record" in found[0]["detail"]


def test_timeline_axis_ends_at_the_newest_record_not_today(tmp_path):
    fleet, result = old_fleet(tmp_path)
    index = fleet_index.HostIndex(fleet, "UTC")
    t0, t1, dummy = index.axis
    assert t1 == result["coverage"]["last_record_epoch"]
    line = fleet_timeline.timeline("hv1", index.sessions["hv1"], [], index.axis, index.tzinfo)
    running_bar = [b for b in line["bars"] if b["state"] == "running"][0]
    assert running_bar["open_end"] and running_bar["x"] + running_bar["width"] <= fleet_timeline.LABEL_WIDTH + fleet_timeline.PLOT_WIDTH + 0.1
    # the web01 bar spans nearly the whole plot: three days of data are not squeezed into a corner of years
    assert running_bar["width"] > 0.9 * fleet_timeline.PLOT_WIDTH
    assert "running at the newest record" in running_bar["tooltip"]


def test_reports_say_the_session_is_still_running(tmp_path):
    fleet, result = old_fleet(tmp_path)
    files = write_report(fleet, tmp_path / "report")
    rows = list(csv.DictReader(io.StringIO(files["fleet_report.csv"])))
    row = [r for r in rows if r["uuid"] == UUID_RUN][0]
    assert row["open_until"] == result["coverage"]["last_record"] and row["end"] == ""
    assert float(row["open_seconds"]) > 3 * 86400 - 120
    view = fleet_render.main_view(fleet, "UTC")
    srow = [s for s in view["sessions"]["rows"] if s["uuid"] == UUID_RUN][0]
    assert srow["duration"].startswith("3d ") and "running" in srow["end"]
    assert "2024-03-04" in srow["end"]
    assert "997d" not in files["fleet_report.html"] and "still running at 2024-03-04" in files["fleet_report.md"]
