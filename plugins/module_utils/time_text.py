# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Times as text: the one place an epoch becomes ISO 8601.

* ``iso(epoch)`` - UTC with milliseconds, ``2024-03-11T08:00:01.124+00:00``
  (rounded to the nearest millisecond), or None for None: every time of a
  result, a fact, a guest event, a checkpoint and the fleet report.
* ``iso_local(epoch)`` - the process's local time with its UTC offset,
  ``2024-03-11T09:00:01.124+01:00`` (milliseconds only when there are
  any), for messages about the time options.
* ``utc_offset(epoch)`` - the local offset from UTC in seconds.

Audit records carry UTC epochs; time zones are rendered on the controller
(plugins/plugin_utils/fleet_time.py).  Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar
import math
import time

# a result shows the same second many times: the text of the last few thousand seconds is kept
_ISO_CACHE = {}
_ISO_TAILS = tuple(".%03d+00:00" % millis for millis in range(1000))


def iso(epoch):
    """ISO 8601 UTC with milliseconds (``2024-03-11T08:00:01.124+00:00``), or None."""
    if epoch is None:
        return None
    seconds, millis = divmod(int(round(epoch * 1000)), 1000)  # millis: 0..999, also before 1970
    head = _ISO_CACHE.get(seconds)
    if head is None:
        if len(_ISO_CACHE) > 4096:
            _ISO_CACHE.clear()
        head = _ISO_CACHE[seconds] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return head + _ISO_TAILS[millis]


def utc_offset(epoch):
    """Offset of local time from UTC, in seconds, at ``epoch``."""
    return calendar.timegm(time.localtime(epoch)) - int(math.floor(epoch))


def iso_local(epoch):
    """``epoch`` as local ISO 8601 with offset, for messages."""
    whole = int(math.floor(epoch))
    offset = utc_offset(whole)
    sign = '-' if offset < 0 else '+'
    offset = abs(offset)
    text = time.strftime('%Y-%m-%dT%H:%M:%S', time.localtime(whole))
    millis = int(round((epoch - whole) * 1000))
    if millis == 1000:
        millis = 999
    if millis:
        text += '.%03d' % millis
    return text + '%s%02d:%02d' % (sign, offset // 3600, offset % 3600 // 60)
