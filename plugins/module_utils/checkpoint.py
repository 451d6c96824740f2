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

from ansible_collections.virtaudit.auvirt.plugins.module_utils import audit_events, audit_serials, reader_state, virt_sessions
from ansible_collections.virtaudit.auvirt.plugins.module_utils.log_files import GZIP_MAGIC, open_log
from ansible_collections.virtaudit.auvirt.plugins.module_utils.reader_state import record_from_state, record_state
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import read_private, replace_atomically
from ansible_collections.virtaudit.auvirt.plugins.module_utils.state_shape import AtLeast, Maybe, check_shape
from ansible_collections.virtaudit.auvirt.plugins.module_utils.time_text import iso

FORMAT = "virtaudit.auvirt checkpoint"
VERSION = 5
# A checkpoint of a 2 GiB log with every detail is about 10 MiB: a larger
# file is not one of ours (and would cost gigabytes to parse).
MAX_BYTES = 128 * 1024 * 1024


# Everything a checkpoint holds, checked before any of it is used (module_utils/state_shape.py)
STATE_SHAPE = {
    "options": {"default_host": str, "engine": int, "raw": bool},
    "position": {"inode": AtLeast(0), "dev": AtLeast(0), "head": str, "head_bytes": AtLeast(0),
                 "size": Maybe(AtLeast(0)), "offset": AtLeast(0), "lines": AtLeast(0), "path": str},
    "engine": virt_sessions.STATE_SHAPE,
    "serials": audit_serials.STATE_SHAPE,
    "reader": reader_state.STATE_SHAPE,
    "grouper": audit_events.STATE_SHAPE,
    "written_at": str,
}


