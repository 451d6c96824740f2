# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests of the auvirt-compatible text renderer (hand-built sessions)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import calendar

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import auvirt_format as af

T = '\t'
UUID_WEB = '5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b'
UUID_DB = '8c2f6a71-3e4d-4b5c-9d8e-7f6a5b4c3d2e'


def ep(text, millis=0):
    """'2024-03-11 08:00:01' (UTC) -> epoch float."""
    date, clock = text.split(' ')
    y, mo, d = (int(x) for x in date.split('-'))
    h, mi, s = (int(x) for x in clock.split(':'))
    return calendar.timegm((y, mo, d, h, mi, s, 0, 0, 0)) + millis / 1000.0


def eid(epoch, serial):
    return '%.3f:%d' % (epoch, serial)


def session(name='web01', uuid=UUID_WEB, state='stopped', start=None, end=None,
            start_serial=1016, end_serial=1092, user='root', host='hv1',
            start_reason='booted', stop_reason='shutdown', **extra):
    start_epoch = None if start is None else ep(start)
    end_epoch = None if end is None else ep(end)
    s = {
        'host': host, 'name': name, 'uuid': uuid, 'virt': 'kvm', 'state': state,
        'start_epoch': start_epoch, 'end_epoch': end_epoch,
        'start_reason': start_reason if start is not None else None,
        'stop_reason': stop_reason,
        'user': user,
        'start_id': None if start is None else eid(start_epoch, start_serial),
        'end_id': None if end is None else eid(end_epoch, end_serial),
        'first_seen_epoch': start_epoch if start is not None else end_epoch,
    }
    s.update(extra)
    return s


def resource(kind, reason, value, opened, serial, closed=None, close_serial=None,
             result='success', **details):
    o = ep(opened)
    c = None if closed is None else ep(closed)
    return {
        'kind': kind, 'reason': reason, 'value': value, 'result': result,
        'opened_epoch': o, 'id': eid(o, serial),
        'closed_epoch': c, 'close_id': None if c is None else eid(c, close_serial),
        'details': details,
    }


# ----------------------------------------------------------------- basics

def test_ctime16_is_utc_and_space_pads_the_day():
    assert af.ctime16(ep('2024-03-11 08:00:59')) == 'Mon Mar 11 08:00'
    assert af.ctime16(ep('2024-03-01 23:59:00')) == 'Fri Mar  1 23:59'
    assert af.ctime16(ep('2012-01-23 19:02:00')) == 'Mon Jan 23 19:02'
    assert af.ctime16(ep('2023-12-31 00:00:00')) == 'Sun Dec 31 00:00'


def test_ctime16_ignores_milliseconds():
    assert af.ctime16(ep('2024-03-11 08:59:59', 999)) == 'Mon Mar 11 08:59'


@pytest.mark.parametrize('start,end,text', [
    ('2024-03-11 08:00:00', '2024-03-11 11:16:00', '(03:16)'),
    ('2024-03-11 08:00:01', '2024-03-11 08:40:00', '(00:39)'),  # whole minutes, truncated
    ('2024-03-11 08:00:00', '2024-03-11 08:00:59', '(00:00)'),
    ('2024-03-11 13:30:00', '2024-03-12 15:33:00', '(1+02:03)'),
    ('2024-03-01 00:00:00', '2024-03-13 00:01:00', '(12+00:01)'),
    ('2024-03-11 08:00:00', '2024-03-11 07:58:00', '(-00:02)'),
])
def test_duration_text(start, end, text):
    assert af.duration_text(ep(start), ep(end)) == text


def test_duration_uses_whole_seconds_of_each_end():
    # 08:00:00.900 -> 08:01:00.100 is 59.2 s but 60 whole seconds apart (auvirt rule)
    assert af.duration_text(ep('2024-03-11 08:00:00', 900), ep('2024-03-11 08:01:00', 100)) == '(00:01)'


@pytest.mark.parametrize('raw,escaped', [
    ('web01', 'web01'),
    ('a\tb', 'a\\tb'),
    ('a\nb', 'a\\nb'),
    ('a\r\nb', 'a\\r\\nb'),
    ('back\\slash', 'back\\\\slash'),
    ('bell\x07', 'bell\\x07'),
    ('del\x7f', 'del\\x7f'),
    (u'c1\x85', 'c1\\x85'),
    (u'ls\u2028ps\u2029', 'ls\\u2028ps\\u2029'),
    # bidirectional controls would reorder what a terminal shows (issue: U+202E reached the lines raw)
    (u'web\u202egpj.exe', 'web\\u202egpj.exe'),
    (u'\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069',
     '\\u061c\\u200e\\u200f\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068\\u2069'),
    (u'Gäst 10', u'Gäst 10'),
    (None, ''),
    (4194304, '4194304'),
])
def test_escape(raw, escaped):
    assert af.escape(raw) == escaped


