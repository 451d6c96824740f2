# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The session engine's state between runs: what a checkpoint keeps, its shape, and frozen sessions.

- ``dump(engine)`` gives everything a later run needs to go on where this
  one stopped (before ``finish``); ``restore(engine, state)`` puts it back.
  ``STATE_SHAPE`` is its shape (module_utils/state_shape.py), checked by
  checkpoint.py before ``restore``.
- A running session is kept field by field; an ended one never changes
  again and is *frozen* (``freeze``): its head fields, label and summary
  tally stay readable, its details (labels, resources, AVCs, anomalies,
  ids, raw lines, timeline events, crash) are kept as compressed JSON text.
- ``FrozenSession`` is such a session in memory.  It answers what a
  ``Session`` answers; a detail attribute decodes the text, once, through
  ``FrozenSession.details()`` - a run that returns no details never
  decodes nor re-encodes it.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import zlib

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_unattributed import Unattributed
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import (
    STATES, Pending, Session, SessionHead,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_resources import open_items
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import (
    ANY, AtLeast, Between, Either, Fields, MapOf, Maybe, OneOf, Row, check_shape,
)

# audit times are epochs of 1970 to 9999 (what ISO 8601 spells with four digits)
_TIME = Between(0, 253402300799.999)
_EPOCH = Maybe(_TIME)
_ID = Maybe(str)
_TEXT = Maybe(str)
_ITEMS = [MapOf(ANY)]
_HEAD_SHAPE = {
    "host": str, "uuid": str, "name": _TEXT, "virt": _TEXT, "state": OneOf(*STATES),
    "start_epoch": _EPOCH, "start_id": _ID, "start_reason": _TEXT, "end_epoch": _EPOCH, "end_id": _ID,
    "end_bound": _EPOCH, "stop_reason": _TEXT, "pid": Maybe(AtLeast(0)), "user": _TEXT, "first_seen": _EPOCH,
    "init": Maybe(MapOf(ANY)), "stop_seen": bool, "stops": AtLeast(0), "last_seen": _EPOCH, "not_before": _EPOCH,
}
_DETAIL_SHAPE = {
    "labels": _ITEMS, "resources": _ITEMS, "avcs": _ITEMS, "anomalies": _ITEMS, "ids": [str],
    "raw": MapOf([str]), "extra_events": [Row(_EPOCH, _ID, str, ANY)], "crash": Maybe(Row(_EPOCH, str)),
}
_RUNNING_SHAPE = dict(_HEAD_SHAPE, open_resources=[AtLeast(0)], **_DETAIL_SHAPE)
_TALLY = Row(AtLeast(0), AtLeast(0), AtLeast(0), AtLeast(0), AtLeast(0), AtLeast(0), _EPOCH, _EPOCH)
_FROZEN_SHAPE = {"frozen": dict(_HEAD_SHAPE, label=_TEXT, tally=_TALLY, details=_TEXT)}
_PENDING_SHAPE = {"labels": _ITEMS, "resources": _ITEMS, "avcs": _ITEMS, "first_seen": _EPOCH, "ids": [str], "name": _TEXT,
                  "virt": _TEXT, "raw": MapOf([str])}
# AVCs and anomalies attributed to no session, listed with their fields (session_unattributed.py)
_LISTED = [Fields({"host": str, "number": AtLeast(1), "epoch": _TIME, "id": str})]
STATE_SHAPE = {
    "sessions": [Either(_FROZEN_SHAPE, _RUNNING_SHAPE)],
    "hosts": MapOf({"open": [AtLeast(0)], "pending": MapOf(_PENDING_SHAPE), "last_epoch": _EPOCH, "last_id": _ID,
                    "shutdown": Maybe(Row(_EPOCH, str)), "boot_epoch": _EPOCH}),
    "host_events": [Fields({"host": str, "type": str, "epoch": _TIME, "id": str})],
    "unattributed": {"counts": [Row(int, AtLeast(0), AtLeast(0))], "listed": Row(_LISTED, _LISTED),
                     "numbers": MapOf(Row(AtLeast(0), AtLeast(0)))},
    "unmatched_records": AtLeast(0),
    "virt_records": AtLeast(0),
}
# decoded details of one ended session: more is not a session's (a zlib bomb)
MAX_DETAILS_BYTES = 64 * 1024 * 1024
# decoded details of all ended sessions of one checkpoint: MAX_DETAILS_BYTES, or this many times the size of
# their encoded text when that is more (the engine's own details - zlib level 1, then base64 - decode to 3-10
# times their text; every session of a bomb within its own limit is still a bomb)
MAX_DETAILS_RATIO = 64

_SESSION_FIELDS = ("host", "uuid", "name", "virt", "state", "start_epoch", "start_id", "start_reason", "end_epoch",
                   "end_id", "end_bound", "stop_reason", "pid", "user", "first_seen", "labels", "resources", "avcs",
                   "anomalies", "ids", "init", "stop_seen", "stops", "last_seen", "raw", "not_before")
# what an ended session keeps outside its frozen details: enough to select and count it
_HEAD_FIELDS = ("host", "uuid", "name", "virt", "state", "start_epoch", "start_id", "start_reason", "end_epoch",
                "end_id", "end_bound", "stop_reason", "pid", "user", "first_seen", "init", "stop_seen", "stops",
                "last_seen", "not_before")


class StateError(ValueError):
    """Engine state from a checkpoint that cannot be used."""


# ---------------------------------------------------------------------- the engine's state
def dump(engine):
    """Everything a later run needs to go on where ``engine`` stopped (before ``finish``)."""
    index = dict((id(session), n) for n, session in enumerate(engine.sessions))
    running = set(id(session) for host in engine.hosts.values() for session in host.open.values())
    hosts = {}
    for name, host in engine.hosts.items():
        hosts[name] = {
            "open": [index[id(session)] for session in host.open.values()],
            "pending": dict((uuid, _pending_state(p)) for uuid, p in host.pending.items()),
            "last_epoch": host.last_epoch,
            "last_id": host.last_id,
            "shutdown": list(host.shutdown) if host.shutdown else None,
            "boot_epoch": host.boot_epoch,
        }
    return {
        "sessions": [_running_state(session) if id(session) in running else frozen_state(session)
                     for session in engine.sessions],
        "hosts": hosts,
        "host_events": engine.host_events,
        "unattributed": engine.unattributed.state(engine.describe_unattributed),
        "unmatched_records": engine.unmatched_records,
        "virt_records": engine.virt_records,
    }


class DecodeBudget(object):
    """How many bytes the details of a checkpoint's ended sessions may still decode to, together."""

    __slots__ = ("left", "limit")

    def __init__(self, limit):
        self.left = self.limit = limit

    @classmethod
    def of(cls, sessions):
        """The budget of a checkpoint's ``sessions`` entries (see MAX_DETAILS_RATIO)."""
        encoded = sum(len(item["frozen"]["details"] or "") for item in sessions if "frozen" in item)
        return cls(max(MAX_DETAILS_BYTES, MAX_DETAILS_RATIO * encoded))


def restore(engine, state):
    """Put a ``dump`` (of STATE_SHAPE, checked) back into a new engine; StateError when it does not fit."""
    engine.sessions = [_session_from_state(item) for item in state["sessions"]]
    budget = DecodeBudget.of(state["sessions"])
    for session in engine.sessions:
        if session.frozen is not None:
            session.budget = budget
    for name, item in state["hosts"].items():
        host = engine.new_host(name)
        host.last_epoch = item["last_epoch"]
        host.last_id = item["last_id"]
        host.shutdown = tuple(item["shutdown"]) if item["shutdown"] else None
        host.boot_epoch = item["boot_epoch"]
        for number in item["open"]:
            session = engine.sessions[number]
            if session.frozen is not None:
                raise StateError("hosts.%s.open: session %d has ended" % (name, number))
            host.open[session.uuid] = session
            host.index.add(session)
        for uuid, pending in item["pending"].items():
            host.pending[uuid] = _pending_from_state(pending)
    engine.host_events = list(state["host_events"])
    engine.host_event_counts = {}
    for item in engine.host_events:
        engine.host_event_counts[item["host"]] = engine.host_event_counts.get(item["host"], 0) + 1
    engine.unattributed = Unattributed(state["unattributed"])
    engine.unmatched_records = state["unmatched_records"]
    engine.virt_records = state["virt_records"]


# ---------------------------------------------------------------------- running sessions, start sequences
def _running_state(session):
    item = dict((key, getattr(session, key)) for key in _SESSION_FIELDS)
    position = dict((id(resource), n) for n, resource in enumerate(session.resources))
    item["open_resources"] = [position[id(resource)] for resource in session.open_resources]
    item["extra_events"] = [list(event) for event in session.extra_events]
    item["crash"] = list(session.crash) if session.crash else None
    return item


def _session_from_state(item):
    if "frozen" in item:
        return FrozenSession(item)
    session = Session(item["host"], item["uuid"], item["name"], item["virt"])
    for key in _SESSION_FIELDS:
        setattr(session, key, item[key])
    session.open_resources = [session.resources[n] for n in item["open_resources"]]
    session.extra_events = [tuple(event) for event in item["extra_events"]]
    session.crash = tuple(item["crash"]) if item["crash"] else None
    return session


def _pending_state(pending):
    return {"labels": pending.labels, "resources": pending.resources, "avcs": pending.avcs,
            "first_seen": pending.first_seen,
            "ids": pending.ids, "name": pending.name, "virt": pending.virt, "raw": pending.raw}


def _pending_from_state(item):
    pending = Pending(item["first_seen"], item["name"], item["virt"])
    pending.labels = item["labels"]
    pending.resources = item["resources"]
    pending.open_resources = open_items(pending.resources)
    pending.avcs = item["avcs"]
    pending.ids = item["ids"]
    pending.raw = item["raw"]
    return pending


# ---------------------------------------------------------------------- ended sessions
def freeze(session, details=True):
    """``session`` (ended) as a FrozenSession; ``details`` False keeps none (no checkpoint will need them)."""
    return FrozenSession(frozen_state(session, details))


def frozen_state(session, details=True):
    """The checkpoint entry of an ended session: it never changes, so its details are (compressed) JSON text.

    The next run reads the text only when it needs the details (resources,
    AVCs, ... with all_events or proof); selecting and counting the session
    use the head and the tally.
    """
    if session.frozen is not None:
        return session.frozen
    item = dict((key, getattr(session, key)) for key in _HEAD_FIELDS)
    item["label"] = session.label
    item["tally"] = session.tally()
    details_of = {
        "labels": session.labels, "resources": session.resources, "avcs": session.avcs,
        "anomalies": session.anomalies, "ids": session.ids, "raw": session.raw,
        "extra_events": [list(event) for event in session.extra_events],
        "crash": list(session.crash) if session.crash else None,
    }
    if not details:
        item["details"] = None  # a run that returns no details and writes no checkpoint
        return {"frozen": item}
    text = json.dumps(details_of, separators=(",", ":"), sort_keys=True).encode("utf-8")
    # compressed: a fifth of the size, and a string JSON reads and writes without escapes
    item["details"] = base64.b64encode(zlib.compress(text, 1)).decode("ascii")
    return {"frozen": item}


def _detail(name):
    return property(lambda self: self.details()[name],
                    doc="``%s`` of the session, from its frozen details (``details()``)" % name)


class FrozenSession(SessionHead):
    """An ended session kept as its checkpoint entry (``frozen_state``): the head fields are attributes,
    ``label`` and ``tally()`` are stored, the details are decoded by ``details()`` on first use."""

    def __init__(self, entry):
        item = entry["frozen"]
        self.frozen = entry
        for key in _HEAD_FIELDS:
            setattr(self, key, item[key])
        self._details = None
        self.budget = None  # a DecodeBudget shared by the sessions of a restored checkpoint

    @property
    def label(self):
        return self.frozen["frozen"]["label"]

    def tally(self):
        return list(self.frozen["frozen"]["tally"])

    def details(self):
        """The decoded details (``labels resources avcs anomalies ids raw extra_events crash``), decoded once;
        AttributeError when they were not kept, StateError when they cannot be decoded."""
        if self._details is None:
            text = self.frozen["frozen"]["details"]
            if text is None:
                raise AttributeError("the details of this ended session were not kept")
            details = decode_details(text, self.budget)
            details["extra_events"] = [tuple(event) for event in details["extra_events"]]
            details["crash"] = tuple(details["crash"]) if details["crash"] else None
            self._details = details
        return self._details

    labels = _detail("labels")
    resources = _detail("resources")
    avcs = _detail("avcs")
    anomalies = _detail("anomalies")
    ids = _detail("ids")
    raw = _detail("raw")
    extra_events = _detail("extra_events")
    crash = _detail("crash")


def decode_details(text, budget=None):
    """The details of a frozen session: at most MAX_DETAILS_BYTES decoded, and what is left of ``budget`` (a
    DecodeBudget, taken from it), and of the right shape."""
    limit = MAX_DETAILS_BYTES if budget is None else min(MAX_DETAILS_BYTES, budget.left)
    inflate = zlib.decompressobj()
    try:
        # (a limit of 0 would be none at all for zlib: one byte is asked for, and is one too many)
        data = inflate.decompress(base64.b64decode(text), max(limit, 1))
        if inflate.unconsumed_tail or len(data) > limit or (len(data) == limit and not inflate.eof):
            if limit < MAX_DETAILS_BYTES:
                raise StateError("the details of the ended sessions decode to more than %d bytes together"
                                 % budget.limit)
            raise StateError("the details of an ended session decode to more than %d bytes" % MAX_DETAILS_BYTES)
        if budget is not None:
            budget.left -= len(data)
        details = json.loads(data.decode("utf-8"))
    except (ValueError, TypeError, zlib.error, UnicodeDecodeError, RecursionError) as exc:
        if isinstance(exc, StateError):
            raise
        raise StateError("the details of an ended session cannot be decoded (%s)" % exc)
    problem = check_shape(details, _DETAIL_SHAPE, "details")
    if problem:
        raise StateError(problem)
    return details
