# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the real auvirt on the captured log and write down where it differs.

auvirt is judged by the same ground truth as the collection (what the
capture script did), not by the collection's output; the collection's own
auvirt-style lines are compared with auvirt's line by line as well.
Nothing here fails the test because auvirt is wrong: the differences are the
result.  The test fails only when auvirt cannot be run or its output cannot
be read.
"""

from __future__ import absolute_import, division, print_function

import difflib
import os
import re
import shutil
import subprocess
import tempfile
import time

from ground_truth import TOLERANCE, expected_summary

AUVIRT = "/usr/bin/auvirt"
PERIOD_RE = re.compile(r"^(?P<start>\w{3} \w{3} [ \d]\d \d\d:\d\d)"
                       r"(?: - (?:(?P<failed>failed)|(?P<end>\d\d:\d\d)\s+\((?P<dur>[\d+:]*)\)?))?\s*$")
SUMMARY_KEYS = {
    "Range of time for report": "range",
    "Number of guest starts": "starts",
    "Number of guest stops": "stops",
    "Number of resource assignments": "resources",
    "Number of related AVCs": "avcs",
    "Number of related anomalies": "anomalies",
    "Number of failed operations": "failed_operations",
}


def run_auvirt(log, *options, **kwargs):
    """Return (command line, stdout text); raise RuntimeError on failure.

    root: the platform's root ("/" = the host); for a chroot, LOG must be inside it
    and auvirt runs there (it links the platform's libauparse)."""
    root = kwargs.get("root", "/")
    prefix = [] if root == "/" else ["chroot", root]
    inner = log if root == "/" else "/" + os.path.relpath(log, root)
    cmd = [AUVIRT, "--file", inner] + list(options)
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    proc = subprocess.run(prefix + cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=120,
                          check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s exited %d: %s"
                           % (" ".join(cmd), proc.returncode, proc.stderr.decode("utf-8", "replace")))
    return " ".join(cmd[1:]), proc.stdout.decode("utf-8", "replace")


def parse_rows(text, show_uuid=True, all_events=False):
    """Parse auvirt's list output into dicts; raise ValueError on a line it cannot read."""
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("    Proof:"):
            rows[-1]["proof"] = line.split(":", 1)[1].split(",")
            continue
        fields = line.split("\t")
        row = {"line": line}
        if all_events:
            row["type"] = fields[0][:6].strip()
            fields[0] = fields[0][7:]
        row["name"] = fields[0].rstrip()
        rest = fields[1:]
        if len(rest) < (3 if show_uuid else 2):
            raise ValueError("cannot read auvirt line %r" % line)
        if show_uuid:
            row["uuid"] = rest.pop(0).strip()
        row["user"] = rest[0].strip()
        match = PERIOD_RE.match(rest[1])
        if not match:
            raise ValueError("cannot read the time period of auvirt line %r" % line)
        row.update(start=match.group("start"), end=match.group("end"), failed=bool(match.group("failed")))
        row["extra"] = [f.strip() for f in rest[2:]]
        rows.append(row)
    return rows


def parse_summary(text):
    summary = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        if key.strip() in SUMMARY_KEYS:
            value = value.strip()
            summary[SUMMARY_KEYS[key.strip()]] = int(value) if value.isdigit() else value
    missing = set(SUMMARY_KEYS.values()) - set(summary)
    if missing:
        raise ValueError("auvirt --summary lacks %s: %r" % (sorted(missing), text))
    return summary


def _minutes(window, fmt):
    """Every rendering (UTC, auvirt's format) of a time inside the window +- tolerance."""
    out = set()
    t = window[0] - TOLERANCE
    while t <= window[1] + TOLERANCE:
        out.add(time.strftime(fmt, time.gmtime(t)))
        t += 1.0
    out.add(time.strftime(fmt, time.gmtime(window[1] + TOLERANCE)))
    return out


def _ctime16(window):
    # ctime() pads the day with a space: "Thu Nov  6 13:48"
    return set(s[:8] + ("%2d" % int(s[8:10])) + s[10:] for s in _minutes(window, "%a %b %d %H:%M"))


def compare_sessions(rows, expected):
    """Differences between auvirt's session rows and the ground truth."""
    diffs = []
    pending = list(rows)
    for index, session in enumerate(expected["sessions"]):
        label = "%s #%d (%s)" % (session["name"], 1 + sum(1 for s in expected["sessions"][:index]
                                                          if s["uuid"] == session["uuid"]), session["state"])
        row = next((r for r in pending if r["uuid"] == session["uuid"]), None)
        if row is None:
            diffs.append({"what": "missing session", "session": label, "auvirt": "(no row)",
                          "truth": "a %s session" % session["state"]})
            continue
        pending.remove(row)
        truth_name = session["name"].encode("utf-8")[:22].decode("utf-8", "replace").rstrip()
        if row["name"] != session["name"]:
            what = "name truncated to 22 bytes" if row["name"] == truth_name else "name"
            diffs.append({"what": what, "session": label, "auvirt": row["name"], "truth": session["name"]})
        if row["user"] != "root":
            diffs.append({"what": "user", "session": label, "auvirt": row["user"], "truth": "root"})
        if row["start"] not in _ctime16(session["start"]):
            diffs.append({"what": "start time", "session": label, "auvirt": row["start"],
                          "truth": " or ".join(sorted(_ctime16(session["start"])))})
        if session["state"] == "failed":
            if not row["failed"]:
                diffs.append({"what": "failed start", "session": label, "auvirt": row["end"] or "(running)",
                              "truth": "failed"})
        elif session["state"] == "running":
            if row["end"] or row["failed"]:
                diffs.append({"what": "running guest", "session": label,
                              "auvirt": row["end"] or "failed", "truth": "still running"})
        else:
            if session["state"] == "crashed":
                diffs.append({"what": "crash not shown", "session": label,
                              "auvirt": "an ordinary end time, no stop reason",
                              "truth": "crashed (stop reason %s)" % session["stop_reason"]})
            ends = _minutes(session["end"], "%H:%M")
            if row["failed"] or row["end"] not in ends:
                diffs.append({"what": "end time", "session": label, "auvirt": "failed" if row["failed"] else
                              (row["end"] or "(no end: shown as running)"),
                              "truth": "%s (%s, %s)" % (" or ".join(sorted(ends)), session["state"],
                                                        session["stop_reason"])})
    for row in pending:
        diffs.append({"what": "extra session", "session": row["name"], "auvirt": row["line"].strip(),
                      "truth": "(none)"})
    return diffs


def compare_summary(summary, expected, engine_summary):
    truth = expected_summary(expected)
    diffs = []
    for key in ("starts", "stops", "avcs", "anomalies", "failed_operations"):
        if summary[key] != truth[key]:
            diffs.append({"what": "summary %s" % key, "session": "-", "auvirt": summary[key], "truth": truth[key]})
    if summary["resources"] != engine_summary["resources"]:
        # not judged by the ground truth (it does not speak about cgroup ACLs and tun/vhost opens)
        diffs.append({"what": "summary resources (informational)", "session": "-", "auvirt": summary["resources"],
                      "truth": "the collection counts %d" % engine_summary["resources"]})
    return diffs


def compare_events(rows, expected):
    """--all-events: the stop and anomaly rows against the ground truth."""
    diffs = []
    for session in expected["sessions"]:
        mine = [r for r in rows if r.get("uuid") == session["uuid"]]
        label = session["name"]
        want_stops = sum(1 for s in expected["sessions"] if s["uuid"] == session["uuid"] and s["stop_reason"])
        want_anoms = sum(len(s["anomalies"]) for s in expected["sessions"] if s["uuid"] == session["uuid"])
        got_stops = sum(1 for r in mine if r["type"] == "stop")
        got_anoms = sum(1 for r in mine if r["type"] == "anom")
        if got_stops != want_stops:
            diffs.append({"what": "stop rows", "session": label, "auvirt": got_stops, "truth": want_stops})
        if got_anoms != want_anoms:
            diffs.append({"what": "anomaly rows", "session": label, "auvirt": got_anoms, "truth": want_anoms})
    diffs += compare_resources(rows, expected)
    unique = []
    counts = []
    for diff in diffs:
        if diff in unique:
            counts[unique.index(diff)] += 1
        else:
            unique.append(diff)
            counts.append(1)
    for diff, count in zip(unique, counts):
        if count > 1:
            diff["truth"] = "%s (x%d)" % (diff["truth"], count)
    return unique


def _multiset_diff(have, want):
    have, want = list(have), list(want)
    for item in list(want):
        if item in have:
            have.remove(item)
            want.remove(item)
    return have, want


def compare_resources(rows, expected):
    """--all-events resrc rows (cgroup left out) against the resources the guests held."""
    diffs = []
    for uuid in sorted(set(s["uuid"] for s in expected["sessions"])):
        sessions = [s for s in expected["sessions"] if s["uuid"] == uuid]
        want = []
        for session in sessions:
            for res in session["resources"] or []:
                want.append((res["kind"], res["reason"], res["value"]))
        have = [(r["extra"][0], r["extra"][1], r["extra"][2]) for r in rows
                if r.get("uuid") == uuid and r["type"] == "resrc" and len(r["extra"]) >= 3 and r["extra"][0] != "cgroup"]
        extra, missing = _multiset_diff(have, want)
        failed = [s for s in sessions if s["failed_start"]]
        for kind, reason, value in missing:
            diffs.append({"what": "resource missing", "session": sessions[0]["name"],
                          "auvirt": "(no resrc row)", "truth": "%s %s %s" % (kind, reason, value)})
        for kind, reason, value in extra:
            what = "resource of a failed start listed" if failed and reason == "start" else "extra resource"
            diffs.append({"what": what, "session": sessions[0]["name"], "auvirt": "%s %s %s" % (kind, reason, value),
                          "truth": "the guest never held it" if failed and reason == "start" else "(none)"})
    return diffs


def compare(log, expected, engine_summary, collection_lines, root="/"):
    """Run auvirt four ways (in the platform's ROOT); return (differences, line diff, outputs)."""
    if root != "/":
        scratch = tempfile.mkdtemp(prefix="virtaudit-e2e-auvirt-", dir=os.path.join(root, "tmp"))
        try:
            copy = os.path.join(scratch, "audit.log")
            shutil.copy2(log, copy)
            return _compare(copy, expected, engine_summary, collection_lines, root)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
    return _compare(log, expected, engine_summary, collection_lines, root)


def _compare(log, expected, engine_summary, collection_lines, root):
    outputs = {}
    cmd, text = run_auvirt(log, "--show-uuid", root=root)
    outputs[cmd] = text
    rows = parse_rows(text, show_uuid=True)
    diffs = compare_sessions(rows, expected)

    cmd, text = run_auvirt(log, "--summary", root=root)
    outputs[cmd] = text
    diffs += compare_summary(parse_summary(text), expected, engine_summary)

    cmd, text = run_auvirt(log, "--all-events", "--show-uuid", root=root)
    outputs[cmd] = text
    diffs += compare_events(parse_rows(text, show_uuid=True, all_events=True), expected)

    cmd, plain = run_auvirt(log, root=root)
    outputs[cmd] = plain
    line_diff = list(difflib.unified_diff(plain.splitlines(), list(collection_lines), "auvirt",
                                          "guest_session_info auvirt_lines", lineterm="", n=0))
    return diffs, line_diff, outputs


def report(fmt, log_name, diffs, line_diff, outputs):
    lines = ["# auvirt compared with the ground truth (%s log)" % fmt, "",
             "Log: `%s`.  auvirt run as `TZ=UTC LC_ALL=C auvirt ...`; every row is judged by what the" % log_name,
             "capture script did (times +-%.0f s, minutes as auvirt prints them)." % TOLERANCE, ""]
    if diffs:
        lines += ["| what | session | auvirt says | ground truth |", "|---|---|---|---|"]
        for diff in diffs:
            cells = (diff["what"], diff["session"], str(diff["auvirt"]), str(diff["truth"]))
            lines.append("| %s |" % " | ".join(cell.replace("|", "\\|") for cell in cells))
    else:
        lines.append("No difference from the ground truth.")
    lines += ["", "## auvirt's default output vs the collection's `auvirt_lines`", ""]
    if line_diff:
        lines += ["```diff"] + line_diff + ["```"]
    else:
        lines.append("Identical.")
    for cmd, text in outputs.items():
        lines += ["", "## `auvirt %s`" % cmd, "", "```", text.rstrip("\n"), "```"]
    return "\n".join(lines) + "\n"