# ----------------------------------------------------------- default view

def test_default_rows_every_state():
    sessions = [
        session('web01', start='2024-03-11 08:00:01', end='2024-03-11 11:16:00'),
        session('db01', UUID_DB, state='failed', start='2024-03-11 08:10:00',
                end='2024-03-11 08:10:00', stop_reason=None, start_serial=1030, end_serial=1030),
        session('db01', UUID_DB, state='down', start='2024-03-11 08:12:00',
                end='2024-03-11 13:00:00', stop_reason=None, start_serial=1044, end_serial=1101),
        session('crashy', state='crashed', start='2024-03-11 08:20:00',
                end='2024-03-11 08:50:30', stop_reason='failed', start_serial=1062, end_serial=1070),
        session('zombie', state='lost', start='2024-03-11 08:30:00', stop_reason=None),
        session('db01', UUID_DB, state='running', start='2024-03-11 13:06:00', stop_reason=None,
                start_serial=20),
        session('batch01', start='2024-03-11 13:30:00', end='2024-03-12 15:33:00'),
    ]
    lines = af.auvirt_lines(sessions)
    assert lines == [
        'web01                 \troot       \tMon Mar 11 08:00 - 11:16  (03:15)',
        'db01                  \troot       \tMon Mar 11 08:10 - failed        ',
        'db01                  \troot       \tMon Mar 11 08:12 - 13:00  (04:48) down',
        'crashy                \troot       \tMon Mar 11 08:20 - 08:50  (00:30) crashed',
        'zombie                \troot       \tMon Mar 11 08:30 - lost          ',
        'db01                  \troot       \tMon Mar 11 13:06                 ',
        'batch01               \troot       \tMon Mar 11 13:30 - 15:33  (1+02:03)',
    ]


def test_period_column_is_never_cut():
    s = session(start='2024-03-11 08:00:00', end='2024-03-11 11:16:00')
    period = af.auvirt_lines([s])[0].split(T)[2]
    assert period == 'Mon Mar 11 08:00 - 11:16  (03:16)'
    assert len(period) == 33  # auvirt: 32, the ")" was lost
    multi = session(start='2024-03-01 08:00:00', end='2024-03-13 10:02:00')
    assert af.auvirt_lines([multi])[0].split(T)[2] == 'Fri Mar  1 08:00 - 10:02  (12+02:02)'


def test_partial_session_without_start():
    s = session('orphan', start=None, end='2024-03-11 08:50:00', stop_reason='shutdown')
    assert af.auvirt_lines([s]) == [
        'orphan                \troot       \tstart unknown    - Mon Mar 11 08:50'
    ]
    c = session('orphan', start=None, end='2024-03-11 08:50:00', state='crashed',
                stop_reason='failed')
    assert af.auvirt_lines([c])[0].endswith('\tstart unknown    - Mon Mar 11 08:50 crashed')
    d = session('orphan', start=None, end='2024-03-11 13:00:00', state='down', stop_reason=None)
    assert af.auvirt_lines([d])[0].endswith('\tstart unknown    - Mon Mar 11 13:00 down')


def test_unknown_future_state_is_named_not_hidden():
    s = session(start='2024-03-11 08:00:00', end='2024-03-11 09:00:00', state='paused')
    assert af.auvirt_lines([s])[0].endswith('(01:00) paused')
    s = session(start='2024-03-11 08:00:00', state='paused')
    assert af.auvirt_lines([s])[0].endswith('08:00 - paused' + ' ' * 8)


def test_default_rows_are_sorted_by_start():
    late = session('late', start='2024-03-11 10:00:00', end='2024-03-11 11:00:00')
    early = session('early', start='2024-03-11 08:00:00', end='2024-03-11 12:00:00')
    partial = session('partial', start=None, end='2024-03-11 09:00:00')
    names = [l.split(T)[0].strip() for l in af.auvirt_lines([late, partial, early])]
    assert names == ['early', 'partial', 'late']


