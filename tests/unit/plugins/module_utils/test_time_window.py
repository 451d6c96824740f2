# -*- coding: utf-8 -*-
# Copyright (c) 2026, virtaudit.auvirt maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of plugins/module_utils/time_window.py.

Expected epochs are written by hand as UTC wall times (calendar.timegm) minus
the UTC offset the zone has on that day, never computed with the code under
test.  Zones are given as POSIX TZ rules so that no tzdata is needed; the
named zones are checked too where the system has them.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import datetime
import os
import time

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_window import (
    END_EPSILON,
    parse_time,
    parse_window,
)

UTC = 'UTC0'
BERLIN = 'CET-1CEST,M3.5.0,M10.5.0/3'
NEW_YORK = 'EST5EDT,M3.2.0,M11.1.0'
HAVANA = 'CST5CDT,M3.2.0/0,M11.1.0/1'    # DST starts at midnight
KOLKATA = 'IST-5:30'
KIRITIMATI = 'LINT-14'                    # local date one ahead of UTC
HONOLULU = 'HST10'

HOUR = 3600
DAY = 86400


def utc(year, month, day, hour=0, minute=0, second=0):
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


def local(year, month, day, hour=0, minute=0, second=0, offset_hours=0.0):
    """Epoch of a wall time in a zone that is ``offset_hours`` ahead of UTC."""
    return utc(year, month, day, hour, minute, second) - int(offset_hours * HOUR)


def close(got, expected):
    # Float spacing near 1.7e9 is 2.4e-7; END_EPSILON is 1e-6.
    return got is not None and abs(got - expected) < 4e-7


# Thursday 2026-11-26 13:24:09.5 UTC (the moment of the auvirt keyword demo).
NOW = utc(2026, 11, 26, 13, 24, 9) + 0.5


@pytest.fixture
def tz():
    saved = os.environ.get('TZ')

    def set_tz(name):
        if ',' not in name and '/' in name and not os.path.exists(os.path.join('/usr/share/zoneinfo', name)):
            pytest.skip('zone %s not installed' % name)
        os.environ['TZ'] = name
        time.tzset()

    yield set_tz
    if saved is None:
        os.environ.pop('TZ', None)
    else:
        os.environ['TZ'] = saved
    time.tzset()


# --------------------------------------------------------------------------
# Keywords at a fixed now, several zones
# --------------------------------------------------------------------------

# zone -> (offset on the November days, offset on 2026-11-01 00:00,
#          offset on 2026-01-01, local date of NOW as (y, m, d),
#          expected start dates of the period keywords)
KEYWORD_CASES = {
    UTC: (0, 0, 0, {
        'today': (2026, 11, 26), 'yesterday': (2026, 11, 25), 'this-week': (2026, 11, 22),
        'week-ago': (2026, 11, 19), 'this-month': (2026, 11, 1), 'this-year': (2026, 1, 1)}),
    BERLIN: (1, 1, 1, {
        'today': (2026, 11, 26), 'yesterday': (2026, 11, 25), 'this-week': (2026, 11, 22),
        'week-ago': (2026, 11, 19), 'this-month': (2026, 11, 1), 'this-year': (2026, 1, 1)}),
    # 2026-11-01 is the day New York leaves DST at 02:00: its midnight is EDT.
    NEW_YORK: (-5, -4, -5, {
        'today': (2026, 11, 26), 'yesterday': (2026, 11, 25), 'this-week': (2026, 11, 22),
        'week-ago': (2026, 11, 19), 'this-month': (2026, 11, 1), 'this-year': (2026, 1, 1)}),
    KOLKATA: (5.5, 5.5, 5.5, {
        'today': (2026, 11, 26), 'yesterday': (2026, 11, 25), 'this-week': (2026, 11, 22),
        'week-ago': (2026, 11, 19), 'this-month': (2026, 11, 1), 'this-year': (2026, 1, 1)}),
    # Already Friday 2026-11-27 03:24 there.
    KIRITIMATI: (14, 14, 14, {
        'today': (2026, 11, 27), 'yesterday': (2026, 11, 26), 'this-week': (2026, 11, 22),
        'week-ago': (2026, 11, 20), 'this-month': (2026, 11, 1), 'this-year': (2026, 1, 1)}),
    # Still Thursday 03:24 there.
    HONOLULU: (-10, -10, -10, {
        'today': (2026, 11, 26), 'yesterday': (2026, 11, 25), 'this-week': (2026, 11, 22),
        'week-ago': (2026, 11, 19), 'this-month': (2026, 11, 1), 'this-year': (2026, 1, 1)}),
}


