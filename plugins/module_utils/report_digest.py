# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a fleet report said, in a few bytes per session: the part a later report is compared with.

Pure functions, standard library only, Python 3.6+.

``digest(report)`` takes a fleet model (the content of ``fleet_report.json``)
and returns ``{generated, generated_epoch, window_start_epoch,
window_end_epoch, sessions: {fingerprint: state}, findings: {fingerprint:
{rule, severity, title, host, guest, uuid, time, epoch, last_time,
last_epoch, waived}}, hosts: {name: status}, changes}`` (``changes``: that
report's own comparison, carried over when the same moment is reported
again).  ``read(path)`` builds the same digest from a report file on the
report host without holding the report in memory: the report writer puts
every top-level key on a line of its own and every element of a long list
on a line of its own, so the file is read line by line (a file of another
shape, up to ``FULL_PARSE_LIMIT`` bytes, is parsed whole).

The module fleet_report_dest_info reads the previous report with it; the
report step (plugins/plugin_utils/fleet_changes.py) digests the new model
with it and compares the two.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import re
import stat

from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import NotRegularFile, open_regular

# a report of 1,000 hosts is ~175 MB; a file larger than this is not a report
MAX_BYTES = 2 * 1024 * 1024 * 1024
# a file that is not line-shaped is parsed whole only up to this size
FULL_PARSE_LIMIT = 64 * 1024 * 1024
# one session or finding line is a few kB; a longer line is not the report writer's
MAX_LINE = 16 * 1024 * 1024
FINDING_FIELDS = ("rule", "severity", "title", "host", "guest", "uuid", "time", "epoch", "last_time", "last_epoch", "waived")
WANTED = ("generated", "generated_epoch", "window", "sessions", "findings", "hosts", "changes", "schema_version")
_KEY_LINE = re.compile(r'^"((?:[^"\\]|\\.)*)":(.*)$')


class DigestError(Exception):
    """The previous report cannot be read or is not a fleet report; ``str()`` says why."""


def _finding(item):
    return dict((key, item.get(key)) for key in FINDING_FIELDS)


def empty():
    return {"generated": None, "generated_epoch": None, "window_start_epoch": None, "window_end_epoch": None,
            "sessions": {}, "findings": {}, "hosts": {}, "changes": None}


def _add(out, key, value):
    """Fold one top-level key (or one element of a top-level list) of a report into the digest ``out``."""
    if key == "sessions":
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("fingerprint"):
                out["sessions"][item["fingerprint"]] = item.get("state")
    elif key == "findings":
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("fingerprint"):
                out["findings"][item["fingerprint"]] = _finding(item)
    elif key == "hosts":
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, dict) and item.get("name") is not None:
                out["hosts"][str(item["name"])] = item.get("status")
    elif key == "window" and isinstance(value, dict):
        out["window_start_epoch"] = value.get("start_epoch")
        out["window_end_epoch"] = value.get("end_epoch")
    elif key in ("generated", "generated_epoch", "changes"):
        out[key] = value


def digest(report):
    """The digest of a fleet model (a dict)."""
    if not isinstance(report, dict) or not isinstance(report.get("sessions"), list) or not isinstance(report.get("hosts"), list):
        raise DigestError("not a fleet report (no sessions and hosts)")
    out = empty()
    for key in WANTED:
        if key in report:
            _add(out, key, report[key])
    return out


def _lines(handle, path):
    for line in handle:
        if len(line) > MAX_LINE:
            raise DigestError("%s: a line of %d bytes, longer than a report writes" % (path, len(line)))
        yield line.decode("utf-8").rstrip("\r\n")


def _read_lines(handle, path):
    """The digest of a report file in the report writer's line shape; ValueError when it has another shape."""
    out = empty()
    listing = None
    seen = set()
    first = True
    for line in _lines(handle, path):
        if first:
            if line != "{":
                raise ValueError("not line-shaped")
            first = False
            continue
        if listing is not None:
            if line in ("]", "],"):
                listing = None
                continue
            if listing in WANTED:
                _add(out, listing, json.loads(line[:-1] if line.endswith(",") else line))
            continue
        if line == "}":
            break
        match = _KEY_LINE.match(line)
        if not match:
            raise ValueError("not line-shaped")
        key = json.loads('"%s"' % match.group(1))
        rest = match.group(2)
        seen.add(key)
        if rest == "[":
            listing = key
            continue
        if key in WANTED:
            _add(out, key, json.loads(rest[:-1] if rest.endswith(",") else rest))
    if first or "sessions" not in seen or "hosts" not in seen:
        raise ValueError("not line-shaped")
    return out


def read(path):
    """The digest of the report file ``path``; None when there is no such file; DigestError when it cannot be used.

    The file must be a regular file of this user that no one else may write (it was written by the same account
    for the last report); anything else is not trusted."""
    try:
        fd, info = open_regular(path)
    except NotRegularFile as exc:
        raise DigestError(str(exc))
    except (IOError, OSError) as exc:
        if getattr(exc, "errno", None) == 2:
            return None
        raise DigestError("cannot read %s: %s" % (path, getattr(exc, "strerror", None) or exc))
    with os.fdopen(fd, "rb") as handle:
        if info.st_uid != os.geteuid():
            raise DigestError("%s belongs to uid %d, not to this user (uid %d): it is not trusted" % (path, info.st_uid, os.geteuid()))
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise DigestError("%s may be written by other users (mode %04o): it is not trusted" % (path, stat.S_IMODE(info.st_mode)))
        if info.st_size > MAX_BYTES:
            raise DigestError("%s: %d bytes, more than a fleet report" % (path, info.st_size))
        try:
            return _read_lines(handle, path)
        except (ValueError, UnicodeDecodeError):
            pass
        if info.st_size > FULL_PARSE_LIMIT:
            raise DigestError("%s is not a fleet report this collection wrote (%d bytes)" % (path, info.st_size))
        handle.seek(0)
        try:
            return digest(json.loads(handle.read().decode("utf-8")))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DigestError("%s is not a JSON fleet report: %s" % (path, exc))
