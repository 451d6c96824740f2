# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Following the audit log: each poll returns the guest events that are new since the last one.

``EventFollower.poll()`` calls ``session_report.run()`` with a checkpoint
(only new bytes are read; rotation-safe) and ``all_events``, derives the
happenings (module_utils/guest_events.py) and returns those not returned
before; ``commit()`` then records them in a small state file beside the
checkpoint (``CHECKPOINT.events``).  docs/events.md describes the
guarantees; in short:

* the window: each run selects only the sessions that overlap the time from
  ``late_margin`` seconds before the newest happening on (``floor``), so the
  result stays small however long the log is; happenings older than the
  floor are never returned (they were, or they predate ``start``);
* sessions that were running (or whose end was not certain yet) are
  remembered (``open``); when one ended before the window - a guest that
  went down with its host ends at the shutdown, seen only at the next boot -
  a second run without saving the checkpoint fetches just those guests;
* the fingerprints of the happenings returned since the floor are kept, so
  a restart, a rotation or a checkpoint that had to be dropped (the run then
  reads all logs) returns nothing twice;
* AVCs and anomalies of no guest are numbered per host by the engine; the
  numbers the last run saw (``numbers``) tell how many came since that the
  run does not list (a flood): one event says how many;
* a poll whose log file has not changed since the last run is skipped.

Delivery is at least once: state is saved after the events were handed on
(``commit``), so a process killed in between repeats at most that poll's
events.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import math
import os
import re
import socket
import time

from ansible_collections.virtaudit.auvirt.plugins.module_utils import guest_events, session_report, time_text
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_set import AUDITD_CONF
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import owner_name, read_private, replace_atomically
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import (
    AtLeast,
    MapOf,
    Maybe,
    Row,
    check_shape,
)

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
STATE_FORMAT = "virtaudit.auvirt guest_events state"
STATE_VERSION = 2  # 2: numbers (version 1, without them, is still read)
STATE_SUFFIX = ".events"
LATE_MARGIN = 600.0
MAX_FINGERPRINTS = 20000
MAX_STATE_BYTES = 16 * 1024 * 1024
STATE_SHAPE = {
    "format": str,
    "version": int,
    "host": str,
    "floor": Maybe(float),
    "newest": Maybe(float),
    "emitted": MapOf(float),
    "open": MapOf({"host": Maybe(str), "uuid": Maybe(str), "since": Maybe(float)}),
    "pending": AtLeast(0),
    "numbers": Maybe(MapOf(Row(AtLeast(0), AtLeast(0)))),
    "log": Maybe(Row(str, int, int, int, int)),
    "written_at": str,
}


class StateError(Exception):
    """A state file that cannot be read or trusted; ``str()`` says why."""


def window_text(epoch):
    """``start`` for run(): the epoch, rounded down to the millisecond."""
    return "%.3f" % (math.floor(epoch * 1000) / 1000.0)


def load_state(path):
    """The state saved at ``path``, or None when there is none; StateError when it cannot be used."""
    data = read_private(path, MAX_STATE_BYTES, "event state", StateError)
    if data is None:
        return None
    try:
        state = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise StateError("event state %s is not valid JSON (%s)" % (path, exc))
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT or state.get("version") not in (1, 2):
        raise StateError("event state %s was not written by this version of virtaudit.auvirt" % path)
    if state["version"] == 1:
        # AVCs and anomalies of no guest were not followed yet: how many came before is not known
        state = dict(state, version=STATE_VERSION, numbers=None)
    problem = check_shape(state, STATE_SHAPE, "state")
    if problem:
        raise StateError("event state %s does not have the expected content: %s" % (path, problem))
    return state


