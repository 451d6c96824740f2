# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side time handling of the fleet report.

* ``get_timezone(name)`` - a tzinfo for ``UTC`` or an IANA name
  (``Europe/Berlin``), through python-dateutil.
* ``parse_window(start, end, timezone, now)`` - the human window input
  (``yesterday``, ``2024-03-01``, ``-7d``, ISO date-times, epoch seconds)
  resolved to epoch seconds, dates and day keywords read in ``timezone``.
* ``format_time(epoch, tzinfo)`` - ``2024-03-11 09:00:01 CET``.

python-dateutil is needed for every time zone but UTC; its import is
guarded and ``missing_dateutil()`` says what to install.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import math
import re
import time

try:
    from dateutil import tz as dateutil_tz
    HAS_DATEUTIL = True
except ImportError:  # pragma: no cover - exercised by a test that hides dateutil
    dateutil_tz = None
    HAS_DATEUTIL = False

from ansible_collections.virtaudit.auvirt.plugins.module_utils import day_keywords
from ansible_collections.virtaudit.auvirt.plugins.module_utils.day_keywords import END_EPSILON
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_window import parse_time as _parse_time_host

UTC = datetime.timezone.utc
UTC_NAMES = ("", "utc", "z", "zulu", "etc/utc", "gmt", "etc/gmt", "universal")

# the day keywords and what they mean are the modules' (module_utils/day_keywords.py): one definition
DAY_KEYWORDS = day_keywords.PERIOD_KEYWORDS
ACCEPTED = ("a day keyword (%s; weeks start on Sunday), now, recent, " % ", ".join(DAY_KEYWORDS) +
            "a date (2024-03-01), a date-time (2024-03-01T08:30, 2024-03-01 08:30:00, with or without an "
            "offset such as +01:00 or Z), a time back from now (-7d, -12h, -30m, -2w) or epoch seconds")

