# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Builders shared by the fleet report tests: sessions, host facts, the demo fleet's results."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_evidence import session_evidence
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DEMO_LOGS = os.path.join(ROOT, "demo", "logs")
DAY = 1772409600.0  # 2026-03-02T00:00:00Z, the demo day
UUID_A = "11111111-2222-4333-8444-555555555555"
UUID_B = "22222222-3333-4444-8555-666666666666"

_DEMO_CACHE = {}


def iso(epoch):
    from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
    return iso(epoch)


def session(host="hv1", name="web01", uuid=UUID_A, state="stopped", start=DAY + 3600, end=DAY + 7200, serial=100,
            start_reason="booted", stop_reason="shutdown", label="system_u:system_r:svirt_t:s0:c1,c2", **extra):
    """A session dict as fleet_report_collect returns it: the module's keys (docs/session-model.md) and the
    ``evidence`` summary of ``avcs``, ``anomalies`` and ``resources`` (given as all_events would list them)."""
    if state == "running":
        end, stop_reason = None, None
    if state == "failed":
        end, stop_reason = start, None
    item = {
        "host": host, "name": name, "uuid": uuid, "virt": "kvm", "state": state,
        "start": iso(start) if start is not None else None, "start_epoch": start, "start_reason": start_reason if start is not None else None,
        "end": iso(end) if end is not None else None, "end_epoch": end, "stop_reason": stop_reason,
        "duration_seconds": (round(end - start, 3) if (start is not None and end is not None) else None),
        "pid": 4242, "user": "root", "label": label,
        "first_seen": iso(start - 1 if start is not None else DAY), "first_seen_epoch": (start - 1 if start is not None else DAY),
        "start_id": "%.3f:%d" % (start, serial) if start is not None else None,
        "end_id": "%.3f:%d" % (end, serial + 1) if end is not None else None,
    }
    details = dict((key, extra.pop(key, [])) for key in ("resources", "avcs", "anomalies"))
    item["evidence"] = session_evidence(details["avcs"], details["anomalies"], details["resources"])
    item.update(extra)
    return item


def host_result(sessions=(), host_events=(), coverage=None, parse_errors=0, summary=None):
    """A guest_session_info result around ``sessions``."""
    cov = {
        "window_start": None, "window_start_epoch": None, "window_end": None, "window_end_epoch": None,
        "first_record": iso(DAY), "first_record_epoch": DAY, "last_record": iso(DAY + 86000), "last_record_epoch": DAY + 86000,
        "reaches_window_start": None, "serial_gaps": {"missing_events": 0, "gaps": []}, "missing_rotated_files": [], "complete": True,
    }
    cov.update(coverage or {})
    summ = {"avcs_unattributed": 0, "anomalies_unattributed": 0, "failed_operations": 0, "hosts": sorted(set(s["host"] for s in sessions))}
    summ.update(summary or {})
    return {
        "sessions": list(sessions), "summary": summ, "host_events": list(host_events), "coverage": cov,
        "sources": [{"path": "/var/log/audit/audit.log", "bytes": 1, "compressed": False, "records": 1,
                     "first": iso(DAY), "last": iso(DAY + 86000)}],
        "parse_errors": {"count": parse_errors, "samples": []},
    }


def ok_fact(result, audit=None):
    return {"status": "ok", "result": result, "audit": audit}


def demo_results(window=(None, None)):
    """{host: fact} of the bundled demo fleet (hv01..hv03 read with the engine; hv04 failed)."""
    key = tuple(window)
    if key not in _DEMO_CACHE:
        facts = {}
        for host in ("hv01", "hv02", "hv03"):
            result = run(paths=[os.path.join(DEMO_LOGS, host + ".log")], start=window[0], end=window[1], evidence=True,
                         default_host=host, now=DAY + 86400, uid_resolver={0: "root"}.get)
            facts[host] = ok_fact(result, audit={"auditd_running": True, "audit_enabled": True, "libvirt": []})
        facts["hv04"] = {"status": "failed", "msg": "cannot read audit log /srv/hv04/audit.log: no such file"}
        _DEMO_CACHE[key] = facts
    return _DEMO_CACHE[key]


def write_report(fleet, directory, formats=("html", "md", "csv", "json"), timezone="UTC", **kwargs):
    """The report files of ``fleet`` written by fleet_output into ``directory``: ``{relative name: text}``."""
    import io
    from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_output
    names = fleet_output.write_reports(fleet, str(directory), formats, timezone, **kwargs)
    out = {}
    for name in names:
        with io.open(os.path.join(str(directory), name), encoding="utf-8", newline="") as handle:
            out[name] = handle.read()
    return out


def big_fleet(hosts=1000, sessions_per_host=170, seed=3):
    """A fleet model of many hosts built from synthetic records (no log reading): for size and rendering tests."""
    import random
    from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_model import build_fleet
    rng = random.Random(seed)
    records = {}
    names = ["hv%04d" % n for n in range(1, hosts + 1)]
    for number, host in enumerate(names):
        items = []
        start = DAY
        for index in range(sessions_per_host):
            state = rng.choice(("stopped",) * 12 + ("crashed", "failed", "running"))
            uuid = "%08x-0000-4000-8000-%012x" % (number, index % 9)
            end = start + rng.uniform(600, 3000)
            extra = {}
            if rng.random() < 0.05:
                extra["avcs"] = [{"id": "%.3f:%d" % (start + 5, index), "epoch": start + 5, "operation": "open", "name": "x.img"}]
            items.append(session(host=host, name="vm%05d" % (number * 9 + index % 9), uuid=uuid, state=state, start=start, end=end,
                                 serial=1000 + index * 3, stop_reason="failed" if state == "crashed" else "shutdown",
                                 label=None if index % 23 == 0 else "system_u:system_r:svirt_t:s0:c1,c2", **extra))
            start = end + 60
        records[host] = ok_fact(host_result(items), audit={"auditd_running": True, "audit_enabled": True, "libvirt": []})
    return build_fleet(names, records, window={"now_epoch": DAY + 7 * 86400}, copy=False)
