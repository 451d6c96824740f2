# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Events -> guest sessions.

One pass over the events of all hosts.  Per host (``node=``) the engine
keeps the open session of every guest (UUID), the start sequence being
assembled (labels and resources logged before ``op=start``), and indexes of
the running sessions by qemu pid and by MCS level, so every AVC and anomaly
is attributed in constant time.  The session model is described in
docs/session-model.md.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import re
import time
import zlib

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import selinux_avc

SERIAL_RESET = "_SERIAL_RESET"

# Serials may arrive slightly out of order; a drop larger than this is a reboot.
SERIAL_RESET_TOLERANCE = 64
MAX_GAP_DETAILS = 100

OLD_NEW_KINDS = frozenset(("disk", "net", "fs", "chardev", "smartcard", "rng", "mem", "vcpu", "iothread"))
NUMERIC_KINDS = frozenset(("mem", "vcpu", "iothread"))
VALUE_KEY = {
    "dev": "device", "tpm": "device", "tpm-emulator": "device", "tpm-external": "device",
    "shmem": "path", "ivshmem-socket": "path", "evdev": "path",
}
CRASH_STOP_REASONS = frozenset(("failed", "crashed"))
DAEMON_TYPES = frozenset(("DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "DAEMON_CONFIG",
                          "DAEMON_RECONFIG", "DAEMON_ROTATE", "DAEMON_RESUME", "DAEMON_ACCEPT",
                          "DAEMON_CLOSE", "DAEMON_ERR"))
HOST_EVENT_TYPES = {
    "SYSTEM_SHUTDOWN": "shutdown",
    "SYSTEM_BOOT": "boot",
    "DAEMON_START": "audit_start",
    "DAEMON_END": "audit_end",
    "DAEMON_ABORT": "audit_abort",
}
COMPACT_EVERY = 4096  # events between two passes that freeze ended sessions
# AVCs and anomalies attributed to no session are counted per minute for the last day of the log
# (before its newest such record), per hour for the 31 days before, per day before that
BY_MINUTE = 24 * 60
BY_HOUR = 31 * 24 * 60
MAX_HOST_EVENTS = 4096  # per host: the newest are kept
STATES = ("running", "stopped", "crashed", "failed", "down", "lost")


_ISO_CACHE = {}
_ISO_TAILS = tuple(".%03d+00:00" % millis for millis in range(1000))


def iso(epoch):
    """ISO 8601 UTC with milliseconds (``2024-03-11T08:00:01.124+00:00``), or None."""
    if epoch is None:
        return None
    seconds, millis = divmod(int(round(epoch * 1000)), 1000)  # millis: 0..999, also before 1970
    head = _ISO_CACHE.get(seconds)
    if head is None:
        if len(_ISO_CACHE) > 4096:
            _ISO_CACHE.clear()
        head = _ISO_CACHE[seconds] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return head + _ISO_TAILS[millis]


def mcs_level(context):
    """``s0:c107,c434`` of ``system_u:system_r:svirt_t:s0:c107,c434``."""
    if not context:
        return None
    parts = context.split(":", 3)
    if len(parts) < 4:
        return None
    return parts[3]


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def label_model(fields):
    """``model=`` of a VIRT_MACHINE_ID; guessed from the label for 2012 records without it."""
    model = fields.get("model")
    if model:
        return model
    context = fields.get("vm-ctx") or ""
    if context.startswith("libvirt-"):
        return "apparmor"
    if context.startswith("+"):
        return "dac"
    if context.count(":") >= 3:
        return "selinux"
    return "none"


def is_anomaly(rtype):
    return rtype.startswith("ANOM_")


class Session(object):
    """A guest run on one host; ``as_dict`` gives the documented shape."""

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
        self.levels = ()
        self.init = None
        self.stop_seen = False
        self.stops = 0
        self.last_seen = None      # time of the newest record used for the session

    @property
    def label(self):
        for item in self.labels:
            if item["model"] != "dac" and item["vm_ctx"]:
                return item["vm_ctx"]
        return None

    def tally(self):
        """What the session adds to a summary: ``[starts, failed operations, stops, resources, AVCs, anomalies,
        first time, last time]`` (see ``session_report.summarize``)."""
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

    def interval(self):
        """(start, end) bounds for window selection; None = open-ended."""
        start = self.start_epoch if self.start_epoch is not None else None
        if self.state == "lost":
            end = self.end_bound
        else:
            end = self.end_epoch
        return start, end


