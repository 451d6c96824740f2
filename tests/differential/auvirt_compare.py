# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the differential tests: run auvirt and our engine, normalise
our text output mechanically to auvirt's presentation, diff, classify.

The normalisations (N1-N5) are exactly the ones listed in
docs/auvirt-differences.md, section "Normalisations"; nothing else is
changed before comparing.
"""

from __future__ import absolute_import, division, print_function

import difflib
import os
import pwd
import re
import subprocess

DEFAULT_AUVIRT = '/usr/bin/auvirt'
# another auvirt binary (e.g. built from audit-userspace 3.1.5) may be named
AUVIRT = os.environ.get('VIRTAUDIT_AUVIRT') or DEFAULT_AUVIRT
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(ROOT, 'tests', 'fixtures')
INSTALL_SCRIPT = os.path.join(HERE, 'install_auvirt.sh')

# option sets: name -> (auvirt options, keyword arguments of run())
MODES = {
    'default': ([], {}),
    'all': (['--all-events'], {'all_events': True}),
    'all-uuid-proof': (['--all-events', '--show-uuid', '--proof'],
                       {'all_events': True, 'show_uuid': True, 'proof': True}),
    'summary': (['--summary'], {'summary_only': True}),
}
# file name suffix of the recorded auvirt outputs for each mode
RECORDED_SUFFIX = {
    'default': '.auvirt.txt',
    'all': '.auvirt-all.txt',
    'all-uuid-proof': '.auvirt-all-uuid-proof.txt',
    'summary': '.auvirt-summary.txt',
}

# auvirt's printf precisions (tools/auvirt/auvirt.c print_event)
NAME_W, UUID_W, USER_W, PERIOD_W = 22, 36, 11, 32
KIND_W, REASON_W = 12, 10
AUVIRT_SUMMARY_LINES = 7
# resource kinds auvirt understands (spec 5.5); everything else it drops,
# and net reason=open produces nothing.
AUVIRT_KINDS = ('disk', 'net', 'rng', 'mem', 'vcpu', 'cgroup')
# row types of our --all-events view that have no extra columns in auvirt
NO_EXTRA_COLUMNS = ('start', 'stop', 'anom', 'down', 'lost', 'init')

ID_RE = re.compile(r'^\d+\.\d{3}:\d+$')


def must_fail(required, no_auvirt_here):
    """A missing auvirt fails the run when VIRTAUDIT_REQUIRE_AUVIRT is set - unless the
    distribution's audit package has no auvirt at all (audit-userspace >= 4.0)."""
    return bool(required) and not no_auvirt_here


def passwd_resolver(uid):
    """What auvirt does for a raw log: the local passwd database."""
    try:
        return pwd.getpwuid(uid).pw_name
    except (KeyError, OverflowError, ValueError):
        return None


def root_only_resolver(uid):
    """The passwd of the machine that recorded the stored outputs (only
    uid 0 resolved there: the qemu uids print as unknown(N))."""
    return {0: 'root'}.get(uid)


def capture_host_resolver(uid):
    """The passwd of the Debian 12 host of the real libvirt capture."""
    return {0: 'root', 64055: 'libvirt-qemu'}.get(uid)


def _text(data):
    return data.decode('utf-8', 'surrogateescape')


def _lines(text):
    # split on LF only: str.splitlines() would also split on \x1c, \x85 ...
    lines = text.split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    return lines


