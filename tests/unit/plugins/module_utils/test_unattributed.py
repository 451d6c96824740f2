# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AVCs and anomalies attributed to no guest: the ``unattributed`` result key (module_utils/session_unattributed.py).

The newest of them are listed with their fields (at most MAX_LISTED of each
kind), the others counted; every way of reading a log - at once, in tiny
blocks, resumed from a checkpoint, with a window - lists the same ones.
"""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils import checkpoint, log_files, session_unattributed
from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.logbuilder import Log
from ansible_collections.virtaudit.auvirt.tests.unit.plugins.module_utils.readmodes import resumed

U = "61616161-0000-4000-8000-000000000001"
OPTIONS = dict(default_host="hv", now=1800000000, all_events=True, uid_resolver={0: "root", 48: "apache"}.get)
HTTPD = ('avc:  denied  { read } for  pid=812 comm="httpd" name="index%d.html" dev="dm-0" ino=4 '
         "scontext=system_u:system_r:httpd_t:s0 tcontext=unconfined_u:object_r:user_home_t:s0 tclass=file permissive=1")
HTTPD_SYSCALL = ('arch=c000003e syscall=257 success=no exit=-13 items=1 ppid=1 pid=812 auid=4294967295 uid=48 '
                 'gid=48 euid=48 tty=(none) ses=4294967295 comm="httpd" exe="/usr/sbin/httpd" '
                 'subj=system_u:system_r:httpd_t:s0 key=(null)')
DOCKER = ('apparmor="DENIED" operation="ptrace" profile="docker-default" pid=5571 comm="metricbeat" '
          'requested_mask="trace" denied_mask="trace" peer="unconfined"')
ABEND = ('auid=4294967295 uid=0 gid=0 ses=4294967295 subj=system_u:system_r:init_t:s0 pid=1000 comm="ftptls" '
         'exe="/usr/sbin/ftptls" sig=6 res=1')


def mixed_log():
    """A guest runs; denials of a host service (SELinux, with SYSCALL), of a container (AppArmor), an abend of a
    host program: none is the guest's."""
    log = Log(t=1710144000.0, serial=100)
    log.boot_sequence("web", U)
    log.tick(5)
    serial = log.serial
    log.add("AVC", HTTPD % 1, serial=serial)
    log.add("SYSCALL", HTTPD_SYSCALL, serial=serial)
    log.serial += 1
    log.tick(5).add("AVC", DOCKER)
    log.tick(5).add("ANOM_ABEND", ABEND)
    log.tick(60).stop("web", U)
    return log


def flood(count, per_second=10, node=None, t=1710144000.0):
    """``count`` denials of a host service, ``per_second`` (a whole number, or 0.1) a second, and an abend after
    every 100th."""
    log = Log(t=t, serial=1000, node=node)
    for number in range(count):
        # whole milliseconds (a sum of ticks would drift)
        log.t = t + number // per_second + (number % per_second) * (1000 // per_second) / 1000.0
        log.add("AVC", HTTPD % number)
        if number % 100 == 99:
            log.add("ANOM_ABEND", ABEND)
    return log


def test_unattributed_items_have_the_fields_of_attributed_ones(tmp_path):
    result = run(paths=[mixed_log().write(tmp_path / "audit.log")], **OPTIONS)
    assert result["summary"]["avcs_unattributed"] == 2 and result["summary"]["anomalies_unattributed"] == 1
    found = result["unattributed"]
    assert found["avcs_not_listed"] == 0 and found["anomalies_not_listed"] == 0
    selinux, apparmor = found["avcs"]
    assert selinux == {
        "host": "hv", "number": 1, "time": "2024-03-11T08:00:05.000+00:00", "epoch": 1710144005.0,
        "id": "1710144005.000:105", "lsm": "selinux", "result": "denied",
        "operation": "read", "comm": "httpd", "name": "index1.html", "pid": 812,
        "scontext": "system_u:system_r:httpd_t:s0", "tcontext": "unconfined_u:object_r:user_home_t:s0",
        "tclass": "file", "profile": None, "user": "apache", "matched_by": None, "permissive": "1"}
    assert apparmor["lsm"] == "apparmor" and apparmor["result"] == "denied" and apparmor["operation"] == "ptrace"
    assert apparmor["profile"] == "docker-default" and apparmor["pid"] == 5571 and apparmor["comm"] == "metricbeat"
    assert apparmor["denied_mask"] == "trace" and apparmor["number"] == 2
    anomaly, = found["anomalies"]
    assert anomaly == {"host": "hv", "number": 1, "time": "2024-03-11T08:00:15.000+00:00", "epoch": 1710144015.0,
                       "id": "1710144015.000:107", "type": "ANOM_ABEND", "pid": 1000, "comm": "ftptls",
                       "exe": "/usr/sbin/ftptls", "sig": 6, "user": "root", "matched_by": None}
    assert found["numbers"] == {"hv": {"avcs": 2, "anomalies": 1}}
    # the guest's session has none of them
    assert result["sessions"][0]["avcs"] == [] and result["sessions"][0]["anomalies"] == []


