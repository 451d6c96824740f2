# -*- coding: utf-8 -*-
# Copyright (c) 2024, virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Golden tests: the engine's result for every sample log against expectations
written by hand from docs/session-model.md (tests/unit/golden/*.yml).

The layout of the golden files and the order rules they encode are described
in the header comment of each file.  Failures list every disagreement at once
(session index, name, key, expected, got) so that a single run shows the
whole picture.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import copy
import os

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
GOLDEN_DIR = os.path.join(TESTS, 'unit', 'golden')
SAMPLES_DIR = os.path.join(TESTS, 'fixtures', 'samples')

TOLERANCE = 1e-3
FLOAT_KEYS = ('start_epoch', 'end_epoch', 'duration_seconds', 'first_epoch', 'last_epoch')
SESSION_KEYS = ('host', 'name', 'uuid', 'virt', 'state', 'start_epoch', 'start_reason',
                'end_epoch', 'stop_reason', 'duration_seconds', 'pid', 'user', 'label')
RESOURCE_KEYS = ('kind', 'reason', 'value', 'result', 'id', 'close_reason', 'close_id')
AVC_KEYS = ('id', 'lsm', 'result', 'operation', 'name', 'matched_by')
ANOMALY_KEYS = ('id', 'type', 'pid', 'sig', 'matched_by')
MISSING = '<missing>'


def _uid_resolver(uid):
    return {0: 'root'}.get(uid)


def _golden_names():
    if not os.path.isdir(GOLDEN_DIR):
        return []
    return sorted(n[:-4] for n in os.listdir(GOLDEN_DIR) if n.endswith('.yml'))


def _load_golden(name):
    with open(os.path.join(GOLDEN_DIR, name + '.yml')) as handle:
        return yaml.safe_load(handle)


def _engine():
    """Import the engine lazily so that a missing engine fails the tests (with
    a clear message) instead of breaking collection."""
    try:
        from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_report
    except ImportError as exc:
        pytest.fail('engine not importable (plugins/module_utils/session_report.py): {0}'.format(exc))
    if not hasattr(session_report, 'run'):
        pytest.fail('plugins/module_utils/session_report.py has no run()')
    return session_report.run


def _run(log):
    run = _engine()
    path = os.path.join(SAMPLES_DIR, log)
    assert os.path.isfile(path), 'fixture missing: {0}'.format(path)
    result = run(paths=[path], all_events=True, proof=True, default_host='testhost',
                 uid_resolver=_uid_resolver)
    assert isinstance(result, dict), 'run() returned {0!r}, not a dict'.format(type(result))
    return result


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _same(key, expected, got):
    if key in FLOAT_KEYS and _is_number(expected):
        return _is_number(got) and abs(float(expected) - float(got)) <= TOLERANCE
    if _is_number(expected) and _is_number(got):
        return expected == got and type(expected) is type(got)
    return expected == got


def _pick(item, keys):
    if not isinstance(item, dict):
        return {'<not a dict>': repr(item)}
    return dict((k, item.get(k, MISSING)) for k in keys)


def _label(session):
    if not isinstance(session, dict):
        return repr(session)
    return '{0}/{1} start={2}'.format(session.get('host'), session.get('name'), session.get('start_epoch'))


def _compare_list(where, what, keys, expected_items, got_items, problems):
    """Compare two lists of dicts restricted to keys, in order."""
    if not isinstance(got_items, list):
        problems.append('{0}: {1} is {2!r}, expected a list of {3} items'.format(where, what, got_items, len(expected_items)))
        return
    exp_ids = [e.get('id') for e in expected_items]
    got_ids = [g.get('id') if isinstance(g, dict) else None for g in got_items]
    if len(got_items) != len(expected_items):
        problems.append('{0}: {1}: expected {2} items, got {3}; ids missing {4}, ids unexpected {5}'.format(
            where, what, len(expected_items), len(got_items),
            [i for i in exp_ids if i not in got_ids], [i for i in got_ids if i not in exp_ids]))
    elif exp_ids != got_ids and sorted(exp_ids, key=str) == sorted(got_ids, key=str):
        problems.append('{0}: {1}: same ids, different order: expected {2}, got {3}'.format(where, what, exp_ids, got_ids))
        return
    by_id = dict((g.get('id'), g) for g in got_items if isinstance(g, dict))
    for index, exp in enumerate(expected_items):
        got = by_id.get(exp.get('id'))
        if got is None and index < len(got_items) and len(got_items) == len(expected_items):
            got = got_items[index]
        if got is None:
            continue  # already reported as missing
        picked = _pick(got, keys)
        diffs = ['{0}: expected {1!r}, got {2!r}'.format(k, exp.get(k), picked[k])
                 for k in keys if not _same(k, exp.get(k), picked[k])]
        if diffs:
            problems.append('{0}: {1}[{2}] id={3}: {4}'.format(where, what, index, exp.get('id'), '; '.join(diffs)))


def _compare_sessions(expected_sessions, got_sessions, problems):
    if not isinstance(got_sessions, list):
        problems.append('sessions is {0!r}, expected a list'.format(got_sessions))
        return
    if len(got_sessions) != len(expected_sessions):
        problems.append('expected {0} sessions, got {1}:\n    expected {2}\n    got      {3}'.format(
            len(expected_sessions), len(got_sessions),
            [_label(s) for s in expected_sessions], [_label(s) for s in got_sessions]))
    for index, (exp, got) in enumerate(zip(expected_sessions, got_sessions)):
        where = 'session[{0}] {1}'.format(index, _label(exp))
        if not isinstance(got, dict):
            problems.append('{0}: got {1!r}'.format(where, got))
            continue
        for key in SESSION_KEYS:
            value = got.get(key, MISSING)
            if not _same(key, exp[key], value):
                problems.append('{0}: {1}: expected {2!r}, got {3!r}'.format(where, key, exp[key], value))
        _compare_list(where, 'resources', RESOURCE_KEYS, exp['resources'], got.get('resources', MISSING), problems)
        _compare_list(where, 'avcs', AVC_KEYS, exp['avcs'], got.get('avcs', MISSING), problems)
        _compare_list(where, 'anomalies', ANOMALY_KEYS, exp['anomalies'], got.get('anomalies', MISSING), problems)
        wanted = [i['id'] for part in ('resources', 'avcs', 'anomalies') for i in exp[part]]
        proof = got.get('proof', MISSING)
        if not isinstance(proof, list):
            problems.append('{0}: proof is {1!r}, expected a list of event ids'.format(where, proof))
        else:
            absent = [i for i in wanted if i not in proof]
            if absent:
                problems.append('{0}: proof lacks ids {1}'.format(where, absent))


def _compare_summary(expected, got, problems):
    if not isinstance(got, dict):
        problems.append('summary is {0!r}, expected a dict'.format(got))
        return
    for key, exp in expected.items():
        value = got.get(key, MISSING)
        if key == 'states':
            states = value if isinstance(value, dict) else {}
            for state, count in exp.items():
                if states.get(state, MISSING) != count:
                    problems.append('summary.states.{0}: expected {1!r}, got {2!r}'.format(state, count, states.get(state, MISSING)))
            extra = sorted(set(states) - set(exp))
            if extra or not isinstance(value, dict):
                problems.append('summary.states: unexpected content {0!r}'.format(value))
        elif key == 'hosts':
            if not isinstance(value, list) or sorted(value) != sorted(exp):
                problems.append('summary.hosts: expected {0!r}, got {1!r}'.format(sorted(exp), value))
        elif not _same(key, exp, value):
            problems.append('summary.{0}: expected {1!r}, got {2!r}'.format(key, exp, value))


def _compare_host_events(expected, got, problems):
    if not isinstance(got, list):
        problems.append('host_events is {0!r}, expected a list'.format(got))
        return
    got_pairs = [(e.get('type'), e.get('id')) if isinstance(e, dict) else (repr(e), None) for e in got]
    exp_pairs = [(e['type'], e['id']) for e in expected]
    if got_pairs != exp_pairs:
        problems.append('host_events (type, id):\n      expected {0}\n      got      {1}'.format(exp_pairs, got_pairs))


def _fail_on(problems, title):
    if problems:
        pytest.fail('{0}: {1} disagreement(s)\n  - {2}'.format(title, len(problems), '\n  - '.join(problems)),
                    pytrace=False)


# ---------------------------------------------------------------- the golden files themselves

@pytest.mark.parametrize('name', _golden_names())
def test_golden_file_is_consistent(name):
    """Guard against typos in the hand-written files (runs without the engine)."""
    golden = _load_golden(name)
    assert golden['log'] == name + '.log'
    assert os.path.isfile(os.path.join(SAMPLES_DIR, golden['log']))
    with open(os.path.join(SAMPLES_DIR, golden['log']), 'rb') as handle:
        text = handle.read().decode('utf-8', 'replace')
    sessions = golden['sessions']
    assert golden['summary']['sessions'] == len(sessions)
    states = golden['summary']['states']
    for state in ('running', 'stopped', 'crashed', 'failed', 'down', 'lost'):
        assert states[state] == sum(1 for s in sessions if s['state'] == state), state
    assert golden['summary']['resources'] == sum(
        1 for s in sessions if s['state'] != 'failed' for r in s['resources'] if r['result'] == 'success')
    assert golden['summary']['avcs'] == sum(len(s['avcs']) for s in sessions)
    assert golden['summary']['anomalies'] == sum(len(s['anomalies']) for s in sessions)
    starts = [s['start_epoch'] for s in sessions if s['start_epoch'] is not None]
    assert starts == sorted(starts)
    assert all(s['start_epoch'] is None for s in sessions[:len(sessions) - len(starts)])
    for session in sessions:
        assert set(SESSION_KEYS) <= set(session), sorted(set(SESSION_KEYS) - set(session))
        if session['duration_seconds'] is not None:
            assert abs(session['end_epoch'] - session['start_epoch'] - session['duration_seconds']) <= TOLERANCE
        order = [(float(r['id'].split(':')[0]), int(r['id'].split(':')[1])) for r in session['resources']]
        assert order == sorted(order), session['name']
        for item in session['resources'] + session['avcs'] + session['anomalies'] + golden['host_events']:
            # every id quoted in a golden file is an event id of that log
            assert 'msg=audit({0})'.format(item['id']) in text, item['id']
        for item in session['resources']:
            assert set(item) == set(RESOURCE_KEYS), item
            if item['close_id'] is not None:
                assert 'msg=audit({0})'.format(item['close_id']) in text, item['close_id']


# ---------------------------------------------------------------- engine against the golden files

@pytest.mark.parametrize('name', _golden_names())
def test_golden(name):
    golden = _load_golden(name)
    result = _run(golden['log'])
    problems = []
    missing = [k for k in ('sessions', 'summary', 'host_events') if k not in result]
    if missing:
        problems.append('result lacks keys {0} (has {1})'.format(missing, sorted(result)))
    _compare_sessions(golden['sessions'], result.get('sessions', MISSING), problems)
    _compare_summary(golden['summary'], result.get('summary', MISSING), problems)
    _compare_host_events(golden['host_events'], result.get('host_events', MISSING), problems)
    _fail_on(problems, golden['log'])


# ---------------------------------------------------------------- raw vs ENRICHED

def _strip_enrichment(sessions):
    """Drop what may legitimately differ between a raw and an ENRICHED log:
    the user names of AVCs and anomalies (and the free-text event details
    that may quote them)."""
    sessions = copy.deepcopy(sessions)
    for session in sessions:
        for part in ('avcs', 'anomalies'):
            for item in session.get(part) or []:
                item.pop('user', None)
        if isinstance(session.get('events'), list):
            session['events'] = [(e.get('id'), e.get('kind'), e.get('epoch')) for e in session['events']]
    return sessions


def _first_difference(left, right, path='sessions'):
    if isinstance(left, dict) and isinstance(right, dict):
        for key in sorted(set(left) | set(right), key=str):
            if key not in left or key not in right:
                return '{0}.{1}: only in {2}'.format(path, key, 'raw' if key in left else 'enriched')
            found = _first_difference(left[key], right[key], '{0}.{1}'.format(path, key))
            if found:
                return found
        return None
    if isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return '{0}: {1} items (raw) vs {2} (enriched)'.format(path, len(left), len(right))
        for index, (a, b) in enumerate(zip(left, right)):
            found = _first_difference(a, b, '{0}[{1}]'.format(path, index))
            if found:
                return found
        return None
    if left != right:
        return '{0}: raw {1!r} vs enriched {2!r}'.format(path, left, right)
    return None


def _items(result, part, event_id):
    return [i for s in result['sessions'] for i in (s.get(part) or []) if i.get('id') == event_id]


@pytest.mark.parametrize('base', ['sessions-selinux', 'record-catalog', 'apparmor'])
def test_enriched_matches_raw(base):
    raw = _run(base + '.log')
    enriched = _run(base + '-enriched.log')
    assert raw['sessions'], 'no sessions from {0}.log'.format(base)
    difference = _first_difference(_strip_enrichment(raw['sessions']), _strip_enrichment(enriched['sessions']))
    assert difference is None, difference
    assert raw['summary'] == enriched['summary']
    if base == 'sessions-selinux':
        # The one place where enrichment shows: uid 107 of the qemu process.
        # Raw: the resolver knows only uid 0 -> "unknown(107)"; enriched: the
        # log's UID="qemu" wins.
        for part, event_id in (('avcs', '1710146700.250:1067'), ('anomalies', '1710147000.000:1069')):
            raw_items, enriched_items = _items(raw, part, event_id), _items(enriched, part, event_id)
            assert len(raw_items) == 1 and len(enriched_items) == 1, (part, event_id)
            assert raw_items[0].get('user') == 'unknown(107)', (part, raw_items[0])
            assert enriched_items[0].get('user') == 'qemu', (part, enriched_items[0])