def test_same_second_starts_sorted_by_serial():
    a = session('a', start='2024-03-11 08:00:00', start_serial=12, end='2024-03-11 09:00:00')
    b = session('b', start='2024-03-11 08:00:00', start_serial=9, end='2024-03-11 09:00:00')
    assert [l[:1] for l in af.auvirt_lines([a, b])] == ['b', 'a']


def test_long_name_and_user_are_not_cut():
    name = 'a-very-long-guest-name-for-testing-widths'
    s = session(name, start='2024-03-11 08:00:00', end='2024-03-11 09:00:00',
                user='unknown(64055)')
    cols = af.auvirt_lines([s])[0].split(T)
    assert cols[0] == name
    assert cols[1] == 'unknown(64055)'
    short = af.auvirt_lines([session('x', start='2024-03-11 08:00:00', user='qemu')])[0].split(T)
    assert short[0] == 'x' + ' ' * 21
    assert short[1] == 'qemu' + ' ' * 7


def test_show_uuid_column():
    s = session(start='2024-03-11 08:00:00', end='2024-03-11 09:00:00')
    line = af.auvirt_lines([s], show_uuid=True)[0]
    assert line == ('web01                 \t' + UUID_WEB + '\troot       \t'
                    'Mon Mar 11 08:00 - 09:00  (01:00)')


def test_host_column_tells_the_same_guest_on_two_hosts_apart():
    """auvirt had no host column: a guest migrated between two nodes of one log looked like one guest twice."""
    src = session(host='hv-a', start='2024-03-11 08:00:00', end='2024-03-11 09:00:00', stop_reason='migrated')
    dst = session(host='hv-b', start='2024-03-11 09:00:00', end='2024-03-11 10:00:00', start_reason='migrated')
    plain = af.auvirt_lines([src, dst])
    assert plain == af.auvirt_lines([src, dst], show_host='never')
    assert [line.split(T)[0] for line in plain] == ['web01' + ' ' * 17] * 2
    auto = af.auvirt_lines([src, dst], show_host='auto', show_uuid=True)
    assert [line.split(T)[:3] for line in auto] == [['web01' + ' ' * 17, 'hv-a' + ' ' * 12, UUID_WEB],
                                                    ['web01' + ' ' * 17, 'hv-b' + ' ' * 12, UUID_WEB]]
    # one host: auto keeps auvirt's layout, always adds the column
    assert af.auvirt_lines([src], show_host='auto') == af.auvirt_lines([src])
    assert af.auvirt_lines([src], show_host='always')[0].split(T)[1] == 'hv-a' + ' ' * 12
    rows = af.auvirt_lines([src, dst], show_host='auto', all_events=True)
    assert all(row.split(T)[1].strip() in ('hv-a', 'hv-b') for row in rows), rows


def test_hostile_names_keep_line_structure():
    evil = session('evil\tname\nstart  fake\troot', start='2024-03-11 08:00:00',
                   end='2024-03-11 09:00:00', user='ro\not')
    good = session('good', start='2024-03-11 10:00:00', end='2024-03-11 11:00:00')
    lines = af.auvirt_lines([evil, good])
    text = '\n'.join(lines)
    assert len(text.splitlines()) == 2
    assert lines[0].split(T) == ['evil\\tname\\nstart  fake\\troot', 'ro\\not     ',
                                 'Mon Mar 11 08:00 - 09:00  (01:00)']


def test_hostile_values_in_all_events_keep_columns():
    s = session(start='2024-03-11 08:00:00', end='2024-03-11 09:00:00',
                resources=[resource('disk', 'start', '/img/a\tb\nc.qcow2', '2024-03-11 08:00:00', 10,
                                    '2024-03-11 09:00:00', 1092)],
                avcs=[], anomalies=[], events=[], security_labels=[])
    lines = af.auvirt_lines([s], all_events=True)
    assert len('\n'.join(lines).splitlines()) == 3
    assert lines[0].split(T)[-1] == '/img/a\\tb\\nc.qcow2'
    assert len(lines[0].split(T)) == 6


def test_default_proof_is_start_and_end_with_full_ids():
    s = session(start='2024-03-11 08:00:01', end='2024-03-11 11:16:00')
    s['proof'] = ['1710155760.000:1092', '1710144001.000:1001', '1710144001.000:1016']
    lines = af.auvirt_lines([s], proof=True)
    assert lines[1:] == ['    Proof:1710144001.000:1016,1710155760.000:1092', '']
    failed = session(state='failed', start='2024-03-11 08:10:00', end='2024-03-11 08:10:00',
                     start_serial=1030, end_serial=1030, stop_reason=None)
    assert af.auvirt_lines([failed], proof=True)[1] == '    Proof:1710144600.000:1030'


