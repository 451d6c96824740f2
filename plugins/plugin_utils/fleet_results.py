# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-host result files of the fleet report: what one host left for the report, on the controller.

The collect step (action ``fleet_report_collect``) writes one JSON file per
inventory host into a results directory, ``<dir>/<host>.json``; the report
step (action ``fleet_report_write``) reads them back, from this run or from
several slices and earlier runs.  A record is::

    {"format": FORMAT, "version": VERSION, "inventory_host": "hv01",
     "run_id": "...", "collected": ISO, "collected_epoch": float,
     "status": "ok" | "failed" | "unreachable", "msg": str | None,
     "window": {"start": ..., "end": ...}, "details": bool,
     "result": {sessions, summary, host_events, sources, coverage,
                parse_errors, host_clock, clock_skew_seconds} | None,
     "audit": {audit_config_info keys} | None}

``check_result`` (fleet_result_check.py) validates what a host sent: a malformed result (wrong
types, numbers that are not finite) makes the host ``failed`` with the
reason instead of breaking the report.  ``gather`` picks, for every target
host, its newest acceptable record among the inputs and says why the
others were not used.

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import json
import os
import re

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover - Python 2 is not a controller Python
    from urllib import quote

from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import replace_atomically
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_result_check import check_fields, check_result, non_finite, short

FORMAT = "virtaudit.auvirt.fleet_host_result"
VERSION = 1
# what the report keeps of a guest_session_info-shaped result
RESULT_KEYS = ("sessions", "summary", "host_events", "sources", "coverage", "parse_errors", "host_clock")
# per-session keys that only the per-host detail files carry (all_events, proof)
DETAIL_KEYS = ("resources", "avcs", "anomalies", "security_labels", "events", "proof", "raw")
AUDIT_DROP = ("changed", "failed", "invocation", "_ansible_no_log", "warnings", "deprecations")
STATUSES = ("ok", "failed", "unreachable")
# a result file larger than this is not a host's result (a week of a busy host is a few MiB)
MAX_FILE_BYTES = 512 * 1024 * 1024
DIR_MODE = 0o700


class ResultError(Exception):
    """A result file that cannot be used (unreadable, not JSON, not a result)."""


def result_path(results_dir, host):
    """``<results_dir>/<host>.json`` with the inventory name made safe for a file name."""
    name = quote(str(host), safe="-_.@+=,")
    if name.startswith("."):
        name = "%2E" + name[1:]
    return os.path.join(results_dir, name + ".json")


def new_record(host, run_id=None, status="failed", msg=None, result=None, audit=None, window=None, details=False, now=None):
    """A record for ``host``; ``now``: the controller's epoch (collected time)."""
    return {
        "format": FORMAT, "version": VERSION, "inventory_host": host, "run_id": run_id,
        "collected": iso(now), "collected_epoch": now,
        "status": status, "msg": msg, "window": dict(window or {}), "details": bool(details),
        "result": result, "audit": audit,
    }


def record_from_module(host, module_result, run_id=None, check_audit=True, window=None, details=False, now=None):
    """The record of a host from what ``fleet_report_collect`` (or ``guest_session_info``) returned.

    ``now`` is the controller's clock when the result came back; the host's
    own clock (``host_clock``) is compared with it.
    """
    base = dict(host=host, run_id=run_id, window=window, details=details, now=now)
    if not isinstance(module_result, dict):
        return new_record(status="failed", msg="malformed result: the module returned %s" % type(module_result).__name__, **base)
    if module_result.get("unreachable"):
        return new_record(status="unreachable", msg=str(module_result.get("msg") or "host unreachable"), **base)
    if module_result.get("failed") or module_result.get("skipped") or not isinstance(module_result.get("sessions"), list):
        msg = module_result.get("msg") or ("the host returned no sessions" if not module_result.get("failed") else "the module failed")
        if "sessions" in module_result and not isinstance(module_result.get("sessions"), list) and not module_result.get("failed"):
            msg = "malformed result: sessions is %s, not a list" % short(module_result.get("sessions"))
        return new_record(status="failed", msg=str(msg), **base)
    result = dict((key, module_result.get(key)) for key in RESULT_KEYS)
    audit = module_result.get("audit") if check_audit else None
    if isinstance(audit, dict):
        audit = dict((k, v) for k, v in audit.items() if k not in AUDIT_DROP)
    problem = check_result(result, audit)
    if problem:
        return new_record(status="failed", msg="malformed result: %s" % problem, **base)
    host_epoch = (result.get("host_clock") or {}).get("epoch")
    if now is not None and host_epoch is not None:
        # the host read its clock when the module started; the controller when the result came back
        result["clock_skew_seconds"] = round(float(host_epoch) - float(now), 1)
    return new_record(status="ok", result=result, audit=audit, **base)


def write_record(path, record):
    """Write ``record`` to ``path`` atomically (mode 0600, directory 0700); OSError/ValueError on failure."""
    directory = os.path.dirname(path) or "."
    try:
        os.makedirs(directory, DIR_MODE)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(directory):
            raise
    data = json.dumps(record, allow_nan=False, separators=(",", ":"), sort_keys=True).encode("utf-8")
    replace_atomically(path, data)
    return path


_BIG_EXPONENT = re.compile(r"[0-9][eE][+]?[0-9]{3}")


def _reject_constant(name):
    raise ValueError("%s is not a number JSON allows" % name)


