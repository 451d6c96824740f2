# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text of auvirt-style columns: escaped free text and times (module_utils/auvirt_format.py builds the rows).

Pure functions, standard library only, Python 3.6+.

Times are printed like ``ctime()`` without seconds and year
(``Mon Mar 11 08:00``), always in UTC; a period column is
``Mon Mar 11 08:00 - 11:16  (03:16)``, padded to PERIOD_WIDTH and never cut
(auvirt cut its closing parenthesis).

Free text taken from the log (guest names, user names, paths, commands…)
is escaped so that a hostile value can never break the line and column
structure: backslash becomes ``\\\\``, TAB ``\\t``, LF ``\\n``, CR ``\\r``,
any other control character (C0, DEL, C1) ``\\xHH``, and the Unicode line
and paragraph separators ``\\u2028``/``\\u2029`` and the bidirectional
controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069)
``\\uXXXX``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math
import time

_DAYS = ('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')
_MONTHS = ('Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun',
           'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec')

# auvirt: 32, which cuts the ")" of "Www Mmm dd HH:MM - HH:MM  (hh:mm)" (33).
PERIOD_WIDTH = 33

START_UNKNOWN = 'start unknown'

# Written as \uXXXX: the Unicode line and paragraph separators (they break
# lines) and the bidirectional controls (U+061C, U+200E/F, U+202A-U+202E,
# U+2066-U+2069: they reorder what a terminal or editor shows, so that a
# name could display as another guest's or hide a column).
_LINE_BREAKERS = dict(
    (ch, u'\\u%04x' % ord(ch))
    for ch in (u'\u2028\u2029\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')
)


def escape(value):
    """Make ``value`` safe for one TAB-separated column of one line.

    ``None`` becomes the empty string (as auvirt printed NULL fields).
    """
    if value is None:
        return u''
    if not isinstance(value, str):
        value = str(value)
    out = []
    for ch in value:
        code = ord(ch)
        if ch == u'\\':
            out.append(u'\\\\')
        elif ch == u'\t':
            out.append(u'\\t')
        elif ch == u'\n':
            out.append(u'\\n')
        elif ch == u'\r':
            out.append(u'\\r')
        elif code < 0x20 or 0x7f <= code <= 0x9f:
            out.append(u'\\x%02x' % code)
        elif ch in _LINE_BREAKERS:
            out.append(_LINE_BREAKERS[ch])
        else:
            out.append(ch)
    return u''.join(out)


def _seconds(epoch):
    """Whole seconds of an audit time (auvirt ignored the milliseconds)."""
    return int(math.floor(float(epoch)))


def ctime16(epoch):
    """``ctime()`` of ``epoch`` in UTC cut to 16 characters: ``Mon Mar  1 08:00``."""
    tm = time.gmtime(_seconds(epoch))
    return u'%s %s %2d %02d:%02d' % (_DAYS[tm.tm_wday], _MONTHS[tm.tm_mon - 1],
                                     tm.tm_mday, tm.tm_hour, tm.tm_min)


def _hhmm(epoch):
    tm = time.gmtime(_seconds(epoch))
    return u'%02d:%02d' % (tm.tm_hour, tm.tm_min)


def duration_text(start_epoch, end_epoch):
    """``(hh:mm)`` or ``(D+hh:mm)`` like auvirt, complete.

    The duration is computed from whole seconds and truncated to whole
    minutes, as auvirt did.  A negative duration (clock stepped back) is
    shown with a leading ``-`` instead of auvirt's garbage.
    """
    secs = _seconds(end_epoch) - _seconds(start_epoch)
    sign = u''
    if secs < 0:
        sign = u'-'
        secs = -secs
    mins = (secs // 60) % 60
    hours = (secs // 3600) % 24
    days = secs // 86400
    if days:
        return u'(%s%d+%02d:%02d)' % (sign, days, hours, mins)
    return u'(%s%02d:%02d)' % (sign, hours, mins)


def period(start_epoch, end_epoch=None, marker=None, suffix=None):
    """Build a time-period column.

    ``start_epoch`` None -> ``start unknown`` and the end with its date;
    ``end_epoch`` set -> `` - HH:MM  (hh:mm)``; else ``marker`` (``failed``,
    ``lost``…) -> `` - marker``; ``suffix`` (``crashed``, ``down``) is
    appended after a space.  Padded to PERIOD_WIDTH, never cut.
    """
    if start_epoch is None:
        text = u'%-16s' % START_UNKNOWN
        if end_epoch is not None:
            text += u' - ' + ctime16(end_epoch)
        elif marker:
            text += u' - ' + marker
    else:
        text = ctime16(start_epoch)
        if end_epoch is not None:
            text += u' - %-7s' % _hhmm(end_epoch)
            text += duration_text(start_epoch, end_epoch)
        elif marker:
            text += u' - ' + marker
    if suffix:
        text += u' ' + suffix
    return u'%-*s' % (PERIOD_WIDTH, text)


def session_period(session):
    """The period column of a session (default row and ``start`` row).

    =========  ==================================================
    state      rendering
    =========  ==================================================
    stopped    ``Mon Mar 11 08:00 - 11:16  (03:16)``
    running    ``Mon Mar 11 08:12`` (no end, as auvirt)
    failed     ``Mon Mar 11 08:10 - failed`` (as auvirt)
    crashed    ``Mon Mar 11 08:20 - 08:50  (00:30) crashed``
    down       ``Mon Mar 11 08:12 - 13:00  (04:48) down``
    lost       ``Mon Mar 11 08:12 - lost``
    =========  ==================================================

    Without a start (partial session) the start reads ``start unknown``
    and the end is printed with its date:
    ``start unknown    - Mon Mar 11 08:50``, plus `` crashed``/`` down``.
    """
    state = session.get('state')
    start = session.get('start_epoch')
    end = session.get('end_epoch')
    if state == 'failed':
        return period(start, None, marker=u'failed')
    if state == 'running':
        return period(start, None)
    if state == 'lost':
        return period(start, None, marker=u'lost')
    if state == 'stopped':
        return period(start, end)
    # crashed, down and any state this module does not know yet: show the
    # end when known and name the state.
    if end is None:
        return period(start, None, marker=escape(state) or None)
    return period(start, end, suffix=escape(state) or None)