def save_state(path, state):
    """Replace ``path`` by ``state`` atomically (mode 0600); StateError when it cannot be written."""
    payload = json.dumps(state, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")
    try:
        replace_atomically(path, payload, 0o600, durable=True)
    except (IOError, OSError) as exc:
        raise StateError("cannot write event state %s: %s" % (path, exc.strerror or exc))


def _file_key(path):
    """``[path, dev, inode, size, mtime_ns]`` of ``path``, or None."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [path, info.st_dev, info.st_ino, info.st_size, int(getattr(info, "st_mtime_ns", info.st_mtime * 1e9))]


class EventFollower(object):
    """Polls the audit log for new guest events; see the module docstring.

    ``start`` (used only when there is no saved state yet): where events
    begin - ``now`` or any ``start`` form of guest_session_info (``-1h``,
    ``today``, an ISO 8601 time, epoch seconds).  ``kinds``: the kinds
    returned (all by default; the others are still recorded as seen).
    ``run`` and ``clock`` replace session_report.run and time.time in tests;
    ``warn`` receives warnings (default: collected in ``self.warnings``).
    """

    def __init__(self, checkpoint, paths=None, auditd_conf=AUDITD_CONF, host=None, kinds=None, start="now",
                 late_margin=LATE_MARGIN, run=None, clock=None, warn=None):
        if not checkpoint:
            raise ValueError("a checkpoint path is required")
        unknown = sorted(set(kinds or ()) - set(guest_events.KINDS))
        if unknown:
            raise ValueError("unknown event kinds %s; known: %s" % (", ".join(unknown), ", ".join(guest_events.KINDS)))
        if late_margin is None or math.isnan(late_margin) or late_margin < 0:
            raise ValueError("late_margin must be a number of seconds >= 0, got %r" % (late_margin,))
        directory = os.path.dirname(os.path.abspath(checkpoint))
        if not os.path.isdir(directory):
            raise ValueError("the directory of the checkpoint %s does not exist: create %s (mode 0700) first"
                             % (checkpoint, directory))
        self.checkpoint = checkpoint
        self.state_path = checkpoint + STATE_SUFFIX
        self.paths = list(paths or [])
        self.auditd_conf = auditd_conf
        self.host = host or socket.gethostname()
        kinds = set(kinds or guest_events.KINDS)
        # the count of those not listed goes with the AVCs (anomalies) of no guest
        kinds.update(kind + "_flood" for kind in ("avc", "anomaly") if kind in kinds)
        self.kinds = frozenset(kinds)
        self.start = start
        self.late_margin = float(late_margin)
        self._run = run or session_report.run
        self._clock = clock or time.time
        self.warnings = []
        self._warn = warn or self.warnings.append
        self.state = None
        self._loaded = False
        self._dirty = False
        self.stats = {"polls": 0, "runs": 0, "skipped": 0, "late_runs": 0, "events": 0}

    # ------------------------------------------------------------------ state
    def _load(self):
        self._loaded = True
        try:
            self.state = load_state(self.state_path)
        except StateError as exc:
            self._warn("%s; events begin at start=%s" % (exc, self.start))
            self.state = None
        if self.state is not None and self.state["host"] != self.host:
            self._warn("event state %s was written for host %s, not %s; events begin at start=%s"
                       % (self.state_path, self.state["host"], self.host, self.start))
            self.state = None

    def commit(self):
        """Save the state after the events of the last poll were handed on."""
        if self._dirty and self.state is not None:
            self.state["written_at"] = time_text.iso(self._clock())
            try:
                save_state(self.state_path, self.state)
            except StateError as exc:
                self._warn(str(exc))
                return
            self._dirty = False

    def window_start(self):
        """Epoch from which the next run selects sessions (None: all)."""
        return self.state["floor"] if self.state else None

    # ------------------------------------------------------------------ runs
    def _run_once(self, now, start, save=True, uuids=None):
        self.stats["runs" if save else "late_runs"] += 1
        result = self._run(paths=self.paths, auditd_conf=self.auditd_conf, default_host=self.host,
                           checkpoint=self.checkpoint, save_checkpoint=save, all_events=True, start=start,
                           uuid=uuids, now=now, uid_resolver=owner_name,
                           boot_time=session_report.boot_time_from_proc(now=now))
        for warning in result.get("warnings") or []:
            self._warn(warning)
        return result

    def _unchanged(self):
        """Whether the file the last run read to its end is unchanged (nothing new to read)."""
        state = self.state
        if state is None or state["pending"] or not state["log"]:
            return False
        return _file_key(state["log"][0]) == state["log"]

    def _late_ends(self, missing, now):
        """The ends of open sessions that ended before the window: ``(events, still_open, pending)``."""
        valid = dict((sid, info) for sid, info in missing.items()
                     if info.get("uuid") and UUID_RE.match(info["uuid"]))
        for sid in sorted(set(missing) - set(valid)):
            self._warn("session %s has no valid uuid; its end cannot be looked up" % sid)
        if not valid:
            return [], {}, 0
        sinces = [info["since"] for info in valid.values()]
        since = None if None in sinces else min(sinces)
        result = self._run_once(now, window_text(since - 0.001) if since is not None else None, save=False,
                                uuids=sorted(set(info["uuid"] for info in valid.values())))
        events, open_sessions, pending = guest_events.happenings(result)
        ends = [event for event in events if event["kind"] in guest_events.END_KINDS and event["session_id"] in valid]
        still = dict((sid, info) for sid, info in open_sessions.items() if sid in valid)
        found = set(event["session_id"] for event in ends) | set(still)
        for sid in sorted(set(valid) - found):
            self._warn("session %s is no longer in the logs (rotated away?); its end is unknown" % sid)
        return ends, still, pending

    # ------------------------------------------------------------------ poll
    def poll(self):
        """The new events (kinds selected), oldest first.  Call commit() once they were handed on."""
        self.stats["polls"] += 1
        if not self._loaded:
            self._load()
        if self._unchanged():
            self.stats["skipped"] += 1
            return []
        now = self._clock()
        state = self.state
        if state is None:
            result = self._run_once(now, self.start)
            floor = (result.get("coverage") or {}).get("window_start_epoch")
            state = {"format": STATE_FORMAT, "version": STATE_VERSION, "host": self.host,
                     "floor": float(floor) if floor is not None else None, "newest": None, "emitted": {},
                     "open": {}, "pending": 0, "numbers": None, "log": None, "written_at": ""}
        else:
            floor = state["floor"]
            result = self._run_once(now, window_text(floor) if floor is not None else None)
        events, open_sessions, pending = guest_events.happenings(result, numbers=state["numbers"])
        present = set(guest_events.session_id(session) for session in result.get("sessions") or [])
        missing = dict((sid, info) for sid, info in state["open"].items() if sid not in present)
        if missing:
            late, still, late_pending = self._late_ends(missing, now)
            events = sorted(events + late, key=guest_events.order_key)
            open_sessions.update(still)
            pending += late_pending
        new = self._select(state, events)
        state["open"] = open_sessions
        state["pending"] = pending
        state["numbers"] = _numbers(result)
        sources = result.get("sources") or []
        state["log"] = _file_key_read(sources[-1]) if sources else None
        self._advance(state, events, now)
        self.state = state
        self._dirty = True
        self.stats["events"] += len(new)
        return [event for event in new if event["kind"] in self.kinds]

    def _select(self, state, events):
        """The events not returned before; records them in ``state['emitted']``."""
        emitted = state["emitted"]
        floor = state["floor"]
        believed = state["open"]
        new = []
        for event in events:
            fp = event["fingerprint"]
            if fp in emitted:
                continue
            late_end = event["kind"] in guest_events.END_KINDS and event["session_id"] in believed
            if floor is not None and event["epoch"] is not None and event["epoch"] < floor and not late_end:
                continue
            emitted[fp] = float(event["epoch"] if event["epoch"] is not None else floor or 0.0)
            new.append(event)
        return new

    def _advance(self, state, events, now):
        """Move the newest happening and the floor on; forget fingerprints below the floor."""
        floor = state["floor"]
        epochs = [event["epoch"] for event in events if event["epoch"] is not None
                  and (floor is None or event["epoch"] >= floor)]
        if epochs:
            # a node whose clock runs ahead must not carry the window past the others
            newest = min(max(epochs), now)
            state["newest"] = max(state["newest"], newest) if state["newest"] is not None else newest
        if state["newest"] is not None:
            candidate = state["newest"] - self.late_margin
            floor = candidate if floor is None else max(floor, candidate)
        emitted = state["emitted"]
        if len(emitted) > MAX_FINGERPRINTS:
            kept = sorted(emitted.items(), key=lambda item: item[1], reverse=True)[:MAX_FINGERPRINTS]
            floor = max(floor, kept[-1][1]) if floor is not None else kept[-1][1]
            emitted = dict(kept)
        if floor is not None:
            emitted = dict((fp, epoch) for fp, epoch in emitted.items() if epoch >= floor)
        state["emitted"] = emitted
        state["floor"] = float(floor) if floor is not None else None


def _numbers(result):
    """``{host: [AVCs, anomalies]}`` of no guest in all logs the run read (the next poll's ``numbers``)."""
    numbers = (result.get("unattributed") or {}).get("numbers") or {}
    return dict((host, [item.get("avcs") or 0, item.get("anomalies") or 0]) for host, item in numbers.items())


def _file_key_read(source):
    """The key of the file a run read last when the run read all of it (its size is where the run stopped),
    else None: lines appended while the run read are read by the next poll."""
    key = _file_key(source["path"])
    if key is None or source.get("compressed") or key[3] != source.get("start_offset", 0) + source.get("bytes", 0):
        return None
    return key
