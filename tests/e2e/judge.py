# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare the collection's result with the expected sessions of ground_truth.py.

Every function returns a list of problems (plain sentences) instead of
stopping at the first one, so a failing run shows everything that is wrong.
"""

from __future__ import absolute_import, division, print_function

import re

from ground_truth import TOLERANCE, compared, expected_summary, in_window

EVENT_ID_RE = re.compile(r"msg=audit\((\d+\.\d+:\d+)\)")


def index_log(path):
    """{event id: [lines]} of an audit log."""
    index = {}
    with open(path, "rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            match = EVENT_ID_RE.search(line)
            if match:
                index.setdefault(match.group(1), []).append(line)
    return index


def _fmt_window(window):
    return "[%.3f, %.3f]" % (window[0], window[1])


def _label(session, index):
    return "session %d (%s %s)" % (index, session["name"], session.get("start_reason") or "")


def judge_resources(label, actual_session, expected):
    problems = []
    actual = [r for r in (actual_session.get("resources") or []) if compared(r)]
    if expected["failed_start"]:
        # the guest never ran: whatever libvirt listed must be released by the failed start itself
        for res in actual:
            if res.get("closed_epoch") != actual_session["start_epoch"] or res.get("close_reason") != "start-failed":
                problems.append("%s: resource %s %s of a failed start is not closed by it (closed %s, %s)"
                                % (label, res["kind"], res["value"], res.get("closed_epoch"), res.get("close_reason")))
        return problems
    remaining = list(actual)
    for want in expected["resources"]:
        match = None
        for res in remaining:
            if (res["kind"], res["reason"], str(res["value"])) == (want["kind"], want["reason"], want["value"]) \
                    and in_window(res.get("opened_epoch"), want["opened"]):
                match = res
                break
        if match is None:
            problems.append("%s: expected resource %s %s %s opened in %s is missing"
                            % (label, want["kind"], want["reason"], want["value"], _fmt_window(want["opened"])))
            continue
        remaining.remove(match)
        if match.get("result") != "success":
            problems.append("%s: resource %s %s has result %s" % (label, want["kind"], want["value"], match.get("result")))
        if want["closed"] is None:
            if match.get("closed_epoch") is not None:
                problems.append("%s: resource %s %s should still be held, closed at %s (%s)"
                                % (label, want["kind"], want["value"], match.get("closed_epoch"), match.get("close_reason")))
        else:
            if not in_window(match.get("closed_epoch"), want["closed"]):
                problems.append("%s: resource %s %s closed at %s, expected in %s"
                                % (label, want["kind"], want["value"], match.get("closed_epoch"), _fmt_window(want["closed"])))
            if match.get("close_reason") != want["close_reason"]:
                problems.append("%s: resource %s %s close_reason %s, expected %s"
                                % (label, want["kind"], want["value"], match.get("close_reason"), want["close_reason"]))
    for res in remaining:
        problems.append("%s: unexpected resource %s %s %s (opened %s)"
                        % (label, res["kind"], res["reason"], res["value"], res.get("opened_epoch")))
    return problems


def judge_session(label, got, want):
    problems = []

    def check(key, expected_value):
        if got.get(key) != expected_value:
            problems.append("%s: %s is %r, expected %r" % (label, key, got.get(key), expected_value))

    check("name", want["name"])
    check("uuid", want["uuid"])
    check("virt", want["virt"])
    check("state", want["state"])
    check("start_reason", want["start_reason"])
    check("stop_reason", want["stop_reason"])
    check("pid", want["pid"])
    check("user", "root")
    if not in_window(got.get("start_epoch"), want["start"]):
        problems.append("%s: start %s not in %s" % (label, got.get("start_epoch"), _fmt_window(want["start"])))
    if want["end"] is None:
        check("end_epoch", None)
        check("duration_seconds", None)
    elif want["failed_start"]:
        check("end_epoch", got.get("start_epoch"))
        check("duration_seconds", 0)
    else:
        if not in_window(got.get("end_epoch"), want["end"]):
            problems.append("%s: end %s not in %s" % (label, got.get("end_epoch"), _fmt_window(want["end"])))
        elif got.get("start_epoch") is not None and got.get("duration_seconds") is not None:
            if abs(got["duration_seconds"] - (got["end_epoch"] - got["start_epoch"])) > 0.0015:
                problems.append("%s: duration %s != end - start" % (label, got["duration_seconds"]))
    anomalies = got.get("anomalies") or []
    if len(anomalies) != len(want["anomalies"]):
        problems.append("%s: %d anomalies, expected %d (%r)" % (label, len(anomalies), len(want["anomalies"]), anomalies))
    else:
        for have, need in zip(anomalies, want["anomalies"]):
            if have.get("type") != need["type"] or str(have.get("sig")) != str(need["sig"]) \
                    or str(have.get("pid")) != str(need["pid"]) or not in_window(have.get("epoch"), need["time"]):
                problems.append("%s: anomaly %r, expected %s sig %s pid %s in %s"
                                % (label, have, need["type"], need["sig"], need["pid"], _fmt_window(need["time"])))
    if got.get("avcs"):
        problems.append("%s: unexpected AVCs %r" % (label, got["avcs"]))
    problems += judge_resources(label, got, want)
    return problems


def judge_sessions(result, expected):
    problems = []
    got = result["sessions"]
    want = expected["sessions"]
    got_keys = [(s["name"], s["uuid"], s["state"]) for s in got]
    want_keys = [(s["name"], s["uuid"], s["state"]) for s in want]
    if got_keys != want_keys:
        problems.append("sessions differ:\n  got      %r\n  expected %r" % (got_keys, want_keys))
    for index, (have, need) in enumerate(zip(got, want)):
        if have["uuid"] != need["uuid"]:
            continue
        problems += judge_session(_label(need, index), have, need)
    hosts = set(s["host"] for s in got)
    if len(hosts) > 1:
        problems.append("sessions on several hosts %r" % sorted(hosts))
    return problems


def judge_summary(summary, expected):
    problems = []
    want = expected_summary(expected)
    for key, value in want.items():
        if summary.get(key) != value:
            problems.append("summary %s is %r, expected %r" % (key, summary.get(key), value))
    return problems


def judge_host_events(host_events, expected):
    """auditd's own start/stop records: one restart in the middle, the final stop at the end."""
    problems = []
    starts = [e for e in host_events if e["type"] == "audit_start"]
    ends = [e for e in host_events if e["type"] == "audit_end"]
    restarts = expected["auditd_restarts"]
    if len(starts) != 1 + len(restarts) or len(ends) != 1 + len(restarts):
        problems.append("host_events: %d audit_start / %d audit_end, expected %d / %d: %r"
                        % (len(starts), len(ends), 1 + len(restarts), 1 + len(restarts), host_events))
        return problems
    if not starts[0]["epoch"] <= expected["first_action"] + TOLERANCE:
        problems.append("host_events: first audit_start %s is after the first action %s"
                        % (starts[0]["epoch"], expected["first_action"]))
    for window, end, start in zip(restarts, ends[:-1], starts[1:]):
        if not (in_window(end["epoch"], window) and in_window(start["epoch"], window)):
            problems.append("host_events: auditd restart %s: audit_end %s, audit_start %s"
                            % (_fmt_window(window), end["epoch"], start["epoch"]))
    if not in_window(ends[-1]["epoch"], expected["capture_end"]):
        problems.append("host_events: final audit_end %s not in %s" % (ends[-1]["epoch"], _fmt_window(expected["capture_end"])))
    return problems


def judge_proof(result, log_index):
    """start_id / end_id / proof ids point at the records they claim."""
    problems = []
    for index, session in enumerate(result["sessions"]):
        label = _label(session, index)
        uuid = "uuid=%s" % session["uuid"]
        start = log_index.get(session.get("start_id") or "", [])
        if not any("type=VIRT_CONTROL" in line and "op=start" in line and uuid in line for line in start):
            problems.append("%s: start_id %s is not its op=start record: %r" % (label, session.get("start_id"), start))
        if session["state"] in ("stopped", "crashed"):
            end = log_index.get(session.get("end_id") or "", [])
            if not any("type=VIRT_CONTROL" in line and "op=stop" in line and uuid in line for line in end):
                problems.append("%s: end_id %s is not its op=stop record: %r" % (label, session.get("end_id"), end))
        elif session["state"] == "failed":
            if session.get("end_id") not in (None, session.get("start_id")):
                problems.append("%s: failed start has end_id %s" % (label, session.get("end_id")))
        for event_id in session.get("proof") or []:
            if event_id not in log_index:
                problems.append("%s: proof id %s is not in the log" % (label, event_id))
    return problems