def test_proof_sorts_ids_numerically_not_as_text():
    s = session(start='2024-03-11 08:00:00', end='2024-03-11 08:00:00', start_serial=100, end_serial=99)
    assert af.auvirt_lines([s], proof=True)[1] == \
        '    Proof:1710144000.000:99,1710144000.000:100'


def test_no_proof_lines_without_proof():
    s = session(start='2024-03-11 08:00:00')
    s['proof'] = ['1710144000.000:1']
    assert len(af.auvirt_lines([s])) == 1


def test_empty_input():
    assert af.auvirt_lines([]) == []
    assert af.auvirt_lines([], all_events=True, proof=True) == []


# -------------------------------------------------------------- all events

def _web01_all_events():
    s = session('web01', start='2024-03-11 08:00:01', end='2024-03-11 11:16:00',
                start_serial=1016, end_serial=1092)
    s['security_labels'] = [
        {'model': 'selinux', 'vm_ctx': 'system_u:system_r:svirt_t:s0:c107,c434',
         'img_ctx': 'system_u:object_r:svirt_image_t:s0:c107,c434', 'id': eid(ep('2024-03-11 08:00:00'), 1001)},
        {'model': 'dac', 'vm_ctx': '+107:+107', 'img_ctx': '+107:+107', 'id': eid(ep('2024-03-11 08:00:00'), 1002)},
    ]
    s['resources'] = [
        # deliberately not in time order: the renderer sorts
        resource('disk', 'attach', '/var/lib/libvirt/images/data.qcow2', '2024-03-11 08:30:00', 1063,
                 '2024-03-11 09:00:00', 1064),
        resource('cgroup', 'deny', 'all', '2024-03-11 08:00:00', 1005, '2024-03-11 11:16:00', 1092,
                 **{'class': 'all', 'cgroup': '/sys/fs/cgroup/machine.slice/x'}),
        resource('cgroup', 'allow', '/dev/null', '2024-03-11 08:00:00', 1006, '2024-03-11 11:16:00', 1092,
                 **{'class': 'path', 'acl': 'rw', 'rdev': '01:03'}),
        resource('cgroup', 'allow', 'pty', '2024-03-11 08:00:00', 1009, '2024-03-11 11:16:00', 1092,
                 **{'class': 'major', 'acl': 'rw', 'maj': '88'}),
        resource('disk', 'start', '/var/lib/libvirt/images/web01.qcow2', '2024-03-11 08:00:01', 1010,
                 '2024-03-11 11:16:00', 1092),
        resource('chardev', 'start', '/dev/pts/3', '2024-03-11 08:00:01', 1012,
                 '2024-03-11 11:16:00', 1092),
        resource('mem', 'start', '4194304', '2024-03-11 08:00:01', 1014, '2024-03-11 08:40:00', 1065),
        resource('disk', 'attach', '/var/lib/libvirt/images/bad.qcow2', '2024-03-11 08:31:00', 1064,
                 '2024-03-11 08:31:00', 1064, result='failed'),
        resource('mem', 'update', '2097152', '2024-03-11 08:40:00', 1065, '2024-03-11 11:16:00', 1092),
    ]
    s['avcs'] = [{
        'time': None, 'epoch': ep('2024-03-11 08:45:00'), 'id': eid(ep('2024-03-11 08:45:00'), 1067),
        'lsm': 'selinux', 'result': 'denied', 'operation': 'write', 'comm': 'qemu-kvm',
        'name': 'shared.img', 'pid': 4242, 'scontext': 'system_u:system_r:svirt_t:s0:c107,c434',
        'tcontext': 'system_u:object_r:nfs_t:s0', 'tclass': 'file', 'profile': None,
        'user': 'unknown(107)', 'matched_by': 'scontext',
    }, {
        'time': None, 'epoch': ep('2024-03-11 08:46:00'), 'id': eid(ep('2024-03-11 08:46:00'), 1068),
        'lsm': 'selinux', 'result': 'denied', 'operation': 'relabelfrom', 'comm': 'qemu-kvm',
        'name': None, 'pid': None, 'scontext': 'system_u:system_r:svirt_t:s0:c107,c434',
        'tcontext': 'system_u:object_r:svirt_image_t:s0', 'tclass': 'file', 'profile': None,
        'user': None, 'matched_by': 'scontext',
    }]
    s['anomalies'] = []
    s['events'] = []
    return s


