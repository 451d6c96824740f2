# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Window input and time zones of the fleet report (controller side, python-dateutil)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import time_text
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time

# Tuesday 2026-03-03 10:30:00 UTC
NOW = 1772533800.0
DAY = 86400.0
MAR02 = 1772409600.0  # 2026-03-02T00:00:00Z


def window(start=None, end=None, tz="UTC", now=NOW):
    return fleet_time.parse_window(start, end, tz, now)


def test_unset_window():
    got = window()
    assert got["start_epoch"] is None and got["end_epoch"] is None
    assert got["module_start"] is None and got["now_epoch"] == NOW and got["now"] == "2026-03-03T10:30:00.000+00:00"


def test_date_in_utc_and_in_berlin():
    got = window("2026-03-02", "2026-03-02")
    assert got["start_epoch"] == MAR02
    assert got["end_epoch"] == pytest.approx(MAR02 + DAY - 1e-6)
    assert got["module_start"] == "%.6f" % MAR02
    berlin = window("2026-03-02", "2026-03-02", "Europe/Berlin")
    assert berlin["start_epoch"] == MAR02 - 3600
    assert berlin["start"] == "2026-03-01T23:00:00.000+00:00"


def test_keywords_follow_the_report_zone():
    assert window("yesterday")["start_epoch"] == MAR02
    assert window("today")["start_epoch"] == MAR02 + DAY
    # 10:30 UTC is 05:30 in New York (EST): 'today' there starts at 05:00 UTC
    assert window("today", tz="America/New_York")["start_epoch"] == MAR02 + DAY + 5 * 3600
    got = window("yesterday", "yesterday", tz="Asia/Tokyo")  # 19:30 on 03-03 in Tokyo
    assert got["start_epoch"] == MAR02 - 9 * 3600
    assert got["end_epoch"] == pytest.approx(MAR02 + DAY - 9 * 3600 - 1e-6)
    assert window("this-week")["start_epoch"] == MAR02 - DAY  # Sunday, as in the modules
    assert window("this-month")["start_epoch"] == 1772323200.0  # 2026-03-01
    assert window("today 08:00")["start_epoch"] == MAR02 + DAY + 8 * 3600


def test_relative_epoch_and_offsets_do_not_depend_on_the_zone():
    for tz in ("UTC", "Europe/Berlin"):
        assert window("-7d", tz=tz)["start_epoch"] == NOW - 7 * DAY
        assert window("-12h", "now", tz=tz)["end_epoch"] == NOW
        assert window("1772409600.5", tz=tz)["start_epoch"] == 1772409600.5
        assert window("2026-03-02T08:00:00+02:00", tz=tz)["start_epoch"] == MAR02 + 6 * 3600


def test_naive_date_times_are_local_and_ends_inclusive():
    assert window("2026-03-02T08:30", tz="Europe/Berlin")["start_epoch"] == MAR02 + 7.5 * 3600
    assert window(end="2026-03-02 08:30")["end_epoch"] == pytest.approx(MAR02 + 8.5 * 3600 + 60 - 1e-6)
    assert window(end="2026-03-02 08:30:15")["end_epoch"] == pytest.approx(MAR02 + 8.5 * 3600 + 16 - 1e-6)
    assert window(end="2026-03-02 08:30:15.250")["end_epoch"] == pytest.approx(MAR02 + 8.5 * 3600 + 15.25)


def test_dst_day_is_23_hours_long():
    got = window("2026-03-29", "2026-03-29", "Europe/Berlin")
    assert got["end_epoch"] - got["start_epoch"] == pytest.approx(23 * 3600 - 1e-6)
    # 02:30 does not exist that night: it moves forward to 03:30 CEST = 01:30 UTC
    assert window("2026-03-29T02:30", tz="Europe/Berlin")["start_epoch"] == 1774747800.0


@pytest.mark.parametrize("start, end, message", [
    ("last tuesday", None, "accepted:"),
    ("2026-02-30", None, "day is out of range"),
    ("boot", None, "cannot be a fleet window"),
    ("2026-03-03", "2026-03-02", "later than"),
    ("today 25:00", None, "not a valid time"),
    (True, None, "not a time"),
])
def test_bad_input(start, end, message):
    with pytest.raises(ValueError, match=message):
        window(start, end)


