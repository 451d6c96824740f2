# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source suite (``make eda``, docs/events.md): the collection importable, the plugin loaded by path
the way ansible-rulebook loads it, and a banner at the end for every part that was SKIPPED and why."""

from __future__ import absolute_import, division, print_function

import os
import runpy
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

from collection_path import ensure_importable  # noqa: E402  pylint: disable=wrong-import-position

ensure_importable("virtaudit-eda-")

PLUGIN = os.path.join(ROOT, "extensions", "eda", "plugins", "event_source", "guest_events.py")
SKIPPED = []
NOTES = []


@pytest.fixture(scope="session")
def plugin():
    """The event source's globals, run by path like ansible-rulebook does (runpy.run_path)."""
    return runpy.run_path(PLUGIN)


def skip_loudly(reason):
    """Skip the test and say so in the summary (``*** SKIPPED`` line)."""
    SKIPPED.append(reason)
    pytest.skip(reason)


def pytest_terminal_summary(terminalreporter):
    for note in NOTES:
        terminalreporter.write_line("eda: %s" % note)
    for reason in SKIPPED:
        terminalreporter.write_line("*** SKIPPED (part of eda): %s ***" % reason)
