# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""auditd rotates the logs while the module reads them (issue 12, items 1, 7 and the last line of a rotated file).

auditd rotates by renaming: ``audit.log.N`` -> ``audit.log.N+1`` ..., ``audit.log`` -> ``audit.log.1``, a new
``audit.log``; with ``num_logs`` files the oldest is renamed over (gone).  A reader hook
(``LogReader.on_open``, called right after a file is opened) rotates like that while the files are open.
Whatever happens, the run reads each file of the set it listed once, the checkpoint describes the file that
was read, and the next run returns what one read of everything returns.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import sys

from ansible_collections.virtaudit.auvirt.plugins.module_utils import audit_reader
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(HERE))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import auditgen  # noqa: E402  pylint: disable=wrong-import-position

OPTIONS = dict(all_events=True, proof=True, default_host="hv", uid_resolver={0: "root"}.get, now=1800000000)


def bench(records, seed=7):
    lines = auditgen.bench_lines(records=records, seed=seed, guests=12, noise=0.5)
    return [(line + "\n").encode("utf-8") for line in lines]


def auditd_conf(directory):
    conf = os.path.join(directory, "auditd.conf")
    with open(conf, "w") as handle:
        handle.write("log_file = %s\n" % os.path.join(directory, "audit.log"))
    return conf


def rotate(directory, new_lines, num_logs=1000):
    """What auditd does: every audit.log.N one number up (the one at num_logs - 1 is gone), audit.log to
    audit.log.1, and a new audit.log with ``new_lines``."""
    log = os.path.join(directory, "audit.log")
    numbers = sorted((int(name.rsplit(".", 1)[1]) for name in os.listdir(directory)
                      if name.startswith("audit.log.") and name.rsplit(".", 1)[1].isdigit()), reverse=True)
    for number in numbers:
        if number + 1 >= num_logs:
            os.remove("%s.%d" % (log, number))
        else:
            os.rename("%s.%d" % (log, number), "%s.%d" % (log, number + 1))
    os.rename(log, log + ".1")
    with open(log, "wb") as handle:
        handle.write(b"".join(new_lines))


def whole(result):
    return {"sessions": result["sessions"], "summary": result["summary"], "host_events": result["host_events"],
            "missing": result["coverage"]["serial_gaps"]["missing_events"],
            "parse_errors": result["parse_errors"]["count"]}


def test_rotation_during_a_checkpointed_read_loses_nothing(tmp_path, monkeypatch):
    """The issue's reproduction: the live log is renamed to audit.log.1 after it was opened and a new audit.log
    is started; the checkpoint must describe the file that was read, and the next run reads the rest."""
    directory = str(tmp_path)
    lines = bench(8000)
    cut = 3000
    with open(os.path.join(directory, "audit.log"), "wb") as handle:
        handle.write(b"".join(lines[:cut]))
    conf = auditd_conf(directory)
    state = os.path.join(directory, "state.json")
    calls = []

    def hook(path):
        if not calls and path.endswith("audit.log"):
            rotate(directory, lines[cut:])
        calls.append(path)

    monkeypatch.setattr(audit_reader.LogReader, "on_open", staticmethod(hook))
    first = run(auditd_conf=conf, checkpoint=state, **OPTIONS)
    monkeypatch.undo()
    assert first["checkpoint"]["saved"] and calls
    assert first["sources"][0]["records"] == cut
    second = run(auditd_conf=conf, checkpoint=state, **OPTIONS)
    assert second["checkpoint"]["used"], second.get("warnings")
    assert second["checkpoint"]["resumed_at"]["path"].endswith("audit.log.1")
    assert not second.get("warnings")
    full = run(auditd_conf=conf, **OPTIONS)
    assert [source["path"].rsplit("/", 1)[1] for source in full["sources"]] == ["audit.log.1", "audit.log"]
    assert whole(second) == whole(full)
    assert full["summary"]["sessions"] > 100


def test_the_checkpoint_describes_the_file_read_not_the_one_now_at_its_name(tmp_path, monkeypatch):
    """Identity (inode, first bytes) and offset are those of the handle that was read."""
    directory = str(tmp_path)
    lines = bench(2000)
    log = os.path.join(directory, "audit.log")
    with open(log, "wb") as handle:
        handle.write(b"".join(lines[:700]))
    before = os.stat(log)
    state = os.path.join(directory, "state.json")
    monkeypatch.setattr(audit_reader.LogReader, "on_open", staticmethod(lambda path: rotate(directory, lines[700:])))
    run(paths=[log], checkpoint=state, **OPTIONS)
    monkeypatch.undo()
    from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint as checkpoints
    position = checkpoints.load(state)["position"]
    assert (position["inode"], position["dev"]) == (before.st_ino, before.st_dev)
    assert position["offset"] == before.st_size
    # only the new file is left (the old one rotated away): continuity cannot be proven, so all is read
    os.remove(log + ".1")
    again = run(paths=[log], checkpoint=state, **OPTIONS)
    assert not again["checkpoint"]["used"] and again.get("warnings")
    assert whole(again) == whole(run(paths=[log], **OPTIONS))


