# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keywords of the time options and what the day keywords mean: one definition.

The modules read the keywords in the host's local zone
(module_utils/time_window.py), the fleet report in its report zone
(plugins/plugin_utils/fleet_time.py); both resolve a day keyword through
``resolve_period``, so ``this-week`` (from Sunday, as in auvirt),
``this-month`` ... are the same days everywhere.  docs/time-windows.md
describes them.

Pure functions, standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import datetime

# ``recent`` is ten minutes back, as in ausearch/auvirt.
RECENT_SECONDS = 600

# An inclusive end that stands for "the whole of this day/second" is returned
# as the next boundary minus one microsecond: later than any audit timestamp
# (millisecond resolution) inside the period, earlier than the next period.
END_EPSILON = 1e-6

# Keywords naming an instant.
POINT_KEYWORDS = ('now', 'recent', 'boot')
# Keywords naming a period of whole local days; they accept a time of day.
PERIOD_KEYWORDS = ('today', 'yesterday', 'this-week', 'week-ago', 'this-month', 'this-year')
KEYWORDS = POINT_KEYWORDS + PERIOD_KEYWORDS


def period(keyword, today):
    """First day and the day after the last day of a period keyword (``PERIOD_KEYWORDS``).

    The one definition of the day keywords: the modules read them in the
    host's zone, the fleet report (plugins/plugin_utils/fleet_time.py) in
    its report zone, both through ``resolve_period``.  The day after is
    None where it would be beyond the year 9999.
    """
    if keyword == 'today':
        first, days = today, 1
    elif keyword == 'yesterday':
        first, days = today - datetime.timedelta(days=1), 1
    elif keyword == 'this-week':
        # Weeks start on Sunday, as in auvirt (date.weekday(): Monday == 0).
        first, days = today - datetime.timedelta(days=(today.weekday() + 1) % 7), 7
    elif keyword == 'week-ago':
        first, days = today - datetime.timedelta(days=7), 1
    elif keyword == 'this-month':
        first = today.replace(day=1)
        days = calendar.monthrange(first.year, first.month)[1]
    elif keyword == 'this-year':
        first = datetime.date(today.year, 1, 1)
        days = 366 if calendar.isleap(first.year) else 365
    else:
        raise ValueError("%r is not a day keyword (%s)" % (keyword, ", ".join(PERIOD_KEYWORDS)))
    try:
        return first, first + datetime.timedelta(days=days)
    except OverflowError:
        return first, None


def resolve_period(keyword, clock, today, now, is_end, local_epoch):
    """Epoch of a day keyword as a ``start`` or an ``end`` (docs/time-windows.md, "Keywords").

    ``clock``: None or ``(hour, minute, second)`` given after the keyword;
    ``today``: the date of now in the zone meant; ``local_epoch(date, hour,
    minute, second, later)``: the epoch of that wall time in that zone
    (``later``: the second of two repeated times).  A period given as end
    ends at its last instant, never after now; with a time of day it is that
    time on the period's first day, covering its whole second.
    """
    first, after = period(keyword, today)
    if clock is not None:
        epoch = local_epoch(first, clock[0], clock[1], clock[2], is_end)
        return whole_second_end(epoch, is_end)
    if not is_end:
        return local_epoch(first, 0, 0, 0, False)
    if after is None:
        return float(now)
    return min(local_epoch(after, 0, 0, 0, False) - END_EPSILON, float(now))


def whole_second_end(epoch, is_end):
    """An end written to the second covers that whole second."""
    if is_end:
        return epoch + 1 - END_EPSILON
    return epoch