def _offset_for(zone, keyword):
    nov, nov1, jan1, _dates = KEYWORD_CASES[zone]
    return {'this-month': nov1, 'this-year': jan1}.get(keyword, nov)


@pytest.mark.parametrize('zone', sorted(KEYWORD_CASES))
@pytest.mark.parametrize('keyword', ['today', 'yesterday', 'this-week', 'week-ago', 'this-month', 'this-year'])
def test_period_keyword_start_is_local_midnight(tz, zone, keyword):
    tz(zone)
    date = KEYWORD_CASES[zone][3][keyword]
    expected = local(*date, offset_hours=_offset_for(zone, keyword))
    assert close(parse_time(keyword, NOW), expected)


@pytest.mark.parametrize('zone', sorted(KEYWORD_CASES))
@pytest.mark.parametrize('keyword', ['today', 'this-week', 'this-month', 'this-year'])
def test_period_keyword_end_containing_now_is_now(tz, zone, keyword):
    tz(zone)
    assert parse_time(keyword, NOW, is_end=True) == NOW


@pytest.mark.parametrize('zone', sorted(KEYWORD_CASES))
@pytest.mark.parametrize('keyword', ['yesterday', 'week-ago'])
def test_past_day_keyword_end_is_last_instant_of_that_day(tz, zone, keyword):
    tz(zone)
    year, month, day = KEYWORD_CASES[zone][3][keyword]
    offset = KEYWORD_CASES[zone][0]
    following = datetime.date(year, month, day) + datetime.timedelta(days=1)
    next_midnight = local(following.year, following.month, following.day, offset_hours=offset)
    got = parse_time(keyword, NOW, is_end=True)
    assert close(got, next_midnight - END_EPSILON)
    assert got < next_midnight
    # the last audit timestamp of the day (millisecond resolution) is inside
    assert got > next_midnight - 0.001


@pytest.mark.parametrize('zone', sorted(KEYWORD_CASES))
def test_point_keywords(tz, zone):
    tz(zone)
    assert parse_time('now', NOW) == NOW
    assert parse_time('now', NOW, is_end=True) == NOW
    assert parse_time('recent', NOW) == NOW - 600
    assert parse_time('recent', NOW, is_end=True) == NOW - 600
    assert parse_time('boot', NOW, boot_time=1764160000.25) == 1764160000.25
    assert parse_time('boot', NOW, is_end=True, boot_time=1764160000.25) == 1764160000.25


def test_keywords_match_auvirt_demo_in_utc(tz):
    # The auvirt demo at 2026-11-26 13:24:09 UTC printed these --start times.
    tz(UTC)
    assert parse_time('today', NOW) == utc(2026, 11, 26)
    assert parse_time('yesterday', NOW) == utc(2026, 11, 25)
    assert parse_time('this-week', NOW) == utc(2026, 11, 22)
    assert parse_time('week-ago', NOW) == utc(2026, 11, 19)
    assert parse_time('this-month', NOW) == utc(2026, 11, 1)
    assert int(parse_time('recent', NOW)) == utc(2026, 11, 26, 13, 14, 9)
    assert parse_time('today 08:00', NOW) == utc(2026, 11, 26, 8)


