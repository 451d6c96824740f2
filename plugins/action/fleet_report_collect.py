# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of fleet_report_collect: run the module on the host, write its result file on the controller.

The module's result is read here, in the worker process of this host, and
written once to ``<results_dir>/<host>.json`` (plugins/plugin_utils/
fleet_results.py); the task returns only a few counts, so a host's sessions
never travel through registered variables, host variables or templating.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import time

from ansible.errors import AnsibleConnectionFailure
from ansible.plugins.action import ActionBase

from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_results

MODULE = "virtaudit.auvirt.fleet_report_collect"


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        args = dict(self._task.args)
        results_dir = args.get("results_dir")
        if not results_dir:
            result.update(failed=True, msg="results_dir is required")
            return result
        host = str(args.get("inventory_host") or task_vars.get("inventory_hostname"))
        run_id = args.get("run_id")
        window = dict(args.get("window") or {})
        details = bool(self._boolean(args.get("all_events", False)))
        check_audit = bool(self._boolean(args.get("check_audit_config", True)))
        # the node name of records without node=: the inventory name, as the report knows the host
        args.setdefault("host", host)
        path = fleet_results.result_path(self._expand(results_dir), host)
        started = time.time()
        base = dict(run_id=run_id, window=window, details=details)
        try:
            # what the report finds if this task never returns (timeout, stopped run)
            fleet_results.write_record(path, fleet_results.new_record(
                host, status="failed", now=started,
                msg="the collection started at %s did not finish (the task timed out - fleet_report_host_timeout - or the run was "
                    "stopped)" % iso(started), **base))
        except (OSError, IOError, ValueError) as exc:
            result.update(failed=True, msg="cannot write the result file %s: %s" % (path, exc), path=path)
            return result
        try:
            module_result = self._execute_module(module_name=MODULE, module_args=args, task_vars=task_vars)
        except AnsibleConnectionFailure as exc:
            module_result = {"unreachable": True, "msg": str(exc)}
        record = fleet_results.record_from_module(host, module_result, check_audit=check_audit, now=time.time(), **base)
        try:
            fleet_results.write_record(path, record)
        except (OSError, IOError, ValueError) as exc:
            result.update(failed=True, msg="cannot write the result file %s: %s" % (path, exc), path=path)
            return result
        sessions = (record.get("result") or {}).get("sessions") or []
        result.update(changed=False, status=record["status"], path=path, sessions=len(sessions),
                      findings_evidence=sum(1 for s in sessions if s.get("evidence")))
        if record["status"] != "ok":
            result["msg"] = record["msg"]
        if record["status"] == "unreachable":
            result["unreachable"] = True
        for key in ("checkpoint", "prometheus_textfile"):
            if isinstance(module_result, dict) and isinstance(module_result.get(key), dict):
                result[key] = module_result[key]
        for key in ("warnings", "deprecations"):
            if isinstance(module_result, dict) and module_result.get(key):
                result[key] = module_result[key]
        return result

    @staticmethod
    def _expand(path):
        import os
        return os.path.abspath(os.path.expanduser(str(path)))

    @staticmethod
    def _boolean(value):
        from ansible.module_utils.parsing.convert_bool import boolean
        return boolean(value, strict=False)
