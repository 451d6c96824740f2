# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""session_dict() against its plain definition (below), on sessions made up to hit the corners:
equal times and serials in the timeline, serials of several widths, ids the engine would not
write, None, 0.0, -0.0, whole-second and int times, values near half a millisecond."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import random
import time

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import session_result
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_result import session_dict
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.module_utils.virt_sessions import Session


# ---------------------------------------------------------------- the plain definition


def plain_iso(epoch):
    if epoch is None:
        return None
    seconds, millis = divmod(int(round(epoch * 1000)), 1000)
    return "%s.%03d+00:00" % (time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)), millis)


def plain_key(event_id):
    stamp, _sep, serial = event_id.partition(":")
    try:
        return (float(stamp), int(serial))
    except ValueError:
        return (0.0, 0)


def plain_r3(value):
    return None if value is None else round(value, 3)


def plain_timed(item):
    out = dict(item)
    out["time"] = plain_iso(item["epoch"])
    out["epoch"] = plain_r3(item["epoch"])
    return out


def plain_timeline(session):
    events = []
    for label in session.labels:
        events.append((label["epoch"], label["id"], "label", "%s %s" % (label["model"], label["vm_ctx"])))
    if session.start_id:
        events.append((session.start_epoch, session.start_id, "start",
                       "%s (%s)" % (session.start_reason, "failed" if session.state == "failed" else "success")))
    for item in session.resources:
        events.append((item["opened_epoch"], item["id"], "resource",
                       "%s %s %s (%s)" % (item["kind"], item["reason"], item["value"], item["result"])))
    for item in session.avcs:
        events.append((item["epoch"], item["id"], "avc", "%s %s %s %s" % (
            item["lsm"], item["result"], item["operation"], item["name"])))
    for item in session.anomalies:
        events.append((item["epoch"], item["id"], "anomaly", "%s pid=%s sig=%s" % (item["type"], item["pid"], item["sig"])))
    for epoch, event_id, kind, detail in session.extra_events:
        events.append((epoch, event_id, kind, detail))
    if session.stop_seen and session.end_id:
        events.append((session.end_epoch, session.end_id, "stop", session.stop_reason))
    events.sort(key=lambda e: (e[0] if e[0] is not None else 0.0, plain_key(e[1] or "0.000:0")[1]))
    return [{"time": plain_iso(e[0]), "epoch": plain_r3(e[0]), "id": e[1], "kind": e[2], "detail": e[3]} for e in events]


def plain_session_dict(session, all_events=False, proof=False, raw=False):
    if session.state == "failed":
        duration = 0.0
    elif session.start_epoch is not None and session.end_epoch is not None:
        duration = plain_r3(session.end_epoch - session.start_epoch)
    else:
        duration = None
    out = {
        "host": session.host, "name": session.name, "uuid": session.uuid, "virt": session.virt,
        "state": session.state, "start": plain_iso(session.start_epoch), "start_epoch": plain_r3(session.start_epoch),
        "start_reason": session.start_reason, "end": plain_iso(session.end_epoch),
        "end_epoch": plain_r3(session.end_epoch), "stop_reason": session.stop_reason, "duration_seconds": duration,
        "pid": session.pid, "user": session.user, "label": session.label, "first_seen": plain_iso(session.first_seen),
        "first_seen_epoch": plain_r3(session.first_seen), "start_id": session.start_id, "end_id": session.end_id,
    }
    if session.init:
        out["lxc_init"] = dict(session.init)
    if all_events:
        out["resources"] = [{
            "kind": item["kind"], "reason": item["reason"], "value": item["value"], "result": item["result"],
            "opened": plain_iso(item["opened_epoch"]), "opened_epoch": plain_r3(item["opened_epoch"]), "id": item["id"],
            "closed": plain_iso(item["closed_epoch"]), "closed_epoch": plain_r3(item["closed_epoch"]),
            "close_id": item["close_id"], "close_reason": item["close_reason"], "details": dict(item["details"]),
        } for item in session.resources]
        out["avcs"] = [plain_timed(item) for item in session.avcs]
        out["anomalies"] = [plain_timed(item) for item in session.anomalies]
        out["security_labels"] = [{"model": lab["model"], "vm_ctx": lab["vm_ctx"], "img_ctx": lab["img_ctx"],
                                   "id": lab["id"], "result": lab["result"]} for lab in session.labels]
        out["events"] = plain_timeline(session)
    if proof:
        out["proof"] = sorted(set(session.ids), key=plain_key)
        if raw:
            out["raw"] = dict((k, list(v)) for k, v in sorted(session.raw.items(), key=lambda kv: plain_key(kv[0])))
    return out


# ---------------------------------------------------------------- made-up sessions

T0 = 1710144000  # 2024-03-11T08:00:00Z