@pytest.mark.parametrize('now, sunday', [
    (utc(2026, 11, 22, 10), (2026, 11, 22)),      # on a Sunday: that Sunday
    (utc(2026, 11, 28, 23, 59, 59), (2026, 11, 22)),  # Saturday
    (utc(2026, 11, 23, 0, 0, 1), (2026, 11, 22)),     # Monday
    (utc(2027, 1, 2, 12), (2026, 12, 27)),        # across a year
])
def test_this_week_starts_on_sunday(tz, now, sunday):
    tz(UTC)
    assert parse_time('this-week', now) == utc(*sunday)


def test_december_and_january_periods(tz):
    tz(BERLIN)
    now = utc(2026, 12, 15, 12)
    assert parse_time('this-month', now) == local(2026, 12, 1, offset_hours=1)
    assert parse_time('this-month', now, is_end=True) == now
    now = utc(2027, 1, 1, 0, 30)   # 01:30 on 1 January in Berlin
    assert parse_time('yesterday', now) == local(2026, 12, 31, offset_hours=1)
    assert close(parse_time('yesterday', now, is_end=True), local(2027, 1, 1, offset_hours=1) - END_EPSILON)
    assert parse_time('this-year', now) == local(2027, 1, 1, offset_hours=1)
    assert parse_time('week-ago', now) == local(2026, 12, 25, offset_hours=1)


def test_keywords_are_case_and_space_insensitive(tz):
    tz(UTC)
    assert parse_time('  Today ', NOW) == utc(2026, 11, 26)
    assert parse_time('THIS-WEEK', NOW) == utc(2026, 11, 22)
    assert parse_time('yesterday   23:59', NOW, is_end=True) == utc(2026, 11, 25, 23, 59) + 1 - END_EPSILON


def test_day_keyword_with_time_of_day(tz):
    tz(BERLIN)
    assert parse_time('today 08:00', NOW) == local(2026, 11, 26, 8, offset_hours=1)
    assert close(parse_time('today 08:00', NOW, is_end=True),
                 local(2026, 11, 26, 8, 0, 1, offset_hours=1) - END_EPSILON)
    assert parse_time('yesterday 23:59:59', NOW) == local(2026, 11, 25, 23, 59, 59, offset_hours=1)
    assert close(parse_time('yesterday 23:59:59', NOW, is_end=True),
                 local(2026, 11, 26, offset_hours=1) - END_EPSILON)
    assert parse_time('this-month 12:00', NOW) == local(2026, 11, 1, 12, offset_hours=1)
    assert parse_time('week-ago 7:05', NOW) == local(2026, 11, 19, 7, 5, offset_hours=1)
    # a time later than now is kept as written (no capping with an explicit time)
    assert parse_time('today 23:00', NOW, is_end=True) > NOW


def test_boot_without_boot_time_is_a_clear_error():
    with pytest.raises(ValueError) as exc:
        parse_time('boot', NOW)
    assert "'boot'" in str(exc.value)
    assert 'boot time' in str(exc.value)


# --------------------------------------------------------------------------
# DST
# --------------------------------------------------------------------------

@pytest.mark.parametrize('zone', [BERLIN, 'Europe/Berlin'])
def test_berlin_spring_forward(tz, zone):
    tz(zone)
    # 2024-03-31: 02:00 CET -> 03:00 CEST at 01:00 UTC; the day has 23 hours.
    now = utc(2024, 3, 31, 10)                   # 12:00 CEST
    assert parse_time('today', now) == utc(2024, 3, 30, 23)
    assert parse_time('yesterday', now) == utc(2024, 3, 29, 23)
    assert close(parse_time('yesterday', now, is_end=True), utc(2024, 3, 30, 23) - END_EPSILON)
    assert parse_time('today 03:00', now) == utc(2024, 3, 31, 1)
    assert parse_time('this-week', now) == utc(2024, 3, 30, 23)    # a Sunday
    assert parse_time('2024-03-31', now) == utc(2024, 3, 30, 23)
    assert close(parse_time('2024-03-31', now, is_end=True), utc(2024, 3, 31, 22) - END_EPSILON)
    assert parse_time('2024-03-31T01:59:59', now) == utc(2024, 3, 31, 0, 59, 59)
    assert parse_time('2024-03-31T03:00', now) == utc(2024, 3, 31, 1)
    # 02:30 does not exist: read with the offset before the change (CET)
    assert parse_time('2024-03-31T02:30', now) == utc(2024, 3, 31, 1, 30)
    assert parse_time('03/31/24 02:30', now) == utc(2024, 3, 31, 1, 30)
    assert close(parse_time('2024-03-31T02:30', now, is_end=True), utc(2024, 3, 31, 1, 30, 1) - END_EPSILON)