def _rotated_set(directory, lines, files):
    """``files`` files of the set (audit.log.N-1 ... audit.log.1, audit.log), an equal share of ``lines`` each."""
    log = os.path.join(directory, "audit.log")
    share = -(-len(lines) // files)
    names = ["%s.%d" % (log, n) for n in range(files - 1, 0, -1)] + [log]
    for number, name in enumerate(names):
        with open(name, "wb") as handle:
            handle.write(b"".join(lines[number * share:(number + 1) * share]))
    return names


def test_rotation_while_only_some_files_are_open(tmp_path, monkeypatch):
    """Forty rotated files read four at a time (a bounded number open at once): two rotations during the
    read - the first while the files are being opened, the second renaming the oldest file over (num_logs) -
    change nothing of what was listed, and the next run from the checkpoint reads what they added."""
    monkeypatch.setattr(audit_reader, "MAX_OPEN_FILES", 4)
    directory = str(tmp_path)
    lines = bench(6000)
    old, new = lines[:4800], lines[4800:]
    names = _rotated_set(directory, old, 40)
    reference = str(tmp_path / "reference")
    os.mkdir(reference)
    listed = _rotated_set(reference, old, 40)
    expected = whole(run(paths=listed, **OPTIONS))
    for number, part in ((41, new[:600]), (42, new[600:])):
        with open(os.path.join(reference, "new.%d" % number), "wb") as handle:
            handle.write(b"".join(part))
    expected_all = whole(run(paths=listed + [os.path.join(reference, "new.41"), os.path.join(reference, "new.42")],
                             **OPTIONS))
    conf = auditd_conf(directory)
    state = os.path.join(directory, "state.json")
    opened = []

    def hook(path):
        opened.append(path)
        if len(opened) == 3:
            rotate(directory, new[:600])
        elif len(opened) == 9:
            rotate(directory, new[600:], num_logs=41)

    monkeypatch.setattr(audit_reader.LogReader, "on_open", staticmethod(hook))
    first = run(auditd_conf=conf, checkpoint=state, **OPTIONS)
    monkeypatch.undo()
    assert len(opened) == 40
    assert whole(first) == expected
    assert [source["path"] for source in first["sources"]] == names
    second = run(auditd_conf=conf, checkpoint=state, **OPTIONS)
    assert second["checkpoint"]["used"], second.get("warnings")
    assert [source["path"].rsplit("/", 1)[1] for source in second["sources"]] == [
        "audit.log.2", "audit.log.1", "audit.log"]
    assert whole(second) == expected_all


def test_a_rotated_file_removed_before_it_was_opened_is_reported(tmp_path, monkeypatch):
    """A listed file that no longer exists when its turn comes (rotated away by many rotations) is named in the
    parse errors; the others are read."""
    monkeypatch.setattr(audit_reader, "MAX_OPEN_FILES", 2)
    directory = str(tmp_path)
    lines = bench(1200)
    names = _rotated_set(directory, lines, 6)

    def hook(path):
        if path == names[0]:
            os.remove(names[3])

    monkeypatch.setattr(audit_reader.LogReader, "on_open", staticmethod(hook))
    out = run(paths=names, **OPTIONS)
    assert [sample["path"] for sample in out["parse_errors"]["samples"]] == [names[3]]
    assert "no longer exists" in out["parse_errors"]["samples"][0]["reason"]
    assert [source["records"] > 0 for source in out["sources"]] == [True, True, True, False, True, True]


def test_the_last_line_of_a_rotated_file_is_read_with_a_checkpoint(tmp_path):
    """Only the live log can be in the middle of a write: the last line of a rotated file without its newline
    is read, with a checkpoint as without."""
    directory = str(tmp_path)
    lines = bench(900)
    names = _rotated_set(directory, lines, 3)
    with open(names[1], "rb") as handle:
        data = handle.read()
    with open(names[1], "wb") as handle:
        handle.write(data[:-1])  # no newline after its last record
    state = os.path.join(directory, "state.json")
    with_checkpoint = run(paths=names, checkpoint=state, **OPTIONS)
    without = run(paths=names, **OPTIONS)
    assert with_checkpoint["sources"][1]["records"] == without["sources"][1]["records"] == data.count(b"\n")
    assert whole(with_checkpoint) == whole(without)
    assert without["parse_errors"]["count"] == 0
