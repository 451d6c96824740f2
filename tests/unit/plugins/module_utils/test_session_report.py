# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run(): window selection, coverage, facts."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import (
    boot_time_from_proc,
    compact_facts,
    run,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log

A = "aaaaaaaa-1111-4222-8333-444444444444"
B = "bbbbbbbb-1111-4222-8333-444444444444"
C = "cccccccc-1111-4222-8333-444444444444"
T0 = 1710144000.0  # 2024-03-11T08:00:00Z


@pytest.fixture
def three_guests(tmp_path):
    """a: 08:00-09:00, b: 08:30-running, c: 10:00-10:10."""
    log = Log(t=T0)
    log.boot_sequence("a", A)
    log.t = T0 + 1800
    log.boot_sequence("b", B)
    log.t = T0 + 3600
    log.stop("a", A)
    log.t = T0 + 7200
    log.boot_sequence("c", C)
    log.t = T0 + 7800
    log.stop("c", C)
    return log.write(tmp_path / "audit.log")


def names(result):
    return [s["name"] for s in result["sessions"]]


@pytest.mark.parametrize("start,end,expected", [
    (None, None, ["a", "b", "c"]),
    ("2024-03-11T08:45:00+00:00", None, ["a", "b", "c"]),   # a started before, ends inside
    ("2024-03-11T09:30:00+00:00", None, ["b", "c"]),
    ("2024-03-11T09:30:00+00:00", "2024-03-11T09:45:00+00:00", ["b"]),  # only the running one overlaps
    (None, "2024-03-11T08:10:00+00:00", ["a"]),
    (str(int(T0 + 7800)), None, ["b", "c"]),               # inclusive at the stop second
])
def test_window_selects_overlapping_sessions(three_guests, start, end, expected):
    result = run(paths=[three_guests], start=start, end=end, default_host="hv", now=T0 + 86400)
    assert names(result) == expected


def test_selected_session_keeps_real_start(three_guests):
    result = run(paths=[three_guests], start="2024-03-11T08:45:00+00:00", default_host="hv", now=T0 + 86400)
    assert result["sessions"][0]["start"] == iso(T0)
    assert result["coverage"]["reaches_window_start"] is True


def test_window_before_logs_is_not_covered(three_guests):
    result = run(paths=[three_guests], start="2024-03-10", default_host="hv", now=T0 + 86400)
    assert result["coverage"]["reaches_window_start"] is False
    assert result["coverage"]["complete"] is False


def test_bad_window_raises(three_guests):
    with pytest.raises(ValueError):
        run(paths=[three_guests], start="tomorrowish", default_host="hv", now=T0)
    with pytest.raises(ValueError):
        run(paths=[three_guests], start="2024-03-12", end="2024-03-11", default_host="hv", now=T0)


def test_serial_gap_is_reported_with_location(tmp_path):
    log = Log(serial=100)
    log.boot_sequence("a", A)
    log.serial = 120  # 15 events cut out of the file
    log.tick(5).stop("a", A)
    path = log.write(tmp_path / "audit.log")
    coverage = run(paths=[path], default_host="hv")["coverage"]
    gaps = coverage["serial_gaps"]
    assert gaps["missing_events"] == 15
    assert gaps["gaps"][0]["after_id"].endswith(":104")
    assert gaps["gaps"][0]["before_id"].endswith(":120")
    assert (gaps["gaps"][0]["path"], gaps["gaps"][0]["line"]) == (path, 6)
    assert coverage["complete"] is False


def test_late_record_fills_its_gap(tmp_path):
    log = Log(serial=100)
    log.syscall_noise()
    log.add("USER", "x=1", serial=102)
    log.add("USER", "x=1", serial=101)
    path = log.write(tmp_path / "audit.log")
    assert run(paths=[path], default_host="hv")["coverage"]["serial_gaps"]["missing_events"] == 0


def test_empty_log(tmp_path):
    path = tmp_path / "audit.log"
    path.write_text(u"")
    result = run(paths=[str(path)], default_host="hv")
    assert result["sessions"] == []
    assert result["summary"]["sessions"] == 0 and result["summary"]["first"] is None
    assert result["sources"][0]["records"] == 0
    assert result["coverage"]["first_record"] is None


def test_compact_facts(three_guests):
    result = run(paths=[three_guests], default_host="hv")
    facts = compact_facts(result, now=T0)
    assert facts["states"]["running"] == 1 and facts["states"]["stopped"] == 2
    assert facts["running"] == [{"name": "b", "uuid": B, "host": "hv", "since": iso(T0 + 1800),
                                 "since_epoch": T0 + 1800}]
    assert facts["last_event_epoch"] == T0 + 7800
    assert facts["coverage"]["complete"] is True
    assert facts["collected_at"] == iso(T0)
    assert "resources" not in str(facts.keys())


def test_auvirt_lines_are_returned(three_guests):
    result = run(paths=[three_guests], auvirt_lines=True, default_host="hv")
    assert len(result["auvirt_lines"]) == 3
    assert result["auvirt_lines"][0].startswith("a ")


def test_iso_format():
    assert iso(1710144001.124) == "2024-03-11T08:00:01.124+00:00"
    assert iso(None) is None


def test_boot_time_from_proc(tmp_path):
    uptime = tmp_path / "uptime"
    uptime.write_text(u"100.50 200.00\n")
    assert boot_time_from_proc(str(uptime), now=1000.0) == pytest.approx(899.5)
    assert boot_time_from_proc(str(tmp_path / "none")) is None


def test_host_clock_is_reported(three_guests):
    result = run(paths=[three_guests], default_host="hv", now=T0 + 5)
    assert result["host_clock"] == {"time": iso(T0 + 5), "epoch": T0 + 5}