@pytest.mark.parametrize('zone', [BERLIN, 'Europe/Berlin'])
def test_berlin_fall_back(tz, zone):
    tz(zone)
    # 2024-10-27: 03:00 CEST -> 02:00 CET at 01:00 UTC; the day has 25 hours.
    now = utc(2024, 10, 27, 12)
    assert parse_time('today', now) == utc(2024, 10, 26, 22)
    assert close(parse_time('yesterday', now, is_end=True), utc(2024, 10, 26, 22) - END_EPSILON)
    assert parse_time('2024-10-27', now) == utc(2024, 10, 26, 22)
    assert close(parse_time('2024-10-27', now, is_end=True), utc(2024, 10, 27, 23) - END_EPSILON)
    # 02:30 happens twice: a start takes the first (CEST), an end the second (CET)
    assert parse_time('2024-10-27T02:30', now) == utc(2024, 10, 27, 0, 30)
    assert close(parse_time('2024-10-27T02:30', now, is_end=True), utc(2024, 10, 27, 1, 30, 1) - END_EPSILON)
    assert parse_time('2024-10-27T01:59:59', now) == utc(2024, 10, 26, 23, 59, 59)
    assert parse_time('2024-10-27T03:00', now) == utc(2024, 10, 27, 2)
    # an explicit offset removes the ambiguity
    assert parse_time('2024-10-27T02:30+01:00', now) == utc(2024, 10, 27, 1, 30)
    assert parse_time('2024-10-27T02:30:00.5+02:00', now, is_end=True) == utc(2024, 10, 27, 0, 30) + 0.5


@pytest.mark.parametrize('zone', [NEW_YORK, 'America/New_York'])
def test_new_york_spring_forward(tz, zone):
    tz(zone)
    # 2024-03-10: 02:00 EST -> 03:00 EDT at 07:00 UTC
    now = utc(2024, 3, 10, 16)                   # 12:00 EDT
    assert parse_time('today', now) == utc(2024, 3, 10, 5)
    assert parse_time('yesterday', now) == utc(2024, 3, 9, 5)
    assert close(parse_time('yesterday', now, is_end=True), utc(2024, 3, 10, 5) - END_EPSILON)
    assert parse_time('week-ago', now) == utc(2024, 3, 3, 5)
    assert parse_time('this-month', now) == utc(2024, 3, 1, 5)
    assert close(parse_time('2024-03-10', now, is_end=True), utc(2024, 3, 11, 4) - END_EPSILON)
    assert parse_time('2024-03-10T02:30', now) == utc(2024, 3, 10, 7, 30)
    assert parse_time('2024-03-10T03:30', now) == utc(2024, 3, 10, 7, 30)
    assert parse_time('2024-03-10T01:30', now) == utc(2024, 3, 10, 6, 30)


@pytest.mark.parametrize('zone', [NEW_YORK, 'America/New_York'])
def test_new_york_fall_back(tz, zone):
    tz(zone)
    # 2024-11-03: 02:00 EDT -> 01:00 EST at 06:00 UTC; 01:00-01:59 twice
    now = utc(2024, 11, 3, 17)
    assert parse_time('today', now) == utc(2024, 11, 3, 4)
    assert parse_time('2024-11-03T01:30', now) == utc(2024, 11, 3, 5, 30)
    assert close(parse_time('2024-11-03T01:30', now, is_end=True), utc(2024, 11, 3, 6, 30, 1) - END_EPSILON)
    assert parse_time('2024-11-03T01:30-05:00', now) == utc(2024, 11, 3, 6, 30)
    assert close(parse_time('2024-11-03', now, is_end=True), utc(2024, 11, 4, 5) - END_EPSILON)
    assert parse_time('11/03/24', now) == utc(2024, 11, 3, 4)
    # the next day is a normal EST day
    assert parse_time('2024-11-04', now) == utc(2024, 11, 4, 5)


