# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changed since the previous report ("new since last run").

``compare(fleet, previous, path)`` compares the new fleet model with the
digest of the previous report (module_utils/report_digest.py: read on the
report host by fleet_report_dest_info) and returns the model's ``changes``:

* ``compared`` (bool) and ``reason`` when not; ``previous``: ``{path,
  generated, generated_epoch}``;
* ``new_sessions`` - sessions whose fingerprint the previous report did not
  have; ``ended_sessions`` - sessions that were running then and have ended
  now;
* ``new_findings`` - findings whose fingerprint is new; ``resolved_findings``
  - findings of the previous report that are gone (``why``: ``not found``,
  or ``before this report's window`` when their last occurrence lies before
  its start);
* ``hosts_started_reporting`` / ``hosts_stopped_reporting`` - hosts with a
  result now and none then, and the other way round (a host that left the
  inventory pattern counts as stopped);
* ``counts`` of each (exact; the lists hold at most ``MAX_LISTED`` items).

A report written again for the same moment (``fleet_report_now`` pinned)
keeps the comparison of the report it replaces, so that writing the same
report twice changes nothing.  Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.report_digest import FINDING_FIELDS

MAX_LISTED = 1000
KINDS = ("new_sessions", "ended_sessions", "new_findings", "resolved_findings", "hosts_started_reporting", "hosts_stopped_reporting")
SESSION_FIELDS = ("fingerprint", "session_id", "host", "name", "uuid", "state", "start", "start_epoch", "end", "end_epoch")


def _session(item):
    return dict((key, item.get(key)) for key in SESSION_FIELDS)


def _finding(fingerprint, item):
    out = dict((key, item.get(key)) for key in FINDING_FIELDS)
    out["fingerprint"] = fingerprint
    return out


def not_compared(path, reason, previous=None):
    out = {"compared": False, "reason": reason, "previous": dict(previous or {}, path=path), "counts": dict((k, 0) for k in KINDS)}
    for kind in KINDS:
        out[kind] = []
    return out


def compare(fleet, previous, path=None, reason=None):
    """``changes`` of ``fleet`` against ``previous`` (a report digest, or None when there was no previous report -
    ``reason`` says why, if known)."""
    if previous is None:
        return not_compared(path, reason or ("no previous report at %s" % path if path else "no previous report"))
    before = {"generated": previous.get("generated"), "generated_epoch": previous.get("generated_epoch")}
    now = fleet.get("generated_epoch")
    then = previous.get("generated_epoch")
    if then is not None and now is not None and then == now:
        carried = previous.get("changes")
        if isinstance(carried, dict) and all(kind in carried for kind in KINDS):
            return carried
        return not_compared(path, "the previous report is of the same moment (%s)" % previous.get("generated"), before)
    if then is not None and now is not None and then > now:
        return not_compared(path, "the previous report (generated %s) is newer than this one" % previous.get("generated"), before)
    old_sessions = previous.get("sessions") or {}
    old_findings = previous.get("findings") or {}
    old_hosts = previous.get("hosts") or {}
    found = {}
    found["new_sessions"] = [_session(s) for s in fleet["sessions"] if s.get("fingerprint") not in old_sessions]
    found["ended_sessions"] = [_session(s) for s in fleet["sessions"]
                               if old_sessions.get(s.get("fingerprint")) == "running" and s["state"] != "running"]
    current = set(f["fingerprint"] for f in fleet["findings"])
    found["new_findings"] = [_finding(f["fingerprint"], f) for f in fleet["findings"] if f["fingerprint"] not in old_findings]
    start = (fleet.get("window") or {}).get("start_epoch")
    resolved = []
    for fingerprint in sorted(old_findings, key=lambda fp: (old_findings[fp].get("epoch") or 0.0, fp)):
        if fingerprint in current:
            continue
        item = _finding(fingerprint, old_findings[fingerprint])
        last = item.get("last_epoch") if item.get("last_epoch") is not None else item.get("epoch")
        item["why"] = "before this report's window" if start is not None and last is not None and last < start else "not found"
        resolved.append(item)
    found["resolved_findings"] = resolved
    status = dict((h["name"], h["status"]) for h in fleet["hosts"])
    found["hosts_started_reporting"] = [{"name": h["name"], "before": old_hosts.get(h["name"], "not in the report")}
                                        for h in fleet["hosts"] if h["status"] == "ok" and old_hosts.get(h["name"]) != "ok"]
    found["hosts_stopped_reporting"] = [{"name": name, "now": status.get(name, "not in the report")}
                                        for name in sorted(old_hosts) if old_hosts[name] == "ok" and status.get(name) != "ok"]
    out = {"compared": True, "reason": None, "previous": dict(before, path=path), "counts": {}}
    for kind in KINDS:
        out["counts"][kind] = len(found[kind])
        out[kind] = found[kind][:MAX_LISTED]
    return out


def stats(changes, limit=100):
    """The ``changes`` part of the set_stats artifact: counts, fingerprints of new and resolved findings, host names."""
    out = {"compared": changes["compared"], "previous_generated": (changes.get("previous") or {}).get("generated")}
    out.update(changes["counts"])
    out["new_finding_fingerprints"] = [f["fingerprint"] for f in changes["new_findings"][:limit]]
    out["resolved_finding_fingerprints"] = [f["fingerprint"] for f in changes["resolved_findings"][:limit]]
    out["hosts_started_reporting_names"] = [h["name"] for h in changes["hosts_started_reporting"][:limit]]
    out["hosts_stopped_reporting_names"] = [h["name"] for h in changes["hosts_stopped_reporting"][:limit]]
    return out
