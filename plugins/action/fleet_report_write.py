# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action fleet_report_write: build the fleet report from the per-host result files in one Python step.

Reads the result files once (plugin_utils/fleet_results.py), builds the
model (fleet_model.py), writes JSON, CSV, Markdown and HTML (fleet_output.py)
into a staging directory on the controller, ships them to the report host as
one tar archive and installs them there all or none (module
fleet_report_files).  It returns the summary and the small set_stats
artifact only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gc
import os
import shutil
import tarfile
import tempfile
import time

from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import (
    fleet_model, fleet_output, fleet_pages, fleet_render, fleet_results, fleet_summary, fleet_waivers,
)

PUBLISH = "virtaudit.auvirt.fleet_report_files"
DEST_INFO = "virtaudit.auvirt.fleet_report_dest_info"
OPTIONS = frozenset((
    "targets", "results", "run_id", "max_age", "partial", "partial_reason", "require_results", "dest", "formats", "title",
    "timezone", "window", "rules", "allowed_guests", "max_session_hours", "hotplug_kinds", "migration_slack", "fail_on",
    "file_mode", "dir_mode", "max_rows", "inline_sessions", "template_dir", "waivers", "previous", "compare",
))


class ActionModule(ActionBase):

    TRANSFERS_FILES = True
    _VALID_ARGS = OPTIONS

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp  # tmp no longer has any effect
        stage = None
        # hundreds of thousands of small containers and no reference cycles: the cyclic collector would
        # rescan them again and again while they are built (it doubles the time to read the results)
        collecting = gc.isenabled()
        gc.disable()
        try:
            args = self._options()
            timings = {}
            clock = time.time()
            targets = args["targets"]
            waivers = self._waivers(args["waivers"])
            if not targets:
                raise AnsibleActionFail("no host to report on: the inventory pattern of fleet_report_hosts matches no host")
            now = (args["window"] or {}).get("now_epoch") or time.time()
            records, notes = fleet_results.gather(targets, args["results"], run_id=args["run_id"], max_age_hours=args["max_age"],
                                                  now=time.time())
            reporting = [host for host in targets if records[host]["status"] == "ok"]
            if args["require_results"] and not reporting:
                raise AnsibleActionFail(
                    "none of the %d host(s) of the report has a result in %s (%s): nothing to report, the previous report is left as "
                    "it was" % (len(targets), ", ".join(notes["inputs"] or [str(r) for r in args["results"]]) or "no result location",
                                "; ".join(sorted(set(r.get("msg") or "" for r in records.values()))[:3])))
            dest_info = self._dest_info(args, task_vars)
            stage = tempfile.mkdtemp(prefix="virtaudit-fleet-report-")
            files = []
            for host in targets:
                record = records[host]
                if args["run_id"]:
                    # all from this run: when and where it was collected would only make two runs' reports differ
                    for key in ("collected", "collected_epoch", "path", "run_id"):
                        record.pop(key, None)
                if record["status"] == "ok":
                    details = fleet_results.split_details(record["result"])
                    if details and "json" in args["formats"]:
                        files.append(fleet_output.write_host_details(stage, host, details))
            timings["load"] = round(time.time() - clock, 3)
            clock = time.time()
            collection = dict(notes, this_run=bool(args["run_id"]), partial=args["partial"], partial_reason=args["partial_reason"] or None,
                              report_dir=dest_info["report_dir"])
            try:
                fleet = fleet_model.build_fleet(
                    targets, records, window=args["window"], rules=args["rules"], allowed_guests=args["allowed_guests"],
                    max_session_hours=args["max_session_hours"], hotplug_kinds=args["hotplug_kinds"], fail_on=args["fail_on"],
                    migration_slack=args["migration_slack"], generated_epoch=now, timezone=args["timezone"], collection=collection,
                    copy=False, waivers=waivers, previous=dest_info["previous"], previous_path=dest_info["previous_path"],
                    previous_reason=dest_info["previous_msg"])
            except (ValueError, RuntimeError) as exc:
                raise AnsibleActionFail(str(exc))
            del records
            timings["model"] = round(time.time() - clock, 3)
            clock = time.time()
            try:
                files += fleet_output.write_reports(fleet, stage, args["formats"], args["timezone"], args["title"], args["template_dir"],
                                                    max_rows=args["max_rows"], inline_sessions=args["inline_sessions"])
            except (ValueError, RuntimeError) as exc:
                raise AnsibleActionFail(str(exc))
            timings["render"] = round(time.time() - clock, 3)
            clock = time.time()
            publish = self._publish(stage, files, args, task_vars)
            timings["publish"] = round(time.time() - clock, 3)
            if publish.get("warnings"):
                result["warnings"] = list(publish["warnings"])
            if publish.get("failed"):
                result.update(failed=True, msg=publish.get("msg") or "writing the report files failed")
                return result
            reports = sorted(os.path.join(args["dest"], name) for name in files
                             if "/" not in name or not name.startswith(fleet_pages.HOSTS_DIR + "/"))
            summary = fleet["summary"]
            result.update(
                changed=bool(publish.get("changed")),
                dest=args["dest"],
                reports=reports,
                files=len(files),
                written=len(publish.get("written") or []),
                removed=len(publish.get("removed") or []),
                summary=dict((key, summary[key]) for key in (
                    "hosts", "hosts_reporting", "hosts_missing", "sessions", "guests", "migrations", "findings", "finding_occurrences",
                    "severities", "max_severity", "fail_on", "fail", "findings_at_or_above_fail_on", "partial")),
                missing_hosts=summary["missing_host_names"],
                taken_over=publish.get("taken_over") or [],
                changes=dict(fleet["changes"]["counts"], compared=fleet["changes"]["compared"], reason=fleet["changes"]["reason"]),
                stats=fleet_summary.stats_artifact(fleet, reports),
                timings=timings,
            )
            return result
        except AnsibleActionFail as exc:
            result.update(failed=True, msg=str(exc))
            return result
        finally:
            if collecting:
                gc.enable()
            if stage:
                shutil.rmtree(stage, ignore_errors=True)
            self._remove_tmp_path(self._connection._shell.tmpdir)

    def _dest_info(self, args, task_vars):
        """Who owns the report directory on the report host, and the digest of the previous report there
        (fleet_report_dest_info).  A directory of another user is refused here, before any work, unless it can be taken
        over (root); the report then says it was."""
        info = self._execute_module(module_name=DEST_INFO, module_args={
            "dest": args["dest"], "previous": args["previous"] or None, "read_previous": args["compare"]}, task_vars=task_vars)
        if info.get("failed"):
            raise AnsibleActionFail("cannot look at the report directory %s: %s" % (args["dest"], info.get("msg")))
        dest = info.get("dest") or {}
        report_dir = None
        if dest.get("foreign"):
            if not dest.get("can_take_over"):
                raise AnsibleActionFail(
                    "refusing to write the report into %s: it belongs to uid %s (%s), not to uid %s that writes the report%s; remove it, give "
                    "it to that user, or write the report as root (fleet_report_report_become), which takes it over"
                    % (args["dest"], dest.get("uid"), dest.get("owner") or "?", info.get("euid"),
                       " (and is a symbolic link)" if dest.get("symlink") else ""))
            report_dir = {"path": args["dest"], "taken_over_from": {"uid": dest.get("uid"), "owner": dest.get("owner")},
                          "taken_over_by": info.get("euid")}
        previous = info.get("previous") or {}
        if not args["compare"]:
            previous["msg"] = ("a partial report is not compared with the previous report" if args["partial"]
                               else "comparing with the previous report was switched off")
        return {"report_dir": report_dir, "previous": previous.get("digest") if previous.get("found") else None,
                "previous_path": previous.get("path"), "previous_msg": previous.get("msg")}

    def _waivers(self, value):
        """The waivers: a list as given, or the list in a YAML/JSON file (found like the files of a role or playbook)."""
        if value in (None, "", []):
            return []
        if isinstance(value, str):
            try:
                path = self._find_needle("files", value)
            except AnsibleError as exc:
                raise AnsibleActionFail("fleet_report_waivers: cannot find %s: %s" % (value, exc))
            try:
                return fleet_waivers.read_file(path)
            except ValueError as exc:
                raise AnsibleActionFail(str(exc))
        if not isinstance(value, list):
            raise AnsibleActionFail("fleet_report_waivers: expected a list of waivers or the path of a YAML file holding one, got %s"
                                    % type(value).__name__)
        return value

    def _options(self):
        raw = dict(self._task.args)
        if not raw.get("dest"):
            raise AnsibleActionFail("dest is required")
        unknown = sorted(set(raw) - OPTIONS)
        if unknown:
            raise AnsibleActionFail("unsupported option(s): %s" % ", ".join(unknown))

        def number(key, default):
            try:
                return float(raw.get(key) if raw.get(key) not in (None, "") else default)
            except (TypeError, ValueError):
                raise AnsibleActionFail("%s: %r is not a number" % (key, raw.get(key)))

        def listing(key, default=()):
            value = raw.get(key)
            if value is None:
                return list(default)
            if isinstance(value, str):
                return [value]
            return [str(item) for item in value]

        formats = listing("formats", fleet_output.DEFAULT_FORMATS)
        bad = sorted(set(formats) - set(fleet_output.FORMATS))
        if bad:
            raise AnsibleActionFail("formats: %s not one of %s" % (", ".join(bad), ", ".join(fleet_output.FORMATS)))
        kinds = raw.get("hotplug_kinds")
        return {
            "targets": listing("targets"),
            "results": [os.path.abspath(os.path.expanduser(p)) for p in listing("results")],
            "run_id": raw.get("run_id") or None,
            "max_age": number("max_age", 0),
            "partial": boolean(raw.get("partial", False), strict=False),
            "partial_reason": raw.get("partial_reason"),
            "require_results": boolean(raw.get("require_results", True), strict=False),
            "dest": str(raw["dest"]),
            "formats": formats,
            "title": str(raw.get("title") or "Guest sessions - fleet report"),
            "timezone": str(raw.get("timezone") or "UTC"),
            "window": dict(raw.get("window") or {}),
            "rules": dict(raw.get("rules") or {}),
            "allowed_guests": listing("allowed_guests"),
            "max_session_hours": number("max_session_hours", 0),
            "hotplug_kinds": listing("hotplug_kinds") if kinds else list(fleet_model.fleet_findings.DEFAULT_HOTPLUG_KINDS),
            "migration_slack": number("migration_slack", fleet_model.DEFAULT_MIGRATION_SLACK),
            "fail_on": raw.get("fail_on"),
            "file_mode": str(raw.get("file_mode") or "0640"),
            "dir_mode": str(raw.get("dir_mode") or "0750"),
            "max_rows": int(number("max_rows", fleet_render.DEFAULT_MAX_ROWS)),
            "inline_sessions": int(number("inline_sessions", fleet_render.DEFAULT_INLINE_SESSIONS)),
            "template_dir": raw.get("template_dir") or fleet_output.default_template_dir(),
            "waivers": raw.get("waivers"),
            "previous": str(raw["previous"]) if raw.get("previous") else None,
            "compare": boolean(raw.get("compare", True), strict=False),
        }

    def _publish(self, stage, files, args, task_vars):
        """One archive to the report host, installed there by fleet_report_files (all or none)."""
        local = self._connection.transport in ("local", "ansible.builtin.local", "ansible.legacy.local")
        handle, archive = tempfile.mkstemp(prefix="virtaudit-fleet-report-", suffix=".tar" if local else ".tar.gz")
        os.close(handle)
        try:
            # no compression where nothing crosses a network
            options = {} if local else {"compresslevel": 1}
            with tarfile.open(archive, "w" if local else "w:gz", **options) as tar:
                for name in files:
                    tar.add(os.path.join(stage, name), arcname=name, recursive=False)
            remote = self._connection._shell.join_path(self._connection._shell.tmpdir, "report.tar" if local else "report.tar.gz")
            self._transfer_file(archive, remote)
            self._fixup_perms2((self._connection._shell.tmpdir, remote))
            return self._execute_module(module_name=PUBLISH, module_args={
                "src": remote, "dest": args["dest"], "mode": args["file_mode"], "dir_mode": args["dir_mode"],
                "prune": [fleet_pages.HOSTS_DIR], "remove_src": True}, task_vars=task_vars)
        finally:
            os.unlink(archive)