@pytest.mark.parametrize('zone', [HAVANA, 'America/Havana'])
def test_midnight_that_does_not_exist(tz, zone):
    tz(zone)
    # Havana 2024-03-10: 00:00 CST -> 01:00 CDT at 05:00 UTC.  The day begins
    # at the change itself.
    now = utc(2024, 3, 10, 16)
    assert parse_time('today', now) == utc(2024, 3, 10, 5)
    assert parse_time('yesterday', now) == utc(2024, 3, 9, 5)
    assert close(parse_time('yesterday', now, is_end=True), utc(2024, 3, 10, 5) - END_EPSILON)
    assert parse_time('2024-03-10', now) == utc(2024, 3, 10, 5)
    assert close(parse_time('2024-03-09', now, is_end=True), utc(2024, 3, 10, 5) - END_EPSILON)
    # 2024-11-03: 01:00 CDT -> 00:00 CST; the day begins at the first midnight
    assert parse_time('2024-11-03', now) == utc(2024, 11, 3, 4)
    assert close(parse_time('2024-11-03', now, is_end=True), utc(2024, 11, 4, 5) - END_EPSILON)


@pytest.mark.parametrize('zone, short, long_', [
    (BERLIN, (2024, 3, 31), (2024, 10, 27)),
    (NEW_YORK, (2024, 3, 10), (2024, 11, 3)),
    (HAVANA, (2024, 3, 10), (2024, 11, 3)),
])
def test_every_day_of_a_year_tiles_without_gaps(tz, zone, short, long_):
    tz(zone)
    day = datetime.date(2024, 1, 1)
    lengths = {}
    while day.year == 2024:
        following = day + datetime.timedelta(days=1)
        start = parse_time(day.isoformat(), NOW)
        end = parse_time(day.isoformat(), NOW, is_end=True)
        next_start = parse_time(following.isoformat(), NOW)
        assert close(end, next_start - END_EPSILON)
        assert parse_time(day.strftime('%m/%d/%y'), NOW) == start
        assert time.localtime(start)[:3] == (day.year, day.month, day.day)
        assert time.localtime(start - 1)[:3] != (day.year, day.month, day.day)
        lengths[(day.year, day.month, day.day)] = next_start - start
        day = following
    assert lengths.pop(short) == 23 * HOUR
    assert lengths.pop(long_) == 25 * HOUR
    assert set(lengths.values()) == {24 * HOUR}


# --------------------------------------------------------------------------
# ISO 8601
# --------------------------------------------------------------------------

@pytest.mark.parametrize('text, expected', [
    ('2024-03-11T08:30Z', utc(2024, 3, 11, 8, 30)),
    ('2024-03-11T08:30:15Z', utc(2024, 3, 11, 8, 30, 15)),
    ('2024-03-11T08:30:15.250Z', utc(2024, 3, 11, 8, 30, 15) + 0.25),
    ('2024-03-11T08:30:15,5Z', utc(2024, 3, 11, 8, 30, 15) + 0.5),
    ('2024-03-11t08:30z', utc(2024, 3, 11, 8, 30)),
    ('2024-03-11T10:30+02:00', utc(2024, 3, 11, 8, 30)),
    ('2024-03-11T10:30+0200', utc(2024, 3, 11, 8, 30)),
    ('2024-03-11T10:30+02', utc(2024, 3, 11, 8, 30)),
    ('2024-03-11T03:00-05:30', utc(2024, 3, 11, 8, 30)),
    ('2024-03-11 08:30:15 +00:00', utc(2024, 3, 11, 8, 30, 15)),
    ('2024-03-11T00:30+02:00', utc(2024, 3, 10, 22, 30)),
])
@pytest.mark.parametrize('zone', [UTC, BERLIN, KIRITIMATI])
def test_iso_with_offset_ignores_local_zone(tz, zone, text, expected):
    tz(zone)
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize('zone, offset', [(UTC, 0), (BERLIN, 1), (NEW_YORK, -4), (KOLKATA, 5.5)])
def test_iso_without_offset_is_local(tz, zone, offset):
    tz(zone)   # 2024-03-11 is CET in Berlin and EDT in New York
    assert parse_time('2024-03-11T09:30', NOW) == local(2024, 3, 11, 9, 30, offset_hours=offset)
    assert parse_time('2024-03-11 09:30:15', NOW) == local(2024, 3, 11, 9, 30, 15, offset_hours=offset)
    assert parse_time('2024-03-11T09:30:15.125', NOW) == local(2024, 3, 11, 9, 30, 15, offset_hours=offset) + 0.125
    assert parse_time('2024-03-11', NOW) == local(2024, 3, 11, offset_hours=offset)


