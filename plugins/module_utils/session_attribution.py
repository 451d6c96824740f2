# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AVCs and anomalies -> the guest they concern (docs/session-model.md, "avcs" and "anomalies").

Per host a ``GuestIndex`` files every running session by its qemu pid and
by the MCS levels of its labels, so each denial and anomaly is matched in
constant time:

- SELinux: the MCS level of the source, else of the target context, against
  the labels of the running guests, else of the start sequences under way;
- AppArmor: a ``libvirt-UUID`` profile (child profiles too), else the pid of
  the guest's qemu; a path alone names no guest;
- anomalies: the pid of the guest's qemu, else the MCS level of ``subj``;
  only an ``ANOM_ABEND`` of the guest's own qemu may end it ``crashed``.

A SELinux AVC can name a guest only through an MCS level: one that has no
level of a running guest or start sequence in its text is counted without
its fields or other records being read (``GuestIndex.level_search``).

What matches no guest goes to ``engine.unattributed``
(module_utils/session_unattributed.py).
The functions take the engine (module_utils/virt_sessions.py) for what all
rules share: ``use()`` and ``user()``.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import selinux_avc
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import to_int
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_unattributed import ANOMALY, AVC

# the same levels asked about this often get one regular expression (GuestIndex.level_search)
LEVEL_SEARCH_AFTER = 64
_CATEGORY = re.compile(r":c[0-9]")


def mcs_level(context):
    """``s0:c107,c434`` of ``system_u:system_r:svirt_t:s0:c107,c434``."""
    if not context:
        return None
    parts = context.split(":", 3)
    if len(parts) < 4:
        return None
    return parts[3]


def is_anomaly(rtype):
    return rtype.startswith("ANOM_")


def _no_match(text):  # pylint: disable=unused-argument
    return None


class GuestIndex(object):
    """The running sessions of one host by qemu pid and by MCS level."""

    __slots__ = ("by_pid", "by_level", "_search", "_uses", "_bare")

    def __init__(self):
        self.by_pid = {}          # pid -> Session
        self.by_level = {}        # level -> {uuid: Session}
        self._levels_changed()

    def _levels_changed(self):
        self._search = None       # finds any of the levels in a text (made when asked for) ...
        self._uses = 0            # ... after LEVEL_SEARCH_AFTER questions about the same levels
        self._bare = ()           # the levels without categories

    def level_search(self, text):
        """Whether a level of a running session is in ``text``.

        Levels with categories (``s0:c107,c434``) can be there only when a
        category (``:c`` and a digit) is; they are looked for one by one, and
        with one regular expression once the same levels have been asked
        about often (guests start and stop often on some hosts, AVCs are rare
        on most).
        """
        search = self._search
        if search is None:
            self._uses += 1
            if self._uses == 1:
                self._bare = tuple(level for level in self.by_level if _CATEGORY.search(level) is None)
            if self._bare and any(map(text.__contains__, self._bare)):
                return True
            if _CATEGORY.search(text) is None:
                return False
            if self._uses < LEVEL_SEARCH_AFTER:
                return any(map(text.__contains__, self.by_level))
            if self.by_level:
                search = re.compile("|".join(map(re.escape, sorted(self.by_level)))).search
            else:
                search = _no_match
            self._search = search
        return search(text) is not None

    def add(self, session):
        """File a session that runs (its levels are kept in ``session.levels`` for ``remove``)."""
        if session.pid:
            self.by_pid[session.pid] = session
        levels = []
        for item in session.labels:
            if item["model"] == "dac":
                continue
            level = mcs_level(item["vm_ctx"])
            if level and level not in levels:
                levels.append(level)
        session.levels = tuple(levels)
        for level in levels:
            group = self.by_level.get(level)
            if group is None:
                group = self.by_level[level] = {}
                self._levels_changed()
            group[session.uuid] = session

    def remove(self, session):
        if session.pid and self.by_pid.get(session.pid) is session:
            del self.by_pid[session.pid]
        for level in session.levels:
            group = self.by_level.get(level)
            if group is not None and group.get(session.uuid) is session:
                del group[session.uuid]
                if not group:
                    del self.by_level[level]
                    self._levels_changed()

    def clear(self):
        self.by_pid.clear()
        self.by_level.clear()
        self._levels_changed()

    def by_label(self, context):
        """The one running session whose label has this context's level.

        A level with categories (``s0:c107,c434``) identifies one guest; a
        bare level (static labels) only counts when the whole context equals
        the label of exactly one running guest.
        """
        level = mcs_level(context)
        group = self.by_level.get(level) if level else None
        if not group:
            return None
        if ":c" in level and len(group) == 1:
            return next(iter(group.values()))
        exact = [s for s in group.values() if any(context in (lab["vm_ctx"], lab["img_ctx"]) for lab in s.labels)]
        return exact[0] if len(exact) == 1 else None


