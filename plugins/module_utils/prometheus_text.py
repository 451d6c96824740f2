# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A host's guest sessions as Prometheus metrics, in node_exporter's textfile-collector format.

Pure functions, standard library only, Python 3.6+.

``textfile(host, result, audit, now)`` turns a session result (what
guest_session_info / fleet_report_collect return: ``summary``,
``coverage``, ``parse_errors``) and an audit configuration check
(audit_config_info's keys, or None when not checked) into the text of a
``.prom`` file; ``write_textfile(path, text)`` writes it the way the
textfile collector needs (a temporary file in the same directory, renamed
into place, so node_exporter never reads half a file).  The module
fleet_report_collect writes it on the host; the fleet report writes the same
text for every host into its report directory.

Every metric is a gauge with a ``host`` label (the inventory name); counts
are of the report window.  A value that is not known (audit configuration
not checked, no libvirt configuration found) is left out, never guessed.
A host without a result has only ``virtaudit_collect_success 0``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import math

from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import NotRegularFile, read_regular, replace_atomically
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_model import STATES
FILE_MODE = 0o644

# name -> help text; the order of the file
METRICS = (
    ("virtaudit_collect_success", "1 when the host's audit logs were read, 0 when the collection failed."),
    ("virtaudit_collect_timestamp_seconds", "When these metrics were made (epoch seconds)."),
    ("virtaudit_sessions", "Guest sessions in the report window, by state."),
    ("virtaudit_guest_crashes", "Guest sessions that ended crashed in the report window."),
    ("virtaudit_failed_starts", "Guest starts that failed in the report window."),
    ("virtaudit_avc_denials", "SELinux/AppArmor denials in the report window, attributed to a guest session or not."),
    ("virtaudit_anomalies", "Anomaly records (ANOM_*) in the report window, attributed to a guest session or not."),
    ("virtaudit_records_lost", "Audit events missing from the logs (event serials skipped within a boot)."),
    ("virtaudit_parse_errors", "Lines of the audit logs that are not audit records."),
    ("virtaudit_last_record_timestamp_seconds", "Time of the newest audit record read (epoch seconds)."),
    ("virtaudit_last_record_age_seconds", "Seconds from the newest audit record read to when these metrics were made."),
    ("virtaudit_auditd_running", "1 when an auditd process runs, 0 when none does."),
    ("virtaudit_kernel_audit_enabled", "1 when kernel auditing is enabled, 0 when it is disabled."),
    ("virtaudit_libvirt_audit_enabled", "1 when every libvirt daemon configuration found audits (audit_level not 0), 0 when one does not."),
)


def escape_label(value):
    """A label value in the exposition format: backslash, double quote and line feed escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return "%d" % value
    return repr(value)


def _flag(value):
    return None if value is None else bool(value)


def _libvirt_audit(audit):
    found = [c for c in (audit or {}).get("libvirt") or [] if isinstance(c, dict) and c.get("exists")]
    if not found:
        return None
    return not any(c.get("audit_level") == 0 for c in found)


def samples(result, audit, now):
    """``{metric: [(labels, value)]}`` of a host; ``result`` None for a host without a result."""
    out = {"virtaudit_collect_success": [({}, result is not None)]}
    if now is not None:
        out["virtaudit_collect_timestamp_seconds"] = [({}, round(float(now), 3))]
    if result is None:
        return out
    summary = result.get("summary") or {}
    coverage = result.get("coverage") or {}
    states = summary.get("states") or {}
    out["virtaudit_sessions"] = [({"state": state}, states.get(state) or 0) for state in STATES]
    out["virtaudit_guest_crashes"] = [({}, states.get("crashed") or 0)]
    out["virtaudit_failed_starts"] = [({}, states.get("failed") or 0)]
    out["virtaudit_avc_denials"] = [({"attributed": "true"}, summary.get("avcs") or 0),
                                    ({"attributed": "false"}, summary.get("avcs_unattributed") or 0)]
    out["virtaudit_anomalies"] = [({"attributed": "true"}, summary.get("anomalies") or 0),
                                  ({"attributed": "false"}, summary.get("anomalies_unattributed") or 0)]
    out["virtaudit_records_lost"] = [({}, (coverage.get("serial_gaps") or {}).get("missing_events") or 0)]
    out["virtaudit_parse_errors"] = [({}, (result.get("parse_errors") or {}).get("count") or 0)]
    last = coverage.get("last_record_epoch")
    if last is not None:
        out["virtaudit_last_record_timestamp_seconds"] = [({}, last)]
        if now is not None:
            out["virtaudit_last_record_age_seconds"] = [({}, round(max(0.0, float(now) - float(last)), 3))]
    if audit is not None:
        for name, value in (("virtaudit_auditd_running", _flag(audit.get("auditd_running"))),
                            ("virtaudit_kernel_audit_enabled", _flag(audit.get("audit_enabled"))),
                            ("virtaudit_libvirt_audit_enabled", _libvirt_audit(audit))):
            if value is not None:
                out[name] = [({}, value)]
    return out


def textfile(host, result, audit, now):
    """The ``.prom`` text of ``host`` (see the module docstring)."""
    found = samples(result, audit, now)
    lines = []
    host_label = 'host="%s"' % escape_label(host)
    for name, help_text in METRICS:
        if name not in found:
            continue
        lines.append("# HELP %s %s" % (name, help_text))
        lines.append("# TYPE %s gauge" % name)
        for labels, value in found[name]:
            parts = [host_label] + ['%s="%s"' % (key, escape_label(labels[key])) for key in sorted(labels)]
            lines.append("%s{%s} %s" % (name, ",".join(parts), _number(value)))
    return "\n".join(lines) + "\n"


def write_textfile(path, text, mode=FILE_MODE):
    """Write ``text`` to ``path`` atomically (a temporary file in its directory, renamed); OSError on failure.

    Returns True when the file changed."""
    data = text.encode("utf-8")
    try:
        # read without blocking and bounded: a FIFO or a device at the path is refused by replace_atomically below
        old, info = read_regular(path, len(data))
        if old == data and (info.st_mode & 0o7777) == mode:
            return False
    except (IOError, OSError, NotRegularFile):
        pass
    # node_exporter reads only *.prom: the temporary file's name does not end so
    replace_atomically(path, data, mode)
    return True