_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_NAIVE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[tT ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?$")
_KEYWORD_RE = re.compile(r"^(%s)(?: (\d{1,2}):(\d{2})(?::(\d{2}))?)?$" % "|".join(re.escape(k) for k in DAY_KEYWORDS))


def missing_dateutil():
    return ("python-dateutil is required on the controller (Ansible's Python) for the fleet report's time zones; "
            "install it with 'pip install python-dateutil' or use an execution environment built with "
            "meta/execution-environment.yml")


def get_timezone(name):
    """A tzinfo for ``name``; ValueError when unknown, RuntimeError when dateutil is missing."""
    text = (name or "").strip()
    if text.lower() in UTC_NAMES:
        return dateutil_tz.UTC if HAS_DATEUTIL else UTC
    if not HAS_DATEUTIL:
        raise RuntimeError(missing_dateutil())
    zone = dateutil_tz.gettz(text)
    if zone is None:
        raise ValueError("unknown time zone %r: use an IANA name such as Europe/Berlin or America/New_York, or UTC" % (name,))
    return zone


def timezone_label(tzinfo, epoch=None):
    """Short name of the zone at ``epoch`` (``UTC``, ``CET``, ``CEST``)."""
    moment = datetime.datetime.fromtimestamp(epoch if epoch is not None else time.time(), tzinfo)
    return moment.tzname() or moment.strftime("%z")


def to_datetime(epoch, tzinfo):
    return datetime.datetime.fromtimestamp(epoch, tzinfo)


# (zone, quarter hour) -> (offset seconds, zone name); a report formats the same few hours thousands of times
_OFFSETS = {}
_BUCKET = 900


def _zone_at(epoch, tzinfo):
    moment = datetime.datetime.fromtimestamp(epoch, tzinfo)
    offset = moment.utcoffset()
    return (None if offset is None else offset.total_seconds()), (moment.tzname() or moment.strftime("%z"))


def _offset(second, tzinfo):
    """(offset, name) of ``tzinfo`` at the whole second ``second``, from a cache by quarter hour.

    A quarter hour is cached only when the zone has the same offset and name at
    its first and its last second, so no change of offset lies inside it."""
    key = (id(tzinfo), second // _BUCKET)
    cached = _OFFSETS.get(key)
    if cached is not None:
        return cached
    first = key[1] * _BUCKET
    here = _zone_at(first, tzinfo)
    if here != _zone_at(first + _BUCKET - 1, tzinfo) or here[0] is None or here[0] != int(here[0]):
        return _zone_at(second, tzinfo)
    if len(_OFFSETS) > 100000:
        _OFFSETS.clear()
    _OFFSETS[key] = here
    return here


def format_time(epoch, tzinfo, with_zone=True, millis=False):
    """``epoch`` rendered in ``tzinfo`` (``2024-03-11 09:00:01 CET``); '' for None.

    The same text as ``datetime.fromtimestamp(epoch, tzinfo).strftime(...)``,
    with the zone's offset looked up once per quarter hour."""
    if epoch is None:
        return ""
    # whole seconds and microseconds as datetime.fromtimestamp rounds them
    frac, whole = math.modf(epoch)
    micro = round(frac * 1e6)
    whole = int(whole)
    if micro >= 1000000:
        whole, micro = whole + 1, micro - 1000000
    elif micro < 0:
        whole, micro = whole - 1, micro + 1000000
    offset, name = _offset(whole, tzinfo)
    if offset is None:
        moment = to_datetime(epoch, tzinfo)
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
    else:
        text = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(whole + int(offset)))
    if millis:
        text += ".%03d" % (micro // 1000)
    if with_zone:
        text += " " + name
    return text


def format_duration(seconds):
    """``3d 04:05:06`` / ``04:05:06``; '' for None."""
    if seconds is None:
        return ""
    seconds = int(round(max(0.0, float(seconds))))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "%02d:%02d:%02d" % (hours, minutes, secs)
    return "%dd %s" % (days, clock) if days else clock


def _local_epoch(tzinfo, year, month, day, hour=0, minute=0, second=0, micro=0, later=False):
    """Epoch of a wall time in ``tzinfo``: a repeated time is its first occurrence (its second with
    ``later``), a skipped one moves forward by the gap (the modules' rule, docs/time-windows.md)."""
    naive = datetime.datetime(year, month, day, hour, minute, second, micro)
    if HAS_DATEUTIL and not isinstance(tzinfo, datetime.timezone):
        moment = naive.replace(tzinfo=tzinfo)
        if later:
            moment = dateutil_tz.enfold(moment, fold=1)
        return dateutil_tz.resolve_imaginary(moment).timestamp()
    return naive.replace(tzinfo=tzinfo).timestamp()


def _next_day_epoch(tzinfo, day):
    nxt = day + datetime.timedelta(days=1)
    return _local_epoch(tzinfo, nxt.year, nxt.month, nxt.day)


def parse_bound(value, tzinfo, now, is_end=False):
    """One window bound -> epoch seconds (float).  ValueError with a user message."""
    if isinstance(value, bool):
        raise ValueError("%r is not a time; accepted: %s" % (value, ACCEPTED))
    if isinstance(value, (int, float)):
        return _parse_time_host(value, now, is_end=is_end)
    text = " ".join(str(value).split())
    low = text.lower()
    match = _KEYWORD_RE.match(low)
    if match:
        clock = None
        if match.group(2) is not None:
            clock = (int(match.group(2)), int(match.group(3)), int(match.group(4) or 0))
            if clock[0] > 23 or clock[1] > 59 or clock[2] > 59:
                raise ValueError("%r: not a valid time of day" % (value,))

        def local_epoch(day, hour, minute, second, later):
            return _local_epoch(tzinfo, day.year, day.month, day.day, hour, minute, second, later=later)

        return day_keywords.resolve_period(match.group(1), clock, to_datetime(now, tzinfo).date(), now, is_end, local_epoch)
    match = _DATE_RE.match(low)
    if match:
        try:
            day = datetime.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError as exc:
            raise ValueError("%r: %s" % (value, exc))
        if is_end:
            return _next_day_epoch(tzinfo, day) - END_EPSILON
        return _local_epoch(tzinfo, day.year, day.month, day.day)
    match = _NAIVE_RE.match(text)
    if match:
        parts = [int(p) if p else 0 for p in match.groups()[:6]]
        fraction = match.group(7) or ""
        micro = int((fraction + "000000")[:6]) if fraction else 0
        try:
            epoch = _local_epoch(tzinfo, parts[0], parts[1], parts[2], parts[3], parts[4], parts[5], micro)
        except ValueError as exc:
            raise ValueError("%r: %s" % (value, exc))
        if is_end and match.group(6) is None:
            epoch += 60 - END_EPSILON
        elif is_end and not fraction:
            epoch += 1 - END_EPSILON
        return epoch
    if low == "boot" or low.startswith("boot "):
        raise ValueError("%r: 'boot' differs per host and cannot be a fleet window; accepted: %s" % (value, ACCEPTED))
    # relative times, now/recent, epoch seconds and ISO date-times with an offset
    # do not depend on a time zone: the modules' parser reads them
    try:
        return _parse_time_host(text, now, is_end=is_end)
    except ValueError:
        raise ValueError("%r is not a time the fleet report understands; accepted: %s" % (value, ACCEPTED))


def _unset(value):
    return value is None or (isinstance(value, str) and not value.strip())


def parse_window(start=None, end=None, timezone="UTC", now=None):
    """Resolve the report window.  Returns a dict with ``start_epoch``/``end_epoch`` (None when unset),
    ISO UTC strings, the inputs and the zone; ValueError on bad input."""
    tzinfo = get_timezone(timezone)
    now = resolve_now(now)
    bounds = []
    for name, value, is_end in (("start", start, False), ("end", end, True)):
        if _unset(value):
            bounds.append(None)
            continue
        try:
            bounds.append(round(parse_bound(value, tzinfo, now, is_end), 6))
        except ValueError as exc:
            raise ValueError("fleet_report_%s: %s" % (name, exc))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise ValueError("fleet_report_start (%s) is later than fleet_report_end (%s)"
                         % (format_time(bounds[0], tzinfo), format_time(bounds[1], tzinfo)))
    return {
        "start_input": None if _unset(start) else str(start),
        "end_input": None if _unset(end) else str(end),
        "start_epoch": bounds[0],
        "end_epoch": bounds[1],
        "start": iso(bounds[0]),
        "end": iso(bounds[1]),
        "timezone": (timezone or "UTC"),
        "now_epoch": round(now, 3),
        "now": iso(now),
        # what the modules get: exact epoch seconds, so every host uses the same window
        "module_start": None if bounds[0] is None else "%.6f" % bounds[0],
        "module_end": None if bounds[1] is None else "%.6f" % bounds[1],
    }


def resolve_now(now):
    """``now`` as epoch seconds: None -> the controller's clock; numbers and ISO/epoch strings accepted."""
    if _unset(now):
        return time.time()
    if isinstance(now, (int, float)) and not isinstance(now, bool):
        return float(now)
    try:
        return _parse_time_host(str(now).strip(), time.time())
    except ValueError as exc:
        raise ValueError("fleet_report_now: %s" % exc)
