# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The event source itself: ``main(queue, args)`` under asyncio, against a log that a writer appends to and
rotates like auditd while the source runs; a restart from the checkpoint; options and failures."""

from __future__ import absolute_import, division, print_function

import asyncio
import os
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.virtaudit.auvirt.plugins.module_utils import guest_events
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils import event_scenarios

from conftest import PLUGIN, ROOT

WAIT = 20.0  # seconds a test waits for the events of one step at most (they come within a few polls)


def _key(event):
    return (event["kind"], event["host"], event["name"], event["reason"])


# the scenarios' records are dated from half an hour ago on (live, as the grace periods see them)
T0 = time.time() - 1800


def _args(log, tmp_path, **extra):
    args = {"auditd_conf": log.conf, "checkpoint": str(tmp_path / "guest_events.checkpoint"), "host": "hv01",
            "interval": 0.1, "start": "%.3f" % (T0 - 60)}
    args.update(extra)
    return args


class Source(object):
    """main() of the plugin as an asyncio task, its events collected."""

    def __init__(self, plugin, args):
        self.plugin = plugin
        self.args = args
        self.queue = asyncio.Queue()
        self.events = []
        self.task = None

    def start(self):
        self.task = asyncio.ensure_future(self.plugin["main"](self.queue, dict(self.args)))
        return self

    async def wait_for(self, expected, timeout=WAIT):
        """Collect events until ``expected`` more of them came (or the timeout); return them."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < expected and time.monotonic() < deadline:
            if self.task.done():
                self.task.result()  # raises what ended the source
            try:
                got.append(await asyncio.wait_for(self.queue.get(), 0.1))
            except asyncio.TimeoutError:
                continue
        # anything beyond is an error too: give the source a few more polls to show it
        await asyncio.sleep(0.3)
        while not self.queue.empty():
            got.append(self.queue.get_nowait())
        self.events.extend(got)
        return got

    async def stop(self):
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass


def _check(events, expected):
    fingerprints = [event["fingerprint"] for event in events]
    assert len(fingerprints) == len(set(fingerprints)), [guest_events.compact(e) for e in events]
    assert sorted(map(_key, events), key=str) == sorted(expected, key=str)


def test_follows_a_log_that_is_appended_to_and_rotated(plugin, tmp_path):
    scenario = event_scenarios.lifecycle(T0)
    log = event_scenarios.AuditdLog(tmp_path / "log", num_logs=4)

    async def scenario_run():
        source = Source(plugin, _args(log, tmp_path)).start()
        assert await source.wait_for(0, timeout=0.5) == []
        for number, step in enumerate(scenario.steps):
            half = len(step.lines) // 2
            log.append(step.lines[:half])
            if number % 2:
                await asyncio.sleep(0.1)  # polled in the middle of the step
            log.rotate()
            log.append(step.lines[half:])
            got = await source.wait_for(len(step.expect))
            assert sorted(map(_key, got), key=str) == sorted(step.expect, key=str), step.note
        await source.stop()
        return source.events

    events = asyncio.run(scenario_run())
    _check(events, scenario.expected)
    assert log.rotations == len(scenario.steps)


def test_restart_goes_on_from_the_checkpoint_without_repeats(plugin, tmp_path):
    scenario = event_scenarios.lifecycle(T0)
    log = event_scenarios.AuditdLog(tmp_path / "log")
    args = _args(log, tmp_path)

    async def scenario_run():
        events = []
        steps = list(scenario.steps)
        source = Source(plugin, args).start()
        for step in steps[:3]:
            log.append(step.lines)
            events += await source.wait_for(len(step.expect))
        await source.stop()
        # written while the source is down, with a rotation
        log.append(steps[3].lines)
        log.rotate()
        log.append(steps[4].lines)
        source = Source(plugin, dict(args, start="now")).start()  # start only counts without a saved state
        events += await source.wait_for(len(steps[3].expect) + len(steps[4].expect))
        for step in steps[5:]:
            log.append(step.lines)
            events += await source.wait_for(len(step.expect))
        await source.stop()
        return events

    _check(asyncio.run(scenario_run()), scenario.expected)


def test_log_missing_for_a_moment_is_retried(plugin, tmp_path, caplog):
    scenario = event_scenarios.lifecycle(T0)
    log = event_scenarios.AuditdLog(tmp_path / "log")

    async def scenario_run():
        source = Source(plugin, _args(log, tmp_path)).start()
        log.append(scenario.steps[1].lines)
        events = await source.wait_for(2)
        os.rename(log.path, log.path + ".1")  # auditd renamed it and has not opened the new one yet
        await asyncio.sleep(0.5)
        assert not source.task.done()
        with open(log.path, "w") as handle:
            handle.write("".join(line + "\n" for line in scenario.steps[2].lines))
        events += await source.wait_for(2)
        await source.stop()
        return events

    events = asyncio.run(scenario_run())
    assert [e["kind"] for e in events] == ["started", "migrated_in", "avc", "failed_start"]
    warnings = [r.getMessage() for r in caplog.records if "trying again" in r.getMessage()]
    assert len(warnings) == 1 and "audit.log" in warnings[0]