def test_all_events_rows_layout_and_order():
    lines = af.auvirt_lines([_web01_all_events()], all_events=True)
    p = 'web01                 \troot       \t'
    assert lines == [
        'resrc  ' + p + 'Mon Mar 11 08:00 - 11:16  (03:16)\tcgroup      \tdeny      \tall\t\t',
        'resrc  ' + p + 'Mon Mar 11 08:00 - 11:16  (03:16)\tcgroup      \tallow     \tpath\trw\t/dev/null',
        'resrc  ' + p + 'Mon Mar 11 08:00 - 11:16  (03:16)\tcgroup      \tallow     \tmajor\trw\tpty',
        'resrc  ' + p + 'Mon Mar 11 08:00 - 11:16  (03:15)\tdisk        \tstart     \t'
                        '/var/lib/libvirt/images/web01.qcow2',
        'resrc  ' + p + 'Mon Mar 11 08:00 - 11:16  (03:15)\tchardev     \tstart     \t/dev/pts/3',
        'resrc  ' + p + 'Mon Mar 11 08:00 - 08:40  (00:39)\tmem         \tstart     \t4194304',
        'start  ' + p + 'Mon Mar 11 08:00 - 11:16  (03:15)\tbooted',
        'resrc  ' + p + 'Mon Mar 11 08:30 - 09:00  (00:30)\tdisk        \tattach    \t'
                        '/var/lib/libvirt/images/data.qcow2',
        'resrc  ' + p + 'Mon Mar 11 08:31 - failed        \tdisk        \tattach    \t'
                        '/var/lib/libvirt/images/bad.qcow2',
        'resrc  ' + p + 'Mon Mar 11 08:40 - 11:16  (02:36)\tmem         \tupdate    \t2097152',
        'avc    web01                 \tunknown(107)\tMon Mar 11 08:45                 \t'
        'write       \tdenied    \tqemu-kvm\tshared.img\t',
        'avc    web01                 \t?          \tMon Mar 11 08:46                 \t'
        'relabelfrom \tdenied    \tqemu-kvm\t\tsystem_u:system_r:svirt_t:s0:c107,c434',
        'stop   ' + p + 'Mon Mar 11 11:16                 \tshutdown',
    ]


def test_all_events_proof_per_row():
    lines = af.auvirt_lines([_web01_all_events()], all_events=True, proof=True, show_uuid=True)
    assert len(lines) == 13 * 3
    rows = lines[0::3]
    proofs = lines[1::3]
    assert set(lines[2::3]) == {''}
    assert all(r.split(T)[1] == UUID_WEB for r in rows)
    by_type = dict((r.split(' ')[0], p) for r, p in zip(rows, proofs))
    assert by_type['start'] == '    Proof:1710144001.000:1016,1710155760.000:1092'
    assert by_type['stop'] == '    Proof:1710155760.000:1092'
    assert proofs[0] == '    Proof:1710144000.000:1005,1710155760.000:1092'
    # failed resource: opened and closed by the same record, listed once
    failed = [p for r, p in zip(rows, proofs) if 'bad.qcow2' in r][0]
    assert failed == '    Proof:1710145860.000:1064'
    avc = [p for r, p in zip(rows, proofs) if 'shared.img' in r][0]
    # the SELinux label record, not the DAC one, then the AVC itself
    assert avc == '    Proof:1710144000.000:1001,1710146700.000:1067'


def test_all_events_interleaves_sessions_by_time():
    a = session('a', start='2024-03-11 08:00:00', end='2024-03-11 10:00:00', start_serial=10,
                end_serial=30, resources=[], avcs=[], anomalies=[], events=[])
    b = session('b', UUID_DB, start='2024-03-11 09:00:00', end='2024-03-11 09:30:00',
                start_serial=20, end_serial=25, resources=[], avcs=[], anomalies=[], events=[])
    rows = [(l[:7].strip(), l[7:].split(T)[0].strip())
            for l in af.auvirt_lines([a, b], all_events=True)]
    assert rows == [('start', 'a'), ('start', 'b'), ('stop', 'b'), ('stop', 'a')]