class _Pending(object):
    """Records of a start sequence seen before its ``op=start``."""

    __slots__ = ("labels", "resources", "first_seen", "ids", "raw", "name", "virt")

    def __init__(self, epoch, name, virt):
        self.labels = []
        self.resources = []
        self.first_seen = epoch
        self.ids = []
        self.raw = {}
        self.name = name
        self.virt = virt


def _no_match(text):  # pylint: disable=unused-argument
    return None


_CATEGORY = re.compile(r":c[0-9]")


class _Host(object):
    def __init__(self, name):
        self.name = name
        self.open = {}            # uuid -> Session
        self.pending = {}         # uuid -> _Pending
        self.by_pid = {}          # pid -> Session
        self.by_level = {}        # level -> {uuid: Session}
        self._level_search = None  # finds any of those levels in a text (made when asked for) ...
        self._level_uses = 0       # ... after so many questions about the same levels
        self._bare_levels = ()     # those without categories
        self.last_epoch = None
        self.last = None          # (SECONDS, MILLIS, serial) of the last event (its id is asked for rarely)
        self._last_id = None
        self.shutdown = None      # (epoch, id) of SYSTEM_SHUTDOWN not yet followed by a boot

    def level_search(self, text):
        """Whether a level of a running session is in ``text``.

        Levels with categories (``s0:c107,c434``) can be there only when a
        category (``:c`` and a digit) is; they are looked for one by one, and
        with one regular expression once the same levels have been asked
        about often (guests start and stop often on some hosts, AVCs are rare
        on most).
        """
        search = self._level_search
        if search is None:
            self._level_uses += 1
            if self._level_uses == 1:
                self._bare_levels = tuple(level for level in self.by_level if _CATEGORY.search(level) is None)
            if self._bare_levels and any(map(text.__contains__, self._bare_levels)):
                return True
            if _CATEGORY.search(text) is None:
                return False
            if self._level_uses < 64:
                return any(map(text.__contains__, self.by_level))
            if self.by_level:
                search = re.compile("|".join(map(re.escape, sorted(self.by_level)))).search
            else:
                search = _no_match
            self._level_search = search
        return search(text) is not None

    @property
    def last_id(self):
        return "%s.%s:%d" % self.last if self.last is not None else self._last_id


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
        self.unattributed = {}              # first minute -> [AVCs, anomalies] attributed to no session
        self.unattributed_newest = None     # (minutes, hours or days: see _compact_unattributed)
        self._unattributed_limit = 4 * BY_MINUTE
        self._host_events = {}              # host -> number of its host events
        self.unmatched_records = 0
        self.virt_records = 0

    # ------------------------------------------------------------------ helpers
    def _host(self, node):
        name = node or self.default_host
        host = self.hosts.get(name)
        if host is None:
            host = self.hosts[name] = _Host(name)
        return host

    def _user(self, record, fields, key="uid"):
        enriched = record.enrichment().get(key.upper()) if record.enriched else None
        if enriched:
            return enriched
        uid = _int(fields.get(key))
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

    def _index(self, host, session):
        if session.pid:
            host.by_pid[session.pid] = session
        levels = []
        for item in session.labels:
            if item["model"] == "dac":
                continue
            level = mcs_level(item["vm_ctx"])
            if level and level not in levels:
                levels.append(level)
        session.levels = tuple(levels)
        for level in levels:
            if level not in host.by_level:
                host.by_level[level] = {}
                host._level_search, host._level_uses = None, 0
            host.by_level[level][session.uuid] = session

    def _unindex(self, host, session):
        if session.pid and host.by_pid.get(session.pid) is session:
            del host.by_pid[session.pid]
        for level in session.levels:
            group = host.by_level.get(level)
            if group is not None and group.get(session.uuid) is session:
                del group[session.uuid]
                if not group:
                    del host.by_level[level]
                    host._level_search, host._level_uses = None, 0
        if host.open.get(session.uuid) is session:
            del host.open[session.uuid]

    def _close(self, host, session, state, epoch, event_id, close_reason, stop_reason=None):
        session.state = state
        session.end_epoch = epoch
        session.end_id = event_id
        if stop_reason is not None:
            session.stop_reason = stop_reason
        for item in session.open_resources:
            item["closed_epoch"] = epoch
            item["close_id"] = event_id
            item["close_reason"] = close_reason
        session.open_resources = []
        self._unindex(host, session)

    def _unattributed(self, epoch, kind):
        minute = int(epoch // 60)
        counts = self.unattributed.get(minute)
        if counts is not None:
            counts[kind] += 1
            return
        counts = self.unattributed[minute] = [0, 0]
        counts[kind] = 1
        if self.unattributed_newest is None or minute > self.unattributed_newest:
            self.unattributed_newest = minute
        if len(self.unattributed) > self._unattributed_limit:
            self._compact_unattributed()
            self._unattributed_limit = 2 * len(self.unattributed) + 4 * BY_MINUTE

    def _width(self, minute):
        """How many minutes the unattributed counts starting at ``minute`` cover (by its age, see BY_MINUTE)."""
        age = self.unattributed_newest - minute
        return 1 if age < BY_MINUTE else 60 if age < BY_HOUR else 1440

    def _compact_unattributed(self):
        """Counts older than a day (a month) before the newest go into their hour (day).

        Where a minute ends up depends only on it and the newest minute, so
        compacting now and again later gives what compacting once gives:
        every way of reading a log ends with the same counts.
        """
        compact = {}
        for minute, counts in self.unattributed.items():
            width = self._width(minute)
            key = minute - minute % width
            total = compact.get(key)
            if total is None:
                compact[key] = list(counts)
            else:
                total[0] += counts[0]
                total[1] += counts[1]
        self.unattributed = compact

    def unattributed_in(self, start, end):
        """(AVCs, anomalies) attributed to no session, in the minutes (hours, days) that overlap [start, end]."""
        avcs = anomalies = 0
        if self.unattributed:
            self._compact_unattributed()
        for minute, counts in self.unattributed.items():
            if (start is None or (minute + self._width(minute)) * 60 > start) and (end is None or minute * 60 <= end):
                avcs += counts[0]
                anomalies += counts[1]
        return avcs, anomalies

    def _note_host_event(self, item):
        """Note a host event; a host keeps its newest MAX_HOST_EVENTS."""
        self.host_events.append(item)
        host = item["host"]
        count = self._host_events[host] = self._host_events.get(host, 0) + 1
        if count > MAX_HOST_EVENTS:
            for index, old in enumerate(self.host_events):
                if old["host"] == host:
                    del self.host_events[index]
                    break
            self._host_events[host] -= 1

    def _use(self, target, event):
        """Record that ``event`` is evidence for a session (or a start sequence)."""
        target.ids.append(event.id)
        if isinstance(target, Session):
            target.last_seen = event.epoch
        if self.keep_raw:
            target.raw[event.id] = [r.raw for r in event.records if r.raw is not None]

    # ------------------------------------------------------------------ feed
    def feed(self, event):
        if self.compact:
            self._since_compact += 1
            if self._since_compact >= COMPACT_EVERY:
                self._compact()
        first = event.first
        host = self._host(first.node)
        epoch = first.epoch
        rtype = first.type
        if rtype == SERIAL_RESET:
            self._boot(host, event, "serial_reset")
            return
        if rtype in ("VIRT_CONTROL", "VIRT_RESOURCE", "VIRT_MACHINE_ID"):
            self.virt_records += 1
            fields = first.fields()
            uuid = (fields.get("uuid") or "").lower()
            if not uuid:
                self.unmatched_records += 1
            elif rtype == "VIRT_CONTROL":
                self._control(host, event, fields, uuid)
            elif rtype == "VIRT_RESOURCE":
                self._resource(host, event, fields, uuid)
            else:
                self._machine_id(host, event, fields, uuid)
        elif rtype in HOST_EVENT_TYPES:
            self._host_event(host, event, HOST_EVENT_TYPES[rtype])
        else:
            avc = event.find("AVC")
            if avc is not None:
                self._avc(host, event, avc)
            elif is_anomaly(rtype):
                self._anomaly(host, event, first)
        if rtype not in DAEMON_TYPES:
            host.last_epoch = epoch
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
            if isinstance(session, _FrozenSession):
                continue
            if id(session) in running:
                if first_live is None:
                    first_live = index
                continue
            sessions[index] = _FrozenSession(_frozen_state(session, keep_text))
        self._compact_from = len(sessions) if first_live is None else first_live

    # ------------------------------------------------------------------ host events
    def _host_event(self, host, event, kind):
        self._note_host_event({"host": host.name, "type": kind, "epoch": event.epoch, "id": event.id})
        if kind == "shutdown":
            host.shutdown = (event.epoch, event.id)
        elif kind == "boot":
            self._boot(host, event, "system_boot")

    def _boot(self, host, event, evidence):
        """The host restarted before ``event``: sessions still open went down."""
        end_epoch, end_id = host.last_epoch, host.last_id
        if evidence == "serial_reset":
            sec, ms, serial = event.first.previous
            end_epoch, end_id = int(sec) + int(ms) / 1000.0, "%s.%s:%d" % (sec, ms, serial)
            if host.shutdown is None:  # a reboot no SYSTEM_SHUTDOWN announced
                self._note_host_event({"host": host.name, "type": "reboot_detected", "epoch": event.epoch,
                                       "id": event.id, "evidence": "event serial %d after %d" % (event.serial, serial)})
        if host.shutdown is not None:
            end_epoch, end_id = host.shutdown
        elif end_epoch is not None:
            if host.open:
                self._note_host_event({"host": host.name, "type": "crash", "epoch": end_epoch, "id": end_id,
                                       "evidence": "host went down without SYSTEM_SHUTDOWN"})
        for session in list(host.open.values()):
            if host.shutdown is not None and _active_after(session, end_epoch):
                # started or changed after the shutdown record: it ran until the last record of that boot
                self._end_down(host, session, host.last_epoch, host.last_id)
            else:
                self._end_down(host, session, end_epoch, end_id)
        host.pending.clear()
        host.by_pid.clear()
        host.by_level.clear()
        host._level_search, host._level_uses = None, 0
        host.shutdown = None

    def _end_down(self, host, session, end_epoch, end_id):
        if session.crash is not None:
            self._close(host, session, "crashed", session.crash[0], session.crash[1], "crash")
        else:
            self._close(host, session, "down", end_epoch, end_id, "down")
        session.extra_events.append((session.end_epoch, session.end_id, "down" if session.state == "down" else "crash", None))

    # ------------------------------------------------------------------ libvirt records
    def _pending_for(self, host, uuid, event, fields, create):
        pending = host.pending.get(uuid)
        if pending is None and create:
            pending = host.pending[uuid] = _Pending(event.epoch, fields.get("vm"), fields.get("virt"))
        return pending

    def _machine_id(self, host, event, fields, uuid):
        pending = host.pending.get(uuid)
        if pending is None or pending.resources:
            # a label after resources starts a new sequence (a retried start)
            if pending is not None:
                self.unmatched_records += len(pending.ids)
            pending = host.pending[uuid] = _Pending(event.epoch, fields.get("vm"), fields.get("virt"))
        pending.labels.append({
            "model": label_model(fields),
            "vm_ctx": fields.get("vm-ctx"),
            "img_ctx": fields.get("img-ctx"),
            "id": event.id,
            "epoch": event.epoch,
            "result": fields.get("res") or "success",
        })
        self._use(pending, event)

    def _session_from(self, host, uuid, fields, event, pending):
        session = Session(host.name, uuid, fields.get("vm"), fields.get("virt"))
        if pending is not None:
            session.labels = pending.labels
            session.first_seen = pending.first_seen
            session.ids.extend(pending.ids)
            session.raw.update(pending.raw)
            for item in pending.resources:
                session.resources.append(item)
                if item["closed_epoch"] is None and item["result"] == "success":
                    session.open_resources.append(item)
        if session.first_seen is None:
            session.first_seen = event.epoch
        return session

    def _control(self, host, event, fields, uuid):
        op = fields.get("op")
        reason = fields.get("reason")
        ok = (fields.get("res") or "success") == "success"
        if op == "start":
            pending = host.pending.pop(uuid, None)
            previous = host.open.get(uuid)
            if previous is not None:
                previous.state = "lost"
                previous.end_bound = event.epoch
                previous.extra_events.append((event.epoch, event.id, "lost", None))
                self._unindex(host, previous)
                previous.open_resources = []
            session = self._session_from(host, uuid, fields, event, pending)
            session.start_epoch = event.epoch
            session.start_id = event.id
            session.start_reason = reason
            session.user = self._user(event.first, fields)
            self._use(session, event)
            pid = _int(fields.get("vm-pid"))
            session.pid = pid if pid and pid > 0 else None
            self.sessions.append(session)
            if ok:
                host.open[uuid] = session
                self._index(host, session)
            else:
                session.pid = None
                self._close(host, session, "failed", event.epoch, event.id, "start-failed")
            return
        session = host.open.get(uuid)
        if op == "stop":
            if session is None:
                # the start is not in the logs: a partial session
                session = self._session_from(host, uuid, fields, event, None)
                session.user = self._user(event.first, fields)
                self.sessions.append(session)
            self._use(session, event)
            session.stop_seen = True
            session.stops += 1
            if reason in CRASH_STOP_REASONS or session.crash is not None:
                state = "crashed"
            else:
                state = "stopped"
            if session.name is None:
                session.name = fields.get("vm")
            self._close(host, session, state, event.epoch, event.id,
                        "crash" if state == "crashed" else "stop", stop_reason=reason)
            return
        if op == "init" and session is not None:
            session.init = {"init_pid": _int(fields.get("init-pid")), "pid_ns": _int(fields.get("pid-ns")),
                            "vm_pid": _int(fields.get("vm-pid"))}
            self._use(session, event)
            session.extra_events.append((event.epoch, event.id, "init", dict(session.init)))
            return
        self.unmatched_records += 1

    def _resource(self, host, event, fields, uuid):
        kind = fields.get("resrc")
        reason = fields.get("reason")
        pending = host.pending.get(uuid)
        session = host.open.get(uuid)
        if reason == "start":
            target = pending or self._pending_for(host, uuid, event, fields, True)
        elif pending is not None and (reason in ("open", "allow", "deny") or session is None):
            target = pending
        elif session is not None:
            target = session
        elif reason in ("open", "allow", "deny"):
            target = self._pending_for(host, uuid, event, fields, True)
        else:
            # a hot-plug of a guest whose start is not in the logs
            session = self._session_from(host, uuid, fields, event, None)
            session.user = self._user(event.first, fields)
            self.sessions.append(session)
            host.open[uuid] = session
            target = session
        self._apply_resource(target, kind, reason, fields, event)

    def _apply_resource(self, target, kind, reason, fields, event):
        ok = (fields.get("res") or "success") == "success"
        self._use(target, event)
        if isinstance(target, Session) and target.crash is not None and ok:
            target.crash = None  # libvirt still changes the guest: the abend did not end it
        details = {}
        if kind in OLD_NEW_KINDS and reason != "open":
            old = fields.get("old-" + kind)
            new = fields.get("new-" + kind)
            if kind in NUMERIC_KINDS:
                old = None if old in (None, "", "0") else old
                new = None if new in (None, "", "0") else new
            else:
                old = old or None
                new = new or None
            if ok and old is not None:
                self._release(target, kind, old, event, reason)
            if new is None:
                if not ok:
                    self._add_item(target, kind, reason, old, False, event, {"old": old})
                return
            if old is not None:
                details["old"] = old
            self._add_item(target, kind, reason, new, ok, event, details)
            return
        if kind == "net" and reason == "open":
            details = {"net": fields.get("net"), "rdev": fields.get("rdev")}
            self._add_item(target, kind, reason, fields.get("path"), ok, event, details)
            return
        if kind == "cgroup":
            cls = fields.get("class")
            details = {"cgroup": fields.get("cgroup"), "class": cls, "acl": fields.get("acl")}
            if cls == "path":
                value = fields.get("path")
                details["rdev"] = fields.get("rdev")
            elif cls == "major":
                value = fields.get("category")
                details["category"] = value
                details["maj"] = fields.get("maj")
            else:
                value = cls or "all"
            if ok and reason == "deny" and cls == "path":
                self._release(target, kind, value, event, "deny")
            self._add_item(target, kind, reason, value, ok, event, details)
            return
        if kind == "hostdev":
            key = "disk" if "disk" in fields else "chardev"
            value = fields.get(key)
            details = {"type": key}
        else:
            value = fields.get(VALUE_KEY.get(kind, "device"))
            for extra in ("bus", "size"):
                if extra in fields:
                    details[extra] = fields.get(extra)
            if kind == "dev" and "bus" not in fields:
                details["bus"] = None
        if reason == "detach":
            if ok:
                self._release(target, kind, value, event, "detach")
            else:
                self._add_item(target, kind, reason, value, False, event, details)
            return
        self._add_item(target, kind, reason, value, ok, event, details)

    def _add_item(self, target, kind, reason, value, ok, event, details):
        item = {
            "kind": kind, "reason": reason, "value": value,
            "result": "success" if ok else "failed",
            "opened_epoch": event.epoch, "id": event.id,
            "closed_epoch": None, "close_id": None, "close_reason": None,
            "details": details,
        }
        if not ok:
            item["closed_epoch"] = event.epoch
            item["close_id"] = event.id
            item["close_reason"] = "failed"
        target.resources.append(item)
        if ok and isinstance(target, Session):
            target.open_resources.append(item)
        return item

    def _release(self, target, kind, value, event, reason):
        items = target.open_resources if isinstance(target, Session) else [
            r for r in target.resources if r["closed_epoch"] is None]
        for item in reversed(items):
            if item["kind"] == kind and item["value"] == value and item["result"] == "success":
                if kind == "cgroup" and item["reason"] != "allow":
                    continue
                item["closed_epoch"] = event.epoch
                item["close_id"] = event.id
                item["close_reason"] = reason
                if isinstance(target, Session):
                    target.open_resources.remove(item)
                return item
        return None

    # ------------------------------------------------------------------ kernel records
    @staticmethod
    def _avc_name(event, fields):
        """The object an AVC names (``name=``, else the first PATH record of its event)."""
        name = fields.get("name")
        if name is None:
            for record in event.records:
                if record.type == "PATH":
                    name = record.fields().get("name")
                    if name:
                        break
        return name

    def _avc(self, host, event, avc):
        body = avc.body
        if "apparmor=" not in body and not host.level_search(body):
            # a SELinux AVC names a running guest only through the guest's MCS level
            # (_by_label), and its contexts are text of the record: no level, no guest
            self._unattributed(event.epoch, 0)
            return
        fields = avc.fields()
        name = None
        if "apparmor" in fields:
            if (fields.get("apparmor") or "").upper() == "STATUS":
                return  # profile loads and replacements, not an access decision
            lsm = "apparmor"
            result = (fields.get("apparmor") or "").lower()
            operation = fields.get("operation")
            profile = fields.get("profile") or fields.get("label")
            name = self._avc_name(event, fields)
            session, matched_by = self._match_apparmor(host, profile, name)
            scontext = tcontext = None
        else:
            lsm = "selinux"
            result, operation = selinux_avc(avc.body)
            profile = None
            scontext = fields.get("scontext")
            tcontext = fields.get("tcontext")
            session, matched_by = self._match_selinux(host, scontext, tcontext)
        if session is None:
            self._unattributed(event.epoch, 0)
            return
        if lsm == "selinux":
            name = self._avc_name(event, fields)
        # the event's other records are read only for an AVC a guest owns
        syscall = event.find("SYSCALL")
        sfields = syscall.fields() if syscall is not None else {}
        user = None
        if syscall is not None:
            user = self._user(syscall, sfields)
        item = {
            "epoch": event.epoch, "id": event.id, "lsm": lsm, "result": result,
            "operation": operation, "comm": fields.get("comm") or sfields.get("comm"),
            "name": name, "pid": _int(fields.get("pid") or sfields.get("pid")),
            "scontext": scontext, "tcontext": tcontext, "tclass": fields.get("tclass"),
            "profile": profile, "user": user, "matched_by": matched_by,
            "permissive": fields.get("permissive"),
        }
        if lsm == "apparmor":
            item["requested_mask"] = fields.get("requested_mask")
            item["denied_mask"] = fields.get("denied_mask")
        session.avcs.append(item)
        self._use(session, event)

    def _match_selinux(self, host, scontext, tcontext):
        for key, context in (("scontext", scontext), ("tcontext", tcontext)):
            session = self._by_label(host, context)
            if session is not None:
                return session, key
        return None, None

    @staticmethod
    def _by_label(host, context):
        """The one running session whose label has this context's level.

        A level with categories (``s0:c107,c434``) identifies one guest; a
        bare level (static labels) only counts when the whole context equals
        the label of exactly one running guest.
        """
        level = mcs_level(context)
        group = host.by_level.get(level) if level else None
        if not group:
            return None
        if ":c" in level and len(group) == 1:
            return next(iter(group.values()))
        exact = [s for s in group.values() if any(context in (lab["vm_ctx"], lab["img_ctx"]) for lab in s.labels)]
        return exact[0] if len(exact) == 1 else None

    def _match_apparmor(self, host, profile, name):
        if profile:
            base = profile.split("//", 1)[0].rsplit("/", 1)[-1]
            if base.startswith("libvirt-"):
                session = host.open.get(base[len("libvirt-"):].lower())
                if session is not None:
                    return session, "profile"
        if name:
            for session in host.open.values():
                for item in session.open_resources:
                    if item["value"] == name:
                        return session, "path"
        return None, None

    def _anomaly(self, host, event, record):
        fields = record.fields()
        pid = _int(fields.get("pid"))
        session = host.by_pid.get(pid) if pid else None
        matched_by = "pid" if session is not None else None
        if session is None:
            session = self._by_label(host, fields.get("subj"))
            matched_by = "subj" if session is not None else None
        if session is None:
            self._unattributed(event.epoch, 1)
            return
        item = {
            "epoch": event.epoch, "id": event.id, "type": record.type, "pid": pid,
            "comm": fields.get("comm"), "exe": fields.get("exe"), "sig": _int(fields.get("sig")),
            "user": self._user(record, fields), "matched_by": matched_by,
        }
        session.anomalies.append(item)
        self._use(session, event)
        if record.type == "ANOM_ABEND" and session.crash is None:
            session.crash = (event.epoch, event.id)

    # ------------------------------------------------------------------ finish
    def finish(self):
        """Close what the end of the data decides; return the sessions."""
        for host in self.hosts.values():
            if host.shutdown is not None:
                for session in list(host.open.values()):
                    if _active_after(session, host.shutdown[0]):
                        continue  # started or changed after the shutdown record: still running as far as the log shows
                    self._end_down(host, session, host.shutdown[0], host.shutdown[1])
            for session in list(host.open.values()):
                if session.crash is not None:
                    self._close(host, session, "crashed", session.crash[0], session.crash[1], "crash")
            for pending in host.pending.values():
                self.unmatched_records += len(pending.ids)
            host.pending.clear()
        return self.sessions

    # ------------------------------------------------------------------ state between runs
    def state(self):
        """Everything a later run needs to go on where this one stopped (before ``finish``)."""
        if self.unattributed:
            self._compact_unattributed()
        index = dict((id(session), n) for n, session in enumerate(self.sessions))
        running = set(id(session) for host in self.hosts.values() for session in host.open.values())
        hosts = {}
        for name, host in self.hosts.items():
            hosts[name] = {
                "open": [index[id(session)] for session in host.open.values()],
                "pending": dict((uuid, _pending_state(p)) for uuid, p in host.pending.items()),
                "last_epoch": host.last_epoch,
                "last_id": host.last_id,
                "shutdown": list(host.shutdown) if host.shutdown else None,
            }
        return {
            "sessions": [_session_state(session) if id(session) in running else _frozen_state(session)
                         for session in self.sessions],
            "hosts": hosts,
            "host_events": self.host_events,
            "unattributed": [[minute, counts[0], counts[1]] for minute, counts in sorted(self.unattributed.items())],
            "unattributed_newest": self.unattributed_newest,
            "unmatched_records": self.unmatched_records,
            "virt_records": self.virt_records,
        }

    def restore(self, state):
        self.sessions = [_session_from_state(item) for item in state["sessions"]]
        for name, item in state["hosts"].items():
            host = self.hosts[name] = _Host(name)
            host.last_epoch = item["last_epoch"]
            host._last_id = item["last_id"]
            host.shutdown = tuple(item["shutdown"]) if item["shutdown"] else None
            for number in item["open"]:
                session = self.sessions[number]
                host.open[session.uuid] = session
                self._index(host, session)
            for uuid, pending in item["pending"].items():
                host.pending[uuid] = _pending_from_state(pending)
        self.host_events = list(state["host_events"])
        self.unattributed = dict((minute, [avcs, anomalies]) for minute, avcs, anomalies in state["unattributed"])
        self.unattributed_newest = state["unattributed_newest"]
        self._unattributed_limit = 2 * len(self.unattributed) + 4 * BY_MINUTE
        for item in self.host_events:
            self._host_events[item["host"]] = self._host_events.get(item["host"], 0) + 1
        self.unmatched_records = state["unmatched_records"]
        self.virt_records = state["virt_records"]


def _active_after(session, epoch):
    """Whether the session started, or libvirt changed it, after ``epoch``."""
    return any(value is not None and value > epoch for value in (session.start_epoch, session.last_seen))


_SESSION_FIELDS = ("host", "uuid", "name", "virt", "state", "start_epoch", "start_id", "start_reason", "end_epoch",
                   "end_id", "end_bound", "stop_reason", "pid", "user", "first_seen", "labels", "resources", "avcs",
                   "anomalies", "ids", "init", "stop_seen", "stops", "last_seen", "raw")
# what an ended session keeps outside its frozen details: enough to select and count it
_HEAD_FIELDS = ("host", "uuid", "name", "virt", "state", "start_epoch", "start_id", "start_reason", "end_epoch",
                "end_id", "end_bound", "stop_reason", "pid", "user", "first_seen", "init", "stop_seen", "stops",
                "last_seen")
_DETAIL_FIELDS = ("labels", "resources", "avcs", "anomalies", "ids", "raw", "extra_events", "crash")


def _session_state(session):
    item = dict((key, getattr(session, key)) for key in _SESSION_FIELDS)
    position = dict((id(resource), n) for n, resource in enumerate(session.resources))
    item["open_resources"] = [position[id(resource)] for resource in session.open_resources]
    item["extra_events"] = [list(event) for event in session.extra_events]
    item["crash"] = list(session.crash) if session.crash else None
    return item


def _frozen_state(session, details=True):
    """An ended session: it never changes again, so its details are kept as (compressed) JSON text.

    The next run reads the text only when it needs the details (resources,
    AVCs, ... with all_events or proof); selecting and counting the session
    use the head and the tally.
    """
    frozen = getattr(session, "frozen", None)
    if frozen is not None:
        return frozen
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


class _FrozenSession(Session):
    """An ended session restored from a checkpoint; its details are decoded on first use."""

    def __init__(self, state):
        item = state["frozen"]
        self.frozen = state
        for key in _HEAD_FIELDS:
            setattr(self, key, item[key])
        self._label = item["label"]
        self._tally = item["tally"]
        self.open_resources = []
        self.levels = ()

    def __getattr__(self, name):
        if name not in _DETAIL_FIELDS:
            raise AttributeError(name)
        text = self.frozen["frozen"]["details"]
        if text is None:
            raise AttributeError("%s: the details of this ended session were not kept" % name)
        details = json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))
        for key in _DETAIL_FIELDS:
            setattr(self, key, details[key])
        self.extra_events = [tuple(event) for event in self.extra_events]
        self.crash = tuple(self.crash) if self.crash else None
        return getattr(self, name)

    @property
    def label(self):
        return self._label

    def tally(self):
        return list(self._tally)


def _session_from_state(item):
    if "frozen" in item:
        return _FrozenSession(item)
    session = Session(item["host"], item["uuid"], item["name"], item["virt"])
    for key in _SESSION_FIELDS:
        setattr(session, key, item[key])
    session.open_resources = [session.resources[n] for n in item["open_resources"]]
    session.extra_events = [tuple(event) for event in item["extra_events"]]
    session.crash = tuple(item["crash"]) if item["crash"] else None
    return session


def _pending_state(pending):
    return {"labels": pending.labels, "resources": pending.resources, "first_seen": pending.first_seen,
            "ids": pending.ids, "name": pending.name, "virt": pending.virt, "raw": pending.raw}


def _pending_from_state(item):
    pending = _Pending(item["first_seen"], item["name"], item["virt"])
    pending.labels = item["labels"]
    pending.resources = item["resources"]
    pending.ids = item["ids"]
    pending.raw = item["raw"]
    return pending
