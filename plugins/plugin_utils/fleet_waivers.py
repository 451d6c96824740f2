# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Waivers of the fleet report: known findings an auditor has accepted, until a date.

A waiver (``fleet_report_waivers``: a list, or a YAML/JSON file holding one)
is ``{rule, host, guest, reason, expires}``: ``rule`` one rule id,
``host`` and ``guest`` regular expressions that must match the whole
inventory host name / guest name (left out: any host, any guest),
``reason`` free text (a ticket, who accepted it), ``expires`` a date or
date-time (a date means the end of that day in the report's time zone).

``apply_waivers(findings, waivers, now)`` marks every finding a waiver
matches: ``waiver`` ``{index, reason, expires, expires_epoch, status}`` of
the first matching waiver that has not expired, else of the first matching
one, and ``waived`` (True when that waiver has not expired); an expired
waiver waives nothing, and the report lists it.  Waived findings do
not count in the summary's severities or the fail gate.

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime
import re

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_rules import RULES

KEYS = ("rule", "host", "guest", "reason", "expires")
MAX_WAIVERS = 10000


def read_file(path):
    """The waivers in the YAML (or JSON) file ``path``; ValueError naming the file when it cannot be read."""
    import yaml
    try:
        with open(path, "rb") as handle:
            data = yaml.safe_load(handle.read().decode("utf-8"))
    except (IOError, OSError) as exc:
        raise ValueError("fleet_report_waivers: cannot read %s: %s" % (path, exc.strerror or exc))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ValueError("fleet_report_waivers: %s is not a YAML list of waivers: %s" % (path, exc))
    return [] if data is None else data


def _text(value):
    if isinstance(value, datetime.date):  # a date or date-time YAML read as such
        return value.isoformat()
    return None if value is None else str(value)


def _pattern(value, where):
    if value is None or _text(value) == "":
        return None
    try:
        re.compile(_text(value))
    except re.error as exc:
        raise ValueError("%s: %r is not a valid regular expression: %s" % (where, value, exc))
    return _text(value)


def load_waivers(raw, timezone="UTC", now=None):
    """The checked waivers (``[{index, rule, host, guest, reason, expires, expires_epoch}]``); ValueError naming
    the first problem."""
    if raw is None or raw == "":
        return []
    if not isinstance(raw, list):
        raise ValueError("fleet_report_waivers: expected a list of waivers (rule, host, guest, reason, expires), got %s"
                         % type(raw).__name__)
    if len(raw) > MAX_WAIVERS:
        raise ValueError("fleet_report_waivers: %d waivers, more than %d" % (len(raw), MAX_WAIVERS))
    tzinfo = fleet_time.get_timezone(timezone)
    now = fleet_time.resolve_now(now)
    out = []
    for index, item in enumerate(raw):
        where = "fleet_report_waivers[%d]" % index
        if not isinstance(item, dict):
            raise ValueError("%s: expected a mapping with %s, got %r" % (where, ", ".join(KEYS), item))
        unknown = sorted(str(k) for k in item if k not in KEYS)
        if unknown:
            raise ValueError("%s: unknown key(s) %s; a waiver has %s" % (where, ", ".join(unknown), ", ".join(KEYS)))
        rule = _text(item.get("rule"))
        if rule not in RULES:
            raise ValueError("%s.rule: unknown rule %r; known rules: %s" % (where, rule, ", ".join(sorted(RULES))))
        reason = _text(item.get("reason"))
        if not reason or not reason.strip():
            raise ValueError("%s.reason: say why the finding is accepted (a ticket, who accepted it)" % where)
        expires = _text(item.get("expires"))
        if not expires or not expires.strip():
            raise ValueError("%s.expires: a waiver needs an expiry date (for example 2026-06-30)" % where)
        try:
            expires_epoch = fleet_time.parse_bound(expires, tzinfo, now, is_end=True)
        except ValueError as exc:
            raise ValueError("%s.expires: %s" % (where, exc))
        out.append({"index": index, "rule": rule, "host": _pattern(item.get("host"), where + ".host"),
                    "guest": _pattern(item.get("guest"), where + ".guest"), "reason": reason.strip(), "expires": expires.strip(),
                    "expires_epoch": round(expires_epoch, 6)})
    return out


def _matcher(waiver):
    """Whether a finding is one ``waiver`` is about, its patterns compiled once for every finding."""
    rule = waiver["rule"]
    host = None if waiver["host"] is None else re.compile(waiver["host"]).fullmatch
    guest = None if waiver["guest"] is None else re.compile(waiver["guest"]).fullmatch

    def matches(finding):
        if finding["rule"] != rule:
            return False
        if host is not None and not host(finding.get("host") or ""):
            return False
        # findings from host-level checks have no guest; a waiver with a guest pattern does not match them
        if guest is not None and (finding.get("guest") is None or not guest(finding["guest"])):
            return False
        return True
    return matches


def apply_waivers(findings, waivers, now):
    """Mark the findings ``waivers`` match (see the module docstring); returns the waivers with their
    ``status`` (``active``, ``expired``) and how many findings each matched."""
    report = []
    for waiver in waivers:
        entry = dict(waiver, status="active" if now is None or waiver["expires_epoch"] >= now else "expired", findings=0)
        report.append(entry)
    matchers = [(entry, _matcher(entry)) for entry in report]
    for finding in findings:
        finding["waived"] = False
        finding["waiver"] = None
        chosen = None
        for entry, matches in matchers:
            if matches(finding):
                entry["findings"] += 1
                if chosen is None or (chosen["status"] == "expired" and entry["status"] == "active"):
                    chosen = entry
        if chosen is not None:
            finding["waived"] = chosen["status"] == "active"
            finding["waiver"] = {"index": chosen["index"], "reason": chosen["reason"], "expires": chosen["expires"],
                                 "expires_epoch": chosen["expires_epoch"], "status": chosen["status"]}
    return report
