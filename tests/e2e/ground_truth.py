# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn the ground truth written by capture.py into expected sessions.

The expectations come only from what the capture script did and observed
(its own clock before/after each command, the qemu pid it found, the live
configuration libvirt reported) - never from the audit log or the engine.

Times are windows ``[lo, hi]`` of epoch seconds:

* a start, attach, detach, update: ``[before, after]`` of the virsh command;
* a stop by virsh (destroy, save, managedsave): ``[before, settled]`` where
  ``settled`` is when ``virsh domstate`` first said "shut off";
* a crash (qemu killed with SIGSEGV): ``[kill, settled]`` - libvirt only
  notices the dead qemu when its monitor socket reports EOF and writes
  ``op=stop reason=failed`` then, 1.5-2.1 s after the kill; the window ends
  when libvirt itself reported the guest shut off, so it holds the record;
  the ANOM_ABEND of the kernel lies in ``[before, after]`` of the kill.

The judge allows TOLERANCE seconds on both sides of every window (kernel
audit timestamps are coarse and may be a few ms early).
"""

from __future__ import absolute_import, division, print_function

import json

TOLERANCE = 1.0

# resource kinds compared with the ground truth; cgroup ACL items and the
# net reason=open probes (/dev/net/tun, /dev/vhost-net) are libvirt's
# plumbing and not part of what the script did
COMPARED_KINDS = ("disk", "net", "chardev", "mem", "vcpu", "rng", "fs", "hostdev", "dev")

SIGNALS = {"SIGSEGV": 11, "SIGKILL": 9, "SIGTERM": 15, "SIGABRT": 6}


def load_actions(path):
    """Read actions.jsonl; ``fix`` lines (values learnt after an action) are merged into their action."""
    actions = []
    by_seq = {}
    with open(path, "rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8").strip()
            if not line:
                continue
            item = json.loads(line)
            if "fix" in item:
                by_seq[item["seq"]].update(item["fix"])
                continue
            actions.append(item)
            by_seq[item["seq"]] = item
    return actions


def compared(resource):
    """True for an engine resource that the ground truth speaks about."""
    if resource["kind"] not in COMPARED_KINDS:
        return False
    return not (resource["kind"] == "net" and resource["reason"] == "open")


def _window(action, end_key="after"):
    return [action["before"], action.get(end_key) or action["after"]]


def _start_resources(live, window):
    items = []
    for disk in live["disks"]:
        if disk.get("device", "disk") == "disk":
            items.append(("disk", disk["path"]))
    for mac in live["macs"]:
        items.append(("net", mac))
    for pty in live["ptys"]:
        items.append(("chardev", pty))
    items.append(("mem", str(live["memory_kib"])))
    items.append(("vcpu", str(live["vcpus"])))
    return [{"kind": kind, "reason": "start", "value": value, "opened": list(window),
             "closed": None, "close_reason": None} for kind, value in items]


def _close_open(session, window, reason):
    for res in session["resources"]:
        if res["closed"] is None:
            res["closed"] = list(window)
            res["close_reason"] = reason


def _find_open(session, kind, value, action):
    for res in reversed(session["resources"]):
        if res["kind"] == kind and res["value"] == value and res["closed"] is None:
            return res
    raise ValueError("ground truth: action %d %s %s %s: no open %s %s" % (
        action["seq"], action["event"], action["guest"], value, kind, value))


def expected_sessions(actions, virt):
    """Expected sessions in start order, plus the host-level facts (auditd restarts, end of capture)."""
    sessions = []
    current = {}
    restarts = []
    rotations = []
    capture_end = None
    first_action = None
    for action in actions:
        event = action["event"]
        if first_action is None:
            first_action = action["before"]
        uuid = action.get("uuid")
        session = current.get(uuid) if uuid else None
        if event.startswith("start:"):
            if action["rc"] != 0:
                raise ValueError("ground truth: start action %d failed" % action["seq"])
            if session is not None:
                raise ValueError("ground truth: %s started twice without a stop (action %d)"
                                 % (action["guest"], action["seq"]))
            window = _window(action)
            session = {"name": action["guest"], "uuid": uuid, "virt": virt, "state": "running",
                       "start_reason": event.split(":", 1)[1], "stop_reason": None,
                       "start": window, "end": None, "pid": action["qemu_pid"],
                       "resources": _start_resources(action["live"], window), "anomalies": [],
                       "failed_start": False, "actions": [action["seq"]], "across_auditd_restart": False}
            sessions.append(session)
            current[uuid] = session
        elif event.startswith("start-failed:"):
            if action["rc"] == 0:
                raise ValueError("ground truth: action %d should have failed" % action["seq"])
            window = _window(action)
            sessions.append({"name": action["guest"], "uuid": uuid, "virt": virt, "state": "failed",
                             "start_reason": "booted", "stop_reason": None, "start": window, "end": window,
                             "pid": None, "resources": None, "anomalies": [], "failed_start": True,
                             "actions": [action["seq"]], "across_auditd_restart": False})
        elif event.startswith("stop:"):
            if session is None:
                raise ValueError("ground truth: stop of a guest that is not running (action %d)" % action["seq"])
            parts = event.split(":")
            reason = parts[1]
            window = _window(action, "settled")
            session["end"] = window
            session["stop_reason"] = reason
            session["actions"].append(action["seq"])
            if reason in ("failed", "crashed"):
                session["state"] = "crashed"
                _close_open(session, window, "crash")
                if len(parts) > 2 and parts[2] == "SIGSEGV":
                    # the kernel writes ANOM_ABEND for a core-dumping signal only
                    session["anomalies"].append({"type": "ANOM_ABEND", "sig": SIGNALS[parts[2]],
                                                 "pid": action["qemu_pid"], "time": _window(action)})
            else:
                session["state"] = "stopped"
                _close_open(session, window, "stop")
            del current[uuid]
        elif event.startswith("res:"):
            if session is None:
                raise ValueError("ground truth: resource action %d on a guest that is not running" % action["seq"])
            if action["rc"] != 0:
                raise ValueError("ground truth: resource action %d failed" % action["seq"])
            verb, kind = event.split(":")[1:]
            window = _window(action)
            session["actions"].append(action["seq"])
            if verb == "attach":
                session["resources"].append({"kind": kind, "reason": "attach", "value": action["path"],
                                             "opened": window, "closed": None, "close_reason": None})
            elif verb == "detach":
                res = _find_open(session, kind, action["path"], action)
                res["closed"] = window
                res["close_reason"] = "detach"
            elif verb == "update":
                res = _find_open(session, kind, str(action["old"]), action)
                res["closed"] = window
                res["close_reason"] = "update"
                session["resources"].append({"kind": kind, "reason": "update", "value": str(action["new"]),
                                             "opened": window, "closed": None, "close_reason": None})
            else:
                raise ValueError("ground truth: unknown resource verb in %s" % event)
        elif event == "daemon:auditd-restart":
            restarts.append(_window(action))
            for running in current.values():
                running["across_auditd_restart"] = True
        elif event == "daemon:auditd-rotate":
            rotations.append(_window(action))
        elif event == "daemon:auditd-stop":
            capture_end = _window(action)
        elif event == "define" or event.startswith("noop:"):
            continue
        else:
            raise ValueError("ground truth: unknown event %r (action %d)" % (event, action["seq"]))
    if capture_end is None:
        raise ValueError("ground truth: the capture has no daemon:auditd-stop (it did not finish)")
    return {"sessions": sessions, "auditd_restarts": restarts, "auditd_rotations": rotations,
            "capture_end": capture_end, "first_action": first_action}


def expected_summary(expected):
    sessions = expected["sessions"]
    states = dict((state, 0) for state in ("running", "stopped", "crashed", "failed", "down", "lost"))
    for session in sessions:
        states[session["state"]] += 1
    return {
        "sessions": len(sessions),
        "states": states,
        "starts": sum(1 for s in sessions if not s["failed_start"]),
        "stops": sum(1 for s in sessions if s["stop_reason"] is not None),
        "anomalies": sum(len(s["anomalies"]) for s in sessions),
        "avcs": 0,
        "failed_operations": sum(1 for s in sessions if s["failed_start"]),
    }


def in_window(value, window, tolerance=TOLERANCE):
    return value is not None and window[0] - tolerance <= value <= window[1] + tolerance
