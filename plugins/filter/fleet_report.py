# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the fleet report: thin wrappers over plugins/plugin_utils.

The role virtaudit.auvirt.fleet_report uses them; each one is documented
in the role's README.  All work happens in Python on the controller:

* ``fleet_report_window``  - human window input -> epoch bounds
* ``fleet_report_host``    - one host's registered results -> its fact
* ``fleet_report_model``   - per-host facts -> the fleet model
* ``fleet_report_view``    - fleet model -> display data for the templates
* ``fleet_report_csv``     - fleet model -> CSV text
* ``fleet_report_md``      - escape a value for a Markdown table cell
* ``fleet_report_stats``   - fleet model -> the small set_stats artifact
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_model, fleet_render, fleet_time


def _plain(value):
    """Ansible's lazy/tagged containers -> plain Python containers."""
    if isinstance(value, dict):
        return dict((_plain(k), _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


def _guard(func, *args, **kwargs):
    try:
        return func(*args, **kwargs)
    except (ValueError, RuntimeError) as exc:
        raise AnsibleFilterError(str(exc))


def fleet_report_window(start=None, end=None, timezone="UTC", now=None):
    """``{start_epoch, end_epoch, module_start, module_end, ...}`` of the report window."""
    return _guard(fleet_time.parse_window, _plain(start), _plain(end), _plain(timezone) or "UTC", _plain(now))


def fleet_report_host(sessions_result, audit_result=None, check_audit=True, controller_epoch=None):
    """The fact one host leaves for the report play, from its registered task results.

    ``{'status': 'ok', 'result': {...}, 'audit': {...}}``, or status
    ``unreachable`` / ``failed`` with ``msg``.
    """
    sessions_result = _plain(sessions_result) or {}
    audit_result = _plain(audit_result) or {}
    for res in (audit_result, sessions_result):
        if res.get("unreachable"):
            return {"status": "unreachable", "msg": res.get("msg") or "host unreachable"}
    if sessions_result.get("skipped") or not sessions_result:
        return {"status": "failed", "msg": sessions_result.get("msg") or "guest_session_info did not run"}
    # the role registers with failed_when: false, so a failure shows as a result without sessions
    if sessions_result.get("failed") or not isinstance(sessions_result.get("sessions"), list):
        return {"status": "failed", "msg": sessions_result.get("msg") or "guest_session_info failed"}
    keep = ("sessions", "summary", "host_events", "sources", "coverage", "parse_errors", "host_clock")
    fact = {"status": "ok", "result": dict((k, sessions_result.get(k)) for k in keep), "audit": None}
    host_epoch = (sessions_result.get("host_clock") or {}).get("epoch")
    if controller_epoch is not None and host_epoch is not None:
        # the host read its clock when the module started; the controller when the result came back
        fact["result"]["clock_skew_seconds"] = round(float(host_epoch) - float(controller_epoch), 1)
    if check_audit and "auditd_running" in audit_result:
        fact["audit"] = dict((k, v) for k, v in audit_result.items()
                             if k not in ("changed", "failed", "invocation", "_ansible_no_log", "warnings", "deprecations"))
    return fact


def fleet_report_model(results, targets, window=None, rules=None, allowed_guests=None, max_session_hours=0,
                       hotplug_kinds=None, fail_on=None, migration_slack=fleet_model.DEFAULT_MIGRATION_SLACK, timezone="UTC"):
    """The fleet model from the per-host facts (a list aligned with ``targets``, or a dict by host)."""
    window = _plain(window) or {}
    return _guard(
        fleet_model.build_fleet, _plain(targets) or [], _plain(results), window=window, rules=_plain(rules) or {},
        allowed_guests=_plain(allowed_guests) or [], max_session_hours=float(max_session_hours or 0),
        hotplug_kinds=_plain(hotplug_kinds) if hotplug_kinds else fleet_model.fleet_findings.DEFAULT_HOTPLUG_KINDS,
        fail_on=_plain(fail_on), migration_slack=float(migration_slack), generated_epoch=window.get("now_epoch"),
        timezone=_plain(timezone) or "UTC")


def fleet_report_view(fleet, timezone="UTC", title="Guest sessions - fleet report"):
    return _guard(fleet_render.build_view, _plain(fleet), _plain(timezone) or "UTC", _plain(title))


def fleet_report_csv(fleet, timezone="UTC"):
    return _guard(fleet_render.to_csv, _plain(fleet), _plain(timezone) or "UTC")


def fleet_report_md(value):
    return fleet_render.md_escape(_plain(value))


def fleet_report_stats(fleet, report_paths=None):
    return fleet_model.stats_artifact(_plain(fleet), _plain(report_paths) or [])


class FilterModule(object):
    """Fleet report filters."""

    def filters(self):
        return {
            "fleet_report_window": fleet_report_window,
            "fleet_report_host": fleet_report_host,
            "fleet_report_model": fleet_report_model,
            "fleet_report_view": fleet_report_view,
            "fleet_report_csv": fleet_report_csv,
            "fleet_report_md": fleet_report_md,
            "fleet_report_stats": fleet_report_stats,
        }
