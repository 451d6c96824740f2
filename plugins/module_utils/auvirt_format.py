# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render sessions in the text layout of the old ``auvirt`` tool.

Pure functions, standard library only, Python 3.6+.

The columns, their order, the TAB separators and the space padding are
auvirt's (``NAME<TAB>[UUID<TAB>]USER<TAB>PERIOD[<TAB>extra columns]``, the
``--all-events`` type prefix, ``    Proof:`` lines and the ``--summary``
block), but nothing is ever cut: auvirt printed its fields with a C
precision (``%-22.22s``, ``%-11.11s``, ``%-32.32s``) that truncated long
names, long user names and, always, the closing parenthesis of the
duration.  Here the same widths are minimum widths only.  Every deliberate
difference is listed in ``docs/auvirt-differences.md``.

The escaping of free text and the time columns are in
``auvirt_text.py``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.auvirt_text import (
    ctime16,
    duration_text,
    escape,
    period,
    session_period,
)

__all__ = [
    'auvirt_lines',
    'escape',
    'ctime16',
    'duration_text',
    'session_period',
    'summary_lines',
]

# Minimum widths (auvirt used them as width *and* precision).
NAME_WIDTH = 22
UUID_WIDTH = 36
HOST_WIDTH = 16
USER_WIDTH = 11
TYPE_WIDTH = 6
RES_KIND_WIDTH = 12
RES_REASON_WIDTH = 10
AVC_OPERATION_WIDTH = 12
AVC_RESULT_WIDTH = 10

# Row type prefixes of the --all-events view (auvirt: start stop resrc avc
# anom; down as in the 2012 auvirt; lost and init are ours).
ROW_TYPES = ('start', 'stop', 'resrc', 'avc', 'anom', 'down', 'lost', 'init')

_SUMMARY_LABEL_WIDTH = 32


def _instant(epoch):
    """Period column of a row that has a single time (stop, avc, anom…)."""
    return period(epoch, None)


def _resource_period(res):
    opened = res.get('opened_epoch')
    if res.get('result') == 'failed':
        return period(opened, None, marker=u'failed')
    return period(opened, res.get('closed_epoch'))


def _proof_ids(ids):
    seen = set()
    out = []
    for event_id in ids:
        if event_id and event_id not in seen:
            seen.add(event_id)
            out.append(event_id)
    out.sort(key=EventId.key)
    return out


def _serial(event_id):
    return EventId.key(event_id)[1]


def _prefix(session, user, columns):
    """Name, [host], [uuid], user; ``columns`` = (show_host, show_uuid)."""
    show_host, show_uuid = columns
    cols = [u'%-*s' % (NAME_WIDTH, escape(session.get('name')))]
    if show_host:
        cols.append(u'%-*s' % (HOST_WIDTH, escape(session.get('host'))))
    if show_uuid:
        cols.append(u'%-*s' % (UUID_WIDTH, escape(session.get('uuid'))))
    cols.append(u'%-*s' % (USER_WIDTH, escape(user)))
    return cols


def _avc_context(avc):
    # auvirt shows a context only for relabel permissions: the source for
    # relabelfrom, the target for relabelto.
    operation = avc.get('operation')
    if operation == 'relabelfrom':
        return avc.get('scontext')
    if operation == 'relabelto':
        return avc.get('tcontext')
    return None


def _detail_text(detail):
    if detail is None:
        return u''
    if isinstance(detail, dict):
        return u' '.join(u'%s=%s' % (k, u'?' if detail[k] is None else detail[k])
                         for k in sorted(detail))
    if isinstance(detail, (list, tuple)):
        return u' '.join(str(d) for d in detail)
    return str(detail)


class _Row(object):
    __slots__ = ('key', 'text', 'proof')

    def __init__(self, key, text, proof):
        self.key = key
        self.text = text
        self.proof = proof


def _row_key(session, epoch, event_id, order):
    if epoch is None:
        epoch = float('inf')
    return (float(epoch), session.get('host') or u'', _serial(event_id), order)


