# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every file of the corpus (tests/fixtures/corpus: real audit data from other
projects) through the engine and through both modules: no exception, every
line accounted for, every parse problem with its file and line, and no guest
session made out of records that are not libvirt's."""
from __future__ import absolute_import, division, print_function

import json
import os
import re

import pytest

from hardening_util import (
    CORPUS, FULL, check_line_accounting, check_result, corpus_files, engine, read,
)

from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_facts, guest_session_info

FILES = corpus_files()
HEADER = re.compile(r"^(?:node=\S* )?type=(\S+) msg=audit\(\d+\.\d{3}:\d+\):")


def rel(path):
    return os.path.relpath(path, CORPUS)


def lines_of(data):
    pieces = data.split(b"\n")
    if data.endswith(b"\n"):
        pieces.pop()
    out = []
    for piece in pieces:
        text = piece.decode("utf-8", "replace")
        out.append(text[:-1] if text.endswith("\r") else text)
    return out


def expected(data):
    """Independent reading of the audit line format: (record types, numbers of the non-record lines)."""
    types, bad = [], []
    for number, text in enumerate(lines_of(data), 1):
        m = None if "\x00" in text else HEADER.match(text.split("\x1d", 1)[0])
        if m:
            types.append(m.group(1))
        elif text.strip():
            bad.append(number)
    return types, bad


def test_corpus_is_there_with_provenance():
    dirs = sorted(d for d in os.listdir(CORPUS) if os.path.isdir(os.path.join(CORPUS, d)))
    assert len(dirs) == 9 and len(FILES) == 134, (dirs, len(FILES))
    for name in dirs:
        with open(os.path.join(CORPUS, name, "README.md")) as handle:
            note = handle.read()
        assert "Licence of these files:" in note and "https://github.com/" in note, name
        for path in FILES:
            if rel(path).startswith(name + os.sep):
                assert "`%s`" % os.path.basename(path) in note, "%s is not listed in %s/README.md" % (rel(path), name)


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_engine_reads_corpus_file(path):
    data = read(path)
    result = engine([path], **FULL)
    check_result(result, [path])
    check_line_accounting(result, [data])
    types, bad = expected(data)
    source = result["sources"][0]
    assert source["records"] == len(types)
    errors = result["parse_errors"]
    assert errors["count"] == len(bad)
    texts = lines_of(data)
    assert [s["line"] for s in errors["samples"]] == bad[:len(errors["samples"])]
    assert len(errors["samples"]) == min(len(bad), 20)
    for sample in errors["samples"]:
        assert sample["path"] == path and sample["reason"]
        assert sample["text"] == texts[sample["line"] - 1].replace("\x00", "\\0")[:len(sample["text"])]
    # no file of the corpus holds a libvirt guest record: no sessions, and
    # every VIRT_* record (docker's) is counted as belonging to no guest
    assert result["sessions"] == [] and result["summary"]["sessions"] == 0
    virt = sum(1 for t in types if t.startswith("VIRT_"))
    assert result["summary"].get("unmatched_virt_records", virt) == virt
    assert engine([path], **FULL) == result, "same input, different output"


def test_docker_virt_control_records_are_not_guests():
    folder = os.path.join(CORPUS, "quoted-docker-virt-control")
    paths = [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if n.endswith(".log")]
    result = engine(paths, **FULL)
    assert result["sessions"] == [] and result["auvirt_lines"] == []
    assert sum(s["records"] for s in result["sources"]) == 3
    assert result["summary"].get("unmatched_virt_records", 3) == 3
    # the hard-wrapped example: its two continuation lines are parse errors with file and line
    assert [(os.path.basename(s["path"]), s["line"]) for s in result["parse_errors"]["samples"]] == [
        ("origin-aggregated-logging-docker-event-collection.log", 2),
        ("origin-aggregated-logging-docker-event-collection.log", 3),
    ]


def test_whole_corpus_in_one_run():
    datas = [read(p) for p in FILES]
    result = engine(FILES, **FULL)
    check_result(result, FILES)
    check_line_accounting(result, datas)
    assert result["sessions"] == []
    assert result["parse_errors"]["count"] == sum(len(expected(d)[1]) for d in datas)


@pytest.mark.parametrize("path", FILES, ids=rel)
def test_modules_read_corpus_file(run_module, path):
    kind, result = run_module(guest_session_info, {
        "paths": [path], "host": "testhost", "all_events": True, "proof": True, "raw": True,
        "auvirt_lines": True, "show_uuid": True})
    assert kind == "exit", result
    assert result["sessions"] == [] and result["sources"][0]["path"] == path
    json.dumps(result, allow_nan=False)
    kind, facts = run_module(guest_session_facts, {"paths": [path], "host": "testhost"})
    assert kind == "exit", facts
    compact = facts["ansible_facts"]["virt_sessions"]
    assert compact["sessions"] == 0 and compact["running"] == []
    assert compact["parse_errors"] == result["parse_errors"]["count"]
    json.dumps(facts, allow_nan=False)
