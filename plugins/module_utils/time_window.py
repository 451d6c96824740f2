# -*- coding: utf-8 -*-
# Copyright (c) 2026, virtaudit.auvirt maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the ``start`` / ``end`` options of the modules into epoch seconds.

Pure functions, standard library only, Python 3.6+.  Everything that names a
wall-clock time without an explicit UTC offset is read in the local time zone
of the process (``TZ`` / ``/etc/localtime``), i.e. of the host whose logs are
read.  The rules, and where they differ from auvirt on purpose, are described
in ``docs/time-windows.md``.

``parse_time(value, now, is_end=False, boot_time=None)`` resolves one value;
``parse_window(start, end, now, boot_time=None)`` resolves both bounds and
checks their order.  Both raise ``ValueError`` with a message meant for the
user (modules hand it to ``fail_json``).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import datetime
import math
import re
import time

from ansible_collections.virtaudit.auvirt.plugins.module_utils.day_keywords import (
    END_EPSILON, KEYWORDS, POINT_KEYWORDS, RECENT_SECONDS, resolve_period, whole_second_end,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso_local, utc_offset

# Bare numbers are epoch seconds only from 1973-03-03 on: smaller numbers are
# far more likely a mistake (``20240311``, ``7``) than a real audit time.
MIN_EPOCH = 100000000
# 10000-01-01T00:00:00Z, the end of what ISO 8601 dates can spell.
MAX_EPOCH = 253402300800

UNIT_SECONDS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}

ACCEPTED = (
    "Accepted: a keyword (now, recent, boot, today, yesterday, this-week, week-ago, "
    "this-month, this-year; the day keywords may be followed by a time HH:MM[:SS], "
    "e.g. 'today 08:00'); an ISO 8601 date or date-time (2024-03-11, 2024-03-11T08:30, "
    "2024-03-11 08:30:15.250, 2024-03-11T08:30:00+02:00, ...Z), read in the host's "
    "local time zone when it has no offset; epoch seconds (1710144000 or 1710144000.5); "
    "a time back from now (-7d, -12h, -30m, -45s, -2w, now-7d); "
    "or auvirt's MM/DD/YY [HH:MM[:SS]] (e.g. '03/11/24 08:30')."
)

_TIME = r'(\d{1,2}):(\d{2})(?::(\d{2}))?'
_TIME_RE = re.compile(r'^' + _TIME + r'$')
_KEYWORD_RE = re.compile(r'^(' + '|'.join(re.escape(k) for k in KEYWORDS) + r')(?: (.*))?$')
_NOW = r'[nN][oO][wW]'
_RELATIVE_RE = re.compile(r'^(?:' + _NOW + r' ?)?- ?(\d+) ?([smhdw])$')
# Anything that looks like an attempt at a relative time, for diagnostics.
_RELATIVE_LIKE_RE = re.compile(r'^(' + _NOW + r' ?)?([+-]*) ?(\d+(?:[.,]\d+)?) ?([A-Za-z]*)$')
_ISO_RE = re.compile(
    r'^(\d{4})-(\d{2})-(\d{2})'
    r'(?:[t ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?'
    r' ?(z|[+-]\d{2}(?::?\d{2})?)?)?$'
)
_MDY_RE = re.compile(r'^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})(?: (.*))?$')
_EPOCH_RE = re.compile(r'^\d+(?:\.\d+)?$')
_OFFSET_RE = re.compile(r'^([+-])(\d{2}):?(\d{2})?$')


def _error(value, reason=None):
    text = "cannot use %r as a time" % (value,)
    if reason:
        text += ": " + reason
    return ValueError(text + ". " + ACCEPTED)


def _local_to_epoch(year, month, day, hour=0, minute=0, second=0, later=False):
    """Epoch of a local wall-clock time.

    An ambiguous time (the repeated hour when clocks go back) gives the
    earlier instant, or the later one with ``later``.  A time that does not
    exist (skipped when clocks go forward) is read with the offset in force
    before the change, so 02:30 in a 02:00->03:00 gap is 03:30 new time.
    """
    fields = (year, month, day, hour, minute, second)
    wall = calendar.timegm(fields + (0, 0, 0))
    offsets = set()
    for probe in (-2 * 86400, -86400, 0, 86400, 2 * 86400):
        try:
            offsets.add(utc_offset(wall + probe))
        except (OverflowError, ValueError, OSError):
            pass  # beyond what the platform's localtime() can do (the year 10000)
    if not offsets:
        raise OverflowError("%04d-%02d-%02d is beyond what local time can express" % fields[:3])
    candidates = set(wall - offset for offset in offsets)
    try:
        candidates.add(int(time.mktime(fields + (0, 0, -1))))
    except (OverflowError, ValueError):
        pass
    matches = sorted(c for c in candidates if tuple(time.localtime(c)[:6]) == fields)
    if matches:
        return float(matches[-1] if later else matches[0])
    # Skipped by a forward change: the offset before it is the smaller one.
    return float(wall - min(offsets))