def test_unreadable_log_at_the_start_ends_the_source(plugin, tmp_path):
    args = {"paths": [str(tmp_path / "missing.log")], "checkpoint": str(tmp_path / "cp")}
    with pytest.raises(Exception, match="missing.log"):
        asyncio.run(plugin["main"](asyncio.Queue(), args))


@pytest.mark.parametrize("args, message", [
    ({"interval": "soon"}, "interval must be a number of seconds"),
    ({"interval": 0}, "interval must be at least 0.1"),
    ({"late_margin": -5}, "late_margin must be a number >= 0"),
    ({"paths": [1]}, "paths must be a list of strings"),
    ({"host": 5}, "host must be a string"),
    ({"kinds": ["crash"]}, "unknown event kinds crash"),
    ({"start": "yesteryear"}, "yesteryear"),
    ({"poll": 5}, "unknown option.*poll"),
    ({"checkpoint": "/nonexistent/dir/cp"}, "does not exist"),
])
def test_bad_options_end_the_source_with_the_reason(plugin, tmp_path, args, message):
    log = event_scenarios.AuditdLog(tmp_path / "log")
    options = {"auditd_conf": log.conf, "checkpoint": str(tmp_path / "cp")}
    options.update(args)
    with pytest.raises(ValueError, match=message):
        asyncio.run(plugin["main"](asyncio.Queue(), options))


def test_options_of_ansible_rulebook_itself_are_ignored(plugin, tmp_path):
    options = plugin["parse_options"]({"eda_feedback_queue": object(), "kinds": "crashed", "paths": "~/x.log"})
    assert options["kinds"] == ["crashed"] and options["paths"] == [os.path.expanduser("~/x.log")]
    assert options["interval"] == 2.0 and options["checkpoint"] == "/var/lib/virtaudit/guest_events.checkpoint"


def test_documentation_describes_the_options(plugin):
    doc = yaml.safe_load(plugin["DOCUMENTATION"])
    assert set(doc["options"]) == set(plugin["OPTIONS"])
    types = {"list": "list", "path": "path", "str": "str", "float": "float"}
    for name, (kind, default) in plugin["OPTIONS"].items():
        assert doc["options"][name]["type"] == types[kind], name
        assert doc["options"][name].get("default") == default, name
    assert doc["options"]["kinds"]["choices"] == list(guest_events.KINDS)
    examples = yaml.safe_load(plugin["EXAMPLES"])
    for rulebook in examples:
        for source in rulebook["sources"]:
            options = plugin["parse_options"](source["virtaudit.auvirt.guest_events"])
            assert set(options["kinds"]) <= set(guest_events.KINDS)
    with open(os.path.join(ROOT, "docs", "events.md")) as handle:
        text = handle.read()
    for name in list(plugin["OPTIONS"]) + list(guest_events.KINDS):
        assert "`%s`" % name in text, name


def test_plugin_finds_the_collection_when_run_by_path(tmp_path):
    # as ansible-rulebook runs it from an installed collection: nothing of ours on sys.path
    top = tmp_path / "collections"
    (top / "ansible_collections" / "virtaudit").mkdir(parents=True)
    os.symlink(ROOT, str(top / "ansible_collections" / "virtaudit" / "auvirt"))
    path = str(top / "ansible_collections" / "virtaudit" / "auvirt" / os.path.relpath(PLUGIN, ROOT))
    code = ("import runpy, sys; g = runpy.run_path(sys.argv[1]); f = g['follower'](g['parse_options']("
            "{'checkpoint': sys.argv[2]})); print(type(f).__module__)")
    out = subprocess.check_output([sys.executable, "-I", "-c", code, path, str(tmp_path / "cp")], cwd=str(tmp_path))
    assert out.decode().strip() == "ansible_collections.virtaudit.auvirt.plugins.module_utils.event_follower"


def test_plugin_prints_events_when_run_as_a_script(tmp_path):
    scenario = event_scenarios.lifecycle(T0)
    log = tmp_path / "audit.log"
    log.write_text(scenario.text())
    code = "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen([sys.executable, "-c", code, PLUGIN, str(tmp_path / "cp"), str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    time.sleep(3)
    proc.terminate()
    out, err = proc.communicate(timeout=30)
    # start=now: the log written before is history, nothing is printed; the source ran and saved its state
    assert os.path.exists(str(tmp_path / "cp.events")), err.decode()
    assert b"Traceback" not in err or b"KeyboardInterrupt" in err, err.decode()
    assert out == b""