def test_unknown_zone_and_missing_dateutil(monkeypatch):
    with pytest.raises(ValueError, match="unknown time zone"):
        fleet_time.get_timezone("Mars/Olympus_Mons")
    monkeypatch.setattr(fleet_time, "HAS_DATEUTIL", False)
    with pytest.raises(RuntimeError, match="python-dateutil is required"):
        fleet_time.get_timezone("Europe/Berlin")
    # UTC needs no dateutil
    assert window("2026-03-02")["start_epoch"] == MAR02


def test_now_can_be_pinned():
    assert fleet_time.resolve_now("2026-03-03T00:00:00+01:00") == MAR02 + DAY - 3600
    assert fleet_time.resolve_now(1772409600) == MAR02
    assert fleet_time.resolve_now("1772409600.5") == 1772409600.5
    with pytest.raises(ValueError, match="fleet_report_now"):
        fleet_time.resolve_now("soon")


def test_formatting():
    berlin = fleet_time.get_timezone("Europe/Berlin")
    assert fleet_time.format_time(MAR02, berlin) == "2026-03-02 01:00:00 CET"
    assert fleet_time.format_time(MAR02 + 30 * DAY, berlin) == "2026-04-01 02:00:00 CEST"
    assert fleet_time.format_time(MAR02 + 0.25, fleet_time.get_timezone("UTC"), millis=True) == "2026-03-02 00:00:00.250 UTC"
    assert fleet_time.format_time(None, berlin) == ""
    assert fleet_time.format_duration(93784.4) == "1d 02:03:04"
    assert fleet_time.format_duration(59) == "00:00:59"
    assert fleet_time.format_duration(None) == ""
    assert time_text.iso(MAR02 + 1.5) == "2026-03-02T00:00:01.500+00:00"


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu", "America/St_Johns"])
def test_format_time_equals_datetime_across_dst_changes(zone):
    import datetime
    import random
    tzinfo = fleet_time.get_timezone(zone)
    rng = random.Random(zone)
    epochs = [1711846800.0 + d for d in range(-7200, 7200, 450)]  # around 2024-03-31 01:00 UTC (Berlin's change)
    epochs += [1710054000.0 + d for d in range(-7200, 7200, 450)]  # around 2024-03-10 (New York's change)
    epochs += [1712414400.0 + d for d in range(-7200, 7200, 450)]  # around 2024-04-07 (Lord Howe: 30 minutes)
    epochs += [rng.uniform(0, 2e9) for dummy in range(3000)] + [rng.uniform(1.7e9, 1.8e9) + rng.random() for dummy in range(3000)]
    epochs += [1711846799.9995, 1711846799.0000005, -1.5, 0.0]
    for epoch in epochs:
        moment = datetime.datetime.fromtimestamp(epoch, tzinfo)
        expected = moment.strftime("%Y-%m-%d %H:%M:%S") + ".%03d" % (moment.microsecond // 1000) + " " + (moment.tzname() or moment.strftime("%z"))
        assert fleet_time.format_time(epoch, tzinfo, millis=True) == expected, epoch


# ------------------------------------------- one grammar of the day keywords --

# a Sunday, a Monday, a Saturday, the first of a month, New Year's Eve, the night Berlin changes to summer time,
# the day New York leaves it
AGREEMENT_NOWS = (1772366400.0, 1772452800.0, 1772280000.0, 1772355600.0, 1798718400.0, 1774746000.0, 1793595600.0)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu"])
def test_day_keywords_mean_the_same_in_the_module_and_in_the_fleet_report(zone, tz):
    """this-week, this-month ... have one definition (module_utils/day_keywords.py): a host whose local zone is the
    report's zone resolves every keyword, as start and as end, with and without a time of day, to the same instant."""
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import day_keywords, time_window
    tz(zone)
    tzinfo = fleet_time.get_timezone(zone)
    for now in AGREEMENT_NOWS:
        for keyword in day_keywords.PERIOD_KEYWORDS:
            for text in (keyword, keyword + " 08:00", keyword + " 23:59:30"):
                for is_end in (False, True):
                    module = time_window.parse_time(text, now, is_end=is_end)
                    fleet = fleet_time.parse_bound(text, tzinfo, now, is_end=is_end)
                    assert fleet == pytest.approx(module, abs=1e-6), (zone, now, text, is_end)


def test_this_week_starts_on_sunday_as_in_auvirt():
    # NOW is Tuesday 2026-03-03; the week began on Sunday 2026-03-01
    assert window("this-week")["start_epoch"] == MAR02 - DAY
    assert window("this-week", tz="Europe/Berlin")["start_epoch"] == MAR02 - DAY - 3600
