# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checkpoints: where the last run stopped, so the next one reads only what is new.

A checkpoint is a JSON file with the position reached in the newest log file
(its identity - inode and a fingerprint of its first bytes - the byte offset
and the line number) and the state of the reader, the serial tracker and the
session engine at that point.  The next run finds the file again, also after
a rotation renamed (or compressed) it, reads it from the offset and every
newer file in full, and returns the same sessions as a full read.  When the
file cannot be found again (replaced, truncated, rotated away) the run reads
everything and says why.

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import json
import os
import tempfile

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_reader import GZIP_MAGIC, open_log

FORMAT = "virtaudit.auvirt checkpoint"
VERSION = 3
HEAD_BYTES = 4096


class CheckpointError(Exception):
    """A checkpoint that cannot be read or written; ``str()`` says which and why."""


def identity(path):
    """``{inode, dev, head, head_bytes, size}`` of a log file (head = sha256 of its first bytes, uncompressed)."""
    stat = os.stat(path)
    handle, compressed = open_log(path)
    with handle:
        head = handle.read(HEAD_BYTES)
    return {"inode": stat.st_ino, "dev": stat.st_dev, "head": hashlib.sha256(head).hexdigest(),
            "head_bytes": len(head), "size": None if compressed else stat.st_size}


def _same_start(path, position):
    """Whether ``path`` starts with the bytes the checkpointed file started with."""
    handle, dummy = open_log(path)
    with handle:
        head = handle.read(position["head_bytes"])
    return len(head) == position["head_bytes"] and hashlib.sha256(head).hexdigest() == position["head"]


def _is_gzip(path):
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def load(path):
    """The checkpoint at ``path``, or None when there is none yet."""
    try:
        with open(path, "r") as handle:
            state = json.load(handle)
    except (IOError, OSError) as exc:
        if not os.path.exists(path):
            return None
        raise CheckpointError("cannot read checkpoint %s: %s" % (path, exc.strerror or exc))
    except ValueError as exc:
        raise CheckpointError("checkpoint %s is not valid JSON (%s)" % (path, exc))
    if not isinstance(state, dict) or state.get("format") != FORMAT or state.get("version") != VERSION:
        raise CheckpointError("checkpoint %s was not written by this version of virtaudit.auvirt" % path)
    return state


def plan(state, paths, options):
    """Where to go on: ``(index into paths, (offset, lines), None)`` or ``(None, None, reason)``."""
    if state.get("options") != options:
        return None, None, "the options that shape sessions changed (%s)" % ", ".join(
            sorted(k for k in options if state.get("options", {}).get(k) != options[k]))
    position = state["position"]
    candidates = []
    for index, path in enumerate(paths):
        try:
            stat = os.stat(path)
            if not _same_start(path, position):
                continue
        except (IOError, OSError):
            continue
        same_inode = stat.st_ino == position["inode"] and stat.st_dev == position["dev"]
        candidates.append((not same_inode, -index, index, stat))
    if not candidates:
        return None, None, "the log file read last time (inode %s) is gone or was replaced" % position["inode"]
    dummy, dummy2, index, stat = min(candidates)
    path = paths[index]
    if not _is_gzip(path) and stat.st_size < position["offset"]:
        return None, None, "%s is shorter than when it was read last time (truncated)" % path
    return index, (position["offset"], position["lines"]), None


def save(path, state):
    """Write ``state`` atomically: the previous checkpoint stays intact if anything fails."""
    directory = os.path.dirname(os.path.abspath(path))
    state = dict(state, format=FORMAT, version=VERSION)
    try:
        data = json.dumps(state, separators=(",", ":"), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise CheckpointError("cannot encode checkpoint state: %s" % exc)
    fd = None
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), dir=directory)
        with os.fdopen(fd, "w") as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.rename(tmp, path)
        tmp = None
    except (IOError, OSError) as exc:
        raise CheckpointError("cannot write checkpoint %s: %s (the previous checkpoint is unchanged)"
                              % (path, exc.strerror or exc))
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