def test_all_events_failed_start_and_running():
    failed = session('db01', UUID_DB, state='failed', start='2024-03-11 08:10:00',
                     end='2024-03-11 08:10:00', stop_reason=None, start_serial=1030, end_serial=1030,
                     resources=[resource('disk', 'start', '/d.qcow2', '2024-03-11 08:10:00', 1026,
                                         '2024-03-11 08:10:00', 1030)],
                     avcs=[], anomalies=[], events=[])
    running = session('db01', UUID_DB, state='running', start='2024-03-11 08:12:00',
                      stop_reason=None, start_serial=1044,
                      resources=[resource('net', 'start', '52:54:00:aa:bb:01', '2024-03-11 08:12:00', 1041)],
                      avcs=[], anomalies=[], events=[])
    lines = af.auvirt_lines([running, failed], all_events=True)
    p = 'db01                  \troot       \t'
    assert lines == [
        'resrc  ' + p + 'Mon Mar 11 08:10 - 08:10  (00:00)\tdisk        \tstart     \t/d.qcow2',
        'start  ' + p + 'Mon Mar 11 08:10 - failed        \tbooted',
        'resrc  ' + p + 'Mon Mar 11 08:12                 \tnet         \tstart     \t52:54:00:aa:bb:01',
        'start  ' + p + 'Mon Mar 11 08:12                 \tbooted',
    ]


def test_all_events_crash_anomaly_and_stop_reason():
    crash_epoch = ep('2024-03-11 08:50:00')
    s = session('crashy', state='crashed', start='2024-03-11 08:20:00', end='2024-03-11 08:50:01',
                stop_reason='failed', start_serial=1062, end_serial=1070,
                resources=[], avcs=[], events=[],
                anomalies=[{'time': None, 'epoch': crash_epoch, 'id': eid(crash_epoch, 1069),
                            'type': 'ANOM_ABEND', 'pid': 6161, 'comm': 'qemu-kvm',
                            'exe': '/usr/libexec/qemu-kvm', 'sig': 11, 'user': 'qemu',
                            'matched_by': 'pid'}])
    lines = af.auvirt_lines([s], all_events=True)
    p = 'crashy                \troot       \t'
    assert lines == [
        'start  ' + p + 'Mon Mar 11 08:20 - 08:50  (00:30) crashed\tbooted',
        'anom   crashy                \tqemu       \tMon Mar 11 08:50                 \t'
        'ANOM_ABEND  \tsig=11    \tqemu-kvm\t/usr/libexec/qemu-kvm\tpid=6161',
        'stop   ' + p + 'Mon Mar 11 08:50                 \tfailed',
    ]


def test_all_events_crash_by_anomaly_only_has_no_stop_row():
    crash_epoch = ep('2024-03-11 08:50:00')
    s = session('crashy', state='crashed', start='2024-03-11 08:20:00', end='2024-03-11 08:50:00',
                stop_reason=None, start_serial=1062, end_serial=1069,
                resources=[], avcs=[], events=[],
                anomalies=[{'epoch': crash_epoch, 'id': eid(crash_epoch, 1069), 'type': 'ANOM_ABEND',
                            'pid': None, 'comm': None, 'exe': None, 'sig': None, 'user': None,
                            'matched_by': 'scontext'}])
    lines = af.auvirt_lines([s], all_events=True)
    assert [l.split(' ')[0] for l in lines] == ['start', 'anom']
    assert lines[1].split(T)[3:] == ['ANOM_ABEND  ', '          ', '', '', '']


def test_all_events_down_row_from_timeline_and_synthesised():
    down_epoch = ep('2024-03-11 13:00:00')
    with_event = session('db01', UUID_DB, state='down', start='2024-03-11 08:12:00',
                         end='2024-03-11 13:00:00', stop_reason=None, start_serial=1044, end_serial=1101,
                         resources=[], avcs=[], anomalies=[],
                         events=[{'time': None, 'epoch': down_epoch, 'id': eid(down_epoch, 1101),
                                  'kind': 'down', 'detail': 'SYSTEM_SHUTDOWN'}])
    lines = af.auvirt_lines([with_event], all_events=True, proof=True)
    p = 'db01                  \troot       \t'
    assert lines == [
        'start  ' + p + 'Mon Mar 11 08:12 - 13:00  (04:48) down\tbooted',
        '    Proof:1710144720.000:1044,1710162000.000:1101',
        '',
        'down   ' + p + 'Mon Mar 11 13:00                 \tSYSTEM_SHUTDOWN',
        '    Proof:1710162000.000:1101',
        '',
    ]
    without = dict(with_event, events=[])
    lines = af.auvirt_lines([without], all_events=True)
    assert lines[1] == 'down   ' + p + 'Mon Mar 11 13:00                 '


