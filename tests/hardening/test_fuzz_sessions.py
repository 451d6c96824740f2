# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests of the session engine.

* random but well-formed libvirt stories (starts, failed starts, hot-plug,
  stops, crashes, AVCs, shutdowns, reboots with and without records, auditd
  restarts, serial gaps, two nodes): nothing lost, nothing counted twice;
* valid logs spliced (parts cut out at any byte);
* records reordered within small windows where the order carries no meaning;
* logs split into overlapping rotated files: each record counts once.

The invariants (``check_result``) and what each reordering may and may not
change are documented in docs/hardening.md.
"""
from __future__ import absolute_import, division, print_function

import collections
import os
import re

from hypothesis import given, settings, strategies as st

from hardening_util import (
    FULL, LogWriter, budget, check_line_accounting, check_result, count, engine, enc, read, sample_logs,
    sometimes, uuid_of, write,
)

LOGS = sample_logs()
LOG_TEXT = dict((p, read(p)) for p in LOGS)
GUESTS = [("alpha", uuid_of(1), 4101, "s0:c1,c2"), ("beta", uuid_of(2), 4102, "s0:c3,c4"),
          ("Win 10 Pro", uuid_of(3), 4103, "s0:c5,c6")]


# ------------------------------------------------------------------ stories

class Story(LogWriter):
    """A LogWriter that also counts what it wrote (the oracle of the story test)."""

    def __init__(self, node=None):
        super(Story, self).__init__(t=1767225600.0, serial=500, node=node)
        self.starts = []        # (uuid, id, ok)
        self.stops = 0
        self.opened = {}        # uuid -> running after a successful start in this boot

    def stamp(self):
        return self.lines[-1].split("msg=audit(", 1)[1].split(")", 1)[0]


ACTIONS = ("start", "start", "start_failed", "attach", "detach", "stop", "stop", "crash_stop", "avc", "anom",
           "shutdown", "boot", "silent_reboot", "daemon", "noise", "gap")


@st.composite
def story(draw):
    """(lines, oracle) of a random well-formed history of up to two nodes."""
    nodes = draw(st.sampled_from([[None], ["hv1", "hv2"]]))
    writers = dict((n, Story(node=n)) for n in nodes)
    lines = []
    clock = 1767225600.0
    for dummy in range(draw(st.integers(1, 30))):
        node = draw(st.sampled_from(nodes))
        log = writers[node]
        clock += draw(st.sampled_from([0.0, 0.001, 0.5, 3.0, 61.0, 7200.0]))
        log.t = clock
        action = draw(st.sampled_from(ACTIONS))
        name, uuid, pid, level = draw(st.sampled_from(GUESTS))
        if action in ("boot", "silent_reboot"):
            clock += 30.0       # a reboot takes time: no (time, serial) of the old boot is repeated
            log.t = clock
        before = len(log.lines)
        if action in ("start", "start_failed"):
            log.label(name, uuid, level)
            if draw(st.booleans()):
                log.disk(name, uuid, "/var/lib/libvirt/images/%s.qcow2" % uuid)
            ok = action == "start"
            log.start(name, uuid, pid, res="success" if ok else "failed")
            log.starts.append((uuid, log.stamp(), ok))
        elif action == "attach":
            log.disk(name, uuid, "/srv/%s-extra.img" % uuid, reason="attach")
        elif action == "detach":
            log.virt("VIRT_RESOURCE", "virt=kvm resrc=disk reason=detach vm=%s uuid=%s old-disk=%s new-disk=\"?\""
                     % (enc(name), uuid, enc("/srv/%s-extra.img" % uuid)))
        elif action in ("stop", "crash_stop"):
            log.stop(name, uuid, "destroyed" if action == "stop" else "crashed")
            log.stops += 1
        elif action == "avc":
            log.add("AVC", 'avc:  denied  { read } for  pid=%d comm="qemu-kvm" name="x" dev="dm-0" ino=1 '
                    "scontext=system_u:system_r:svirt_t:%s tcontext=system_u:object_r:svirt_image_t:%s "
                    "tclass=file permissive=0" % (pid, level, level))
        elif action == "anom":
            log.add("ANOM_ABEND", "auid=4294967295 uid=107 gid=107 ses=4294967295 subj=system_u:system_r:svirt_t:%s "
                    'pid=%d comm="qemu-kvm" exe="/usr/bin/qemu-system-x86_64" sig=6 res=1' % (level, pid))
        elif action == "shutdown":
            log.system("SYSTEM_SHUTDOWN")
        elif action == "boot":
            log.serial = draw(st.integers(1, 50))
            log.system("SYSTEM_BOOT")
        elif action == "silent_reboot":
            if log.serial < 120:   # the serial must fall by more than 64 to show the reboot
                log.serial += 150
                log.noise()
            log.serial = draw(st.integers(1, 50))
            log.noise()
        elif action == "daemon":
            # auditd numbers its own records: the serial may equal a kernel serial of the same millisecond
            log.add(draw(st.sampled_from(["DAEMON_START", "DAEMON_END"])),
                    "op=start ver=3.0.9 format=raw kernel=6.1.0 auid=4294967295 pid=812 uid=0 ses=4294967295 res=success",
                    serial=draw(st.sampled_from([log.serial - 1, log.serial, draw(st.integers(1, 9000))])))
        elif action == "noise":
            log.noise(draw(st.integers(1, 3)))
        else:
            log.serial += draw(st.integers(1, 100))
            log.noise()
        lines.extend(log.lines[before:])
        clock = max(clock, log.t - 0.5)
    return lines, writers


def _ids_of_sessions(result):
    seen = collections.Counter()
    for session in result["sessions"]:
        for event_id in set(session["proof"]):
            seen[(session["host"], event_id)] += 1
    return seen


@settings(max_examples=budget(300, 12000))
@given(story())
def test_story_nothing_lost_nothing_twice(drawn):
    count("story")
    lines, writers = drawn
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path = write("story.log", data)
    result = engine([path], **FULL)
    check_result(result, [path], monotonic=True)
    check_line_accounting(result, [data])
    assert result["parse_errors"]["count"] == 0
    # every op=start record is exactly one session; every op=stop record is counted once
    starts = [(w.node or "testhost", uuid, stamp, ok) for w in writers.values() for uuid, stamp, ok in w.starts]
    got = [(s["host"], s["uuid"], s["start_id"], s["state"] != "failed") for s in result["sessions"] if s["start_id"]]
    assert sorted(got) == sorted(starts)
    assert result["summary"]["stops"] == sum(w.stops for w in writers.values())
    assert result["summary"]["states"]["failed"] == sum(1 for s in starts if not s[3])
    # no event is evidence for two sessions
    twice = [k for k, v in _ids_of_sessions(result).items() if v > 1]
    assert twice == [], "events used by two sessions: %r" % twice
    if sometimes("story"):
        assert engine([path], **FULL) == result, "same input, different output"


def test_start_after_shutdown_does_not_end_before_it_starts():
    log = LogWriter()
    log.system("SYSTEM_SHUTDOWN")
    log.t += 5
    log.session("late", uuid_of(9), stop=False)
    path = write("late.log", log.data())
    session = engine([path])["sessions"][0]
    assert session["end_epoch"] is None or session["end_epoch"] >= session["start_epoch"], session


def test_resource_attached_after_anomaly_is_not_closed_before_it_opened():
    log = LogWriter()
    log.session("web01", uuid_of(7), pid=4242, stop=False)
    log.add("ANOM_ABEND", "auid=4294967295 uid=107 gid=107 ses=4294967295 subj=system_u:system_r:svirt_t:s0:c1,c2 "
            'pid=4242 comm="qemu-kvm" exe="/usr/bin/qemu-system-x86_64" sig=6 res=1')
    log.t += 10
    log.disk("web01", uuid_of(7), "/srv/extra.img", reason="attach")
    session = engine([write("attach-after-crash.log", log.data())], all_events=True)["sessions"][0]
    for item in session["resources"]:
        assert item["closed_epoch"] is None or item["closed_epoch"] >= item["opened_epoch"], item


def test_daemon_record_with_the_serial_of_a_stop_does_not_hide_it():
    log = LogWriter()
    log.session("web01", uuid_of(7), stop=False)
    log.t += 60
    stamp_serial = log.serial
    log.add("DAEMON_START", "op=start ver=3.0.9 format=raw kernel=6.1.0 auid=4294967295 pid=812 uid=0 "
            "ses=4294967295 res=success", serial=stamp_serial)
    log.t -= 0.5
    log.stop("web01", uuid_of(7))
    assert log.lines[-1].split("msg=audit(")[1][:20] == log.lines[-2].split("msg=audit(")[1][:20]
    result = engine([write("daemon-collision.log", log.data())])
    assert [s["state"] for s in result["sessions"]] == ["stopped"]
    assert result["summary"]["stops"] == 1


def test_hotplug_after_shutdown_does_not_end_before_it_opens():
    log = LogWriter()
    log.system("SYSTEM_SHUTDOWN")
    log.t += 5
    log.disk("beta", uuid_of(2), "/srv/extra.img", reason="attach")
    session = engine([write("hotplug-late.log", log.data())], all_events=True)["sessions"][0]
    for item in session["resources"]:
        assert session["end_epoch"] is None or session["end_epoch"] >= item["opened_epoch"], session
        assert item["closed_epoch"] is None or item["closed_epoch"] >= item["opened_epoch"], item


# ------------------------------------------------------------------ splicing

log_path = st.sampled_from(LOGS)


@settings(max_examples=budget(150, 6000))
@given(log_path, st.data())
def test_spliced_logs(path, data):
    """Parts of a valid log cut out at arbitrary bytes (the rest kept in order)."""
    count("splice")
    text = LOG_TEXT[path]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(text)), min_size=1, max_size=8)))
    bounds = [0] + cuts + [len(text)]
    keep_first = data.draw(st.booleans())
    pieces = [text[a:b] for i, (a, b) in enumerate(zip(bounds, bounds[1:])) if (i % 2 == 0) == keep_first]
    blob = b"".join(pieces)
    spliced = write("spliced.log", blob)
    result = engine([spliced], **FULL)
    check_result(result, [spliced], monotonic=True)
    check_line_accounting(result, [blob])
    if sometimes("splice"):
        assert engine([spliced], **FULL) == result, "same input, different output"


@settings(max_examples=budget(40, 800))
@given(st.lists(log_path, min_size=2, max_size=4), st.booleans())
def test_logs_joined(paths, one_file):
    """Several valid logs read one after the other (as one file or as a rotation set)."""
    count("join")
    datas = [LOG_TEXT[p] for p in paths]
    if one_file:
        files = [write("joined.log", b"".join(datas))]
    else:
        files = [write("joined-%d.log" % i, d) for i, d in enumerate(datas)]
    result = engine(files, **FULL)
    check_result(result, files, monotonic=False)
    check_line_accounting(result, [b"".join(datas)] if one_file else datas)


# ------------------------------------------------------------------ reordering

_HEAD = re.compile(br"^(?:node=(\S+) )?type=(\S+) msg=audit\((\d+\.\d+):(\d+)\):")
_UUID = re.compile(br"\buuid=([0-9a-fA-F-]{36})")
ENGINE_KINDS = ("VIRT_", "AVC", "ANOM_", "SYSTEM_", "DAEMON_", "USER_AVC")


class Line(object):
    """What a log line is, for deciding which reorderings cannot matter."""

    def __init__(self, raw):
        self.raw = raw
        m = _HEAD.match(raw)
        self.node, rtype, stamp, serial = m.groups()
        self.type = rtype.decode("ascii")
        self.event = (self.node, stamp, serial)
        self.serial = int(serial)
        u = _UUID.search(raw)
        self.uuid = u.group(1).lower() if u else None
        self.kind = "noise"
        if self.type.startswith("VIRT_"):
            self.kind = "virt"
        elif self.type.startswith(("SYSTEM_", "DAEMON_")):
            self.kind = "host"
        elif self.type.startswith(("AVC", "ANOM_", "USER_AVC")):
            self.kind = "lsm"


def classify(text):
    lines = [Line(raw) for raw in text.splitlines(True)]
    lsm_events = set(l.event for l in lines if l.kind == "lsm")
    for line in lines:
        if line.kind == "noise" and line.event in lsm_events:
            line.kind = "lsm-part"          # SYSCALL/PATH/PROCTITLE of an AVC event
    # boot segments: a serial falling back by more than 64 on a node starts a new one
    segment, last, seg = {}, {}, 0
    for index, line in enumerate(lines):
        if line.kind != "host" or not line.type.startswith("DAEMON_"):
            prev = last.get(line.node)
            if prev is not None and line.serial < prev - 64:
                seg += 1
            last[line.node] = line.serial
        segment[index] = seg
    return lines, segment


def independent(a, b):
    """Whether swapping two records cannot change any session."""
    if a.event == b.event:
        return a.type != b.type      # two AVC records of one event: the engine reports the first
    if a.kind == "noise" or b.kind == "noise":
        return a.kind != "host" and b.kind != "host"
    if a.kind == "virt" and b.kind == "virt":
        return a.uuid is not None and b.uuid is not None and a.uuid != b.uuid
    return False


@st.composite
def reordered(draw, path):
    """The log with records moved inside windows of up to 4 lines, respecting every dependency."""
    lines, segment = classify(LOG_TEXT[path])
    order = list(range(len(lines)))
    moved = 0
    for dummy in range(draw(st.integers(1, 12))):
        start = draw(st.integers(0, max(0, len(lines) - 2)))
        width = draw(st.integers(2, 4))
        window = order[start:start + width]
        if len(set(segment[i] for i in window)) != 1:
            continue
        seg = segment[window[0]]
        seg_last = max(i for i in segment if segment[i] == seg)
        seg_first = min(i for i in segment if segment[i] == seg)
        if seg_last in window or seg_first in window or any(lines[i].kind == "host" for i in window):
            continue
        pending = list(window)
        new = []
        while pending:
            free = [i for i in pending if all(independent(lines[j], lines[i]) for j in pending[:pending.index(i)])]
            pick = draw(st.sampled_from(free))
            pending.remove(pick)
            new.append(pick)
        moved += new != window
        order[start:start + width] = new
    return b"".join(lines[i].raw for i in order), moved


def comparable(result):
    """What reordering independent records must not change."""
    out = []
    for session in result["sessions"]:
        item = dict((k, v) for k, v in session.items() if k not in ("raw", "avcs", "events"))
        item["avcs"] = sorted((a["id"], a["matched_by"], a["user"], a["comm"]) for a in session.get("avcs", []))
        out.append(item)
    summary = dict(result["summary"])
    return out, summary


@settings(max_examples=budget(150, 4000))
@given(st.data())
def test_reordered_records_same_sessions(data):
    """Records swapped within windows of up to 4 lines where their order carries no
    meaning: records of one event, records of different guests, records the engine
    does not read.  Sessions (with resources, AVC ids, proof) and summary stay the same."""
    count("reorder")
    path = data.draw(st.sampled_from(LOGS))
    blob, _moved = data.draw(reordered(path))
    shuffled = write("reordered.log", blob)
    result = engine([shuffled], **FULL)
    check_result(result, [shuffled], monotonic=True)
    assert comparable(result) == comparable(engine([path], **FULL))


def test_avc_event_with_syscall_first_keeps_its_user():
    log = LogWriter()
    log.session("web01", uuid_of(7), stop=False)
    stamp = "%d.000:%d" % (int(log.t) + 1, log.serial)
    syscall = ("type=SYSCALL msg=audit(%s): arch=c000003e syscall=257 success=no exit=-13 ppid=1 pid=4242 "
               'auid=4294967295 uid=107 gid=107 comm="qemu-kvm" exe="/usr/bin/qemu-system-x86_64" '
               "subj=system_u:system_r:svirt_t:s0:c1,c2 key=(null)" % stamp)
    avc = ("type=AVC msg=audit(%s): avc:  denied  { read } for  pid=4242 comm=\"qemu-kvm\" name=\"x\" "
           "scontext=system_u:system_r:svirt_t:s0:c1,c2 tcontext=system_u:object_r:etc_t:s0 tclass=file "
           "permissive=0" % stamp)
    normal = write("avc-normal.log", log.data() + (avc + "\n" + syscall + "\n").encode())
    swapped = write("avc-swapped.log", log.data() + (syscall + "\n" + avc + "\n").encode())
    first = engine([normal], all_events=True)["sessions"][0]["avcs"]
    second = engine([swapped], all_events=True)["sessions"][0]["avcs"]
    assert first[0]["user"] == "unknown(107)"
    assert second == first


# ------------------------------------------------------------------ overlapping rotated files

def event_boundaries(text):
    """Line indexes where no event has records on both sides."""
    lines = [Line(raw) for raw in text.splitlines(True)]
    last_index = {}
    for index, line in enumerate(lines):
        last_index[line.event] = index
    out, reach = [0], -1
    for index, line in enumerate(lines):
        reach = max(reach, last_index[line.event])
        if reach == index:
            out.append(index + 1)
    return lines, out


@settings(max_examples=budget(100, 3000))
@given(log_path, st.data())
def test_overlapping_rotated_files_count_once(path, data):
    """audit.log.1 ends with records that audit.log repeats at its start (a copy
    rotated late, a backup restored on top): every record counts once and the
    result is the one of the single file.  The files are split at an event
    boundary (see test_event_split_across_files_* for splits inside an event)."""
    count("overlap")
    lines, bounds = event_boundaries(LOG_TEXT[path])
    end = data.draw(st.sampled_from(bounds))
    begin = data.draw(st.integers(0, end))
    older = b"".join(l.raw for l in lines[:end])
    newer = b"".join(l.raw for l in lines[begin:])
    folder = os.path.join(os.path.dirname(write("x", b"")), "rot-%d" % data.draw(st.integers(0, 3)))
    if not os.path.isdir(folder):
        os.makedirs(folder)
    paths = [os.path.join(folder, "audit.log.1"), os.path.join(folder, "audit.log")]
    for p, blob in zip(paths, (older, newer)):
        with open(p, "wb") as handle:
            handle.write(blob)
    result = engine(paths, **FULL)
    check_result(result, paths, monotonic=True)
    check_line_accounting(result, [older, newer])
    single = engine([path], **FULL)
    assert comparable(result) == comparable(single)
    assert result["auvirt_lines"] == single["auvirt_lines"]
    assert [s.get("duplicates", 0) for s in result["sources"]] == [0, end - begin]
    assert sum(s["records"] for s in result["sources"]) == len(lines)
    conf = os.path.join(folder, "auditd.conf")
    with open(conf, "w") as handle:
        handle.write("log_file = %s\n" % paths[1])
    by_default = engine([], auditd_conf=conf, **FULL)
    assert [s["path"] for s in by_default["sources"]] == paths
    assert comparable(by_default) == comparable(single)


def test_overlap_of_the_whole_file_and_the_same_file_twice():
    path = os.path.join(os.path.dirname(LOGS[0]), "sessions-selinux.log")
    single = engine([path], **FULL)
    twice = engine([path, path], **FULL)
    assert comparable(twice) == comparable(single)
    assert [s["duplicates"] for s in twice["sources"]] == [0, single["sources"][0]["records"]]


def test_event_split_across_files_loses_no_record():
    stamp = "1767225600.000:5"
    older = write("split.log.1", ("type=SYSCALL msg=audit(%s): arch=c000003e syscall=2 items=2\n"
                                  "type=PATH msg=audit(%s): item=0 name=\"/a\"\n" % (stamp, stamp)).encode())
    newer = write("split.log", ("type=PATH msg=audit(%s): item=1 name=\"/b\"\n"
                                "type=PROCTITLE msg=audit(%s): proctitle=6C73\n" % (stamp, stamp)).encode())
    result = engine([older, newer])
    assert [(s["records"], s.get("duplicates", 0)) for s in result["sources"]] == [(2, 0), (2, 0)]
