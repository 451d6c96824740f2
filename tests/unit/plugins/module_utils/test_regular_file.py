# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one atomic writer (``replace_atomically``) and the writers built on it: checkpoints, the event source's
state and the Prometheus textfile."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import signal
import stat

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint, event_follower, prometheus_text
from ansible_collections.virtaudit.auvirt.plugins.module_utils.regular_file import replace_atomically


@pytest.fixture
def no_hang():
    """A write that blocks on a FIFO fails the test instead of hanging it."""
    def alarm(signum, frame):
        raise AssertionError("blocked on a special file")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def special(tmp_path, kind):
    path = str(tmp_path / kind)
    if kind == "fifo":
        os.mkfifo(path)
    else:
        os.mkdir(path)
    return path


def test_replaces_a_file_whole_with_its_mode_and_leaves_no_temporary_file(tmp_path):
    path = str(tmp_path / "state.json")
    with open(path, "wb") as handle:
        handle.write(b"old and longer")
    replace_atomically(path, b"new", 0o640, durable=True)
    with open(path, "rb") as handle:
        assert handle.read() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert os.listdir(str(tmp_path)) == ["state.json"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = str(tmp_path / "state.json")
    with open(path, "wb") as handle:
        handle.write(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(OSError, match="No space left"):
        replace_atomically(path, b"new")
    with open(path, "rb") as handle:
        assert handle.read() == b"old"
    assert os.listdir(str(tmp_path)) == ["state.json"]


@pytest.mark.parametrize("kind, says", [("fifo", "is a FIFO, not a regular file: not written"),
                                        ("dir", "is a directory, not a regular file: not written")])
def test_a_special_file_at_the_path_is_not_replaced(tmp_path, kind, says):
    path = special(tmp_path, kind)
    with pytest.raises(OSError) as caught:
        replace_atomically(path, b"data")
    assert says in caught.value.strerror
    assert sorted(os.listdir(str(tmp_path))) == [kind]


def test_dev_null_is_not_replaced(tmp_path):
    """(renaming over it as root would put a file where /dev/null was: checked without writing)"""
    with pytest.raises(OSError, match="is a device, not a regular file: not written"):
        replace_atomically("/dev/null", b"data")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize("kind", ["fifo", "dir"])
def test_checkpoint_and_event_state_refuse_a_special_file(tmp_path, kind, no_hang):
    path = special(tmp_path, kind)
    with pytest.raises(checkpoint.CheckpointError, match="not a regular file: not written .the previous checkpoint"):
        checkpoint.save(path, {"a": 1})
    with pytest.raises(event_follower.StateError, match="cannot write event state .*not a regular file: not written"):
        event_follower.save_state(path, {"a": 1})


def test_prometheus_textfile_at_a_fifo_fails_without_blocking(tmp_path, no_hang):
    path = special(tmp_path, "fifo")
    with pytest.raises(OSError, match="is a FIFO, not a regular file"):
        prometheus_text.write_textfile(path, "virtaudit_collect_success 1\n")


def test_prometheus_textfile_is_rewritten_only_when_it_changes(tmp_path):
    path = str(tmp_path / "virtaudit.prom")
    assert prometheus_text.write_textfile(path, "a 1\n") is True
    assert prometheus_text.write_textfile(path, "a 1\n") is False
    os.chmod(path, 0o600)
    assert prometheus_text.write_textfile(path, "a 1\n") is True          # the mode is put right
    assert prometheus_text.write_textfile(path, "a 1\nb 2\n") is True     # longer than the old file
    assert prometheus_text.write_textfile(path, "a 1\n") is True          # shorter than the old file
    with open(path) as handle:
        assert handle.read() == "a 1\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == prometheus_text.FILE_MODE
