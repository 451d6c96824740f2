# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest events a real ansible-rulebook received during a capture, judged by the capture's ground truth.

What must have come (``expected_events``) follows from what capture.py did
(actions.jsonl, the vocabulary of ground_truth.py) - never from the
collection: a start is ``started`` (reason booted/restored), a stop by virsh
``stopped`` (saved, destroyed), qemu killed by SIGSEGV an ``anomaly``
(ANOM_ABEND) and ``crashed`` (libvirt says ``failed``), by SIGKILL
``crashed``, by SIGTERM ``stopped`` (shutdown), a start with a missing disk
``failed_start``, each auditd stop ``audit_stopped``; and one
``records_lost`` per run of kernel serials missing from the log (read by
records.py: the record the kernel wrote while no auditd listened).

Each received event must be one of them, at the right time (the action's
window, ground_truth.TOLERANCE on both sides), and each expected one must
have been received exactly once over all starts of ansible-rulebook; the
events of one guest session share its ``session_id``.  ``judge_rotation``
and ``judge_restart`` check that the capture did what the test claims (the
source ran across auditd's rotation, and actions happened while it was
stopped) and what the two starts received.
"""

from __future__ import absolute_import, division, print_function

from ground_truth import TOLERANCE, in_window

REACTION_LIMIT = 10.0
SOURCE = "virtaudit.auvirt.guest_events"
START_KINDS = ("started", "failed_start", "migrated_in")
END_KINDS = ("stopped", "crashed", "migrated_out", "down", "lost")


def lost_runs(missing):
    """Missing serials -> the sizes of their runs of consecutive serials, in order."""
    runs = []
    previous = None
    for serial in sorted(missing):
        if previous is not None and serial == previous + 1:
            runs[-1] += 1
        else:
            runs.append(1)
        previous = serial
    return runs


def _expect(kind, action, reason, window, **extra):
    item = {"kind": kind, "uuid": action.get("uuid"), "name": action.get("guest"), "reason": reason,
            "window": window, "seq": action["seq"]}
    item.update(extra)
    return item


def expected_events(actions, missing_serials=()):
    """The events the actions must have caused, in the order of the actions (then ``records_lost``)."""
    events = []
    for action in actions:
        event = action["event"]
        run = [action["before"], action["after"]]
        settled = [action["before"], action.get("settled") or action["after"]]
        if event.startswith("start:"):
            events.append(_expect("started", action, event.split(":")[1], run))
        elif event.startswith("start-failed:"):
            events.append(_expect("failed_start", action, "booted", run))
        elif event.startswith("stop:"):
            parts = event.split(":")
            if parts[1] in ("failed", "crashed"):
                if parts[2:] == ["SIGSEGV"]:
                    # the kernel's ANOM_ABEND of the core-dumping qemu, at the kill
                    events.append(_expect("anomaly", action, "ANOM_ABEND", run))
                events.append(_expect("crashed", action, parts[1], settled))
            else:
                events.append(_expect("stopped", action, parts[1], settled))
        elif event in ("daemon:auditd-restart", "daemon:auditd-stop"):
            events.append(_expect("audit_stopped", action, "end", run))
    for count in lost_runs(missing_serials):
        events.append({"kind": "records_lost", "uuid": None, "name": None, "reason": None, "window": None,
                       "seq": None, "missing_events": count})
    return events


def _when(event):
    return "%s %s at %s" % (event["kind"], event.get("name") or "(host)", event.get("epoch"))


def received_once(runs):
    """(every event received, in order, each with ``run`` = 1, 2, ...; problems: fingerprints received twice)."""
    problems = []
    seen = {}
    events = []
    for number, run in enumerate(runs, 1):
        for event in run:
            event = dict(event, run=number)
            fingerprint = event.get("fingerprint")
            if fingerprint in seen:
                problems.append("repeated: %s, received by start %d and again by start %d"
                                % (_when(event), seen[fingerprint], number))
                continue
            seen[fingerprint] = number
            events.append(event)
    return events, problems


def _key(event):
    return (event["kind"], event.get("uuid"))


def judge_events(runs, expected, host):
    """Every expected event received exactly once, at its time; nothing else; sessions hold together."""
    events, problems = received_once(runs)
    by_key = {}
    for event in events:
        if (event.get("meta") or {}).get("source", {}).get("name") != SOURCE:
            problems.append("%s: not from the source %s (meta %r)" % (_when(event), SOURCE, event.get("meta")))
        if event.get("host") != host:
            problems.append("%s: host %r, expected %r" % (_when(event), event.get("host"), host))
        by_key.setdefault(_key(event), []).append(event)
    wanted = {}
    for want in expected:
        wanted.setdefault(_key(want), []).append(want)
    for key in sorted(set(by_key) | set(wanted), key=lambda k: (k[0], k[1] or "")):
        got = sorted(by_key.get(key, []), key=lambda e: e.get("epoch") or 0)
        want = wanted.get(key, [])
        if len(got) != len(want):
            problems.append("%s of %s: received %d, expected %d (received at %r; expected in %r)"
                            % (key[0], key[1] or "the host", len(got), len(want), [e.get("epoch") for e in got],
                               [w["window"] for w in want]))
            continue
        for have, need in zip(got, want):
            problems += _judge_one(have, need)
    problems += judge_sessions(events)
    return problems


def _judge_one(have, need):
    problems = []
    label = _when(have)
    if have.get("reason") != need["reason"]:
        problems.append("%s: reason %r, expected %r" % (label, have.get("reason"), need["reason"]))
    if need["name"] is not None and have.get("name") != need["name"]:
        problems.append("%s: name %r, expected %r" % (label, have.get("name"), need["name"]))
    if need["window"] is not None and not in_window(have.get("epoch"), need["window"]):
        problems.append("%s: not in the window [%.3f, %.3f] (+-%.0f s) of action %s"
                        % (label, need["window"][0], need["window"][1], TOLERANCE, need["seq"]))
    if "missing_events" in need and (have.get("details") or {}).get("missing_events") != need["missing_events"]:
        problems.append("%s: %r missing events, the log misses %d"
                        % (label, (have.get("details") or {}).get("missing_events"), need["missing_events"]))
    return problems


def judge_sessions(events):
    """The events of a guest share the session id of their start (also across a rotation and a restart)."""
    problems = []
    sessions = {}
    for event in events:
        if event.get("uuid"):
            sessions.setdefault(event.get("session_id"), []).append(event)
    for session_id, members in sorted(sessions.items(), key=lambda item: str(item[0])):
        starts = [e for e in members if e["kind"] in START_KINDS]
        ends = [e for e in members if e["kind"] in END_KINDS]
        if len(starts) != 1 or len(ends) > 1:
            problems.append("session %s: %d start and %d end events among %s"
                            % (session_id, len(starts), len(ends), ", ".join(_when(e) for e in members)))
        elif "/seen-" in str(session_id):
            problems.append("session %s: its start record was not found" % session_id)
    return problems


def _run_of(info, epoch):
    """The start of ansible-rulebook (index) that ran at ``epoch``, or None."""
    for index, run in enumerate(info["runs"]):
        if run["started"] <= epoch and (run["stopped"] is None or epoch <= run["stop_asked"]):
            return index
    return None


def judge_rotation(info, runs, expected_sessions_, rotations):
    """auditd rotated once while the source ran, which received events from both files; a session across it."""
    if len(rotations) != 1:
        return ["%d log rotations in the pass, expected 1" % len(rotations)]
    rotation = rotations[0]
    index = _run_of(info, rotation[0])
    if index is None or _run_of(info, rotation[1]) != index:
        return ["no ansible-rulebook ran across the rotation %r (starts %r)" % (rotation, info["runs"])]
    problems = []
    run = info["runs"][index]
    if run["ready"] is None or run["ready"] > rotation[0]:
        problems.append("the source had not read the log before the rotation (ready %s, rotation %.3f)"
                        % (run["ready"], rotation[0]))
    before = [e for e in runs[index] if (e.get("epoch") or 0) < rotation[0]]
    after = [e for e in runs[index] if (e.get("epoch") or 0) > rotation[1]]
    if not before or not after:
        problems.append("start %d received %d event(s) from before the rotation and %d from after it"
                        % (index + 1, len(before), len(after)))
    across = [s for s in expected_sessions_ if s["end"] is not None and not s["failed_start"]
              and s["start"][1] < rotation[0] and s["end"][0] > rotation[1]]
    if not across:
        problems.append("ground truth: no guest session spans the rotation")
    for session in across:
        starts = [e for e in runs[index] if e.get("uuid") == session["uuid"] and e["kind"] == "started"
                  and in_window(e.get("epoch"), session["start"])]
        ends = [e for e in runs[index] if e.get("uuid") == session["uuid"] and e["kind"] in ("stopped", "crashed")
                and in_window(e.get("epoch"), session["end"])]
        if len(starts) != 1 or len(ends) != 1 or starts[0].get("session_id") != ends[0].get("session_id"):
            problems.append("%s across the rotation: start %r, end %r (one session from start to end expected)"
                            % (session["name"], [(e.get("epoch"), e.get("session_id")) for e in starts],
                               [(e["kind"], e.get("epoch"), e.get("session_id")) for e in ends]))
    return problems


def judge_restart(info, runs, expected):
    """Two starts on one checkpoint; what was logged while none ran came with the second, nothing twice."""
    if len(info["runs"]) != 2 or len(runs) != 2:
        return ["%d start(s) of ansible-rulebook, expected 2 (stopped and started again)" % len(info["runs"])]
    first, second = info["runs"]
    problems = []
    if first["stopped"] is None or first["exit"] is None:
        problems.append("the first start was not stopped (%r)" % first)
        return problems
    down = [first["stop_asked"], second["started"]]
    while_down = [w for w in expected if w["window"] is not None and w["window"][0] > down[0]
                  and w["window"][1] < down[1]]
    if not while_down:
        problems.append("ground truth: no action while ansible-rulebook was stopped (%.3f - %.3f)" % tuple(down))
    for want in while_down:
        got = [e for e in runs[1] if _key(e) == _key(want) and in_window(e.get("epoch"), want["window"])]
        if len(got) != 1:
            problems.append("%s of %s, logged while ansible-rulebook was stopped: received %d time(s) by the "
                            "second start" % (want["kind"], want["name"], len(got)))
    # (the kernel's coarse clock stamps records up to a few ms before the userspace clock)
    late = [e for e in runs[0] if (e.get("epoch") or 0) > first["stopped"] + 0.1]
    if late:
        problems.append("the first start received events logged after it stopped: %s"
                        % ", ".join(_when(e) for e in late))
    again = set(e.get("fingerprint") for e in runs[0]) & set(e.get("fingerprint") for e in runs[1])
    if again:
        problems.append("%d event(s) received by both starts: %s"
                        % (len(again), ", ".join(_when(e) for e in runs[1] if e.get("fingerprint") in again)))
    if not runs[1]:
        problems.append("the second start received nothing")
    return problems


def judge_crash(crash, sigsegv, reactions, crashed_fingerprints, limit=REACTION_LIMIT):
    """The playbook's reaction to the qemu killed by SIGSEGV (``sigsegv``: its action): within ``limit``
    seconds of the kill, for that guest's crash; and one reaction per crashed event received, no more."""
    if crash is None:
        return ["no reaction to the crash was measured"]
    problems = []
    event = crash["event"]
    window = [sigsegv["before"], sigsegv.get("settled") or sigsegv["after"]]
    if (event.get("kind"), event.get("uuid"), event.get("reason")) != ("crashed", sigsegv["uuid"], "failed") \
            or (event.get("details") or {}).get("signal") != 11 or not in_window(event.get("epoch"), window):
        problems.append("the reaction is not to the SIGSEGV crash of %s in %r: %r"
                        % (sigsegv["guest"], window, dict((k, event.get(k)) for k in
                                                          ("kind", "name", "uuid", "reason", "epoch", "details"))))
    if abs(crash["kill"] - sigsegv["before"]) > 0.001:
        problems.append("the reaction was timed from %.3f, the kill was at %.3f" % (crash["kill"], sigsegv["before"]))
    if not crash["seconds"] <= limit:
        problems.append("the playbook reacted %.2f s after the kill (limit %.0f s)" % (crash["seconds"], limit))
    if sorted(reactions) != sorted(crashed_fingerprints):
        problems.append("reactions %r, expected one per crashed event received %r"
                        % (sorted(reactions), sorted(crashed_fingerprints)))
    return problems