def test_all_events_lost_and_init_rows():
    lost_epoch = ep('2024-03-11 13:06:00')
    init_epoch = ep('2024-03-11 08:12:01')
    s = session('ct1', state='lost', start='2024-03-11 08:12:00', stop_reason=None, start_serial=44,
                resources=[], avcs=[], anomalies=[],
                events=[{'epoch': lost_epoch, 'id': eid(lost_epoch, 20), 'kind': 'lost', 'detail': None},
                        {'epoch': init_epoch, 'id': eid(init_epoch, 45), 'kind': 'init',
                         'detail': {'init-pid': 4321, 'pid-ns': 4026532000}},
                        {'epoch': init_epoch, 'id': eid(init_epoch, 45), 'kind': 'label',
                         'detail': 'selinux'}])
    lines = af.auvirt_lines([s], all_events=True)
    p = 'ct1                   \troot       \t'
    assert lines == [
        'start  ' + p + 'Mon Mar 11 08:12 - lost          \tbooted',
        'init   ' + p + 'Mon Mar 11 08:12                 \tinit-pid=4321 pid-ns=4026532000',
        'lost   ' + p + 'Mon Mar 11 13:06                 ',
    ]


def test_all_events_partial_session_has_stop_row_only():
    s = session('orphan', start=None, end='2024-03-11 08:50:00', stop_reason='destroyed',
                end_serial=77, resources=[], avcs=[], anomalies=[], events=[])
    lines = af.auvirt_lines([s], all_events=True)
    assert lines == ['stop   orphan                \troot       \tMon Mar 11 08:50                 \tdestroyed']


@pytest.mark.parametrize('kind,value,details', [
    ('dev', '0000:03:00.0', {'bus': 'pci'}),
    ('dev', 'USB redirdev', {'bus': 'usb'}),
    ('hostdev', '/dev/sdb', {}),
    ('tpm', '/dev/tpm0', {}),
    ('tpm-emulator', '/run/libvirt/qemu/swtpm/1-cat01-swtpm.sock', {}),
    ('tpm-external', '/run/swtpm.sock', {}),
    ('shmem', '/dev/shm/shmem0', {'size': '4194304'}),
    ('ivshmem-socket', '/run/ivshmem.sock', {}),
    ('evdev', '/dev/input/event3', {}),
    ('iothread', '2', {}),
    ('fs', '/srv/share', {}),
    ('smartcard', 'nss-smartcard-device', {}),
    ('net', '/dev/vhost-net', {'net': '52:54:00:01:02:03', 'rdev': '0A:EE'}),
    ('rng', '/dev/urandom', {}),
    ('vcpu', '4', {}),
])
def test_every_resource_kind_is_printed(kind, value, details):
    r = resource(kind, 'start', value, '2024-03-11 08:00:00', 5, **details)
    s = session(start='2024-03-11 08:00:00', state='running', stop_reason=None, start_serial=9,
                resources=[r], avcs=[], anomalies=[], events=[])
    line = af.auvirt_lines([s], all_events=True)[0]
    cols = line.split(T)
    assert line.startswith('resrc  ')
    assert cols[3] == '%-12s' % kind
    assert cols[4] == 'start     '
    assert cols[5:] == [value]


def test_long_resource_kind_and_avc_operation_not_cut():
    r = resource('ivshmem-socket-x', 'start-longer-reason', '/x', '2024-03-11 08:00:00', 5)
    a = {'epoch': ep('2024-03-11 08:01:00'), 'id': eid(ep('2024-03-11 08:01:00'), 6),
         'operation': 'file_mprotect_x', 'result': 'denied-long-x', 'comm': 'c', 'name': 'n',
         'user': 'root'}
    s = session(start='2024-03-11 08:00:00', state='running', stop_reason=None, start_serial=9,
                resources=[r], avcs=[a], anomalies=[], events=[])
    lines = af.auvirt_lines([s], all_events=True)
    assert lines[0].split(T)[3:5] == ['ivshmem-socket-x', 'start-longer-reason']
    assert lines[2].split(T)[3:5] == ['file_mprotect_x', 'denied-long-x']