def test_date_only_end_covers_the_whole_day(tz):
    tz(BERLIN)
    end = parse_time('2024-03-11', NOW, is_end=True)
    next_midnight = utc(2024, 3, 11, 23)
    assert close(end, next_midnight - END_EPSILON)
    last_event = float('%d.999' % utc(2024, 3, 11, 22, 59, 59))   # 23:59:59.999 local
    assert last_event <= end < next_midnight
    assert parse_time('2024-03-11', NOW) == utc(2024, 3, 10, 23)


def test_end_written_to_the_second_covers_that_second(tz):
    tz(UTC)
    base = utc(2024, 3, 11, 8, 30)
    assert close(parse_time('2024-03-11T08:30Z', NOW, is_end=True), base + 1 - END_EPSILON)
    assert close(parse_time('2024-03-11T08:30:00', NOW, is_end=True), base + 1 - END_EPSILON)
    # with a fraction the value is exact
    assert parse_time('2024-03-11T08:30:00.0Z', NOW, is_end=True) == base
    assert parse_time('2024-03-11T08:30:00.5Z', NOW, is_end=True) == base + 0.5
    # a start is never widened
    assert parse_time('2024-03-11T08:30Z', NOW) == base


# --------------------------------------------------------------------------
# Epoch seconds, relative times, MM/DD/YY
# --------------------------------------------------------------------------

def test_epoch_seconds(tz):
    tz(BERLIN)
    assert parse_time('1710144000', NOW) == 1710144000.0
    assert close(parse_time('1710144000', NOW, is_end=True), 1710144001 - END_EPSILON)
    assert parse_time('1710144000.5', NOW) == 1710144000.5
    assert parse_time('1710144000.5', NOW, is_end=True) == 1710144000.5
    assert parse_time(1710144000, NOW) == 1710144000.0
    assert close(parse_time(1710144000, NOW, is_end=True), 1710144001 - END_EPSILON)
    assert parse_time(1710144000.25, NOW, is_end=True) == 1710144000.25
    assert parse_time(' 1710144000 ', NOW) == 1710144000.0
    assert isinstance(parse_time(1710144000, NOW), float)


@pytest.mark.parametrize('text, seconds', [
    ('-7d', 7 * DAY), ('-12h', 12 * HOUR), ('-30m', 1800), ('-45s', 45), ('-2w', 14 * DAY),
    ('now-7d', 7 * DAY), ('now - 7d', 7 * DAY), ('NOW-1h', HOUR), ('-0s', 0), ('- 90 m', 5400),
])
def test_relative(tz, text, seconds):
    tz(BERLIN)
    assert parse_time(text, NOW) == NOW - seconds
    assert parse_time(text, NOW, is_end=True) == NOW - seconds


def test_relative_days_are_24_hours_across_dst(tz):
    tz(BERLIN)
    now = utc(2024, 3, 31, 10)
    assert parse_time('-1d', now) == utc(2024, 3, 30, 10)   # 11:00 CET, not 12:00


