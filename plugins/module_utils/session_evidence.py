# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The evidence a session contributes to the fleet report, in a few hundred bytes.

``session_evidence(avcs, anomalies, resources)`` sums up a session's AVC
denials, anomalies and hot-plugged devices: how many, the first one's time,
what they were (distinct, sorted, capped) and the audit event ids
(``SECONDS.MILLIS:SERIAL``, capped at ``MAX_IDS``).  The fleet report's
findings are computed from this summary alone, so a host sends it instead of
every resource, denial and timeline event of every session
(``all_events``).

It reads the engine's items (``epoch``/``opened_epoch``) and the result
dicts of ``all_events`` alike.  Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso

# event ids kept per kind; the counts stay exact
MAX_IDS = 50
# distinct operations / anomaly types kept per session
MAX_KINDS = 20
# hot-plugged devices listed per session
MAX_ATTACHES = 50


def _r3(epoch):
    return None if epoch is None else round(epoch, 3)


def _ids(items, key="id"):
    out = []
    seen = set()
    for item in items:
        value = item.get(key)
        if value and value not in seen:
            seen.add(value)
            out.append(value)
            if len(out) >= MAX_IDS:
                break
    return out


def avc_operation(item):
    """``open /var/lib/x.img``: the operation and the object of a denial."""
    return ("%s %s" % (item.get("operation") or "?", item.get("name") or item.get("tclass") or "")).strip()


def anomaly_kind(item):
    """``ANOM_ABEND sig=11``."""
    sig = item.get("sig")
    return "%s%s" % (item.get("type"), " sig=%s" % sig if sig is not None else "")


def _first(items, key):
    epochs = [item.get(key) for item in items if item.get(key) is not None]
    return min(epochs) if epochs else None


def session_evidence(avcs=(), anomalies=(), resources=()):
    """``{'avcs': {...}, 'anomalies': {...}, 'attaches': {...}}``; a kind without items is left out."""
    out = {}
    if avcs:
        first = _first(avcs, "epoch")
        out["avcs"] = {
            "count": len(avcs), "first": iso(first), "first_epoch": _r3(first),
            "operations": sorted(set(avc_operation(item) for item in avcs))[:MAX_KINDS], "ids": _ids(avcs),
        }
    if anomalies:
        first = _first(anomalies, "epoch")
        out["anomalies"] = {
            "count": len(anomalies), "first": iso(first), "first_epoch": _r3(first),
            "types": sorted(set(anomaly_kind(item) for item in anomalies))[:MAX_KINDS], "ids": _ids(anomalies),
        }
    attaches = [item for item in resources or () if item.get("reason") == "attach" and item.get("result") == "success"]
    if attaches:
        kinds = {}
        for item in attaches:
            kinds[item.get("kind")] = kinds.get(item.get("kind"), 0) + 1
        out["attaches"] = {
            "count": len(attaches),
            "kinds": kinds,
            "items": [{
                "kind": item.get("kind"), "value": item.get("value"), "bus": (item.get("details") or {}).get("bus"),
                "opened": iso(item.get("opened_epoch")), "opened_epoch": _r3(item.get("opened_epoch")), "id": item.get("id"),
            } for item in attaches[:MAX_ATTACHES]],
        }
    return out