def _pending_level(host, text):
    """Whether a label of a start sequence of ``host`` (its MCS level or whole context) is in ``text``."""
    for pending in host.pending.values():
        for lab in pending.labels:
            if lab["model"] == "dac":
                continue
            level = mcs_level(lab["vm_ctx"])
            if level and level in text:
                return True
            if any(context and context in text for context in (lab["vm_ctx"], lab["img_ctx"])):
                return True
    return False


def _syscall(event):
    """The SYSCALL record of ``event`` and its fields (None and {} without one)."""
    syscall = event.find("SYSCALL")
    return syscall, (syscall.fields() if syscall is not None else {})


def _avc_name(event, fields):
    """The object an AVC names (``name=``, else the first PATH record of its event)."""
    name = fields.get("name")
    if name is None:
        for other in event.records:
            if other.type == "PATH":
                name = other.fields().get("name")
                if name:
                    break
    return name


def _decision(record, fields):
    """``(lsm, result, operation, profile, scontext, tcontext)`` of an AVC record; None for an AppArmor
    ``STATUS`` (profile loads and replacements, not an access decision)."""
    if "apparmor" in fields:
        verdict = fields.get("apparmor") or ""
        if verdict.upper() == "STATUS":
            return None
        return ("apparmor", verdict.lower(), fields.get("operation"), fields.get("profile") or fields.get("label"),
                None, None)
    result, operation = selinux_avc(record.body)
    return ("selinux", result, operation, None, fields.get("scontext"), fields.get("tcontext"))


def _avc_item(engine, event, fields, decision, matched_by, syscall=None, sfields=None):
    """The documented dict of an AVC (``decision``: of ``_decision``); the SYSCALL is read when not given."""
    if sfields is None:
        syscall, sfields = _syscall(event)
    user = engine.user(syscall, sfields) if syscall is not None else None
    lsm, result, operation, profile, scontext, tcontext = decision
    item = {
        "epoch": event.epoch, "id": event.id, "lsm": lsm, "result": result,
        "operation": operation, "comm": fields.get("comm") or sfields.get("comm"),
        "name": _avc_name(event, fields), "pid": to_int(fields.get("pid") or sfields.get("pid")),
        "scontext": scontext, "tcontext": tcontext, "tclass": fields.get("tclass"),
        "profile": profile, "user": user, "matched_by": matched_by,
        "permissive": fields.get("permissive"),
    }
    if lsm == "apparmor":
        item["requested_mask"] = fields.get("requested_mask")
        item["denied_mask"] = fields.get("denied_mask")
    return item


def avc(engine, host, event, record):
    """An ``AVC`` record (SELinux or AppArmor) of ``event``: added to the guest it concerns, or to
    ``engine.unattributed``.

    The fields of a SELinux AVC are read only when a level of a running guest
    or start sequence is in its text (it names a guest by nothing else), and
    the event's other records (SYSCALL, PATH) only for an AVC a guest owns
    (an AppArmor AVC without ``pid=`` reads its SYSCALL for the pid); those of
    an unattributed one when it is listed (``describe``).
    """
    body = record.body
    if "apparmor=" not in body and not host.index.level_search(body) and not _pending_level(host, body):
        engine.unattributed.add(event.epoch, AVC, host.name, event, record)
        return
    fields = record.fields()
    decision = _decision(record, fields)
    if decision is None:
        return
    lsm, dummy, dummy2, profile, scontext, tcontext = decision
    syscall, sfields = None, None
    if lsm == "apparmor":
        pid_text = fields.get("pid")
        if not pid_text:
            syscall, sfields = _syscall(event)
            pid_text = sfields.get("pid")
        session, matched_by = _match_apparmor(host, profile, to_int(pid_text))
    else:
        session, matched_by = _match_selinux(host, scontext, tcontext)
    if session is None:
        # a denial while a guest starts: the label (or profile) of its start sequence names it
        session, matched_by = _match_pending(host, lsm, profile, scontext, tcontext)
    if session is None:
        engine.unattributed.add(event.epoch, AVC, host.name, event, record)
        return
    session.avcs.append(_avc_item(engine, event, fields, decision, matched_by, syscall, sfields))
    engine.use(session, event)