@pytest.mark.parametrize('text, expected_start, expected_next', [
    ('03/11/24', utc(2024, 3, 10, 23), utc(2024, 3, 11, 23)),
    ('3/11/2024', utc(2024, 3, 10, 23), utc(2024, 3, 11, 23)),
    ('12/31/99', utc(1999, 12, 30, 23), utc(1999, 12, 31, 23)),
    ('01/01/68', utc(2067, 12, 31, 23), utc(2068, 1, 1, 23)),
])
def test_mdy_date(tz, text, expected_start, expected_next):
    tz(BERLIN)
    assert parse_time(text, NOW) == expected_start
    assert close(parse_time(text, NOW, is_end=True), expected_next - END_EPSILON)


def test_mdy_with_time(tz):
    tz(BERLIN)
    assert parse_time('03/11/24 08:30', NOW) == utc(2024, 3, 11, 7, 30)
    assert parse_time('03/11/24 08:30:15', NOW) == utc(2024, 3, 11, 7, 30, 15)
    assert close(parse_time('03/11/24 08:30', NOW, is_end=True), utc(2024, 3, 11, 7, 30, 1) - END_EPSILON)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

@pytest.mark.parametrize('value, fragment', [
    ('', 'empty'),
    ('   ', 'empty'),
    ('foo', 'Accepted:'),
    ('tomorrow', 'Accepted:'),
    ('7d', 'count backwards'),
    ('+7d', 'count backwards'),
    ('now+1h', 'count backwards'),
    ('-7', 'needs a unit'),
    ('now-7', 'needs a unit'),
    ('-1.5h', 'whole number'),
    ('-7y', "unknown unit 'y'"),
    ('-1M', 'lower case'),
    ('--7d', 'single minus'),
    ('20240311', 'would be in 1970'),
    ('7', 'would be in 1970'),
    (7, 'would be in 1970'),
    (-3600, 'negative number'),
    ('99999999999999', 'beyond the year 9999'),
    ('2024-02-30', 'not a valid date'),
    ('2024-13-01', 'not a valid date'),
    ('1969-12-31', 'before 1970'),
    ('2024-03-11T24:00', 'not a valid time of day'),
    ('2024-03-11T08:60', 'not a valid time of day'),
    ('2024-03-11T08:30:61', 'not a valid time of day'),
    ('2024-03-11Z', 'ISO 8601'),
    ('2024-03-11T08', 'ISO 8601'),
    ('2024-3-11', 'ISO 8601'),
    ('2024-03-11T08:30+25:00', 'out of range'),
    ('2024-03-11T08:30+02:75', 'out of range'),
    ('11.03.2024', 'dots'),
    ('13/11/24', 'not a valid date'),
    ('02/30/24', 'not a valid date'),
    ('03/11/69', 'before 1970'),
    ('03/11/24 8', 'HH:MM'),
    ('03/11/24 08:30 PM', 'HH:MM'),
    ('today 8', 'HH:MM'),
    ('today 25:00', 'not a valid time of day'),
    ('now 08:00', 'already names an instant'),
    ('recent 08:00', 'already names an instant'),
    ('boot 08:00', 'already names an instant'),
    (True, 'string or a number'),
    (None, 'string or a number'),
    (['today'], 'string or a number'),
    (float('nan'), 'finite'),
    (float('inf'), 'finite'),
    # out of range: the end of 9999-12-31 is 10000-01-01, and a time back from
    # now must not reach before 1970 (issue: OverflowError, year -273788674)
    ('9999-12-31T23:59:59+00:00', None),
    ('-99999999999d', 'before 1970'),
    ('now-99999999999w', 'before 1970'),
    ('-%dd' % (10 ** 400), 'before 1970'),
])
def test_bad_input_is_a_clear_value_error(tz, value, fragment):
    tz(UTC)
    if fragment is None:
        # the last second that ISO 8601 can spell is still a time
        assert parse_time(value, NOW, is_end=True) <= 253402300800
        return
    for is_end in (False, True):
        with pytest.raises(ValueError) as exc:
            parse_time(value, NOW, is_end=is_end, boot_time=NOW - 100)
        message = str(exc.value)
        assert fragment in message
        assert repr(value) in message          # the value is quoted back
        assert 'Accepted:' in message          # and the accepted forms are listed


