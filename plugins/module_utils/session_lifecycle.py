# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A guest's lifecycle on one host: start sequence, start, stop, host down, the end of the data.

- ``machine_id``: a ``VIRT_MACHINE_ID`` opens (or restarts) the start sequence of a guest;
- ``control``: ``VIRT_CONTROL`` ``op=start`` turns the sequence into a session (an earlier
  session of the guest that never ended is ``lost``; a failed start ends at once),
  ``op=stop`` ends it (a stop without a start in the logs is a partial session),
  ``op=init`` notes an LXC init;
- ``resource_holder``: which session or start sequence a ``VIRT_RESOURCE`` record is for;
- ``host_event``, ``boot``: ``SYSTEM_SHUTDOWN``, ``SYSTEM_BOOT`` and a restarted event serial -
  the sessions still running went ``down`` (or ``crashed``, after their qemu's ``ANOM_ABEND``);
- ``finish``: what the end of the data decides.

The states and end times are those of docs/session-model.md.  The
functions take the engine (module_utils/virt_sessions.py) and the host
(``open`` sessions by uuid, ``pending`` start sequences by uuid, ``index``,
``shutdown``, ``last_epoch``/``last_id``).

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import EventId
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import Pending, Session, to_int
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_resources import close_all

CRASH_STOP_REASONS = frozenset(("failed", "crashed"))
SEQUENCE_REASONS = ("open", "allow", "deny")  # resource reasons libvirt logs while it starts a guest


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


def machine_id(engine, host, event, fields, uuid):
    """A guest label: the first record of a start sequence (a label after resources starts a new one)."""
    pending = host.pending.get(uuid)
    if pending is None or pending.resources:
        # a label after resources starts a new sequence (a retried start)
        if pending is not None:
            engine.unmatched_records += len(pending.ids)
        pending = _new_pending(host, uuid, event, fields)
    pending.labels.append({
        "model": label_model(fields),
        "vm_ctx": fields.get("vm-ctx"),
        "img_ctx": fields.get("img-ctx"),
        "id": event.id,
        "epoch": event.epoch,
        "result": fields.get("res") or "success",
    })
    engine.use(pending, event)


def control(engine, host, event, fields, uuid):
    op = fields.get("op")
    reason = fields.get("reason")
    if op == "start":
        _start(engine, host, event, fields, uuid, reason)
        return
    session = host.open.get(uuid)
    if op == "stop":
        if session is None:
            # the start is not in the logs: a partial session
            session = _partial(engine, host, uuid, fields, event)
        engine.use(session, event)
        session.stop_seen = True
        session.stops += 1
        if reason in CRASH_STOP_REASONS or session.crash is not None:
            state = "crashed"
        else:
            state = "stopped"
        if session.name is None:
            session.name = fields.get("vm")
        close(host, session, state, event.epoch, event.id, "crash" if state == "crashed" else "stop",
              stop_reason=reason)
        return
    if op == "init" and session is not None:
        session.init = {"init_pid": to_int(fields.get("init-pid")), "pid_ns": to_int(fields.get("pid-ns")),
                        "vm_pid": to_int(fields.get("vm-pid"))}
        engine.use(session, event)
        session.extra_events.append((event.epoch, event.id, "init", dict(session.init)))
        return
    engine.unmatched_records += 1


def _start(engine, host, event, fields, uuid, reason):
    pending = host.pending.pop(uuid, None)
    previous = host.open.get(uuid)
    if previous is not None:
        previous.state = "lost"
        previous.end_bound = event.epoch
        previous.extra_events.append((event.epoch, event.id, "lost", None))
        _forget(host, previous)
        previous.open_resources = []
    session = _session_from(host, uuid, fields, event, pending)
    session.start_epoch = event.epoch
    session.start_id = event.id
    session.start_reason = reason
    session.user = engine.user(event.first, fields)
    engine.use(session, event)
    pid = to_int(fields.get("vm-pid"))
    session.pid = pid if pid and pid > 0 else None
    engine.sessions.append(session)
    if (fields.get("res") or "success") == "success":
        host.open[uuid] = session
        host.index.add(session)
    else:
        session.pid = None
        close(host, session, "failed", event.epoch, event.id, "start-failed")


def _session_from(host, uuid, fields, event, pending):
    """A new session of the guest, with what its start sequence (``pending``, or None) gathered."""
    session = Session(host.name, uuid, fields.get("vm"), fields.get("virt"))
    if pending is not None:
        session.labels = pending.labels
        session.avcs = pending.avcs
        session.first_seen = pending.first_seen
        session.ids.extend(pending.ids)
        session.raw.update(pending.raw)
        session.resources.extend(pending.resources)
        session.open_resources.extend(pending.open_resources)
    if session.first_seen is None:
        session.first_seen = event.epoch
    return session


def _partial(engine, host, uuid, fields, event):
    """A session whose start is not in the logs: it began before them, or after the host's newest boot
    (``not_before``; session_report selects it by the host's first record when there was none)."""
    session = _session_from(host, uuid, fields, event, None)
    session.not_before = host.boot_epoch
    session.user = engine.user(event.first, fields)
    engine.sessions.append(session)
    return session


def resource_holder(engine, host, event, fields, uuid):
    """The session or start sequence a ``VIRT_RESOURCE`` record is for (created when there is none)."""
    reason = fields.get("reason")
    pending = host.pending.get(uuid)
    session = host.open.get(uuid)
    if reason == "start":
        holder = pending or _new_pending(host, uuid, event, fields)
    elif pending is not None and (reason in SEQUENCE_REASONS or session is None):
        holder = pending
    elif session is not None:
        holder = session
    elif reason in SEQUENCE_REASONS:
        holder = _new_pending(host, uuid, event, fields)
    else:
        # a hot-plug of a guest whose start is not in the logs
        holder = _partial(engine, host, uuid, fields, event)
        host.open[uuid] = holder
    if holder.crash is not None and (fields.get("res") or "success") == "success":
        holder.crash = None  # libvirt still changes the guest: the abend did not end it
    return holder


def _new_pending(host, uuid, event, fields):
    """A new start sequence of the guest, from its first record."""
    pending = host.pending[uuid] = Pending(event.epoch, fields.get("vm"), fields.get("virt"))
    return pending


def close(host, session, state, epoch, event_id, close_reason, stop_reason=None):
    """End ``session``: its state, end, what still held resources, and it no longer runs on ``host``."""
    session.state = state
    session.end_epoch = epoch
    session.end_id = event_id
    if stop_reason is not None:
        session.stop_reason = stop_reason
    close_all(session, epoch, event_id, close_reason)
    _forget(host, session)


def _forget(host, session):
    host.index.remove(session)
    if host.open.get(session.uuid) is session:
        del host.open[session.uuid]


def host_event(engine, host, event, kind):
    """``SYSTEM_SHUTDOWN``, ``SYSTEM_BOOT`` and the audit daemon's own records (``kind``: HOST_EVENT_TYPES)."""
    engine.note_host_event({"host": host.name, "type": kind, "epoch": event.epoch, "id": event.id})
    if kind == "shutdown":
        host.shutdown = (event.epoch, event.id)
    elif kind == "boot":
        boot(engine, host, event, "system_boot")


def _last_of_boot(host, event, evidence):
    """(epoch, id) of the last record of the boot that ended before ``event`` (a serial restart marker or a
    SYSTEM_BOOT): the record before it as the reader counted them (``Record.previous``: every record, not only
    those the engine reads), else the last record the engine read."""
    last_epoch, last_id = host.last_epoch, host.last_id
    previous = event.first.previous
    if previous is not None:
        sec, ms, serial = previous
        epoch = EventId.time(sec, ms)
        # a marker's previous record ends the old boot; a SYSTEM_BOOT's does unless it is a late record
        if evidence == "serial_reset" or last_epoch is None or epoch > last_epoch:
            last_epoch, last_id = epoch, EventId.format(sec, ms, serial)
    return last_epoch, last_id


def boot(engine, host, event, evidence):
    """The host restarted before ``event``: sessions still open went down."""
    last_epoch, last_id = _last_of_boot(host, event, evidence)
    end_epoch, end_id = last_epoch, last_id
    if evidence == "serial_reset" and host.shutdown is None:  # a reboot no SYSTEM_SHUTDOWN announced
        engine.note_host_event({"host": host.name, "type": "reboot_detected", "epoch": event.epoch,
                                "id": event.id, "evidence": "event serial %d after %d"
                                % (event.serial, event.first.previous[2])})
    if host.shutdown is not None:
        end_epoch, end_id = host.shutdown
    elif end_epoch is not None:
        if host.open:
            engine.note_host_event({"host": host.name, "type": "crash", "epoch": end_epoch, "id": end_id,
                                    "evidence": "host went down without SYSTEM_SHUTDOWN"})
    for session in list(host.open.values()):
        if host.shutdown is not None and _active_after(session, end_epoch):
            # started or changed after the shutdown record: it ran until the last record of that boot
            _end_down(host, session, last_epoch, last_id)
        else:
            _end_down(host, session, end_epoch, end_id)
    host.pending.clear()
    host.index.clear()
    host.shutdown = None
    host.boot_epoch = event.epoch


def _end_down(host, session, end_epoch, end_id):
    if session.crash is not None:
        close(host, session, "crashed", session.crash[0], session.crash[1], "crash")
    else:
        close(host, session, "down", end_epoch, end_id, "down")
    session.extra_events.append((session.end_epoch, session.end_id, "down" if session.state == "down" else "crash", None))


def _active_after(session, epoch):
    """Whether the session started, or libvirt changed it, after ``epoch``."""
    return any(value is not None and value > epoch for value in (session.start_epoch, session.last_seen))


def finish(engine):
    """Close what the end of the data decides: a shutdown without a boot after it, an abend that ended a
    guest; start sequences whose ``op=start`` never came are unmatched records."""
    for host in engine.hosts.values():
        if host.shutdown is not None:
            for session in list(host.open.values()):
                if _active_after(session, host.shutdown[0]):
                    continue  # started or changed after the shutdown record: still running as far as the log shows
                _end_down(host, session, host.shutdown[0], host.shutdown[1])
        for session in list(host.open.values()):
            if session.crash is not None:
                close(host, session, "crashed", session.crash[0], session.crash[1], "crash")
        for pending in host.pending.values():
            engine.unmatched_records += len(pending.ids)
        host.pending.clear()
