# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Checkpoints of any shape and value (docs/hardening.md).

A real checkpoint, written half-way through a real capture, is changed at
random places - a value replaced by any JSON value, a key dropped or added,
a list emptied or repeated - then the rest of the log is read with it:

* with the checksum left as it was, the change is detected: the run warns
  and returns exactly what a full read returns;
* with the checksum made to fit (the file's owner wrote it: only the owner
  is trusted), the run never raises and returns valid JSON: a full read with
  a warning where a check catches the change, else the resumed read of what
  the owner wrote.
Bytes damaged anywhere in the file (no JSON at all) are a full read too.
"""
from __future__ import absolute_import, division, print_function

import hashlib
import json
import os

from hypothesis import given, settings, strategies as st

from hardening_util import FULL, REAL, budget, count, engine, half_read, read, scratch_dir

LOG = os.path.join(REAL, "raw-lifecycle.log")

JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-2 ** 70, max_value=2 ** 70),
              st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)),
    max_leaves=8)


def _prepare():
    """(log, checkpoint bytes, full-read result): the first half read with a checkpoint, the rest appended."""
    log, state, full = half_read(scratch_dir(), LOG)
    return log, read(state), full


_PREPARED = []


def prepared():
    if not _PREPARED:
        _PREPARED.append(_prepare())
    return _PREPARED[0]


def _places(value, path=()):
    """Every (path, value) inside a JSON value."""
    yield path, value
    if isinstance(value, dict):
        for key in sorted(value):
            yield from _places(value[key], path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places(item, path + (index,))


def _change(payload, place, how, new_value):
    path, old = place
    if not path:
        return new_value
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    key = path[-1]
    if how == "replace":
        parent[key] = new_value
    elif how == "drop":
        del parent[key]
    elif how == "add" and isinstance(old, dict):
        old["zz_added"] = new_value
    elif how == "add" and isinstance(old, list):
        old.append(new_value)
    elif how == "empty" and isinstance(old, (dict, list)):
        parent[key] = type(old)()
    elif how == "double" and isinstance(old, list):
        parent[key] = old + old
    else:
        parent[key] = new_value
    return payload


def _whole(result):
    return dict((k, v) for k, v in result.items() if k not in ("checkpoint", "warnings"))


@settings(max_examples=budget(150, 3000))
@given(st.data(), st.sampled_from(["replace", "drop", "add", "empty", "double"]), JSON_VALUES, st.booleans())
def test_any_checkpoint_gives_a_full_read_or_a_sound_resumed_read(data, how, new_value, fit_checksum):
    count("checkpoint_shapes")
    log, saved, full = prepared()
    header, payload = saved.split(b"\n", 1)
    header = json.loads(header.decode("utf-8"))
    payload = json.loads(payload.decode("utf-8"))
    places = list(_places(payload))
    place = places[data.draw(st.integers(min_value=0, max_value=len(places) - 1), label="place")]
    payload = _change(payload, place, how, new_value)
    text = json.dumps(payload).encode("utf-8")
    if fit_checksum:
        header["sha256"] = hashlib.sha256(text).hexdigest()
    state = os.path.join(scratch_dir(), "state.json")
    with open(state, "wb") as handle:
        handle.write(json.dumps(header).encode("utf-8") + b"\n" + text)
    os.chmod(state, 0o600)
    result = engine([log], checkpoint=state, **FULL)   # must not raise
    json.dumps(result, allow_nan=False)
    if not result["checkpoint"]["used"]:
        assert result.get("warnings"), "a checkpoint not used must say why"
        assert _whole(result) == _whole(full)
    else:
        assert fit_checksum, "an edited checkpoint was used: %r" % (place[0],)
        assert isinstance(result["sessions"], list) and isinstance(result["summary"], dict)


@settings(max_examples=budget(60, 1000))
@given(st.data())
def test_damaged_checkpoint_bytes_give_a_full_read(data):
    count("checkpoint_bytes")
    log, saved, full = prepared()
    raw = bytearray(saved)
    for dummy in range(data.draw(st.integers(min_value=1, max_value=4), label="damages")):
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1), label="at")
        raw[at] = data.draw(st.integers(min_value=0, max_value=255), label="byte")
    if data.draw(st.booleans(), label="cut"):
        raw = raw[:data.draw(st.integers(min_value=0, max_value=len(raw)), label="length")]
    state = os.path.join(scratch_dir(), "state.json")
    with open(state, "wb") as handle:
        handle.write(bytes(raw))
    os.chmod(state, 0o600)
    result = engine([log], checkpoint=state, **FULL)
    if bytes(raw) == saved:
        assert result["checkpoint"]["used"]
        return
    assert not result["checkpoint"]["used"] and result.get("warnings")
    assert _whole(result) == _whole(full)
