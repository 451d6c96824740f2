# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of the fleet report: id, default severity, title and remediation.

``RULES`` is the one table of them; the remediation text (what to do about a
finding of the rule) is shown with the rule in every format of the report.
``rule_settings(fleet_report_rules)`` applies the user's overrides
(``{rule: {enabled: bool, severity: str, remediation: str}}``, shorthands
``rule: false`` and ``rule: high``).

Pure Python, no Ansible objects.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = dict((name, rank) for rank, name in enumerate(SEVERITIES))

# rule id -> (default severity, title, remediation: what to do about it, shown with the rule in every format)
RULES = {
    "host_missing": ("high", "Host did not report",
                     "Find out why the host has no result (the reason is under Missing hosts): make it reachable, let the collect task "
                     "read the audit logs (fleet_report_become), or take a decommissioned host out of fleet_report_hosts."),
    "auditd_not_running": ("high", "auditd is not running",
                           "Start and enable auditd (systemctl enable --now auditd) and find out why it stopped (journalctl -u auditd); "
                           "nothing is audited while it is down."),
    "audit_disabled": ("high", "Kernel auditing is disabled",
                       "Enable kernel auditing: remove audit=0 from the kernel command line and run auditctl -e 1 (or -e 2 to lock the "
                       "configuration)."),
    "libvirt_audit_disabled": ("high", "libvirt auditing is disabled (audit_level = 0)",
                               "Set audit_level = 1 (or 2) in the libvirt daemon configuration named in the detail and restart that "
                               "daemon; with 0 libvirt writes no VIRT_* records."),
    "log_coverage": ("medium", "Audit logs do not reach back to the window start",
                     "Keep the audit logs longer (num_logs and max_log_file in auditd.conf, or archive rotated logs where the collect "
                     "task reads them), or shorten the report window."),
    "log_gaps": ("medium", "Audit records are missing from the logs",
                 "Find where records were lost: auditd's backlog and disk settings (backlog_limit, disk_full_action, "
                 "space_left_action), the lost counter of auditctl -s; restore missing rotated files from a backup."),
    "clock_skew": ("medium", "Host clock differs from the controller's",
                   "Synchronise the host's clock (chrony or another NTP client): audit times come from it."),
    "parse_errors": ("low", "Lines in the audit logs that are not audit records",
                     "Look at the sample lines on the host's page: a file in the log set that is not an audit log, or a damaged or "
                     "cut file."),
    "guest_crashed": ("high", "Guest crashed",
                      "Read the guest's qemu log (/var/log/libvirt/qemu/GUEST.log) and look for a core dump; find the cause in the guest "
                      "or on the host before it is started again."),
    "guest_down": ("high", "Guest was running when its host went down",
                   "Find out why the host went down (power, crash, reboot); enable libvirt-guests so that a planned shutdown stops the "
                   "guests cleanly."),
    "start_failed": ("medium", "Guest failed to start",
                     "Read libvirt's error for the start (journalctl -u virtqemud or libvirtd) and the denials of the same session; fix "
                     "the guest's configuration or the labels of its files."),
    "session_lost": ("medium", "Guest session never ended (started again on the same host)",
                     "The stop of the earlier session is not in the logs: look for lost audit records or a libvirt daemon crash at "
                     "that time."),
    "avc_denial": ("high", "SELinux/AppArmor denials",
                   "Look at the denials (ausearch --event ID on the host): fix the labels of the files involved (restorecon) or the "
                   "guest's configuration; allow the access in the policy only when it is intended."),
    "anomaly": ("medium", "Kernel or user-space anomalies",
                "Look at the anomaly records (ausearch --event ID on the host): abnormal ends and core dumps of processes on the "
                "hypervisor."),
    "hotplug": ("low", "Device hot-plugged into a running guest",
                "Check that the device was meant to be attached (a change record); detach it if not."),
    "no_security_label": ("medium", "Guest ran without an SELinux/AppArmor label",
                          "Run the guest confined: enable libvirt's security driver (security_driver in qemu.conf) and remove "
                          "<seclabel type='none'> from the guest's definition."),
    "long_session": ("low", "Guest session longer than the limit",
                     "Check that the guest is meant to run this long without a restart (patching), or raise "
                     "fleet_report_max_session_hours."),
    "guest_not_allowed": ("medium", "Guest not in the allow-list",
                          "Find out whether the guest is authorised: remove it, or add its name to fleet_report_allowed_guests."),
    "migration_unmatched": ("info", "Live migration to or from a host outside the report",
                            "Add the other end of the migration to fleet_report_hosts, or confirm that it lies outside the audited fleet."),
}


def rule_settings(overrides=None):
    """Effective ``{rule: {enabled, severity, title, remediation}}``; ValueError for unknown rules, severities or keys."""
    settings = {}
    for rule, (severity, title, remediation) in RULES.items():
        settings[rule] = {"enabled": True, "severity": severity, "title": title, "remediation": remediation}
    for rule, value in sorted((overrides or {}).items()):
        if rule not in RULES:
            raise ValueError("fleet_report_rules: unknown rule %r; known rules: %s" % (rule, ", ".join(sorted(RULES))))
        if isinstance(value, bool):
            value = {"enabled": value}
        elif isinstance(value, str):
            value = {"severity": value}
        if not isinstance(value, dict):
            raise ValueError("fleet_report_rules.%s: expected a dict with 'enabled', 'severity' and/or 'remediation'" % rule)
        unknown = set(value) - set(("enabled", "severity", "remediation"))
        if unknown:
            raise ValueError("fleet_report_rules.%s: unknown keys %s (use enabled, severity, remediation)" % (rule, ", ".join(sorted(unknown))))
        if "remediation" in value:
            text = value["remediation"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError("fleet_report_rules.%s.remediation: expected the text of what to do about the finding" % rule)
            settings[rule]["remediation"] = text.strip()
        if "severity" in value:
            severity = str(value["severity"]).lower()
            if severity not in SEVERITY_RANK:
                raise ValueError("fleet_report_rules.%s.severity: %r is not one of %s" % (rule, value["severity"], ", ".join(SEVERITIES)))
            settings[rule]["severity"] = severity
        if "enabled" in value:
            settings[rule]["enabled"] = _bool(value["enabled"], "fleet_report_rules.%s.enabled" % rule)
    return settings


def _bool(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError("%s: %r is not a boolean" % (name, value))
