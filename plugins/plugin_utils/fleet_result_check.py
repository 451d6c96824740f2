# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checks of what a host sent to the fleet report: ``check_result`` returns the first problem of a
host's result (wrong types, a state that is not one, numbers that are not finite) as a string, or None
when the report can use it; a malformed result makes the host ``failed`` with that reason instead of
breaking the report (fleet_results.py).  ``check_fields`` checks a mapping against a small spec of types;
``non_finite`` finds a NaN or infinity anywhere in a value.

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def finite(value):
    return number(value) and not (isinstance(value, float) and (math.isnan(value) or math.isinf(value)))


def non_finite(value, where):
    """Where in ``value`` a number is not finite (NaN, infinity), or None."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, float) and (math.isnan(item) or math.isinf(item)):
            return "%s: %r is not a finite number" % (path, item)
        if isinstance(item, dict):
            stack.extend((v, "%s.%s" % (path, k)) for k, v in item.items())
        elif isinstance(item, list):
            stack.extend((v, "%s[%d]" % (path, n)) for n, v in enumerate(item))
    return None


def check_fields(item, where, spec):
    """``spec``: {key: (types, required)}; types 'str', 'num', 'int', 'dict', 'list', 'bool' or a tuple of them ('null' allowed)."""
    for key, (kinds, required) in spec.items():
        if key not in item:
            if required:
                return "%s.%s is missing" % (where, key)
            continue
        value = item[key]
        ok = False
        for kind in kinds:
            if kind == "null" and value is None:
                ok = True
            elif kind == "str" and isinstance(value, str):
                ok = True
            elif kind == "num" and finite(value):
                ok = True
            elif kind == "int" and isinstance(value, int) and not isinstance(value, bool):
                ok = True
            elif kind == "dict" and isinstance(value, dict):
                ok = True
            elif kind == "list" and isinstance(value, list):
                ok = True
            elif kind == "bool" and isinstance(value, bool):
                ok = True
        if not ok:
            return "%s.%s: %s is not %s" % (where, key, short(value), " or ".join(kinds))
    return None


def short(value):
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_S, _SN, _N, _NN = ("str",), ("str", "null"), ("num",), ("num", "null")
SESSION_SPEC = {
    "host": (_S, True), "uuid": (_S, True), "state": (_S, True), "name": (_SN, True),
    "start": (_SN, False), "start_epoch": (_NN, False), "end": (_SN, False), "end_epoch": (_NN, False),
    "first_seen": (_SN, False), "first_seen_epoch": (_NN, False), "duration_seconds": (_NN, False),
    "start_id": (_SN, False), "end_id": (_SN, False), "start_reason": (_SN, False), "stop_reason": (_SN, False),
    "label": (_SN, False), "user": (_SN, False), "virt": (_SN, False), "pid": (("int", "null"), False),
    "evidence": (("dict",), False),
}
EVIDENCE_SPEC = {
    "avcs": {"count": (("int",), True), "first_epoch": (_NN, False), "ids": (("list",), True), "operations": (("list",), False)},
    "anomalies": {"count": (("int",), True), "first_epoch": (_NN, False), "ids": (("list",), True), "types": (("list",), False)},
    "attaches": {"count": (("int",), True), "items": (("list",), True), "kinds": (("dict",), False)},
}
ATTACH_SPEC = {"kind": (_SN, True), "value": (_SN, False), "bus": (_SN, False), "opened_epoch": (_NN, False), "id": (_SN, False)}
EVENT_SPEC = {"type": (_SN, False), "epoch": (_NN, False), "id": (_SN, False), "host": (_SN, False)}


def _check_session(session, where):
    """SESSION_SPEC, inlined for speed (a fleet has hundreds of thousands of sessions)."""
    for key, (kinds, required) in SESSION_SPEC.items():
        value = session.get(key, _MISSING)
        if value is _MISSING:
            if required:
                return "%s.%s is missing" % (where, key)
            continue
        if value is None and "null" in kinds:
            continue
        if kinds[0] == "str" and value.__class__ is str:
            continue
        if kinds[0] == "num" and value.__class__ in (float, int):
            continue
        problem = check_fields(session, where, {key: (kinds, required)})
        if problem:
            return problem
    return None


_MISSING = object()


def check_result(result, audit=None, finite=False):
    """The first problem of a host's result (a string), or None when the report can use it.

    ``finite``: the numbers are known to be finite already (see load_record)."""
    if not isinstance(result, dict):
        return "the result is %s, not a mapping" % type(result).__name__
    if not finite:
        problem = non_finite(result, "result") or (non_finite(audit, "audit") if audit is not None else None)
        if problem:
            return problem
    problem = check_fields(result, "result", {
        "sessions": (("list",), True), "summary": (("dict",), False), "host_events": (("list", "null"), False),
        "sources": (("list", "null"), False), "coverage": (("dict", "null"), False), "parse_errors": (("dict", "null"), False),
        "host_clock": (("dict", "null"), False), "clock_skew_seconds": (_NN, False)})
    if problem:
        return problem
    for number, session in enumerate(result["sessions"]):
        where = "sessions[%d]" % number
        if not isinstance(session, dict):
            return "%s is not a mapping" % where
        problem = _check_session(session, where)
        if problem:
            return problem
        if session["state"] not in STATES:
            return "%s.state: %s is not one of %s" % (where, short(session["state"]), ", ".join(STATES))
        for kind, spec in EVIDENCE_SPEC.items():
            part = (session.get("evidence") or {}).get(kind)
            if part is None:
                continue
            if not isinstance(part, dict):
                return "%s.evidence.%s is not a mapping" % (where, kind)
            problem = check_fields(part, "%s.evidence.%s" % (where, kind), spec)
            if problem:
                return problem
            for index, item in enumerate(part.get("items") or []):
                if not isinstance(item, dict):
                    return "%s.evidence.%s.items[%d] is not a mapping" % (where, kind, index)
                problem = check_fields(item, "%s.evidence.%s.items[%d]" % (where, kind, index), ATTACH_SPEC)
                if problem:
                    return problem
    for key in ("host_events", "sources"):
        for number, item in enumerate(result.get(key) or []):
            if not isinstance(item, dict):
                return "%s[%d] is not a mapping" % (key, number)
    for number, item in enumerate(result.get("host_events") or []):
        problem = check_fields(item, "host_events[%d]" % number, EVENT_SPEC)
        if problem:
            return problem
    coverage = result.get("coverage") or {}
    problem = check_fields(coverage, "coverage", {
        "first_record_epoch": (_NN, False), "last_record_epoch": (_NN, False), "reaches_window_start": (("bool", "null"), False),
        "serial_gaps": (("dict", "null"), False), "missing_rotated_files": (("list", "null"), False)})
    if problem:
        return problem
    problem = check_fields(result.get("parse_errors") or {}, "parse_errors", {"count": (("int",), False)})
    if problem:
        return problem
    problem = check_fields(result.get("host_clock") or {}, "host_clock", {"epoch": (_NN, False)})
    if problem:
        return problem
    if audit is not None:
        if not isinstance(audit, dict):
            return "audit is not a mapping"
        problem = check_fields(audit, "audit", {"auditd_running": (("bool", "null"), False), "audit_enabled": (("bool", "null"), False),
                                                "libvirt": (("list", "null"), False)})
        if problem:
            return problem
        for number, item in enumerate(audit.get("libvirt") or []):
            if not isinstance(item, dict):
                return "audit.libvirt[%d] is not a mapping" % number
    return None
