# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""fleet_report_collect (the host side) and fleet_report_files (installing a report all or none)."""
from __future__ import absolute_import, division, print_function

import io
import json
import os
import tarfile

import pytest

from ansible_collections.virtaudit.auvirt.plugins.modules import fleet_report_collect, fleet_report_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
DEMO = os.path.join(ROOT, "demo")


def test_collect_returns_sessions_with_evidence_and_the_audit_configuration(run_module):
    kind, result = run_module(fleet_report_collect, {
        "results_dir": "/unused", "paths": [os.path.join(DEMO, "logs", "hv01.log")], "host": "hv01", "use_auditctl": False,
        "proc_path": os.path.join(DEMO, "hosts", "hv01", "proc"),
        "libvirt_config_paths": [os.path.join(DEMO, "hosts", "hv01", "etc", "libvirt", "virtqemud.conf")]}, check_mode=True)
    assert kind == "exit" and result["changed"] is False
    build = [s for s in result["sessions"] if s["name"] == "build01"][0]
    assert build["evidence"]["attaches"]["count"] == 2 and "resources" not in build and "events" not in build
    assert result["audit"]["auditd_running"] is True and result["audit"]["libvirt"][0]["exists"] is True
    assert len(json.dumps(result)) < 20000


def test_collect_without_the_audit_check_and_with_all_events(run_module):
    kind, result = run_module(fleet_report_collect, {
        "results_dir": "/unused", "paths": [os.path.join(DEMO, "logs", "hv02.log")], "host": "hv02",
        "check_audit_config": False, "all_events": True})
    assert kind == "exit" and result["audit"] is None
    assert all("resources" in s and "evidence" in s for s in result["sessions"])


def test_collect_fails_on_a_missing_log(run_module):
    kind, result = run_module(fleet_report_collect, {"results_dir": "/unused", "paths": ["/nonexistent/audit.log"], "host": "x"})
    assert kind == "fail" and "cannot read audit log" in result["msg"]


def archive(tmp_path, files, name="report.tar"):
    path = str(tmp_path / name)
    with tarfile.open(path, "w") as tar:
        for member, data in files.items():
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_files_installs_prunes_and_leaves_unchanged_files_alone(run_module, tmp_path):
    dest = tmp_path / "dest"
    src = archive(tmp_path, {"fleet_report.html": b"<p>1</p>", "fleet_report_hosts/a.html": b"a", "fleet_report_hosts/b.html": b"b"})
    kind, result = run_module(fleet_report_files, {"src": src, "dest": str(dest), "prune": ["fleet_report_hosts"]})
    assert kind == "exit" and result["changed"] is True and len(result["written"]) == 3
    assert oct(os.stat(str(dest / "fleet_report.html")).st_mode & 0o777) == "0o640"
    assert oct(os.stat(str(dest / "fleet_report_hosts")).st_mode & 0o777) == "0o750"
    again = archive(tmp_path, {"fleet_report.html": b"<p>1</p>", "fleet_report_hosts/a.html": b"a2"}, "again.tar")
    kind, result = run_module(fleet_report_files, {"src": again, "dest": str(dest), "prune": ["fleet_report_hosts"]}, check_mode=True)
    assert result["changed"] is True and result["written"] == [str(dest / "fleet_report_hosts" / "a.html")]
    assert result["removed"] == [str(dest / "fleet_report_hosts" / "b.html")]
    assert (dest / "fleet_report_hosts" / "b.html").exists() and (dest / "fleet_report_hosts" / "a.html").read_bytes() == b"a"
    kind, result = run_module(fleet_report_files, {"src": again, "dest": str(dest), "prune": ["fleet_report_hosts"], "remove_src": True})
    assert result["changed"] is True and not (dest / "fleet_report_hosts" / "b.html").exists()
    assert (dest / "fleet_report_hosts" / "a.html").read_bytes() == b"a2" and not os.path.exists(again)
    kind, result = run_module(fleet_report_files, {"src": archive(tmp_path, {"fleet_report.html": b"<p>1</p>"}, "3.tar"),
                                                   "dest": str(dest)})
    assert result["changed"] is False and result["written"] == []


@pytest.mark.parametrize("member", ["../escape.html", "/etc/passwd", "a/../../x"])
def test_files_refuses_paths_outside_dest(run_module, tmp_path, member):
    kind, result = run_module(fleet_report_files, {"src": archive(tmp_path, {member: b"x"}), "dest": str(tmp_path / "dest")})
    assert kind == "fail" and "refusing archive member" in result["msg"]
    assert not (tmp_path / "escape.html").exists()


def test_files_refuses_links(run_module, tmp_path):
    path = str(tmp_path / "links.tar")
    with tarfile.open(path, "w") as tar:
        info = tarfile.TarInfo("fleet_report.html")
        info.type = tarfile.SYMTYPE
        info.linkname = "/etc/passwd"
        tar.addfile(info)
    kind, result = run_module(fleet_report_files, {"src": path, "dest": str(tmp_path / "dest")})
    assert kind == "fail" and "regular files" in result["msg"]


def test_files_failure_leaves_the_previous_files_whole(run_module, tmp_path, monkeypatch):
    dest = tmp_path / "dest"
    run_module(fleet_report_files, {"src": archive(tmp_path, {"a.html": b"old a", "b.html": b"old b"}), "dest": str(dest)})
    real_mkstemp = fleet_report_files.tempfile.mkstemp
    calls = []

    def mkstemp(*args, **kwargs):
        calls.append(kwargs.get("prefix"))
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real_mkstemp(*args, **kwargs)

    # the second file cannot be written: no file is replaced, no temporary file stays
    monkeypatch.setattr(fleet_report_files.tempfile, "mkstemp", mkstemp)
    kind, result = run_module(fleet_report_files, {"src": archive(tmp_path, {"a.html": b"new a", "b.html": b"new b"}, "new.tar"),
                                                   "dest": str(dest)})
    assert kind == "fail" and "No space left on device" in result["msg"]
    assert (dest / "a.html").read_bytes() == b"old a" and (dest / "b.html").read_bytes() == b"old b"
    assert sorted(os.listdir(str(dest))) == ["a.html", "b.html"]