def _session_rows(session, columns, counter):
    """All rows of one session for the --all-events view."""
    rows = []
    user = session.get('user')
    events = session.get('events') or []

    def add(rtype, epoch, event_id, cols, proof):
        counter[0] += 1
        head = u'%-*s' % (TYPE_WIDTH, rtype) + u' '
        text = head + u'\t'.join(cols)
        rows.append(_Row(_row_key(session, epoch, event_id, counter[0]), text, proof))

    for res in session.get('resources') or []:
        cols = _prefix(session, user, columns)
        cols.append(_resource_period(res))
        kind = res.get('kind')
        cols.append(u'%-*s' % (RES_KIND_WIDTH, escape(kind)))
        cols.append(u'%-*s' % (RES_REASON_WIDTH, escape(res.get('reason'))))
        if kind == 'cgroup':
            details = res.get('details') or {}
            klass = details.get('class')
            detail = u'' if klass == 'all' else res.get('value')
            cols.append(escape(klass))
            cols.append(escape(details.get('acl')))
            cols.append(escape(detail))
        else:
            cols.append(escape(res.get('value')))
        add(u'resrc', res.get('opened_epoch'), res.get('id'), cols,
            [res.get('id'), res.get('close_id')])

    if session.get('start_id') is not None or session.get('start_epoch') is not None:
        cols = _prefix(session, user, columns)
        cols.append(session_period(session))
        if session.get('start_reason') is not None:
            cols.append(escape(session.get('start_reason')))
        add(u'start', session.get('start_epoch'), session.get('start_id'), cols,
            [session.get('start_id'), session.get('end_id')])

    if session.get('stop_reason') is not None and session.get('end_epoch') is not None:
        cols = _prefix(session, user, columns)
        cols.append(_instant(session.get('end_epoch')))
        cols.append(escape(session.get('stop_reason')))
        add(u'stop', session.get('end_epoch'), session.get('end_id'), cols,
            [session.get('end_id')])

    # auvirt proved an AVC with the guest's label record (MACHINE_ID).
    label_ids = [lab.get('id') for lab in session.get('security_labels') or []
                 if lab.get('model') != 'dac']
    for avc in session.get('avcs') or []:
        cols = _prefix(session, avc.get('user') or u'?', columns)
        cols.append(_instant(avc.get('epoch')))
        cols.append(u'%-*s' % (AVC_OPERATION_WIDTH, escape(avc.get('operation'))))
        cols.append(u'%-*s' % (AVC_RESULT_WIDTH, escape(avc.get('result'))))
        cols.append(escape(avc.get('comm')))
        cols.append(escape(avc.get('name')))
        cols.append(escape(_avc_context(avc)))
        add(u'avc', avc.get('epoch'), avc.get('id'), cols, label_ids + [avc.get('id')])

    for anom in session.get('anomalies') or []:
        cols = _prefix(session, anom.get('user') or u'?', columns)
        cols.append(_instant(anom.get('epoch')))
        cols.append(u'%-*s' % (AVC_OPERATION_WIDTH, escape(anom.get('type'))))
        sig = anom.get('sig')
        cols.append(u'%-*s' % (AVC_RESULT_WIDTH, u'' if sig is None else u'sig=' + escape(sig)))
        cols.append(escape(anom.get('comm')))
        cols.append(escape(anom.get('exe')))
        cols.append(u'' if anom.get('pid') is None else u'pid=' + escape(anom.get('pid')))
        add(u'anom', anom.get('epoch'), anom.get('id'), cols,
            [session.get('start_id'), anom.get('id')])

    # Host down, lost session, LXC init: from the session's timeline.
    have_down = False
    for event in events:
        kind = event.get('kind')
        if kind not in ('down', 'lost', 'init'):
            continue
        have_down = have_down or kind == 'down'
        cols = _prefix(session, user, columns)
        cols.append(_instant(event.get('epoch')))
        detail = _detail_text(event.get('detail'))
        if detail:
            cols.append(escape(detail))
        add(kind, event.get('epoch'), event.get('id'), cols, [event.get('id')])
    if (session.get('state') == 'down' and not have_down
            and session.get('end_epoch') is not None):
        cols = _prefix(session, user, columns)
        cols.append(_instant(session.get('end_epoch')))
        add(u'down', session.get('end_epoch'), session.get('end_id'), cols,
            [session.get('end_id')])
    return rows


def _default_row(session, columns):
    cols = _prefix(session, session.get('user'), columns)
    cols.append(session_period(session))
    return u'\t'.join(cols), [session.get('start_id'), session.get('end_id')]


def _session_sort_key(indexed):
    index, session = indexed
    epoch = session.get('start_epoch')
    event_id = session.get('start_id')
    if epoch is None:
        epoch = session.get('first_seen_epoch')
        event_id = None
    if epoch is None:
        epoch = session.get('end_epoch')
        event_id = session.get('end_id')
    if epoch is None:
        epoch = float('inf')
    return (float(epoch), session.get('host') or u'', _serial(event_id), index)