def _match_selinux(host, scontext, tcontext):
    for key, context in (("scontext", scontext), ("tcontext", tcontext)):
        session = host.index.by_label(context)
        if session is not None:
            return session, key
    return None, None


def _profile_uuid(profile):
    """The guest UUID of a ``libvirt-UUID`` AppArmor profile (child profiles ``libvirt-UUID//...`` too)."""
    if not profile:
        return None
    base = profile.split("//", 1)[0].rsplit("/", 1)[-1]
    return base[len("libvirt-"):].lower() if base.startswith("libvirt-") else None


def _match_apparmor(host, profile, pid):
    """The guest's own profile, else its qemu pid.  A path alone names no guest: another profile's
    process (a VPN client on /dev/net/tun, cupsd on /dev/urandom) opens the same files."""
    uuid = _profile_uuid(profile)
    session = host.open.get(uuid) if uuid else None
    if session is not None:
        return session, "profile"
    session = host.index.by_pid.get(pid) if pid else None
    if session is not None:
        return session, "pid"
    return None, None


def _match_pending(host, lsm, profile, scontext, tcontext):
    """The start sequence a denial belongs to: the label of its VIRT_MACHINE_ID (SELinux, by the same
    rules as a running guest's) or its ``libvirt-UUID`` profile (AppArmor)."""
    if not host.pending:
        return None, None
    if lsm == "apparmor":
        uuid = _profile_uuid(profile)
        pending = host.pending.get(uuid) if uuid else None
        return (pending, "profile") if pending is not None else (None, None)
    for key, context in (("scontext", scontext), ("tcontext", tcontext)):
        level = mcs_level(context)
        if not level:
            continue
        found = [p for p in host.pending.values()
                 if any(lab["model"] != "dac" and (mcs_level(lab["vm_ctx"]) == level and ":c" in level
                                                   or context in (lab["vm_ctx"], lab["img_ctx"]))
                        for lab in p.labels)]
        if len(found) == 1:
            return found[0], key
    return None, None


def _anomaly_item(engine, event, record, fields, matched_by):
    return {
        "epoch": event.epoch, "id": event.id, "type": record.type, "pid": to_int(fields.get("pid")),
        "comm": fields.get("comm"), "exe": fields.get("exe"), "sig": to_int(fields.get("sig")),
        "user": engine.user(record, fields), "matched_by": matched_by,
    }


def anomaly(engine, host, event, record):
    """An ``ANOM_*`` record: added to the guest whose qemu pid or label it has, or to ``engine.unattributed``."""
    fields = record.fields()
    pid = to_int(fields.get("pid"))
    session = host.index.by_pid.get(pid) if pid else None
    matched_by = "pid" if session is not None else None
    if session is None:
        session = host.index.by_label(fields.get("subj"))
        matched_by = "subj" if session is not None else None
    if session is None:
        engine.unattributed.add(event.epoch, ANOMALY, host.name, event, record)
        return
    item = _anomaly_item(engine, event, record, fields, matched_by)
    session.anomalies.append(item)
    engine.use(session, event)
    if record.type == "ANOM_ABEND" and session.crash is None and _is_the_guest(session, matched_by, item):
        session.crash = (event.epoch, event.id)


def describe(engine, kind, event, record):
    """The documented dict of an AVC (``kind`` AVC) or anomaly (ANOMALY) attributed to no guest (``matched_by``
    null): ``record`` of ``event``, as engine.unattributed kept it."""
    fields = record.fields()
    if kind == ANOMALY:
        return _anomaly_item(engine, event, record, fields, None)
    return _avc_item(engine, event, fields, _decision(record, fields), None)


def _is_the_guest(session, matched_by, anomaly_item):
    """Whether an anomaly is of the guest's own process (its qemu), not of a helper that runs under the
    guest's label (swtpm, virtiofsd, a passt or slirp process): only the former ends the guest.  The pid
    of the start record decides; without one, a qemu program name does."""
    if matched_by == "pid":
        return True
    if session.pid is not None:
        return False
    program = (anomaly_item.get("exe") or "").rsplit("/", 1)[-1] or (anomaly_item.get("comm") or "")
    return program.startswith("qemu") or program in ("kvm", "libvirt_lxc")