def test_avc_relabelto_shows_target_context():
    a = {'epoch': ep('2024-03-11 08:01:00'), 'id': eid(ep('2024-03-11 08:01:00'), 6),
         'operation': 'relabelto', 'result': 'denied', 'comm': 'virtqemud', 'name': 'img',
         'scontext': 'S', 'tcontext': 'T', 'user': 'root'}
    s = session(start='2024-03-11 08:00:00', state='running', stop_reason=None, start_serial=9,
                resources=[], avcs=[a], anomalies=[], events=[])
    assert af.auvirt_lines([s], all_events=True)[1].split(T)[-1] == 'T'


def test_multi_host_rows_same_second_are_stable():
    a = session('a', host='hv1', start='2024-03-11 09:00:00', end='2024-03-11 09:10:00',
                start_serial=500, resources=[], avcs=[], anomalies=[], events=[])
    b = session('a', host='hv2', start='2024-03-11 09:00:00', start_serial=7, state='running',
                stop_reason=None, resources=[], avcs=[], anomalies=[], events=[])
    one = af.auvirt_lines([a, b], all_events=True)
    two = af.auvirt_lines([b, a], all_events=True)
    assert one == two
    assert af.auvirt_lines([a, b]) == af.auvirt_lines([b, a])


# ----------------------------------------------------------------- summary

SUMMARY = {
    'sessions': 8,
    'states': {'running': 1, 'stopped': 4, 'crashed': 1, 'failed': 1, 'down': 1, 'lost': 0},
    'starts': 7, 'stops': 5, 'resources': 61, 'avcs': 2, 'anomalies': 1,
    'avcs_unattributed': 0, 'anomalies_unattributed': 3, 'failed_operations': 2,
    'first': None, 'first_epoch': ep('2024-03-11 08:00:00', 124),
    'last': None, 'last_epoch': ep('2024-03-12 15:33:00'),
    'hosts': ['hv1', 'hv2'],
}


def test_summary_block():
    lines = af.auvirt_lines([], summary=SUMMARY, summary_only=True)
    assert lines[:7] == [
        'Range of time for report:       Mon Mar 11 08:00 - Tue Mar 12 15:33',
        'Number of guest starts:         7',
        'Number of guest stops:          5',
        'Number of resource assignments: 61',
        'Number of related AVCs:         2',
        'Number of related anomalies:    1',
        'Number of failed operations:    2',
    ]
    assert lines[7:] == [
        'Number of guest sessions:       8',
        'Sessions still running:         1',
        'Sessions stopped:               4',
        'Sessions crashed:               1',
        'Sessions failed to start:       1',
        'Sessions ended by host down:    1',
        'Sessions lost:                  0',
        'Number of unrelated AVCs:       0',
        'Number of unrelated anomalies:  3',
        'Hosts:                          hv1 hv2',
    ]


def test_summary_empty_range_is_undef():
    empty = {'sessions': 0, 'states': {}, 'starts': 0, 'stops': 0, 'resources': 0, 'avcs': 0,
             'anomalies': 0, 'failed_operations': 0, 'first_epoch': None, 'last_epoch': None,
             'hosts': []}
    lines = af.auvirt_lines([], summary=empty, summary_only=True)
    assert lines[0] == 'Range of time for report:       undef - undef'
    assert lines[1] == 'Number of guest starts:         0'


def test_summary_only_ignores_rows_and_needs_summary():
    s = session(start='2024-03-11 08:00:00')
    assert af.auvirt_lines([s], summary=SUMMARY, summary_only=True, all_events=True, proof=True) == \
        af.summary_lines(SUMMARY)
    with pytest.raises(ValueError):
        af.auvirt_lines([s], summary_only=True)


def test_anomaly_proof_is_start_and_anomaly():
    crash_epoch = ep('2024-03-11 08:50:00')
    s = session('crashy', state='crashed', start='2024-03-11 08:20:00', end='2024-03-11 08:50:00',
                stop_reason=None, start_serial=1062, end_serial=1069, resources=[], avcs=[], events=[],
                anomalies=[{'epoch': crash_epoch, 'id': eid(crash_epoch, 1069), 'type': 'ANOM_ABEND',
                            'user': 'qemu'}])
    lines = af.auvirt_lines([s], all_events=True, proof=True)
    assert lines[3].startswith('anom   crashy')
    assert lines[4] == '    Proof:1710145200.000:1062,1710147000.000:1069'