def make_session(rng, odd_ids, odd_times):
    """A session of random events; ``odd_ids``/``odd_times``: also ids and times the engine would not write."""
    def epoch():
        roll = rng.random()
        if odd_times and roll < 0.15:
            return rng.choice([None, 0.0, -0.0, T0, float(T0), T0 + 1, 1.0005, 2.0015, T0 + 0.0005, -1.5, 0.25])
        if roll < 0.3:
            return float(T0 + rng.randrange(4))  # whole seconds
        return T0 + rng.randrange(4000) / 1000.0  # few distinct times: many equal ones

    def event_id(at):
        roll = rng.random()
        if odd_ids and roll < 0.1:
            return rng.choice([None, "", "junk", "1.5", ":7", "1710144000.5:3", "1710144000.123:007",
                               "1710144000.123:0", "1710144000.123:12:1", "99.000:3", "1710144000.1234:2",
                               u"1710144000.123:\u0663", "1710144000.123:%s" % ("9" * 70)])
        seconds = int(at) if isinstance(at, (int, float)) and at and at > 0 else T0
        serial = rng.choice([rng.randrange(8, 12), rng.randrange(95, 105), rng.randrange(995, 1005), rng.randrange(10 ** 6)])
        return "%d.%03d:%d" % (seconds, rng.randrange(1000), serial)

    session = Session("hv%d" % rng.randrange(2), "uuid-%d" % rng.randrange(100), "vm%d" % rng.randrange(5), "kvm")
    session.state = rng.choice(["running", "stopped", "crashed", "failed", "down", "lost"])
    session.start_epoch, session.end_epoch, session.first_seen = epoch(), epoch(), epoch()
    session.start_id = event_id(session.start_epoch) if rng.random() < 0.8 else None
    session.end_id = event_id(session.end_epoch) if rng.random() < 0.7 else None
    session.start_reason = rng.choice(["booted", "restored", None])
    session.stop_reason = rng.choice(["shutdown", "crashed", None])
    session.stop_seen = rng.random() < 0.6
    session.pid = rng.choice([None, 4242])
    if rng.random() < 0.1:
        session.init = {"pid": 77, "vm-pid": 76}
    for dummy in range(rng.randrange(4)):
        at = epoch()
        session.labels.append({"epoch": at, "id": event_id(at), "model": rng.choice(["selinux", "dac"]),
                               "vm_ctx": "system_u:system_r:svirt_t:s0:c1,c2", "img_ctx": None, "result": "success"})
    for dummy in range(rng.randrange(40)):
        at = epoch()
        closed = rng.choice([None, epoch()])
        session.resources.append({
            "kind": rng.choice(["disk", "net", "mem", "vcpu"]), "reason": rng.choice(["start", "attach", "detach"]),
            "value": rng.choice(["/var/lib/libvirt/images/a.qcow2", None, 2048]), "result": rng.choice(["success", "failed"]),
            "opened_epoch": at, "id": event_id(at), "closed_epoch": closed,
            "close_id": event_id(closed) if closed is not None else None, "close_reason": rng.choice([None, "stop"]),
            "details": rng.choice([{}, {"bus": "virtio"}, {"size": 1024, "bus": None}]),
        })
    for dummy in range(rng.randrange(3)):
        at = epoch()
        session.avcs.append({"epoch": at, "id": event_id(at), "lsm": "selinux", "result": "denied",
                             "operation": "read", "name": "disk0", "matched_by": "pid"})
    for dummy in range(rng.randrange(3)):
        at = epoch()
        session.anomalies.append({"epoch": at, "id": event_id(at), "type": "ANOM_ABEND", "pid": 4242, "sig": 11,
                                  "matched_by": "pid"})
    for dummy in range(rng.randrange(3)):
        at = epoch()
        session.extra_events.append((at, event_id(at), rng.choice(["down", "lost", "init"]), None))
    used = [item["id"] for item in session.labels + session.resources + session.avcs + session.anomalies]
    used += [session.start_id, session.end_id] + [event[1] for event in session.extra_events]
    used += [event_id(epoch()) for dummy in range(rng.randrange(5))]
    session.ids = [i for i in used if isinstance(i, str)]
    session.ids += rng.sample(session.ids, len(session.ids) // 3)  # some twice
    session.raw = dict((i, ["type=X msg=audit(%s): a" % i]) for i in session.ids)
    return session


def dumps(value):
    return json.dumps(value)  # key order counts too


@pytest.mark.parametrize("odd_ids,odd_times", [(False, False), (True, False), (False, True), (True, True)])
def test_session_dict_as_defined(odd_ids, odd_times):
    rng = random.Random(20240311 + 2 * odd_ids + odd_times)
    for dummy in range(400):
        session = make_session(rng, odd_ids, odd_times)
        for flags in ((False, False, False), (True, False, False), (False, True, True), (True, True, True)):
            try:
                expected = dumps(plain_session_dict(session, *flags))
            except (ValueError, OverflowError, TypeError) as exc:
                with pytest.raises(type(exc)):
                    session_dict(session, *flags)
                continue
            assert dumps(session_dict(session, *flags)) == expected


def test_timeline_equal_times_and_serials_keep_their_order():
    session = Session("hv", "u", "vm", "kvm")
    at = T0 + 0.5
    session.labels.append({"epoch": at, "id": "1710144000.500:100", "model": "selinux", "vm_ctx": "ctx",
                           "img_ctx": None, "result": "success"})
    session.start_epoch, session.start_id, session.start_reason = at, "1710144000.500:99", "booted"
    for serial, value in ((100, "b"), (100, "a"), (99, "c"), (1000, "d")):
        session.resources.append({
            "kind": "disk", "reason": "start", "value": value, "result": "success", "opened_epoch": at,
            "id": "1710144000.500:%d" % serial, "closed_epoch": None, "close_id": None, "close_reason": None,
            "details": {}})
    session.extra_events.append((at, "1710144000.500:100", "init", None))
    session.ids = [item["id"] for item in session.resources]
    events = session_dict(session, all_events=True, proof=True)["events"]
    assert [(e["kind"], e["detail"]) for e in events] == [
        ("start", "booted (success)"),
        ("resource", "disk start c (success)"),
        ("label", "selinux ctx"),
        ("resource", "disk start b (success)"),
        ("resource", "disk start a (success)"),
        ("init", None),
        ("resource", "disk start d (success)"),
    ]
    assert events == plain_session_dict(session, all_events=True)["events"]


def test_proof_sorts_serials_by_number():
    session = Session("hv", "u", "vm", "kvm")
    session.ids = ["1710144000.500:100", "1710144000.500:99", "1710144000.499:1000", "1710144000.500:100"]
    assert session_dict(session, proof=True)["proof"] == [
        "1710144000.499:1000", "1710144000.500:99", "1710144000.500:100"]


@pytest.mark.parametrize("value", [
    None, 0, 5, 0.0, -0.0, 0.0005, 0.0015, 1.0005, 2.675, 1710144000.0, 1710144000.0005, 1710144000.1235,
    1710144000.9995, 1710144000.9994999, 1710144001.0004999, -1710144000.1235, 99999999999.9995, 1e11, 1e12 + 0.5,
    1e-300, float("inf"), float("-inf"),
])
def test_r3_is_round(value):
    expected = None if value is None else round(value, 3)
    got = session_result.r3(value)
    assert repr(got) == repr(expected) and type(got) is type(expected)


def test_r3_is_round_on_many_times():
    rng = random.Random(3)
    values = [T0 + rng.randrange(10 ** 9) / 1000.0 + rng.choice([0, 0, 5e-4, -5e-4, 4.9e-4, 1e-7, -1e-7])
              for dummy in range(20000)]
    values += [rng.uniform(0, 1e11) for dummy in range(20000)]
    for value in values:
        assert repr(session_result.r3(value)) == repr(round(value, 3)), value


@pytest.mark.parametrize("epoch", [None, 0, 0.0, -0.0, 1.9995, 1.9994, -0.0004, -0.0005, -1.5, T0, T0 + 0.0005,
                                   T0 + 59.9996, 951782400.123, 4102444800.5])
def test_iso_as_defined(epoch):
    assert iso(epoch) == plain_iso(epoch)


def one_session(ids, timeline=None):
    """A session whose ids are ``ids``; ``timeline``: (epoch, id) of its resources (default: of ``ids``)."""
    session = Session("hv", "u", "vm", "kvm")
    for value, (at, event_id) in enumerate(timeline or [(T0 + 0.5, event_id) for event_id in ids]):
        session.resources.append({
            "kind": "disk", "reason": "start", "value": value, "result": "success", "opened_epoch": at,
            "id": event_id, "closed_epoch": None, "close_id": None, "close_reason": None, "details": {}})
    session.ids = list(ids)
    session.raw = dict((i, ["line"]) for i in ids)
    return session


@pytest.mark.parametrize("ids,timeline", [
    # equal time and serial, serials of one width: the order they come in
    (["1710144000.500:100", "1710144000.500:101"],
     [(T0 + 0.5, "1710144000.500:101"), (T0 + 0.5, "1710144000.500:100"), (T0 + 0.5, "1710144000.500:101")]),
    # ids the proof does not know, of another shape, in the timeline
    (["1710144000.500:100", "1710144000.500:101"],
     [(T0 + 0.5, "1710144000.500:101"), (T0 + 0.5, None), (T0 + 0.5, "99.5:700"), (T0 + 0.5, "1710144000.500:100")]),
    (["1710144000.500:100", "1710144000.500:1000"],
     [(T0 + 0.5, "1710144000.500:1000"), (T0 + 0.5, "1710144000.500:100"), (T0 + 0.5, "1710144000.500:09")]),
    # more seconds than a float tells apart by the millisecond
    (["123456789012345.500:2", "123456789012345.501:1"], None),
    # serials too long for int() (Python 3.11+) sort as 0
    (["1710144000.500:" + "9" * 5000, "1710144000.400:1", "1710144000.600:1"], None),
    (["1710144000.500:" + "9" * 5000, "1710144000.400:12", "1710144000.600:1"], None),
    (["1710144000.500:" + "9" * 5000, "1710144000.500:" + "8" * 5000],
     [(T0 + 0.5, "1710144000.500:" + "9" * 5000), (T0 + 0.5, "1710144000.500:" + "8" * 5000)]),
])
def test_ids_the_text_order_must_not_decide(ids, timeline):
    session = one_session(ids, timeline)
    assert dumps(session_dict(session, True, True, True)) == dumps(plain_session_dict(session, True, True, True))
