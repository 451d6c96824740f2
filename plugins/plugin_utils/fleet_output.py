# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the fleet report's files into a directory (the report step stages them there).

* ``fleet_report.json`` - the fleet model (sessions with their evidence
  summary, findings, hosts, migrations, guests, ...), keys sorted, one
  session/finding/... per line;
* ``fleet_report.csv`` - one row per session; ``fleet_report_findings.csv`` - one
  row per finding (fingerprint, times, evidence, remediation, waiver);
* ``fleet_report.md`` - the main page as Markdown;
* ``fleet_report.html`` - the main page, and ``fleet_report_hosts/<host>.html``
  - one page per reporting host;
* ``fleet_report.jsonl`` - one session or finding per line, and
  ``fleet_report_hosts/<host>.prom`` - each host's Prometheus textfile
  (fleet_exports.py);
* ``fleet_report_hosts/<host>.events.json`` - every resource, denial,
  anomaly and timeline event of a host's sessions (only with all_events).

The templates are Jinja2 files of the role (``roles/fleet_report/templates``),
rendered with a plain Jinja2 environment - autoescaping on for HTML - over
the views of fleet_render.py: no Ansible templating, one host page at a time.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import io
import json
import os

import jinja2

from ansible_collections.virtaudit.auvirt.plugins.module_utils.auvirt_text import UNICODE_CONTROLS
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_csv, fleet_escape, fleet_exports, fleet_pages, fleet_render
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_index import HostIndex

FORMATS = ("html", "md", "csv", "json", "jsonl", "prom")
# what is written when no formats are named (the exports are asked for)
DEFAULT_FORMATS = ("html", "md", "csv", "json")
MAIN_FILES = dict((fmt, "fleet_report." + fmt) for fmt in FORMATS if fmt != "prom")
FINDINGS_CSV = "fleet_report_findings.csv"
# lists longer than this are written one item per line
_LINE_ITEMS = 20


def default_template_dir():
    """The role's templates, next to this plugin in the collection."""
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.normpath(os.path.join(here, "..", "..", "roles", "fleet_report", "templates"))


def _finalize(value):
    """Every value a template prints: bidirectional controls marked (fleet_escape.mark_controls); markup made by
    the templates' own macros is left as it is (its values were marked when the macro printed them)."""
    if value.__class__ is str:
        return fleet_escape.mark_controls(value)
    return value


def environment(template_dir=None):
    env = jinja2.Environment(
        finalize=_finalize,
        loader=jinja2.FileSystemLoader(template_dir or default_template_dir()),
        autoescape=lambda name: bool(name) and ".html" in name,
        trim_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = fleet_escape.md_escape
    return env


# JSON keeps every name exact but writes the bidirectional controls and line separators as escapes, so that
# the file shows the same text in a terminal or an editor as it holds
_JSON_ESCAPES = dict((ord(char), "\\u%04x" % ord(char)) for char in UNICODE_CONTROLS)


def _dumps(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False).translate(_JSON_ESCAPES)


def write_json(value, handle):
    """``value`` (a dict) as JSON, keys sorted; long lists one item per line (C-speed, bounded memory)."""
    handle.write("{")
    for number, key in enumerate(sorted(value)):
        handle.write(",\n" if number else "\n")
        handle.write(_dumps(key) + ":")
        item = value[key]
        if isinstance(item, list) and len(item) > _LINE_ITEMS:
            handle.write("[")
            for count, element in enumerate(item):
                handle.write(",\n" if count else "\n")
                handle.write(_dumps(element))
            handle.write("\n]")
        else:
            handle.write(_dumps(item))
    handle.write("\n}\n")


def _open(directory, name):
    path = os.path.join(directory, name)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        os.makedirs(parent)
    return io.open(path, "w", encoding="utf-8", newline="")


def write_host_details(directory, host, details):
    """The detail file of one host (all_events): ``{"host": ..., "sessions": [...]}``; returns its relative path."""
    name = fleet_pages.host_details_file(host)
    with _open(directory, name) as handle:
        write_json({"inventory_host": host, "sessions": details}, handle)
    return name


def write_reports(fleet, directory, formats=DEFAULT_FORMATS, timezone="UTC", title="Guest sessions - fleet report", template_dir=None,
                  max_rows=fleet_render.DEFAULT_MAX_ROWS, inline_sessions=fleet_render.DEFAULT_INLINE_SESSIONS):
    """Write the report files of ``formats`` into ``directory``; returns their paths relative to it."""
    formats = [fmt for fmt in FORMATS if fmt in set(formats or ())]
    written = []
    if "json" in formats:
        with _open(directory, MAIN_FILES["json"]) as handle:
            write_json(fleet, handle)
        written.append(MAIN_FILES["json"])
    if "jsonl" in formats:
        with _open(directory, MAIN_FILES["jsonl"]) as handle:
            fleet_exports.write_jsonl(fleet, handle, _dumps)
        written.append(MAIN_FILES["jsonl"])
    if "prom" in formats:
        written += fleet_exports.write_prom_files(fleet, lambda name: _open(directory, name))
    if "csv" in formats:
        with _open(directory, MAIN_FILES["csv"]) as handle:
            fleet_csv.write_csv(fleet, handle, timezone)
        written.append(MAIN_FILES["csv"])
        with _open(directory, FINDINGS_CSV) as handle:
            fleet_csv.write_findings_csv(fleet, handle, timezone)
        written.append(FINDINGS_CSV)
    if "html" in formats or "md" in formats:
        env = environment(template_dir)
        index = HostIndex(fleet, timezone)
        view = fleet_render.main_view(fleet, timezone, title, max_rows=max_rows, inline_sessions=inline_sessions, index=index)
        for fmt in ("html", "md"):
            if fmt in formats:
                with _open(directory, MAIN_FILES[fmt]) as handle:
                    for chunk in env.get_template("fleet_report.%s.j2" % fmt).generate(**view):
                        handle.write(chunk)
                written.append(MAIN_FILES[fmt])
        if "html" in formats:
            page = env.get_template("fleet_report_host.html.j2")
            for host in fleet["hosts"]:
                if host["status"] != "ok":
                    continue
                name = fleet_pages.host_page(host["name"])
                with _open(directory, name) as handle:
                    handle.write(page.render(**fleet_render.host_view(index, host["name"], title)))
                written.append(name)
    return written