def test_only_with_all_events(tmp_path):
    path = mixed_log().write(tmp_path / "audit.log")
    options = dict(OPTIONS)
    options["all_events"] = False
    assert "unattributed" not in run(paths=[path], **options)


def test_the_newest_are_listed_the_others_counted(tmp_path, monkeypatch):
    monkeypatch.setattr(session_unattributed, "MAX_LISTED", 50)
    path = flood(1000).write(tmp_path / "audit.log")
    result = run(paths=[path], **OPTIONS)
    found = result["unattributed"]
    assert [item["number"] for item in found["avcs"]] == list(range(951, 1001))
    assert [item["name"] for item in found["avcs"]] == ["index%d.html" % n for n in range(950, 1000)]
    assert found["avcs_not_listed"] == 950 and result["summary"]["avcs_unattributed"] == 1000
    assert len(found["anomalies"]) == 10 and found["anomalies_not_listed"] == 0
    assert found["numbers"] == {"hv": {"avcs": 1000, "anomalies": 10}}


def test_window_lists_what_the_summary_counts(tmp_path):
    log = Log(t=1710144000.0, serial=1000)
    for number in range(600):  # a denial every 10 s for 100 minutes, and an abend after every 100th
        log.add("AVC", HTTPD % number)
        if number % 100 == 99:
            log.add("ANOM_ABEND", ABEND)
        log.tick(10)
    path = log.write(tmp_path / "audit.log")
    start, end = 1710144000.0 + 1800, 1710144000.0 + 3600 + 25
    result = run(paths=[path], start="%.3f" % start, end="%.3f" % end, **OPTIONS)
    found = result["unattributed"]
    # the summary counts the minutes that overlap the window: the list holds the same denials
    assert len(found["avcs"]) == result["summary"]["avcs_unattributed"] == 186
    assert found["avcs_not_listed"] == 0
    assert found["avcs"][0]["epoch"] == start and found["avcs"][-1]["epoch"] == 1710144000.0 + 3650
    assert found["numbers"] == {"hv": {"avcs": 600, "anomalies": 6}}


def test_what_is_listed_stays_bounded(tmp_path):
    path = flood(session_unattributed.MAX_LISTED * 3).write(tmp_path / "audit.log")
    state = str(tmp_path / "state.json")
    result = run(paths=[path], checkpoint=state, **OPTIONS)
    assert len(result["unattributed"]["avcs"]) == session_unattributed.MAX_LISTED
    assert result["unattributed"]["avcs_not_listed"] == 2 * session_unattributed.MAX_LISTED
    saved = checkpoint.load(state)["engine"]["unattributed"]
    # the events still open when it was written go to the next run
    read = saved["numbers"]["hv"][0]
    assert 2 * session_unattributed.MAX_LISTED < read <= 3 * session_unattributed.MAX_LISTED
    assert [item["number"] for item in saved["listed"][0]] == list(range(read - session_unattributed.MAX_LISTED + 1,
                                                                         read + 1))


def _two_nodes(count):
    """Two nodes in one file, flooding at once."""
    one, two = flood(count, node="hv01"), flood(count, per_second=7, node="hv02", t=1710144000.3)
    return "".join(line + "\n" for line in sorted(one.lines + two.lines,
                                                  key=lambda line: line.split("audit(", 1)[1]))


@pytest.mark.parametrize("window", [{}, {"start": "1710144030.050"}, {"start": "1710144011.000", "end": "1710144029.3"}])
def test_every_way_of_reading_lists_the_same(tmp_path, monkeypatch, window):
    monkeypatch.setattr(session_unattributed, "MAX_LISTED", 40)
    data = _two_nodes(500).encode("utf-8")
    path = str(tmp_path / "audit.log")
    with open(path, "wb") as handle:
        handle.write(data)
    options = dict(OPTIONS, **window)
    full = run(paths=[path], **options)
    assert full["unattributed"]["avcs_not_listed"] > 0 and full["unattributed"]["avcs"]
    assert set(item["host"] for item in full["unattributed"]["avcs"]) <= {"hv01", "hv02"}
    with monkeypatch.context() as patch:
        patch.setattr(log_files, "CHUNK", 301)
        assert run(paths=[path], **options)["unattributed"] == full["unattributed"]
    state = str(tmp_path / "state.json")
    for cut in (len(data) // 7, len(data) // 2 + 3, len(data) - 200):
        again = resumed(run, path, data, cut, state, **options)
        assert again["checkpoint"]["used"]
        assert again["unattributed"] == full["unattributed"], "cut after byte %d" % cut
        assert again["summary"] == full["summary"]
