# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the session engine builds: a guest's session, and its start sequence before ``op=start``.

Both hold evidence through one small interface (``Evidence``), so the
rules of the engine (lifecycle, resources, attribution) treat a running
session and a start sequence alike:

- ``labels``, ``resources``, ``avcs``: lists of dicts;
- ``open_resources``: the successful resources not yet released, oldest first;
- ``ids`` (event ids used) and ``raw`` (event id -> lines, when asked for);
- ``first_seen``, ``name``, ``virt``;
- ``crash``: an attributed ``ANOM_ABEND`` ``(epoch, id)`` that ends the
  guest unless libvirt still changes it; always None for a start sequence;
- ``note(event, keep_raw)``: ``event`` is evidence for it.

An ended session kept as compressed text is a ``FrozenSession``
(module_utils/session_state.py): it answers what a ``Session`` answers
(``SessionHead``), its details decoded when asked for.

The session model is described in docs/session-model.md.
Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

STATES = ("running", "stopped", "crashed", "failed", "down", "lost")


def to_int(value):
    """``int(value)``, or None for a missing or malformed field."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class Evidence(object):
    """What the rules ask of a session and of a start sequence (see the module docstring)."""

    __slots__ = ()
    crash = None

    def note(self, event, keep_raw):
        """Record that ``event`` is evidence for this session or start sequence."""
        self.ids.append(event.id)
        if keep_raw:
            self.raw[event.id] = [record.raw for record in event.records if record.raw is not None]


class SessionHead(object):
    """What every session answers, live or frozen, without its details: the head fields
    (``host uuid name virt state start_epoch start_id start_reason end_epoch end_id end_bound
    stop_reason pid user first_seen init stop_seen stops last_seen not_before``), ``label``, ``tally()`` and
    ``interval()``.  ``frozen`` is the checkpoint entry of a frozen session, None for a live one."""

    frozen = None

    def interval(self):
        """(start, end) bounds for window selection; None = open-ended."""
        start = self.start_epoch if self.start_epoch is not None else None
        if self.state == "lost":
            end = self.end_bound
        else:
            end = self.end_epoch
        return start, end


class Session(SessionHead, Evidence):
    """A guest run on one host (docs/session-model.md)."""

    def __init__(self, host, uuid, name, virt):
        self.host = host
        self.uuid = uuid
        self.name = name
        self.virt = virt
        self.state = "running"
        self.start_epoch = None
        self.start_id = None
        self.start_reason = None
        self.end_epoch = None
        self.end_id = None
        self.end_bound = None      # latest possible end of a lost session
        self.stop_reason = None
        self.pid = None
        self.user = None
        self.first_seen = None
        self.labels = []
        self.resources = []
        self.open_resources = []
        self.avcs = []
        self.anomalies = []
        self.extra_events = []     # (epoch, id, kind, detail)
        self.ids = []              # every event id used
        self.raw = {}              # event id -> lines, when asked for
        self.crash = None          # attributed ANOM_ABEND (epoch, id)
        self.levels = ()           # MCS levels it is indexed by while it runs (session_attribution.GuestIndex)
        self.init = None
        self.stop_seen = False
        self.stops = 0
        self.last_seen = None      # time of the newest record used for the session
        self.not_before = None     # without a start in the logs: the host's boot it began in, when one was seen

    def note(self, event, keep_raw):
        self.last_seen = event.epoch
        Evidence.note(self, event, keep_raw)

    @property
    def label(self):
        for item in self.labels:
            if item["model"] != "dac" and item["vm_ctx"]:
                return item["vm_ctx"]
        return None

    def tally(self):
        """What the session adds to a summary: ``[starts, failed operations, stops, resources, AVCs, anomalies,
        first time, last time]`` (see ``session_result.summarize``)."""
        failed = self.state == "failed"
        starts = 1 if self.start_id and not failed else 0
        failed_ops = 1 if failed else 0
        resources = 0
        times = [value for value in (self.first_seen, self.start_epoch, self.end_epoch) if value is not None]
        for item in self.resources:
            if item["result"] == "success":
                # what a failed start was given never reached a running guest
                resources += not failed
            elif item["reason"] != "open":
                # a failed device open (vhost-net probe) is retried or falls back by libvirt itself
                failed_ops += 1
            times.append(item["opened_epoch"])
        times.extend(item["epoch"] for item in self.avcs)
        times.extend(item["epoch"] for item in self.anomalies)
        return [starts, failed_ops, self.stops, resources, len(self.avcs), len(self.anomalies),
                min(times) if times else None, max(times) if times else None]


class Pending(Evidence):
    """Records of a start sequence seen before its ``op=start``: labels, resources and the denials
    of the guest's label or profile while it starts."""

    __slots__ = ("labels", "resources", "open_resources", "avcs", "first_seen", "ids", "raw", "name", "virt")

    def __init__(self, epoch, name, virt):
        self.labels = []
        self.resources = []
        self.open_resources = []
        self.avcs = []
        self.first_seen = epoch
        self.ids = []
        self.raw = {}
        self.name = name
        self.virt = virt