class CheckpointError(Exception):
    """A checkpoint that cannot be read, trusted or written; ``str()`` says which and why."""


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
    """The checkpoint at ``path``, or None when there is none yet.

    Raises CheckpointError (the caller warns and reads everything) for a
    path that is not a regular file (a FIFO would block, a device never
    end), a file larger than MAX_BYTES, a file another user owns or others
    may write (it could plant sessions), damaged or edited content (the
    header holds the SHA-256 of the state), and a state of the wrong shape.
    """
    data = read_private(path, MAX_BYTES, "checkpoint", CheckpointError)
    if data is None:
        return None
    header, newline, payload = data.partition(b"\n")
    try:
        header = json.loads(header.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError("checkpoint %s is not valid JSON (%s)" % (path, exc))
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != VERSION:
        raise CheckpointError("checkpoint %s was not written by this version of virtaudit.auvirt" % path)
    if not newline or header.get("sha256") != hashlib.sha256(payload).hexdigest():
        raise CheckpointError("checkpoint %s is damaged or was edited (its checksum does not match)" % path)
    try:
        state = json.loads(payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CheckpointError("checkpoint %s is not valid JSON (%s)" % (path, exc))
    problem = check_shape(state, STATE_SHAPE, "state")
    if problem:
        raise CheckpointError("checkpoint %s does not have the expected content: %s" % (path, problem))
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
            info = os.stat(path)
            if not _same_start(path, position):
                continue
        except (IOError, OSError):
            continue
        same_inode = info.st_ino == position["inode"] and info.st_dev == position["dev"]
        candidates.append((not same_inode, -index, index, info))
    if not candidates:
        return None, None, "the log file read last time (inode %s) is gone or was replaced" % position["inode"]
    dummy, dummy2, index, info = min(candidates)
    path = paths[index]
    if not _is_gzip(path) and info.st_size < position["offset"]:
        return None, None, "%s is shorter than when it was read last time (truncated)" % path
    return index, (position["offset"], position["lines"]), None


def save(path, state):
    """Write ``state`` atomically: the previous checkpoint stays intact if anything fails."""
    try:
        payload = json.dumps(state, separators=(",", ":"), sort_keys=True, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise CheckpointError("cannot encode checkpoint state: %s" % exc)
    header = json.dumps({"format": FORMAT, "version": VERSION, "sha256": hashlib.sha256(payload).hexdigest()},
                        sort_keys=True).encode("utf-8")
    try:
        replace_atomically(path, header + b"\n" + payload, 0o600, durable=True)
    except (IOError, OSError) as exc:
        raise CheckpointError("cannot write checkpoint %s: %s (the previous checkpoint is unchanged)"
                              % (path, exc.strerror or exc))


def resume(path, paths, options, engine, tracker, reader, grouper, warnings):
    """Go on from the checkpoint at ``path``: restore the engine, tracker, reader and event grouper.

    Returns ``(paths, start, info)``: the paths still to read, ``(offset,
    lines)`` already read of the first (or None) and the ``checkpoint``
    result dict.  A checkpoint that cannot be used adds a warning and
    leaves everything to be read.
    """
    info = {"path": path, "used": False, "saved": False}
    try:
        state = load(path)
    except CheckpointError as exc:
        warnings.append("%s; reading all logs" % exc)
        return paths, None, info
    if state is None:
        return paths, None, info
    index, start, reason = plan(state, paths, options)
    if index is None:
        warnings.append("checkpoint %s does not match the logs: %s; reading all logs" % (path, reason))
        return paths, None, info
    engine.restore(state["engine"])
    tracker.restore(state["serials"])
    reader.restore(state["reader"])
    grouper.restore(state["grouper"], lambda item: record_from_state(item, reader.keep_raw))
    paths = paths[index:]
    info.update(used=True, resumed_at={"path": paths[0], "offset": start[0], "line": start[1]})
    return paths, start, info


def store(path, info, options, position, engine, tracker, reader, grouper, read_paths, written_at, warnings):
    """Save where this run stopped; ``info['saved']`` tells whether it was written.

    Called when every file is read, before the reader hands out the records
    it holds back and the grouper the events still open: those go to the
    next run (a record of an event may still follow in the log)."""
    last = len(read_paths) - 1
    state = {"options": options, "position": position, "engine": engine.state(),
             "serials": tracker.snapshot(read_paths), "reader": reader.state(),
             "grouper": grouper.state(lambda record: record_state(record, last)), "written_at": written_at}
    try:
        save(path, state)
        info["saved"] = True
    except CheckpointError as exc:
        warnings.append(str(exc))


class RunCheckpoint(object):
    """The checkpoint of one run (session_report.run): where it resumes, and the save when everything is read.

    ``trust``: False to read every log without resuming (the run made again
    after a checkpoint whose content broke it); the checkpoint is still
    written.  ``restored`` is True once the run's state comes from the
    checkpoint: from then on a failure of the run is the checkpoint's.
    ``info`` is the ``checkpoint`` result dict.
    """

    def __init__(self, path, default_host, keep_raw, trust=True):
        self.path = path
        # raw lines are kept for every event only when asked for: a checkpoint without them cannot give them
        self.options = {"default_host": default_host, "engine": VERSION, "raw": keep_raw}
        self.trust = trust
        self.restored = False
        self.info = {"path": path, "used": False, "saved": False}

    def resume(self, paths, engine, tracker, reader, grouper, warnings):
        """Restore the engine, tracker, reader and grouper; returns ``(paths still to read, (offset, lines) of
        the first or None)`` (see ``resume``)."""
        if not self.trust:
            return paths, None
        self.restored = True
        paths, start, self.info = resume(self.path, paths, self.options, engine, tracker, reader, grouper, warnings)
        self.restored = self.info["used"]
        return paths, start

    def saver(self, stats, engine, tracker, reader, grouper, now, warnings):
        """The function the reader calls when everything is read (``before_flush``): it saves where this run
        stopped; the records still held back and the events still open go to the next run."""
        def save():
            sources = stats.sources
            if sources and sources[-1]["identity"] is None:
                warnings.append("checkpoint %s not written: the live log was not read" % self.path)
            elif sources:
                last = sources[-1]
                position = dict(last["identity"])  # the identity is taken from the handle that read the file
                position.update(offset=last["end_offset"], lines=last["end_line"], path=last["path"])
                store(self.path, self.info, self.options, position, engine, tracker, reader, grouper,
                      [source["path"] for source in sources], iso(now), warnings)
        return save
