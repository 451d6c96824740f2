# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sessions -> results: one call that the modules make.

``run()`` reads the logs once (reader -> grouper -> engine), selects the
sessions the options ask for and hands them to session_result.py, which
shapes them as docs/session-model.md describes.  Its options are a
RunOptions; a checkpoint (where to resume, what to save) is
checkpoint.RunCheckpoint.  ``compact_facts()`` turns a result into the
small ``ansible_facts['virt_sessions']``.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re
import socket
import time

from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint as checkpoints
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_events import EventGrouper, group_events
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_reader import LogReader
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_serials import SerialTracker
from ansible_collections.virtaudit.auvirt.plugins.module_utils.block_scan import ReadStats
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_set import (
    AUDITD_CONF,
    LogAccessError,
    auditd_log_file,
    check_readable,
    default_log_set,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import owner_name
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_result import shape_result
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_window import parse_window
from ansible_collections.virtaudit.auvirt.plugins.module_utils.virt_sessions import STATES, SessionEngine

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
RUNNING_STATES = ("running",)
_RANGE_RE = re.compile(r"\.\{(\d+)\.\.(\d+)\}$")


def log_argument_spec():
    """Options shared by guest_session_info and guest_session_facts."""
    return dict(
        paths=dict(type="list", elements="path", default=[]),
        auditd_conf=dict(type="path", default=AUDITD_CONF),
        start=dict(type="str"),
        end=dict(type="str"),
        vm=dict(type="list", elements="str", default=[]),
        uuid=dict(type="list", elements="str", default=[]),
        host=dict(type="str"),
        checkpoint=dict(type="path"),
    )


def boot_time_from_proc(uptime_path="/proc/uptime", now=None):
    """Epoch of the last boot from /proc/uptime, or None where there is none."""
    try:
        with open(uptime_path, "r") as handle:
            uptime = float(handle.read().split()[0])
    except (IOError, OSError, ValueError, IndexError):
        return None
    return (now if now is not None else time.time()) - uptime


def validate_uuids(uuids):
    """Lower-cased UUIDs; ValueError naming the first invalid one."""
    result = []
    for value in uuids or []:
        text = str(value).strip()
        if not UUID_RE.match(text):
            raise ValueError("invalid uuid %r: expected 8-4-4-4-12 hexadecimal digits, "
                             "e.g. 5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b" % (value,))
        result.append(text.lower())
    return result


def resolve_paths(paths, auditd_conf=AUDITD_CONF):
    """The files to read, oldest first, the rotated files that are missing and those skipped (default_log_set)."""
    if paths:
        return list(paths), [], {"count": 0, "paths": []}
    return default_log_set(auditd_log_file(auditd_conf))


def _overlaps(session, window_start, window_end, host_first):
    """Whether ``session`` ran in the window.  One whose start is not in the logs began before the host's first
    record (``host_first``: host -> epoch), or after the host's boot it was seen in (``not_before``): it is
    selected from then on; with neither known, from its own first record."""
    start, end = session.interval()
    if session.state == "failed":
        end = start
    if window_end is not None and start is not None and start > window_end:
        return False
    if window_start is not None and end is not None and end < window_start:
        return False
    if start is None and window_end is not None:
        since = session.first_seen
        first = host_first.get(session.host)
        if first is not None and (since is None or first < since):
            since = first
        if session.not_before is not None and (since is None or session.not_before > since):
            since = session.not_before
        if since is not None and since > window_end:
            return False
    return True


def _host_firsts(tracker, default_host):
    """host -> time of its first record (every record with a kernel serial, also of earlier runs)."""
    firsts = {}
    for node, (sec, ms) in tracker.firsts.items():
        name = node or default_host
        epoch = EventId.time(sec, ms)
        if name not in firsts or epoch < firsts[name]:
            firsts[name] = epoch
    return firsts


def _sort_key(session):
    anchor = session.start_epoch if session.start_epoch is not None else session.first_seen
    return (anchor if anchor is not None else 0.0, session.host or "", session.uuid)


class RunOptions(object):
    """What run() is asked for: its keyword arguments, each with its default (a name run() does not know is a
    TypeError).  ``now`` None is the clock's time when the options are made."""

    DEFAULTS = (
        ("paths", None), ("start", None), ("end", None), ("vm", None), ("uuid", None),
        ("all_events", False), ("proof", False), ("raw", False), ("summary_only", False), ("auvirt_lines", False),
        ("show_uuid", False), ("show_host", "never"), ("evidence", False),
        ("default_host", "localhost"), ("now", None), ("uid_resolver", None), ("boot_time", None),
        ("auditd_conf", AUDITD_CONF), ("checkpoint", None), ("save_checkpoint", True),
    )
    __slots__ = tuple(name for name, dummy in DEFAULTS)

    def __init__(self, **options):
        for name in options:
            if name not in self.__slots__:
                raise TypeError("run() got an unexpected keyword argument %r" % (name,))
        for name, default in self.DEFAULTS:
            setattr(self, name, options.get(name, default))
        if self.now is None:
            self.now = time.time()

    @property
    def keep_raw(self):
        """Every event's raw lines are kept (for the proof's raw lines)."""
        return bool(self.proof and self.raw)

    @property
    def compact(self):
        """What ended sessions keep: everything (details are returned), or only what the summary (and a
        checkpoint) needs (virt_sessions.SessionEngine)."""
        if self.all_events or self.proof or self.evidence:
            return None
        return "text" if self.checkpoint else "tally"


def run(**options):
    """Read the logs and return the documented result dict (RunOptions lists the options).

    ``evidence`` adds to every session the short summary of its denials,
    anomalies and hot-plugs that the fleet report needs (session_evidence).

    With ``checkpoint`` (a file path) only what is new since the run that
    wrote it is read, and the checkpoint is updated (unless
    ``save_checkpoint`` is false, e.g. in check mode).  Raises ValueError
    for bad options and LogAccessError for unreadable logs.

    A checkpoint passes every check of checkpoint.load() before it is used;
    should its content still break the run, the run is made again from the
    logs alone, with a warning, and the checkpoint is written anew.
    """
    options = RunOptions(**options)
    checkpoint = _checkpoint(options, trust=True)
    try:
        return _run(options, checkpoint, [])
    except Exception as exc:  # pylint: disable=broad-except
        if checkpoint is None or not checkpoint.restored:
            raise
        warning = ("checkpoint %s could not be used (%s: %s); reading all logs"
                   % (options.checkpoint, type(exc).__name__, exc))
    return _run(options, _checkpoint(options, trust=False), [warning])


def _checkpoint(options, trust):
    if not options.checkpoint:
        return None
    return checkpoints.RunCheckpoint(options.checkpoint, options.default_host, options.keep_raw, trust=trust)


def _run(options, checkpoint, warnings):
    """One run: the logs read once (reader -> grouper -> engine), the sessions selected and shaped."""
    window = window_start, window_end = parse_window(options.start, options.end, options.now,
                                                     boot_time=options.boot_time)
    uuids = set(validate_uuids(options.uuid))
    names = set(options.vm or [])
    paths, missing_rotated, skipped_files = resolve_paths(options.paths, options.auditd_conf)
    for path in paths:
        check_readable(path)

    stats = ReadStats()
    keep_raw = options.keep_raw
    engine = SessionEngine(options.default_host, uid_resolver=options.uid_resolver, keep_raw=keep_raw,
                           compact=options.compact)
    tracker = SerialTracker()
    # a window changes what is returned, not what is read: sessions that began before it are built from
    # their first record on, serials and counts cover every file (the reader is told no window)
    reader = LogReader(stats, tracker, keep_raw, hold_partial=checkpoint is not None)
    grouper = EventGrouper(keep_raw=keep_raw)
    resume_at = save = None
    if checkpoint is not None:
        paths, resume_at = checkpoint.resume(paths, engine, tracker, reader, grouper, warnings)
        if options.save_checkpoint:
            save = checkpoint.saver(stats, engine, tracker, reader, grouper, options.now, warnings)
    for event in group_events(reader.records(paths, resume_at=resume_at, before_flush=save), grouper):
        engine.feed(event)
    sessions = engine.finish()

    host_first = _host_firsts(tracker, options.default_host) if window_end is not None else {}
    selected = [s for s in sessions
                if (not uuids or s.uuid in uuids)
                and (not names or s.name in names)
                and _overlaps(s, window_start, window_end, host_first)]
    selected.sort(key=_sort_key)
    return shape_result(options, window, selected, sessions, engine, tracker, reader, stats,
                        (missing_rotated, skipped_files), None if checkpoint is None else checkpoint.info, warnings)


def run_module(module, raise_log_errors=False, **options):
    """run() with the shared options of an AnsibleModule's params; fails the module on bad input.

    ``options`` are the extra run() options of the calling module.  Warnings
    (checkpoint problems) go to ``module.warn``.  Returns the result.  A log
    that cannot be read fails the module, or with ``raise_log_errors`` raises
    LogAccessError to the caller.
    """
    params = module.params
    try:
        result = run(
            paths=params["paths"], start=params["start"], end=params["end"],
            vm=params["vm"], uuid=params["uuid"],
            default_host=params["host"] or socket.gethostname(),
            uid_resolver=owner_name, boot_time=boot_time_from_proc(),
            auditd_conf=params["auditd_conf"],
            checkpoint=params["checkpoint"], save_checkpoint=not module.check_mode,
            **options
        )
    except LogAccessError as exc:
        if raise_log_errors:
            raise
        module.fail_json(msg=str(exc), path=exc.path)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    for warning in result.pop("warnings", []):
        module.warn(warning)
    return result


def unavailable_facts(error, now=None):
    """``compact_facts`` of a host whose audit log cannot be read (LogAccessError ``error``): all counts empty,
    ``status`` says why (``no_audit_log``, ``permission_denied``, ``unreadable``) and ``message`` how."""
    if error.permission:
        status = "permission_denied"
    elif error.reason == "no such file":
        status = "no_audit_log"
    else:
        status = "unreadable"
    return {
        "status": status,
        "message": str(error),
        "states": dict((state, 0) for state in STATES),
        "sessions": 0,
        "running": [],
        "last_event": None,
        "last_event_epoch": None,
        "first_event": None,
        "first_event_epoch": None,
        "avcs": 0,
        "anomalies": 0,
        "failed_operations": 0,
        "coverage": {"complete": False, "reaches_window_start": None, "missing_events": 0, "missing_rotated_files": 0},
        "parse_errors": 0,
        "sources": 0,
        "collected_at": iso(now if now is not None else time.time()),
    }


def _count_files(names):
    """How many files ``log.2`` and ``log.{3..7}`` name (6)."""
    total = 0
    for name in names:
        match = _RANGE_RE.search(name)
        total += int(match.group(2)) - int(match.group(1)) + 1 if match else 1
    return total


def compact_facts(result, now=None):
    """The small ``ansible_facts['virt_sessions']`` built from a run() result."""
    running = []
    for session in result["sessions"]:
        if session["state"] in RUNNING_STATES:
            running.append({"name": session["name"], "uuid": session["uuid"], "host": session["host"],
                            "since": session["start"], "since_epoch": session["start_epoch"]})
    coverage = result["coverage"]
    summary = result["summary"]
    return {
        "status": "ok",
        "message": None,
        "states": dict(summary["states"]),
        "sessions": summary["sessions"],
        "running": running,
        "last_event": coverage["last_record"],
        "last_event_epoch": coverage["last_record_epoch"],
        "first_event": coverage["first_record"],
        "first_event_epoch": coverage["first_record_epoch"],
        "avcs": summary["avcs"],
        "anomalies": summary["anomalies"],
        "failed_operations": summary["failed_operations"],
        "coverage": {
            "complete": coverage["complete"],
            "reaches_window_start": coverage["reaches_window_start"],
            "missing_events": coverage["serial_gaps"]["missing_events"],
            "missing_rotated_files": _count_files(coverage["missing_rotated_files"]),
        },
        "parse_errors": result["parse_errors"]["count"],
        "sources": len(result["sources"]),
        "collected_at": iso(now if now is not None else time.time()),
    }
