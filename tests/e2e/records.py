# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a captured log looks like, as the platforms differ in it (docs/e2e.md).

These facts are read from the log by this small reader of its own (never by
the collection), so that the test can say which platform traits the
collection was given, and the run can write down how the platforms differ:

* how long a start takes from VIRT_MACHINE_ID to ``op=start``;
* the device paths of the cgroup ``allow`` records (with their ``rdev``);
* auditd's DAEMON_START/DAEMON_END fields (uid, auid, the ENRICHED names);
* the serials: auditd's own (DAEMON_*) and the kernel's, and the kernel
  serials missing from the log (the record the kernel wrote while no daemon
  was listening, at the auditd restart).
"""

from __future__ import absolute_import, division, print_function

import re

EVENT_RE = re.compile(r"^(?:node=\S+ )?type=(\S+) msg=audit\((\d+\.\d+):(\d+)\): ?(.*)$")
FIELD_RE = re.compile(r'([\w-]+)=("[^"]*"|\S+)')


def _fields(text):
    """key=value pairs; the user message of a userspace record (msg='...') is read as fields too."""
    text = text.replace("msg='", "", 1).rstrip("'") if "msg='" in text else text
    return dict((k, v.strip('"')) for k, v in FIELD_RE.findall(text))


def read(path):
    """[(type, epoch, serial, fields, enrichment fields)] of every record of the log."""
    records = []
    with open(path, "rb") as handle:
        for raw in handle:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            body, _sep, enriched = line.partition("\x1d")
            match = EVENT_RE.match(body)
            if not match:
                continue
            records.append((match.group(1), float(match.group(2)), int(match.group(3)),
                            _fields(match.group(4)), _fields(enriched)))
    return records


def traits(path):
    """The facts of one log that the platforms differ in (see the module docstring)."""
    records = read(path)
    counts = {}
    machine_id = {}
    spans = []
    cgroup_paths = set()
    cgroup_starts = 0
    daemon = []
    kernel_serials = set()
    for rtype, epoch, serial, fields, enriched in records:
        counts[rtype] = counts.get(rtype, 0) + 1
        if rtype.startswith("DAEMON_"):
            daemon.append({"type": rtype, "serial": serial, "uid": fields.get("uid"), "auid": fields.get("auid"),
                           "UID": enriched.get("UID"), "AUID": enriched.get("AUID")})
            continue
        kernel_serials.add(serial)
        uuid = fields.get("uuid")
        if rtype == "VIRT_MACHINE_ID":
            machine_id[uuid] = epoch
        elif rtype == "VIRT_CONTROL" and fields.get("op") == "start" and fields.get("res") == "success":
            if uuid in machine_id:
                spans.append(round(epoch - machine_id.pop(uuid), 3))
        elif rtype == "VIRT_RESOURCE" and fields.get("resrc") == "cgroup":
            if fields.get("reason") == "deny" and fields.get("class") == "all":
                cgroup_starts += 1
            if fields.get("class") == "path":
                cgroup_paths.add((fields.get("path"), fields.get("rdev")))
    missing = []
    if kernel_serials:
        low, high = min(kernel_serials), max(kernel_serials)
        missing = sorted(set(range(low, high + 1)) - kernel_serials)
    return {
        "counts": counts,
        "start_spans": spans,
        "cgroup_paths": sorted(cgroup_paths),
        "cgroup_starts": cgroup_starts,
        "daemon": daemon,
        "kernel_serials": [min(kernel_serials), max(kernel_serials)] if kernel_serials else None,
        "missing_kernel_serials": missing,
    }


def _span(values):
    return "%.2f-%.2f s" % (min(values), max(values)) if values else "-"


def _daemon_end(trait):
    seen = set()
    for record in trait["daemon"]:
        if record["type"] == "DAEMON_END":
            names = " (UID=%s AUID=%s)" % (record["UID"], record["AUID"]) if record["UID"] or record["AUID"] else ""
            seen.add("uid=%s auid=%s%s" % (record["uid"], record["auid"], names))
    return ", ".join(sorted(seen)) or "-"


def _daemon_serials(trait):
    return " ".join("%s:%d" % (d["type"][7:].lower(), d["serial"]) for d in trait["daemon"])


def report(table):
    """Markdown: one column per platform/format, from {(platform, fmt): traits, versions}."""
    keys = sorted(table)
    lines = ["# How the platforms' logs differ", "",
             "Read from each capture's audit.log by tests/e2e/records.py (not by the collection).", "",
             "| | %s |" % " | ".join("%s %s" % key for key in keys),
             "|---|%s" % ("---|" * len(keys))]

    def row(title, render):
        lines.append("| %s | %s |" % (title, " | ".join(render(table[key]) for key in keys)))

    row("auditd", lambda t: t["versions"].get("auditd") or "?")
    row("libvirt", lambda t: t["versions"].get("libvirt-daemon") or "?")
    row("qemu", lambda t: t["versions"].get("qemu-system-x86") or "?")
    row("records", lambda t: str(sum(t["traits"]["counts"].values())))
    for rtype in sorted(set(r for t in table.values() for r in t["traits"]["counts"])):
        row("%s records" % rtype, lambda t, r=rtype: str(t["traits"]["counts"].get(r, 0)))
    row("VIRT_MACHINE_ID to op=start", lambda t: _span(t["traits"]["start_spans"]))
    row("cgroup deny-all (one per start)", lambda t: str(t["traits"]["cgroup_starts"]))
    all_paths = sorted(set(p for t in table.values() for p in t["traits"]["cgroup_paths"]))
    for path, rdev in all_paths:
        row("cgroup allow %s rdev=%s" % (path, rdev),
            lambda t, p=(path, rdev): "yes" if list(p) in [list(x) for x in t["traits"]["cgroup_paths"]] else "no")
    row("DAEMON_END", lambda t: _daemon_end(t["traits"]))
    row("auditd's own serials", lambda t: _daemon_serials(t["traits"]))
    row("kernel serials", lambda t: "%d-%d" % tuple(t["traits"]["kernel_serials"]) if t["traits"]["kernel_serials"] else "-")
    row("kernel serials not in the log", lambda t: " ".join(str(s) for s in t["traits"]["missing_kernel_serials"]) or "none")
    return "\n".join(lines) + "\n"