def run_auvirt(log, mode, auvirt=AUVIRT):
    """``TZ=UTC LC_ALL=C auvirt --file LOG [options]`` -> lines."""
    env = {'TZ': 'UTC', 'LC_ALL': 'C', 'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}
    proc = subprocess.Popen([auvirt, '--file', log] + MODES[mode][0], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise AssertionError('auvirt exited %d: %s' % (proc.returncode, _text(err)))
    return _lines(_text(out))


def read_recorded(path):
    """A stored auvirt output: first line the command, last the exit status."""
    with open(path, 'rb') as handle:
        lines = _lines(_text(handle.read()))
    assert lines[0].startswith('$ '), path
    assert lines[-1] == '[exit status: 0]', path
    return lines[1:-1]


def run_ours(log, mode, uid_resolver=passwd_resolver):
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run
    result = run(paths=[log], auvirt_lines=True, default_host='testhost',
                 uid_resolver=uid_resolver, **MODES[mode][1])
    return result['auvirt_lines']


# ------------------------------------------------------------ normalising

def cut(text, width):
    """C's ``%-W.Ws`` on the UTF-8 bytes of ``text`` (N1, N2)."""
    raw = text.encode('utf-8', 'surrogateescape')[:width]
    raw = raw + b' ' * (width - len(raw))
    return raw.decode('utf-8', 'surrogateescape')


def serials(proof_line):
    """``    Proof:T.M:S,...`` -> ``    Proof:S,...`` (N4)."""
    ids = proof_line[len('    Proof:'):]
    ids = ids.split(',') if ids else []
    for event_id in ids:
        if not ID_RE.match(event_id):
            raise AssertionError('not a full event id: %r in %r' % (event_id, proof_line))
    return '    Proof:' + ','.join(i.rpartition(':')[2] for i in ids)


def normalise(lines, mode):
    """Our auvirt_lines -> what auvirt's printf would have made of them."""
    if mode == 'summary':
        return list(lines[:AUVIRT_SUMMARY_LINES])                       # N5
    all_events = mode != 'default'
    show_uuid = 'uuid' in mode
    out = []
    for line in lines:
        if line.startswith('    Proof:'):
            out.append(serials(line))
            continue
        if line == '':
            out.append(line)
            continue
        rtype = None
        if all_events:
            rtype, line = line[:6].strip(), line[7:]
        cols = line.split('\t')
        head = [cut(cols.pop(0), NAME_W)]
        if show_uuid:
            head.append(cut(cols.pop(0), UUID_W))
        head.append(cut(cols.pop(0), USER_W))
        head.append(cut(cols.pop(0), PERIOD_W))                          # N1
        if rtype in NO_EXTRA_COLUMNS:
            cols = []                                                    # N3
        elif rtype in ('resrc', 'avc') and len(cols) >= 2:
            cols = [cut(cols[0], KIND_W), cut(cols[1], REASON_W)] + cols[2:]  # N2
        text = '\t'.join(head + cols)
        if all_events:
            text = '%-6.5s ' % rtype + text
        out.append(text)
    return out


# ---------------------------------------------------------- diff, classify

def units(lines, proof):
    """Group a row with its ``Proof:`` line (and the empty line after it)."""
    if not proof:
        return list(lines)
    grouped = []
    for line in lines:
        if line.startswith('    Proof:') and grouped:
            grouped[-1] += '\n' + line
        elif line == '' and grouped:
            continue
        else:
            grouped.append(line)
    return grouped


def parse_row(unit, mode):
    """A row (or summary line) -> dict of named fields for the selectors."""
    row, _sep, proof = unit.partition('\n')
    fields = {'line': row, 'proof': proof}
    if mode == 'summary':
        return fields
    if mode != 'default':
        fields['type'], row = row[:6].strip(), row[7:]
    cols = row.split('\t')
    fields['name'] = cols.pop(0).rstrip()
    if 'uuid' in mode:
        fields['uuid'] = cols.pop(0).rstrip()
    fields['user'] = cols.pop(0).rstrip() if cols else ''
    fields['period'] = cols.pop(0) if cols else ''
    if fields.get('type') == 'resrc' and len(cols) >= 2:
        fields['kind'] = cols[0].rstrip()
        fields['reason'] = cols[1].rstrip()
        fields['value'] = '\t'.join(cols[2:])
    elif cols:
        fields['value'] = '\t'.join(cols)
    return fields


def diff(auvirt_lines, our_lines, mode):
    """-> (common units, auvirt-only units, our-only units)."""
    proof = 'proof' in mode
    a_units = units(auvirt_lines, proof)
    o_units = units(our_lines, proof)
    matcher = difflib.SequenceMatcher(None, a_units, o_units, autojunk=False)
    common, only_a, only_o = [], [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == 'equal':
            common.extend(a_units[i1:i2])
        else:
            only_a.extend(a_units[i1:i2])
            only_o.extend(o_units[j1:j2])
    return common, only_a, only_o


class Expect(object):
    """Rows on one side that a documented difference explains.

    ``side`` is ``auvirt`` (only auvirt prints it) or ``ours``; ``count``
    the exact number of rows; ``ref`` the entry of
    docs/auvirt-differences.md; the keyword arguments are regular
    expressions (``re.search``) on the fields of ``parse_row``, or, for
    ``dropped_kind=True``, "a resource kind auvirt ignores".
    """

    def __init__(self, ref, side, count, dropped_kind=False, **fields):
        assert side in ('auvirt', 'ours')
        self.ref = ref
        self.side = side
        self.count = count
        self.dropped_kind = dropped_kind
        self.fields = dict((k, re.compile(v)) for k, v in fields.items())

    def matches(self, side, row):
        if side != self.side:
            return False
        if self.dropped_kind:
            if row.get('type') != 'resrc':
                return False
            kind = row.get('kind')
            if kind in AUVIRT_KINDS and not (kind == 'net' and row.get('reason') == 'open'):
                return False
        for key, regex in self.fields.items():
            if key not in row or not regex.search(row[key]):
                return False
        return True

    def __repr__(self):
        return '%s[%s x%d %s]' % (self.ref, self.side, self.count,
                                  ' '.join('%s=/%s/' % (k, v.pattern) for k, v in sorted(self.fields.items())))


def classify(only_a, only_o, expectations, mode):
    """Attribute every differing row to the first matching expectation.

    Returns a list of problems (empty when the differences are exactly the
    expected ones).
    """
    counts = [0] * len(expectations)
    problems = []
    for side, rows in (('auvirt', only_a), ('ours', only_o)):
        for unit in rows:
            row = parse_row(unit, mode)
            for index, expect in enumerate(expectations):
                if expect.matches(side, row):
                    counts[index] += 1
                    break
            else:
                problems.append('unexpected %s-only row: %r' % (side, unit))
    for expect, count in zip(expectations, counts):
        if count != expect.count:
            problems.append('%r matched %d rows' % (expect, count))
    return problems


STATE_RE = re.compile(r'( crashed| down| lost|- lost|start unknown)')


def marked_rows(our_lines):
    """Default-view rows whose period carries one of our state marks
    (hidden by N1 when cut to auvirt's 32 columns)."""
    marked = []
    for line in our_lines:
        cols = line.split('\t')
        if len(cols) >= 3 and STATE_RE.search(cols[-1]):
            marked.append((cols[0].rstrip(), cols[-1].rstrip()))
    return marked