def load_record(path):
    """The record in ``path``; ResultError when it is not a usable result file.

    NaN and Infinity are refused while parsing; a number too large for a
    float (``1e999``) would become infinite, so a file with such an exponent
    is scanned for non-finite numbers.  The record's numbers are finite."""
    try:
        size = os.stat(path).st_size
        if size > MAX_FILE_BYTES:
            raise ResultError("%s: %d bytes, more than any host's result (%d)" % (path, size, MAX_FILE_BYTES))
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
        record = json.loads(text, parse_constant=_reject_constant)
        if _BIG_EXPONENT.search(text):
            problem = non_finite(record, "record")
            if problem:
                raise ValueError(problem)
    except ResultError:
        raise
    except (IOError, OSError) as exc:
        raise ResultError("%s: %s" % (path, exc.strerror or exc))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ResultError("%s: not a JSON result file (%s)" % (path, exc))
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise ResultError("%s: not a fleet_report result file" % path)
    if record.get("version") != VERSION:
        raise ResultError("%s: result format version %r, this collection reads %d" % (path, record.get("version"), VERSION))
    problem = check_fields(record, "record", {
        "inventory_host": (("str",), True), "status": (("str",), True), "msg": (("str", "null"), False), "run_id": (("str", "null"), False),
        "collected_epoch": (("num", "null"), False), "window": (("dict", "null"), False), "details": (("bool",), False)})
    if problem:
        raise ResultError("%s: %s" % (path, problem))
    return record


def accepted(record, path):
    """``record`` as the report uses it: a malformed ok result becomes failed with the reason."""
    if record["status"] not in STATUSES:
        return dict(record, status="failed", result=None, audit=None,
                    msg="malformed result file %s: status %s" % (path, short(record["status"])))
    if record["status"] == "ok":
        problem = check_result(record.get("result"), record.get("audit"), finite=True)
        if problem:
            return dict(record, status="failed", result=None, audit=None, msg="malformed result file %s: %s" % (path, problem))
    return record


def gather(targets, inputs, run_id=None, max_age_hours=0, now=None):
    """For every target host, its record from ``inputs`` (result directories and files).

    Returns ``(records, notes)``: ``records`` maps each target to an accepted
    record, or to ``{'status': 'missing', 'msg': why}``; ``notes`` holds
    ``duplicates`` ({host, used, ignored}), ``unused`` (records of hosts
    that are not targets), ``errors`` (files that could not be read) and
    ``inputs`` (the paths read).

    ``run_id``: only records of that run count (the collect and report steps
    of one playbook run).  ``max_age_hours``: older records do not count.
    Of several acceptable records of a host the newest is used.
    """
    targets = list(targets)
    wanted = set(targets)
    candidates = dict((t, []) for t in targets)
    notes = {"duplicates": [], "unused": [], "errors": [], "inputs": []}
    for item in inputs or []:
        item = os.path.expanduser(str(item))
        if os.path.isdir(item):
            notes["inputs"].append(item)
            for target in targets:
                path = result_path(item, target)
                if os.path.exists(path):
                    candidates[target].append(path)
        elif os.path.exists(item):
            notes["inputs"].append(item)
            try:
                record = load_record(item)
            except ResultError as exc:
                notes["errors"].append(str(exc))
                continue
            host = record["inventory_host"]
            if host in wanted:
                candidates[host].append((item, record))
            else:
                notes["unused"].append({"host": host, "path": item})
        else:
            notes["errors"].append("%s: no such file or directory" % item)
    records = {}
    for target in targets:
        usable = []
        refused = []
        seen = set()
        for entry in candidates[target]:
            path, record = entry if isinstance(entry, tuple) else (entry, None)
            real = os.path.realpath(path)
            if real in seen:
                continue
            seen.add(real)
            if record is None:
                try:
                    record = load_record(path)
                except ResultError as exc:
                    refused.append("malformed result file %s" % exc)
                    continue
            if record["inventory_host"] != target:
                refused.append("%s holds the result of %s" % (path, record["inventory_host"]))
                continue
            if run_id and record.get("run_id") != run_id:
                refused.append("no result from this run (%s has one of %s, run %s)" % (path, record.get("collected") or "?", record.get("run_id")))
                continue
            collected = record.get("collected_epoch")
            if max_age_hours and now is not None and (collected is None or now - collected > float(max_age_hours) * 3600.0):
                refused.append("the result in %s is from %s, older than %s hours" % (path, record.get("collected") or "an unknown time",
                                                                                     _hours(max_age_hours)))
                continue
            usable.append((collected if collected is not None else float("-inf"), path, record))
        if not usable:
            if refused:
                status = "failed" if refused[0].startswith("malformed") else "missing"
                records[target] = {"status": status, "msg": "; ".join(refused)}
            else:
                records[target] = {"status": "missing",
                                   "msg": "no result: the host was not part of this run (limit, slice, failed earlier play) or never reported"}
            continue
        usable.sort(key=lambda entry: (entry[0], entry[1]))
        best = usable[-1]
        if len(usable) > 1:
            notes["duplicates"].append({"host": target, "used": best[1], "ignored": [entry[1] for entry in usable[:-1]]})
        records[target] = dict(accepted(best[2], best[1]), path=best[1])
    return records, notes


def _hours(value):
    value = float(value)
    return ("%d" % value) if value == int(value) else ("%g" % value)


def split_details(result):
    """Take the per-session detail keys (all_events, proof) out of ``result``'s sessions.

    Returns ``[{session keys that identify it, details...}]`` for the
    per-host detail file, or [] when there were none.
    """
    out = []
    for session in result.get("sessions") or []:
        details = dict((key, session.pop(key)) for key in DETAIL_KEYS if key in session)
        if details:
            details.update((key, session.get(key)) for key in ("host", "name", "uuid", "start_id", "start", "end"))
            out.append(details)
    return out