def _day_start(day):
    return _local_to_epoch(day.year, day.month, day.day)


def _local_today(now):
    return datetime.date(*time.localtime(now)[:3])


def _host_local_epoch(day, hour, minute, second, later):
    return _local_to_epoch(day.year, day.month, day.day, hour, minute, second, later=later)


def _parse_clock(value, text):
    """(hour, minute, second) of an HH:MM[:SS] token, or raise."""
    match = _TIME_RE.match(text)
    if not match:
        raise _error(value, "%r is not a time of day; write HH:MM or HH:MM:SS (24-hour clock)" % (text,))
    hour, minute = int(match.group(1)), int(match.group(2))
    second = int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise _error(value, "%r is not a valid time of day (00:00:00 to 23:59:59)" % (text,))
    return hour, minute, second


def _check_date(value, year, month, day):
    if year < 1970:
        raise _error(value, "year %d is before 1970" % year)
    try:
        return datetime.date(year, month, day)
    except ValueError as exc:
        raise _error(value, "%04d-%02d-%02d is not a valid date (%s)" % (year, month, day, exc))


def _resolve_local(value, day, clock, now, is_end):
    """A local date, with an optional (h, m, s), as a start or an end."""
    if clock is None:
        if not is_end:
            return _day_start(day)
        return _day_start(day + datetime.timedelta(days=1)) - END_EPSILON
    hour, minute, second = clock
    epoch = _local_to_epoch(day.year, day.month, day.day, hour, minute, second, later=is_end)
    return whole_second_end(epoch, is_end)


def _parse_keyword(value, keyword, rest, now, is_end, boot_time):
    if keyword in POINT_KEYWORDS:
        if rest is not None:
            raise _error(value, "%r already names an instant and takes no time of day "
                                "(use e.g. 'today 08:00' for a time today)" % keyword)
        if keyword == 'now':
            return float(now)
        if keyword == 'recent':
            return float(now) - RECENT_SECONDS
        if boot_time is None:
            raise _error(value, "'boot' needs the host's boot time (from /proc/uptime), "
                                "which is not available here")
        return float(boot_time)
    clock = None if rest is None else _parse_clock(value, rest)
    return resolve_period(keyword, clock, _local_today(now), now, is_end, _host_local_epoch)


def _parse_iso(value, match, is_end):
    year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3))
    date = _check_date(value, year, month, day)
    if match.group(4) is None:
        return _resolve_local(value, date, None, None, is_end)
    clock = _parse_clock(value, "%s:%s:%s" % (match.group(4), match.group(5), match.group(6) or '00'))
    fraction = match.group(7)
    zone = match.group(8)
    if zone is None:
        epoch = _local_to_epoch(year, month, day, clock[0], clock[1], clock[2], later=is_end)
    else:
        if zone == 'z':
            offset = 0
        else:
            off = _OFFSET_RE.match(zone)
            hours, minutes = int(off.group(2)), int(off.group(3) or 0)
            if hours > 23 or minutes > 59:
                raise _error(value, "UTC offset %r is out of range" % (zone.upper(),))
            offset = (hours * 3600 + minutes * 60) * (-1 if off.group(1) == '-' else 1)
        epoch = float(calendar.timegm((year, month, day) + clock + (0, 0, 0)) - offset)
    if fraction is not None:
        return epoch + float('0.' + fraction)
    return whole_second_end(epoch, is_end)


def _parse_mdy(value, match, is_end):
    month, day, year_text = int(match.group(1)), int(match.group(2)), match.group(3)
    year = int(year_text)
    if len(year_text) == 2:
        # POSIX strptime %y: 69-99 are 1969-1999, 00-68 are 2000-2068.
        year += 1900 if year >= 69 else 2000
    date = _check_date(value, year, month, day)
    clock = None
    if match.group(4) is not None:
        clock = _parse_clock(value, match.group(4))
    return _resolve_local(value, date, clock, None, is_end)


def _check_epoch(value, number):
    if number < MIN_EPOCH:
        if number < 0:
            raise _error(value, "a negative number is not a time; write a time back from now "
                                "with a unit, e.g. -7d")
        raise _error(value, "a bare number is read as epoch seconds and %s would be in %d, "
                            "which is almost certainly not meant; write a date as 2024-03-11 "
                            "and epoch seconds in full (e.g. 1710144000)"
                     % (value, time.gmtime(number).tm_year))
    if number >= MAX_EPOCH:
        raise _error(value, "epoch seconds beyond the year 9999")


