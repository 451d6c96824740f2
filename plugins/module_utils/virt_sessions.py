# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Events -> guest sessions.

One pass over the events of all hosts.  ``SessionEngine.feed`` hands each
event to the rules it concerns, each in its own file:

- session_lifecycle.py: start sequence, start, stop, host shutdown and
  reboot, what the end of the data decides;
- session_resources.py: what a ``VIRT_RESOURCE`` record opens and closes;
- session_attribution.py: AVCs and anomalies -> the guest they concern,
  through per-host indexes by qemu pid and MCS level (constant time);
- session_unattributed.py: those that concern no guest;
- session_state.py: the state a checkpoint keeps, frozen ended sessions;
- session_model.py: ``Session`` and the start sequence (``Pending``), which
  share one small interface.

Per host (``node=``) the engine keeps a ``Host``: the open session of every
guest (UUID), the start sequences being assembled, the index, the last
record and a pending ``SYSTEM_SHUTDOWN``.  What the engine keeps does not
grow with the time a log spans: unattributed counts are compacted by age
(session_unattributed.Unattributed), a host keeps its newest
MAX_HOST_EVENTS host events.  The session model is described in
docs/session-model.md.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils import (
    session_attribution as attribution,
    session_lifecycle as lifecycle,
    session_resources as resources,
    session_state,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import (
    DAEMON_TYPES, SERIAL_RESET, VIRT_TYPES, EventId,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_attribution import GuestIndex, is_anomaly
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_unattributed import Unattributed
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES, Session, to_int
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_state import STATE_SHAPE

# Session, STATES and STATE_SHAPE are here for the importers of the engine (session_report.py, checkpoint.py)
__all__ = ["SessionEngine", "Host", "Session", "STATES", "STATE_SHAPE", "COMPACT_EVERY"]

HOST_EVENT_TYPES = {
    "SYSTEM_SHUTDOWN": "shutdown",
    "SYSTEM_BOOT": "boot",
    "DAEMON_START": "audit_start",
    "DAEMON_END": "audit_end",
    "DAEMON_ABORT": "audit_abort",
}
COMPACT_EVERY = 4096  # events between two passes that freeze ended sessions
MAX_HOST_EVENTS = 4096  # per host: the newest are kept


class Host(object):
    """What the engine keeps of one host while it reads."""

    __slots__ = ("name", "open", "pending", "index", "last_epoch", "last", "_last_id", "shutdown", "boot_epoch")

    def __init__(self, name):
        self.name = name
        self.open = {}            # uuid -> Session that runs
        self.pending = {}         # uuid -> Pending: a start sequence before its op=start
        self.index = GuestIndex()  # the running sessions by qemu pid and MCS level
        self.last_epoch = None    # the last record (of the kernel or libvirt, not auditd's own) ...
        self.last = None          # ... its (SECONDS, MILLIS, serial): its id is asked for rarely
        self._last_id = None
        self.shutdown = None      # (epoch, id) of SYSTEM_SHUTDOWN not yet followed by a boot
        self.boot_epoch = None    # when the newest boot seen began (a SYSTEM_BOOT or serial restart)

    @property
    def last_id(self):
        """The event id of the last record (``SECONDS.MILLIS:SERIAL``), or None."""
        return EventId.format(*self.last) if self.last is not None else self._last_id

    @last_id.setter
    def last_id(self, event_id):
        self.last = None
        self._last_id = event_id


class SessionEngine(object):
    """Feed events in log order, then call ``finish()``."""

    def __init__(self, default_host, uid_resolver=None, keep_raw=False, compact=None):
        """``compact``: what ended sessions keep while the log is read - None (everything, for results
        with details), "text" (head, tally and details as compressed text, for a checkpoint) or "tally"
        (head and tally only).  Memory then grows with the running sessions, not with the ended ones."""
        self.default_host = default_host
        self.keep_raw = keep_raw
        self.compact = compact
        self._compact_from = 0      # sessions before this index are all frozen
        self._since_compact = 0
        self.uid_resolver = uid_resolver
        self._uid_cache = {}
        self.hosts = {}
        self.sessions = []
        self.host_events = []
        self.host_event_counts = {}         # host -> number of its host events (at most MAX_HOST_EVENTS)
        self.unattributed = Unattributed()  # AVCs and anomalies attributed to no session
        self.unmatched_records = 0
        self.virt_records = 0

    # ------------------------------------------------------------------ what every rule uses
    def host(self, node):
        """The Host of ``node=`` (the default host for records without one)."""
        name = node or self.default_host
        host = self.hosts.get(name)
        if host is None:
            host = self.new_host(name)
        return host

    def new_host(self, name):
        host = self.hosts[name] = Host(name)
        return host

    def user(self, record, fields, key="uid"):
        """The name of the ``key`` (uid) of ``record``: ENRICHED, else the resolver's, else ``unknown(N)``."""
        enriched = record.enrichment().get(key.upper()) if record.enriched else None
        if enriched:
            return enriched
        uid = to_int(fields.get(key))
        if uid is None:
            return None
        if uid in self._uid_cache:
            return self._uid_cache[uid]
        name = None
        if self.uid_resolver is not None:
            name = self.uid_resolver(uid)
        if name is None:
            name = "unknown(%d)" % uid
        self._uid_cache[uid] = name
        return name

    def use(self, holder, event):
        """Record that ``event`` is evidence for a session (or a start sequence)."""
        holder.note(event, self.keep_raw)

    def unattributed_in(self, start, end):
        """(AVCs, anomalies) attributed to no session, in the minutes (hours, days) that overlap [start, end]."""
        return self.unattributed.count_in(start, end)

    def unattributed_listed(self, kind, start, end):
        """The listed AVCs (``kind`` AVC) or anomalies (ANOMALY) attributed to no session that
        ``unattributed_in(start, end)`` counts, as dicts (session_unattributed.Unattributed.listed_in)."""
        return self.unattributed.listed_in(kind, start, end, self.describe_unattributed)

    def describe_unattributed(self, kind, event, record):
        return attribution.describe(self, kind, event, record)

    def note_host_event(self, item):
        """Note a host event (a dict with ``host``); a host keeps its newest MAX_HOST_EVENTS."""
        self.host_events.append(item)
        host = item["host"]
        count = self.host_event_counts[host] = self.host_event_counts.get(host, 0) + 1
        if count > MAX_HOST_EVENTS:
            for index, old in enumerate(self.host_events):
                if old["host"] == host:
                    del self.host_events[index]
                    break
            self.host_event_counts[host] -= 1

    # ------------------------------------------------------------------ feed
    def feed(self, event):
        if self.compact:
            self._since_compact += 1
            if self._since_compact >= COMPACT_EVERY:
                self._compact()
        first = event.first
        host = self.host(first.node)
        rtype = first.type
        if rtype == SERIAL_RESET:
            lifecycle.boot(self, host, event, "serial_reset")
            return
        if rtype in VIRT_TYPES:
            self.virt_records += 1
            fields = first.fields()
            uuid = (fields.get("uuid") or "").lower()
            if not uuid:
                self.unmatched_records += 1
            elif rtype == "VIRT_CONTROL":
                lifecycle.control(self, host, event, fields, uuid)
            elif rtype == "VIRT_RESOURCE":
                holder = lifecycle.resource_holder(self, host, event, fields, uuid)
                self.use(holder, event)
                resources.apply(holder, fields, event)
            else:
                lifecycle.machine_id(self, host, event, fields, uuid)
        elif rtype in HOST_EVENT_TYPES:
            lifecycle.host_event(self, host, event, HOST_EVENT_TYPES[rtype])
        else:
            avc = event.find("AVC")
            if avc is not None:
                attribution.avc(self, host, event, avc)
            elif is_anomaly(rtype):
                attribution.anomaly(self, host, event, first)
        if rtype not in DAEMON_TYPES:
            host.last_epoch = first.epoch
            host.last = (first.sec, first.ms, first.serial)

    def _compact(self):
        """Freeze the sessions that ended before this event (they never change again)."""
        self._since_compact = 0
        running = set(id(session) for host in self.hosts.values() for session in host.open.values())
        keep_text = self.compact == "text"
        sessions = self.sessions
        first_live = None
        for index in range(self._compact_from, len(sessions)):
            session = sessions[index]
            if session.frozen is not None:
                continue
            if id(session) in running:
                if first_live is None:
                    first_live = index
                continue
            sessions[index] = session_state.freeze(session, keep_text)
        self._compact_from = len(sessions) if first_live is None else first_live

    def finish(self):
        """Close what the end of the data decides; return the sessions."""
        lifecycle.finish(self)
        return self.sessions

    # ------------------------------------------------------------------ state between runs
    def state(self):
        """Everything a later run needs to go on where this one stopped (before ``finish``)."""
        return session_state.dump(self)

    def restore(self, state):
        """Go on from a ``state()`` of an earlier run (checked against STATE_SHAPE)."""
        session_state.restore(self, state)
