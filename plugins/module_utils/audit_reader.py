# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bytes -> records: which files to read, in which order, and how.

Standard library only, Python 3.6+.  Files are streamed line by line;
nothing but counters and a bounded list of samples is kept, so memory does
not grow with the log.  Lines that are not audit records are counted and
sampled (file, line number, reason), never fatal.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import errno
import gzip
import os
import re
import zlib

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import (
    ParseError,
    parse_line,
)

AUDITD_CONF = "/etc/audit/auditd.conf"
DEFAULT_LOG_FILE = "/var/log/audit/audit.log"
GZIP_MAGIC = b"\x1f\x8b"
MAX_SAMPLES = 20
MAX_SAMPLE_TEXT = 200


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
    """The ``log_file`` setting of auditd.conf, or the default path."""
    try:
        with open(conf_path, "r") as conf:
            for line in conf:
                key, sep, value = line.partition("=")
                if sep and key.strip() == "log_file" and value.strip():
                    return value.strip()
    except (IOError, OSError):
        pass
    return DEFAULT_LOG_FILE


_ROTATED = re.compile(r"^\.(\d+)(\.gz)?$")


def default_log_set(log_file):
    """The live log and its rotated siblings, oldest first.

    Returns ``(paths, missing)``: ``paths`` is ``[log.N, ..., log.1, log]``
    (``log.N.gz`` where that is what exists); ``missing`` lists the rotation
    numbers between 1 and the highest present that have no file.
    """
    directory = os.path.dirname(log_file) or "."
    base = os.path.basename(log_file)
    found = {}
    try:
        names = os.listdir(directory)
    except OSError:
        names = []
    for name in names:
        if not name.startswith(base):
            continue
        m = _ROTATED.match(name[len(base):])
        if m:
            num = int(m.group(1))
            # prefer the plain file when both audit.log.2 and audit.log.2.gz exist
            if num not in found or not m.group(2):
                found[num] = os.path.join(directory, name)
    missing = []
    if found:
        missing = [n for n in range(1, max(found) + 1) if n not in found]
    paths = [found[n] for n in sorted(found, reverse=True)]
    paths.append(log_file)
    return paths, ["%s.%d" % (log_file, n) for n in missing]


def check_readable(path):
    """Raise LogAccessError unless ``path`` is a readable regular file."""
    try:
        if os.path.isdir(path):
            raise LogAccessError(path, "is a directory, not a log file")
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


def open_log(path):
    """Open a log for binary reading, transparently gunzipping."""
    raw = open(path, "rb")
    head = raw.read(2)
    raw.seek(0)
    if head == GZIP_MAGIC:
        raw.close()
        return gzip.open(path, "rb"), True
    return raw, False


class ReadStats(object):
    """What was read: per source, and the lines that were not records."""

    def __init__(self):
        self.sources = []
        self.parse_error_count = 0
        self.parse_error_samples = []
        self.truncated = []

    def parse_error(self, path, line, reason, text):
        self.parse_error_count += 1
        if len(self.parse_error_samples) < MAX_SAMPLES:
            self.parse_error_samples.append({
                "path": path,
                "line": line,
                "reason": reason,
                "text": text[:MAX_SAMPLE_TEXT],
            })

    def parse_errors(self):
        return {"count": self.parse_error_count, "samples": list(self.parse_error_samples)}


def _decode(raw_line):
    if raw_line.endswith(b"\n"):
        raw_line = raw_line[:-1]
    if raw_line.endswith(b"\r"):
        raw_line = raw_line[:-1]
    return raw_line.decode("utf-8", "replace")


def iter_records(paths, stats, keep_raw=False):
    """Yield the records of ``paths`` in the order given.

    ``stats`` (a ReadStats) receives one source entry per file and every
    parse problem.  A gzip file that ends early is read up to the damage and
    reported as a parse problem.
    """
    for index, path in enumerate(paths):
        check_readable(path)
        source = {"path": path, "bytes": 0, "records": 0, "compressed": False,
                  "first_epoch": None, "last_epoch": None}
        stats.sources.append(source)
        handle, compressed = open_log(path)
        source["compressed"] = compressed
        lineno = 0
        nbytes = 0
        count = 0
        first = last = None
        try:
            with handle:
                for raw_line in handle:
                    lineno += 1
                    nbytes += len(raw_line)
                    text = _decode(raw_line)
                    if "\x00" in text:
                        stats.parse_error(path, lineno, "NUL byte in line", text.replace("\x00", "\\0"))
                        continue
                    try:
                        record = parse_line(text, index, lineno, keep_raw)
                    except ParseError as exc:
                        if text.strip():
                            stats.parse_error(path, lineno, str(exc), text)
                        continue
                    count += 1
                    if first is None:
                        first = record.epoch
                    last = record.epoch
                    yield record
        except (EOFError, IOError, OSError, zlib.error) as exc:
            stats.parse_error(path, lineno + 1, "file ends early or is damaged: %s" % exc, "")
        finally:
            source["bytes"] = nbytes if not compressed else os.path.getsize(path)
            source["uncompressed_bytes"] = nbytes
            source["records"] = count
            source["first_epoch"] = first
            source["last_epoch"] = last
