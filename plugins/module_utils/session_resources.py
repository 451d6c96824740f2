# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``VIRT_RESOURCE`` records -> the resources a guest held: what a record opens, what it closes.

``apply()`` works on a running session and on a start sequence alike (the
``Evidence`` interface of module_utils/session_model.py); which of them a
record is for is the lifecycle's decision (session_lifecycle.resource_holder).
The rules, and the value and details kept for each kind, are those of
docs/session-model.md ("resources").

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

OLD_NEW_KINDS = frozenset(("disk", "net", "fs", "chardev", "smartcard", "rng", "mem", "vcpu", "iothread"))
NUMERIC_KINDS = frozenset(("mem", "vcpu", "iothread"))
VALUE_KEY = {
    "dev": "device", "tpm": "device", "tpm-emulator": "device", "tpm-external": "device",
    "shmem": "path", "ivshmem-socket": "path", "evdev": "path",
}


def apply(holder, fields, event):
    """Open and close ``holder``'s resources as the ``VIRT_RESOURCE`` record (``fields``) of ``event`` says."""
    kind = fields.get("resrc")
    reason = fields.get("reason")
    ok = (fields.get("res") or "success") == "success"
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
            _release(holder, kind, old, event, reason)
        if new is None:
            if not ok:
                _add_item(holder, kind, reason, old, False, event, {"old": old})
            return
        if old is not None:
            details["old"] = old
        _add_item(holder, kind, reason, new, ok, event, details)
        return
    if kind == "net" and reason == "open":
        details = {"net": fields.get("net"), "rdev": fields.get("rdev")}
        _add_item(holder, kind, reason, fields.get("path"), ok, event, details)
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
            _release(holder, kind, value, event, "deny")
        _add_item(holder, kind, reason, value, ok, event, details)
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
            _release(holder, kind, value, event, "detach")
        else:
            _add_item(holder, kind, reason, value, False, event, details)
        return
    _add_item(holder, kind, reason, value, ok, event, details)


def _add_item(holder, kind, reason, value, ok, event, details):
    """A resource opened by ``event``; a failed operation is recorded and closed at once."""
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
    holder.resources.append(item)
    if ok:
        holder.open_resources.append(item)
    return item


def _release(holder, kind, value, event, reason):
    """Close the newest open resource of that kind and value (a cgroup ``deny``: the ``allow`` of its path)."""
    items = holder.open_resources
    for item in reversed(items):
        if item["kind"] == kind and item["value"] == value and item["result"] == "success":
            if kind == "cgroup" and item["reason"] != "allow":
                continue
            item["closed_epoch"] = event.epoch
            item["close_id"] = event.id
            item["close_reason"] = reason
            items.remove(item)
            return item
    return None


def close_all(holder, epoch, event_id, close_reason):
    """The session ended: everything it still held is released then."""
    for item in holder.open_resources:
        item["closed_epoch"] = epoch
        item["close_id"] = event_id
        item["close_reason"] = close_reason
    holder.open_resources = []


def open_items(resources):
    """The successful resources of ``resources`` not yet released (a start sequence's, restored)."""
    return [item for item in resources if item.get("closed_epoch") is None and item.get("result") == "success"]
