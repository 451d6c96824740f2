# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which log files a run reads, and whether it can read them.

The ``log_file`` of auditd.conf (or auditd's default), the live log with
its rotated siblings oldest first (gaps in the numbering named, numbers
auditd never writes skipped), and LogAccessError: a log that cannot be
read, with a message for the user.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import os
import re
import stat

from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import NotRegularFile, read_regular

AUDITD_CONF = "/etc/audit/auditd.conf"
DEFAULT_LOG_FILE = "/var/log/audit/audit.log"
# auditd.conf is about 1 KiB
AUDITD_CONF_LIMIT = 1024 * 1024


class LogAccessError(Exception):
    """A log that cannot be read.  ``str()`` is a message for the user."""

    def __init__(self, path, reason, permission=False):
        self.path = path
        self.reason = reason
        self.permission = permission
        msg = "cannot read audit log %s: %s" % (path, reason)
        if permission:
            msg += " (the audit logs are readable by root only: run the task with become: true)"
        super(LogAccessError, self).__init__(msg)


def auditd_log_file(conf_path=AUDITD_CONF):
    """The ``log_file`` setting of auditd.conf (the keyword in any case, the last one), or the default path.

    An auditd.conf that does not exist or cannot be read means auditd's
    default; one that is not a regular file (a FIFO would block, a device
    never end) or is larger than AUDITD_CONF_LIMIT is a ValueError.
    """
    try:
        data, dummy = read_regular(conf_path, AUDITD_CONF_LIMIT)
    except NotRegularFile as exc:
        raise ValueError("auditd_conf: %s" % exc)
    except (IOError, OSError):
        return DEFAULT_LOG_FILE
    # as auditd reads it: keywords without regard to case (auditd.conf(5)), every line in turn - the last
    # log_file wins; a line without a value is one auditd refuses, so it changes nothing here
    log_file = DEFAULT_LOG_FILE
    for line in data.decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip().lower() == "log_file" and value.strip():
            log_file = value.strip()
    return log_file


_ROTATED = re.compile(r"^\.(\d+)(\.gz)?$")
# auditd keeps at most num_logs = 999 files: the live log and log_file.1 .. log_file.998
MAX_ROTATION = 999
MAX_LISTED = 20


def _ranges(numbers):
    """[3, 4, 5, 7] -> [(3, 5), (7, 7)]"""
    out = []
    for number in sorted(numbers):
        if out and number == out[-1][1] + 1:
            out[-1] = (out[-1][0], number)
        else:
            out.append((number, number))
    return out


def default_log_set(log_file):
    """The live log and its rotated siblings, oldest first.

    Returns ``(paths, missing, skipped)``: ``paths`` is ``[log.N, ...,
    log.1, log]`` (``log.N.gz`` where that is what exists); ``missing``
    names the rotation numbers between 1 and the highest present that have
    no file, a run of them as one ``log.{3..7}``; ``skipped`` is
    ``{"count": N, "paths": [...]}`` of files that look like rotations but
    carry a number auditd never writes (above MAX_ROTATION, e.g. a date):
    they are not read, and at most MAX_LISTED are named.
    """
    directory = os.path.dirname(log_file) or "."
    base = os.path.basename(log_file)
    found = {}
    skipped = []
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    for name in names:
        if not name.startswith(base):
            continue
        m = _ROTATED.match(name[len(base):])
        if not m:
            continue
        num = int(m.group(1))
        if not 1 <= num <= MAX_ROTATION or m.group(1).startswith("0"):
            skipped.append(os.path.join(directory, name))
        elif num not in found or not m.group(2):
            # prefer the plain file when both audit.log.2 and audit.log.2.gz exist
            found[num] = os.path.join(directory, name)
    missing = []
    if found:
        for low, high in _ranges(set(range(1, max(found) + 1)) - set(found)):
            missing.append("%s.%d" % (log_file, low) if low == high else "%s.{%d..%d}" % (log_file, low, high))
    paths = [found[n] for n in sorted(found, reverse=True)]
    paths.append(log_file)
    return paths, missing, {"count": len(skipped), "paths": sorted(skipped)[:MAX_LISTED]}


def check_readable(path):
    """Raise LogAccessError unless ``path`` is a readable regular file."""
    try:
        if os.path.isdir(path):
            raise LogAccessError(path, "is a directory, not a log file")
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
            raise LogAccessError(path, "is not a regular file (a pipe, socket or device would block or never end)")
        with open(path, "rb"):
            pass
    except LogAccessError:
        raise
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise LogAccessError(path, "permission denied", permission=True)
        if exc.errno == errno.ENOENT:
            raise LogAccessError(path, "no such file")
        raise LogAccessError(path, exc.strerror or str(exc))
