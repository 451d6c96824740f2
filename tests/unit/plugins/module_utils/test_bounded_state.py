# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the engine keeps does not grow with the time a log spans (nor does its checkpoint)."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils import (
    checkpoint, log_files, session_unattributed, virt_sessions,
)
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.readmodes import resumed

DAY = 86400
START = 1709942400.0  # 2024-03-09T00:00:00Z
DENIAL = ('avc:  denied  { read } for  pid=812 comm="httpd" name="index.html" dev="dm-0" ino=4 '
          "scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=1")
OPTIONS = dict(default_host="hv", now=1800000000, all_events=True, proof=True)


def denials(days, per_day=24):
    """A host's log of ``days`` days with ``per_day`` denials of a host service a day (no guest), from midnight UTC."""
    log = Log(t=START, serial=100)
    for dummy in range(days * per_day):
        log.add("AVC", DENIAL)
        log.tick(DAY / per_day)
    return log


def test_unattributed_counts_by_minute_hour_and_day(tmp_path):
    log = denials(60)
    newest = log.t - DAY / 24
    path = log.write(tmp_path / "audit.log")
    result = run(paths=[path], **OPTIONS)
    assert result["summary"]["avcs_unattributed"] == 60 * 24

    def counted(start, end):
        return run(paths=[path], start="%.3f" % start, end="%.3f" % end, **OPTIONS)["summary"]["avcs_unattributed"]

    # the last day: to the minute (a denial every hour on the hour: a window of 10 minutes after one holds none)
    assert counted(newest - 3600 + 60, newest - 60) == 0
    assert counted(newest - 3600, newest - 3600 + 1) == 1
    # a week back: per hour (10 minutes after the hour count the hour's denial)
    assert counted(newest - 7 * DAY + 600, newest - 7 * DAY + 1200) == 1
    # two months back: per day (one hour of that day counts the day's 24)
    assert counted(START + 3600 * 5, START + 3600 * 6) == 24


def test_unattributed_index_and_checkpoint_stay_small(tmp_path):
    sizes = []
    for days in (40, 400):
        path = denials(days).write(tmp_path / ("audit-%d.log" % days))
        state = str(tmp_path / ("state-%d.json" % days))
        run(paths=[path], checkpoint=state, **OPTIONS)
        saved = checkpoint.load(state)["engine"]["unattributed"]
        sizes.append(len(saved["counts"]))
        # the newest listed with their fields (those of the events still open when it was written go to the next run)
        assert len(saved["listed"][0]) == (session_unattributed.MAX_LISTED if days > 100 else saved["numbers"]["hv"][0])
    # a day of minutes, 31 days of hours, then a day per entry
    assert sizes[0] <= 24 + 31 * 24 + 10
    assert sizes[1] - sizes[0] <= 360 + 2


def test_compacting_while_reading_changes_nothing(tmp_path, monkeypatch):
    """Counts compacted every few records, read in tiny blocks, or resumed from a checkpoint: the same result."""
    log = denials(45, per_day=150)  # more minutes than the index holds before it compacts
    path = log.write(tmp_path / "audit.log")
    full = run(paths=[path], **OPTIONS)
    windows = [{}, {"start": "%.3f" % (log.t - 2 * DAY)}, {"start": "%.3f" % (log.t - 20 * DAY + 1234),
                                                           "end": "%.3f" % (log.t - 3 * DAY + 77)}]
    expected = [run(paths=[path], **dict(OPTIONS, **window))["summary"] for window in windows]
    assert expected[0]["avcs_unattributed"] == 45 * 150
    with monkeypatch.context() as patch:
        patch.setattr(log_files, "CHUNK", 700)
        counts = session_unattributed.Unattributed
        original = counts.add

        def eager(self, epoch, kind, *args):
            original(self, epoch, kind, *args)
            if int(epoch) % 7 == 0:
                self.compact()

        patch.setattr(counts, "add", eager)
        assert [run(paths=[path], **dict(OPTIONS, **window))["summary"] for window in windows] == expected
    with open(path, "rb") as handle:
        data = handle.read()
    state = str(tmp_path / "state.json")
    for cut in (len(data) // 5, len(data) // 2, len(data) - 5000):
        again = resumed(run, path, data, cut, state, **OPTIONS)
        assert again["summary"] == full["summary"]


def test_a_host_keeps_its_newest_host_events(tmp_path, monkeypatch):
    monkeypatch.setattr(virt_sessions, "MAX_HOST_EVENTS", 50)
    log = Log(t=1710000000.0, serial=100)
    for number in range(120):
        log.daemon("DAEMON_START", 5000 + number)
        log.tick(60)
    path = log.write(tmp_path / "audit.log")
    result = run(paths=[path], **OPTIONS)
    assert [item["id"] for item in result["host_events"]] == [
        "%d.000:%d" % (1710000000 + 60 * number, 5000 + number) for number in range(70, 120)]