@pytest.mark.parametrize('value', ['9999-12-31', '12/31/9999', 'this-year'])
def test_end_beyond_the_year_9999_is_a_clear_value_error(tz, value):
    tz(UTC)
    now = utc(9999, 12, 31, 12)
    # as a start it is a time (the beginning of that day or year) ...
    assert parse_time(value, now) < 253402300800
    # ... its end would be in the year 10000 (issue: OverflowError escaped)
    if value != 'this-year':  # an end keyword stops at now
        with pytest.raises(ValueError) as exc:
            parse_time(value, now, is_end=True)
        assert 'beyond the year 9999' in str(exc.value)
    with pytest.raises(ValueError) as exc:
        parse_window(None, '9999-12-31', now)
    assert str(exc.value).startswith('end: ')


# --------------------------------------------------------------------------
# parse_window
# --------------------------------------------------------------------------

def test_window_unset_bounds(tz):
    tz(UTC)
    assert parse_window(None, None, NOW) == (None, None)
    assert parse_window('', '  ', NOW) == (None, None)
    assert parse_window('-1h', None, NOW) == (NOW - HOUR, None)
    assert parse_window(None, 'recent', NOW) == (None, NOW - 600)


def test_window_of_one_keyword_day(tz):
    tz(BERLIN)
    start, end = parse_window('yesterday', 'yesterday', NOW)
    assert start == local(2026, 11, 25, offset_hours=1)
    assert close(end, local(2026, 11, 26, offset_hours=1) - END_EPSILON)
    assert parse_window('today', 'today', NOW) == (local(2026, 11, 26, offset_hours=1), NOW)
    start, end = parse_window('2024-03-11', '2024-03-11', NOW)
    assert close(end - start, DAY - END_EPSILON)


def test_window_same_instant_is_allowed(tz):
    tz(UTC)
    instant = '2024-03-11T08:00:00.5Z'
    assert parse_window(instant, instant, NOW) == (utc(2024, 3, 11, 8) + 0.5,) * 2
    start, end = parse_window('2024-03-11T08:00:00Z', '2024-03-11T08:00:00Z', NOW)
    assert start == utc(2024, 3, 11, 8) and start < end


def test_window_boot(tz):
    tz(UTC)
    assert parse_window('boot', 'now', NOW, boot_time=NOW - 1234.5) == (NOW - 1234.5, NOW)
    with pytest.raises(ValueError) as exc:
        parse_window('boot', None, NOW)
    assert str(exc.value).startswith('start: ')


@pytest.mark.parametrize('start, end', [
    ('today', 'yesterday'),
    ('now', '-1h'),
    ('2024-03-12', '2024-03-11'),
    ('2024-03-11T08:00:01Z', '2024-03-11T08:00:00.5Z'),
])
def test_window_start_after_end(tz, start, end):
    tz(BERLIN)
    with pytest.raises(ValueError) as exc:
        parse_window(start, end, NOW)
    message = str(exc.value)
    assert 'later than end' in message
    assert repr(start) in message and repr(end) in message


def test_window_errors_name_the_option(tz):
    tz(UTC)
    with pytest.raises(ValueError) as exc:
        parse_window('foo', 'today', NOW)
    assert str(exc.value).startswith("start: cannot use 'foo'")
    with pytest.raises(ValueError) as exc:
        parse_window('today', '+1d', NOW)
    assert str(exc.value).startswith("end: cannot use '+1d'")


def test_window_message_shows_resolved_local_times(tz):
    tz(BERLIN)
    with pytest.raises(ValueError) as exc:
        parse_window('today', 'yesterday', NOW)
    assert '2026-11-26T00:00:00+01:00' in str(exc.value)


def test_now_defaults_to_the_clock(tz):
    tz(UTC)
    before = time.time()
    start, end = parse_window('now', None, None)
    assert before <= start <= time.time()
    assert end is None