def _diagnose(value, text, raw):
    """The most helpful error for a string nothing accepted."""
    match = _RELATIVE_LIKE_RE.match(raw)
    if match:
        has_now, sign, amount, unit = match.groups()
        if len(sign) > 1:
            raise _error(value, "write a single minus sign, e.g. -7d")
        if sign in ('-', '') and unit and unit.lower() in UNIT_SECONDS and unit != unit.lower():
            raise _error(value, "units are lower case: s, m (minutes), h, d, w; "
                                "months and years are not supported")
        if sign in ('', '+') and (unit or has_now):
            raise _error(value, "times relative to now count backwards; "
                                "write e.g. -7d or now-7d (a window into the future holds no logs)")
        if sign == '-' and not unit:
            raise _error(value, "a time back from now needs a unit: s, m, h, d or w (e.g. -7d)")
        if sign == '-' and ('.' in amount or ',' in amount):
            raise _error(value, "a time back from now takes a whole number (write -90m, not -1.5h)")
        if sign == '-' and unit.lower() not in UNIT_SECONDS:
            raise _error(value, "unknown unit %r; units are s, m (minutes), h, d, w "
                                "(months and years are not supported)" % unit)
        if sign == '' and not unit and not has_now:
            _check_epoch(value, float(amount.replace(',', '.')))
    if re.match(r'^\d{4}-\d{1,2}-\d{1,2}', text):
        raise _error(value, "not a valid ISO 8601 date or date-time (write 2024-03-11, "
                            "2024-03-11T08:30, 2024-03-11T08:30:15.5+02:00; an offset needs a time)")
    if re.match(r'^\d{1,2}\.\d{1,2}\.\d{2,4}', text):
        raise _error(value, "dates with dots are not read; write 2024-03-11 or 03/11/24")
    raise _error(value)


def parse_time(value, now, is_end=False, boot_time=None):
    """Resolve one ``start``/``end`` value to epoch seconds (float, UTC).

    ``now`` is the host's current epoch (``None``: ``time.time()``),
    ``is_end`` selects the inclusive end-of-period reading, ``boot_time`` is
    the host's boot epoch for the ``boot`` keyword.
    """
    if now is None:
        now = time.time()
    if isinstance(value, bool) or value is None:
        raise _error(value, "expected a string or a number")
    if isinstance(value, (int, float)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            raise _error(value, "not a finite number")
        _check_epoch(value, number)
        if isinstance(value, int):
            return whole_second_end(number, is_end)
        return number
    if isinstance(value, bytes):
        try:
            value = value.decode('utf-8')
        except UnicodeDecodeError:
            raise _error(value, "not UTF-8 text")
    if not isinstance(value, str):
        raise _error(value, "expected a string or a number")
    raw = ' '.join(value.split())
    text = raw.lower()
    if not text:
        raise _error(value, "the value is empty")

    match = _RELATIVE_RE.match(raw)
    if match:
        back = int(match.group(1)) * UNIT_SECONDS[match.group(2)]
        if back > now:
            raise _error(value, "that is before 1970, where no audit log reaches")
        return float(now) - back
    try:
        epoch = _parse_absolute(value, text, raw, now, is_end, boot_time)
    except OverflowError:
        epoch = MAX_EPOCH + 1
    if epoch > MAX_EPOCH:
        raise _error(value, "the end of that day or second is beyond the year 9999")
    return epoch


def _parse_absolute(value, text, raw, now, is_end, boot_time):
    """parse_time() for everything but a time back from now."""
    match = _KEYWORD_RE.match(text)
    if match:
        return _parse_keyword(value, match.group(1), match.group(2), now, is_end, boot_time)
    match = _ISO_RE.match(text)
    if match:
        return _parse_iso(value, match, is_end)
    match = _MDY_RE.match(text)
    if match:
        return _parse_mdy(value, match, is_end)
    if _EPOCH_RE.match(text):
        number = float(text)
        _check_epoch(value, number)
        if '.' in text:
            return number
        return whole_second_end(number, is_end)
    _diagnose(value, text, raw)
    raise _error(value)  # not reached: _diagnose always raises


def _is_unset(value):
    return value is None or (isinstance(value, str) and not value.strip())


def parse_window(start, end, now, boot_time=None):
    """Resolve ``start`` and ``end`` to ``(start_epoch, end_epoch)``.

    An unset bound (``None`` or an empty string) is ``None``.  Both bounds
    are inclusive.  Raises ``ValueError`` naming the option on bad input or
    when start is later than end.
    """
    if now is None:
        now = time.time()
    bounds = []
    for name, value, is_end in (('start', start, False), ('end', end, True)):
        if _is_unset(value):
            bounds.append(None)
            continue
        try:
            bounds.append(parse_time(value, now, is_end=is_end, boot_time=boot_time))
        except ValueError as exc:
            raise ValueError("%s: %s" % (name, exc))
    if bounds[0] is not None and bounds[1] is not None and bounds[0] > bounds[1]:
        raise ValueError(
            "start %r (%s) is later than end %r (%s); the window would be empty"
            % (start, iso_local(bounds[0]), end, iso_local(bounds[1]))
        )
    return bounds[0], bounds[1]