def _fmt_count(value):
    return u'%d' % (value or 0)


def summary_lines(summary):
    """The ``--summary`` block: auvirt's seven lines, then ours."""
    first = summary.get('first_epoch')
    last = summary.get('last_epoch')
    lines = [
        u'Range of time for report:       %s - %s' % (
            u'undef' if first is None else ctime16(first),
            u'undef' if last is None else ctime16(last)),
        u'Number of guest starts:         ' + _fmt_count(summary.get('starts')),
        u'Number of guest stops:          ' + _fmt_count(summary.get('stops')),
        u'Number of resource assignments: ' + _fmt_count(summary.get('resources')),
        u'Number of related AVCs:         ' + _fmt_count(summary.get('avcs')),
        u'Number of related anomalies:    ' + _fmt_count(summary.get('anomalies')),
        u'Number of failed operations:    ' + _fmt_count(summary.get('failed_operations')),
    ]
    extra = [
        (u'Number of guest sessions:', summary.get('sessions')),
    ]
    states = summary.get('states') or {}
    for state, label in (('running', u'Sessions still running:'),
                         ('stopped', u'Sessions stopped:'),
                         ('crashed', u'Sessions crashed:'),
                         ('failed', u'Sessions failed to start:'),
                         ('down', u'Sessions ended by host down:'),
                         ('lost', u'Sessions lost:')):
        if state in states:
            extra.append((label, states.get(state)))
    extra.append((u'Number of unrelated AVCs:', summary.get('avcs_unattributed')))
    extra.append((u'Number of unrelated anomalies:', summary.get('anomalies_unattributed')))
    for label, value in extra:
        if value is None:
            continue
        lines.append(u'%-*s%s' % (_SUMMARY_LABEL_WIDTH, label, _fmt_count(value)))
    hosts = summary.get('hosts')
    if hosts:
        lines.append(u'%-*s%s' % (_SUMMARY_LABEL_WIDTH, u'Hosts:',
                                  u' '.join(escape(h) for h in hosts)))
    return lines


def auvirt_lines(sessions, summary=None, all_events=False, summary_only=False,
                 show_uuid=False, proof=False, show_host="never"):
    """Render ``sessions`` (docs/session-model.md) like auvirt.

    Returns a list of lines without newline characters.

    * default: one row per session, in start order;
    * ``all_events``: one row per event (``start``, ``stop``, ``resrc``,
      ``avc``, ``anom``, ``down``, ``lost``, ``init``) sorted by the
      (time, serial) of the row's own event; the sessions must carry the
      ``all_events`` keys;
    * ``summary_only``: only the summary block (``summary`` required);
    * ``show_uuid``: a UUID column after the name;
    * ``show_host``: a host column after the name - ``never`` (auvirt had
      none), ``always``, or ``auto``: when the sessions come from more than
      one host (several ``node=`` names in the logs), where the same guest
      on two hosts could not be told apart otherwise;
    * ``proof``: after each row ``    Proof:`` with the full event ids
      (``SECONDS.MILLIS:SERIAL``) and an empty line.  The ids are the ones
      auvirt gave for that kind of row: session/start row = start and end,
      stop/down/lost/init = the event itself, resource = opening and
      closing record, AVC = the guest's (non-DAC) label records and the AVC,
      anomaly = the start and the anomaly.  Every event of a session is in
      the session's own ``proof`` list of the structured result.
    """
    if summary_only:
        if summary is None:
            raise ValueError('summary_only needs the summary dict')
        return summary_lines(summary)

    if show_host == 'auto':
        show_host = len(set(session.get('host') for session in sessions)) > 1
    columns = (show_host in (True, 'always'), show_uuid)
    rows = []
    if all_events:
        counter = [0]
        for session in sessions:
            rows.extend(_session_rows(session, columns, counter))
        rows.sort(key=lambda row: row.key)
        pairs = [(row.text, row.proof) for row in rows]
    else:
        ordered = sorted(enumerate(sessions), key=_session_sort_key)
        pairs = [_default_row(session, columns) for _index, session in ordered]

    lines = []
    for text, ids in pairs:
        lines.append(text)
        if proof:
            lines.append(u'    Proof:' + u','.join(escape(i) for i in _proof_ids(ids)))
            lines.append(u'')
    return lines
