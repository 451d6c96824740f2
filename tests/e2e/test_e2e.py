# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Real hypervisor end-to-end test: real auditd, libvirtd and qemu, judged by what really happened.

capture.py (run once by the ``capture`` fixture) drives real guests and
writes its own ground truth; the collection is run through a real
``ansible-playbook`` on the captured log, and every session, state, stop
reason, time, resource and crash must be exactly the ground truth.  The
real auvirt is run on the same log and its differences are written to
``auvirt-differences-FORMAT.md`` next to the capture.  See docs/e2e.md.
"""

from __future__ import absolute_import, division, print_function

import json
import os

import pytest

import auvirt_diff
import ground_truth
import judge
import records


def _expected(capture, fmt, meta):
    actions = ground_truth.load_actions(os.path.join(capture, fmt, "actions.jsonl"))
    return ground_truth.expected_sessions(actions, meta["virt"])


def _log(capture, fmt):
    return os.path.join(capture, fmt, "audit.log")


def _fail_on(problems):
    if problems:
        pytest.fail("%d problem(s):\n  %s" % (len(problems), "\n  ".join(problems)), pytrace=False)


def test_capture_is_sound(fmt, capture, meta):
    """The capture itself: nothing lost, auditd restarted once, hex-encoded name, the right log format."""
    problems = []
    info = meta["passes"][fmt]
    if info["lost_after"] != info["lost_before"]:
        problems.append("the kernel lost %d audit records during the capture"
                        % (info["lost_after"] - info["lost_before"]))
    with open(_log(capture, fmt), "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    lines = text.split("\n")  # not splitlines(): it splits at the ENRICHED separator 0x1d
    for rtype, count in (("DAEMON_START", 2), ("DAEMON_END", 2), ("ANOM_ABEND", 1)):
        seen = sum(1 for line in lines if line.startswith("type=%s " % rtype))
        if seen != count:
            problems.append("%d %s records, expected %d" % (seen, rtype, count))
    hexname = u"e2e vm \u00fcn\u00ef".encode("utf-8").hex().upper()
    if " vm=%s " % hexname not in text:
        problems.append("the guest with a space and non-ASCII letters is not logged as vm=%s" % hexname)
    virt_lines = [line for line in lines if line.startswith("type=VIRT_CONTROL ")]
    if not virt_lines or any("virt=%s " % meta["virt"] not in line for line in virt_lines):
        problems.append("VIRT_CONTROL records are not all virt=%s" % meta["virt"])
    enriched = [line for line in lines if "\x1d" in line]
    if fmt == "ENRICHED" and not any('\x1dUID="root"' in line for line in virt_lines):
        problems.append("ENRICHED log without UID=\"root\" on the VIRT_CONTROL records")
    if fmt == "RAW" and enriched:
        problems.append("RAW log has %d enriched lines" % len(enriched))
    _fail_on(problems)


def test_sessions_are_the_ground_truth(fmt, capture, meta, playbook_result):
    """Every session, state, reason, time (+-1 s of the window), pid, resource and crash."""
    expected = _expected(capture, fmt, meta)
    result = playbook_result["full"]
    assert result.get("changed") is False
    _fail_on(judge.judge_sessions(result, expected))


def test_summary_is_the_ground_truth(fmt, capture, meta, playbook_result):
    expected = _expected(capture, fmt, meta)
    _fail_on(judge.judge_summary(playbook_result["full"]["summary"], expected)
             + judge.judge_summary(playbook_result["summary"]["summary"], expected))


def test_auditd_restart_keeps_guests_running(fmt, capture, meta, playbook_result):
    """auditd stopped and started in the middle: no session ends there, both are seen as host events."""
    expected = _expected(capture, fmt, meta)
    result = playbook_result["full"]
    problems = judge.judge_host_events(result["host_events"], expected)
    across = [s for s in expected["sessions"] if s["across_auditd_restart"]]
    if len(across) < 2:
        problems.append("ground truth: fewer than two guests ran across the auditd restart")
    for want in across:
        got = [s for s in result["sessions"] if s["uuid"] == want["uuid"] and s["start_reason"] == want["start_reason"]]
        if len(got) != 1 or got[0]["state"] != want["state"]:
            problems.append("%s across the auditd restart: %r, expected one %s session"
                            % (want["name"], [(s["state"], s["end"]) for s in got], want["state"]))
    _fail_on(problems)


def test_platform_records(platform_info, fmt, capture, meta, playbook_result, e2e_records):
    """The platform's own traits are in the capture, and the collection reads them.

    Every start has its device cgroup (a capture without cgroup records, e.g.
    from a root whose cgroup hierarchies were not mounted, would test less
    than it claims); /dev/userfaultfd with its three-digit minor is allowed
    exactly on the platforms whose libvirt does it, and the collection lists
    it with that rdev.  The facts go to record-differences.md."""
    traits = records.traits(_log(capture, fmt))
    e2e_records(platform_info["name"], fmt, traits, meta["versions"])
    expected = _expected(capture, fmt, meta)
    problems = []
    starts = sum(1 for s in expected["sessions"] if not s["failed_start"])
    if traits["cgroup_starts"] != starts:
        problems.append("%d cgroup deny-all records for %d starts" % (traits["cgroup_starts"], starts))
    if len(traits["start_spans"]) != starts:
        problems.append("%d VIRT_MACHINE_ID/op=start pairs for %d starts" % (len(traits["start_spans"]), starts))
    has_uffd = [rdev for path, rdev in traits["cgroup_paths"] if path == "/dev/userfaultfd"]
    if platform_info["userfaultfd"] and has_uffd != ["0A:101"]:
        problems.append("no cgroup allow of /dev/userfaultfd rdev=0A:101 (%r)" % has_uffd)
    if not platform_info["userfaultfd"] and has_uffd:
        problems.append("unexpected cgroup allow of /dev/userfaultfd %r" % has_uffd)
    if has_uffd:
        read = [(r["details"].get("rdev"), r["closed_epoch"] is not None or s["state"] == "running")
                for s in playbook_result["full"]["sessions"] for r in s["resources"]
                if r["kind"] == "cgroup" and r["value"] == "/dev/userfaultfd"]
        if read != [("0A:101", True)] * starts:
            problems.append("the collection's /dev/userfaultfd cgroup items (rdev, closed or running): %r, "
                            "expected one per start (%d) with rdev 0A:101" % (read, starts))
    _fail_on(problems)


def test_proof_points_at_the_records(fmt, capture, playbook_result):
    _fail_on(judge.judge_proof(playbook_result["full"], judge.index_log(_log(capture, fmt))))


def test_no_parse_errors_and_complete_coverage(fmt, playbook_result):
    result = playbook_result["full"]
    assert result["parse_errors"]["count"] == 0, result["parse_errors"]
    assert len(result["sources"]) == 1, result["sources"]


@pytest.mark.auvirt
def test_auvirt_differences(platform, fmt, capture, meta, playbook_result, e2e_note, e2e_output):
    """Run the platform's real auvirt on the same log; write down where it differs from the ground truth.

    Only on the platforms whose audit package still ships auvirt (platforms.py);
    the terminal summary says which were compared."""
    root = meta["platform"]["root"]
    if not os.access(os.path.join(root, auvirt_diff.AUVIRT.lstrip("/")), os.X_OK):
        pytest.fail("%s has no %s although its audit package ships it" % (platform, auvirt_diff.AUVIRT))
    expected = _expected(capture, fmt, meta)
    diffs, line_diff, outputs = auvirt_diff.compare(_log(capture, fmt), expected,
                                                    playbook_result["full"]["summary"],
                                                    playbook_result["lines"]["auvirt_lines"], root=root)
    path = os.path.join(e2e_output, "auvirt-differences-%s.md" % fmt)
    with open(path, "w") as handle:
        handle.write(auvirt_diff.report(fmt, os.path.basename(_log(capture, fmt)), diffs, line_diff, outputs))
    with open(path[:-3] + ".json", "w") as handle:
        json.dump({"differences": diffs, "auvirt_lines_diff": line_diff}, handle, indent=2, ensure_ascii=False)
    e2e_note("auvirt vs ground truth (%s %s): %d difference(s); report %s" % (platform, fmt, len(diffs), path))
    for diff in diffs:
        e2e_note("  - %s, %s: auvirt %s; truth %s" % (diff["what"], diff["session"], diff["auvirt"], diff["truth"]))
    changed = sum(1 for line in line_diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
    e2e_note("  auvirt's lines vs the collection's auvirt_lines: %d differing line(s)" % changed)
    # the comparison must have seen every session auvirt printed
    assert outputs and all(text is not None for text in outputs.values())
