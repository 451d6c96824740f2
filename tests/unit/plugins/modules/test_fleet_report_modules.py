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

from ansible_collections.virtaudit.auvirt.plugins.modules import fleet_report_collect, fleet_report_dest_info, fleet_report_files

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


def _collect_args(textfile, **extra):
    args = {"results_dir": "/unused", "paths": [os.path.join(DEMO, "logs", "hv02.log")], "host": "hv02", "inventory_host": "hv02",
            "use_auditctl": False, "proc_path": os.path.join(DEMO, "hosts", "hv02", "proc"),
            "libvirt_config_paths": [os.path.join(DEMO, "hosts", "hv02", "etc", "libvirt", "virtqemud.conf")],
            "prometheus_textfile": textfile}
    args.update(extra)
    return args


def test_collect_writes_the_prometheus_textfile(run_module, tmp_path):
    path = tmp_path / "virtaudit.prom"
    kind, result = run_module(fleet_report_collect, _collect_args(str(path)))
    assert kind == "exit" and result["changed"] is False
    assert result["prometheus_textfile"] == {"path": str(path), "written": True, "msg": None}
    text = path.read_text()
    assert 'virtaudit_sessions{host="hv02",state="crashed"} 1' in text
    assert 'virtaudit_collect_success{host="hv02"} 1' in text and "virtaudit_last_record_age_seconds" in text
    assert 'virtaudit_auditd_running{host="hv02"} 0' in text  # the demo's hv02 has no auditd process
    assert oct(os.stat(str(path)).st_mode & 0o777) == "0o644"
    assert sorted(os.listdir(str(tmp_path))) == ["virtaudit.prom"]  # no temporary file left


def test_collect_writes_no_textfile_in_check_mode(run_module, tmp_path):
    path = tmp_path / "virtaudit.prom"
    kind, result = run_module(fleet_report_collect, _collect_args(str(path)), check_mode=True)
    assert kind == "exit" and result["prometheus_textfile"]["written"] is False and not path.exists()


def test_collect_warns_when_the_textfile_directory_is_missing(run_module, tmp_path, monkeypatch):
    from ansible.module_utils import basic
    said = []
    monkeypatch.setattr(basic.AnsibleModule, "warn", lambda self, text: said.append(text))
    kind, result = run_module(fleet_report_collect, _collect_args(str(tmp_path / "no-such-dir" / "virtaudit.prom")))
    assert kind == "exit" and result["prometheus_textfile"]["written"] is False
    assert "no-such-dir" in result["prometheus_textfile"]["msg"]
    assert len(said) == 1 and "prometheus_textfile" in said[0] and "node_exporter" in said[0]
    assert result["sessions"]  # the result is still there


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


def test_collect_creates_the_checkpoint_directory_and_goes_on_from_it(run_module, tmp_path):
    checkpoint = tmp_path / "state" / "fleet_report-hv02.checkpoint"
    args = _collect_args(None, checkpoint=str(checkpoint))
    del args["prometheus_textfile"]
    kind, result = run_module(fleet_report_collect, args, check_mode=True)
    assert kind == "exit" and not (tmp_path / "state").exists()
    kind, first = run_module(fleet_report_collect, args)
    assert kind == "exit" and first["checkpoint"]["saved"] is True and first["checkpoint"]["used"] is False
    assert oct(os.stat(str(tmp_path / "state")).st_mode & 0o777) == "0o700"
    kind, second = run_module(fleet_report_collect, args)
    assert second["checkpoint"]["used"] is True
    assert [s["session_id"] if "session_id" in s else (s["start_id"], s["state"]) for s in second["sessions"]] == \
        [s["session_id"] if "session_id" in s else (s["start_id"], s["state"]) for s in first["sessions"]]


# ------------------------------------------ the report directory and the previous report --

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")


def _previous(dest, sessions=(("aaaa000000000001", "running"),), generated_epoch=1772496000.0):
    os.makedirs(str(dest), exist_ok=True)
    report = {"schema_version": 1, "generated": "2026-03-03T00:00:00.000+00:00", "generated_epoch": generated_epoch,
              "window": {"start_epoch": 1.0e9, "end_epoch": None},
              "sessions": [{"fingerprint": fp, "state": st, "name": "g"} for fp, st in sessions],
              "findings": [{"fingerprint": "f000000000000001", "rule": "guest_crashed", "severity": "high", "title": "Guest crashed",
                            "host": "hv1", "guest": "g", "uuid": None, "time": None, "epoch": None, "last_time": None,
                            "last_epoch": None, "waived": False}],
              "hosts": [{"name": "hv1", "status": "ok"}], "changes": None}
    path = os.path.join(str(dest), "fleet_report.json")
    with open(path, "w") as handle:
        json.dump(report, handle)
    os.chmod(path, 0o640)
    return path


def test_dest_info_reads_the_digest_of_the_previous_report(run_module, tmp_path):
    kind, result = run_module(fleet_report_dest_info, {"dest": str(tmp_path / "none")}, check_mode=True)
    assert kind == "exit" and result["changed"] is False and result["dest"]["exists"] is False
    assert result["previous"]["found"] is False and result["previous"]["digest"] is None
    _previous(tmp_path / "report")
    kind, result = run_module(fleet_report_dest_info, {"dest": str(tmp_path / "report")})
    assert result["dest"]["exists"] is True and result["dest"]["foreign"] is False
    assert result["previous"]["found"] is True and result["previous"]["path"] == str(tmp_path / "report" / "fleet_report.json")
    digest = result["previous"]["digest"]
    assert digest["sessions"] == {"aaaa000000000001": "running"} and digest["hosts"] == {"hv1": "ok"}
    assert digest["findings"]["f000000000000001"]["rule"] == "guest_crashed"


def test_dest_info_does_not_trust_a_previous_report_others_may_write(run_module, tmp_path):
    path = _previous(tmp_path / "report")
    os.chmod(path, 0o666)
    kind, result = run_module(fleet_report_dest_info, {"dest": str(tmp_path / "report")})
    assert kind == "exit" and result["previous"]["found"] is False and "not trusted" in result["previous"]["msg"]


@as_root
def test_dest_info_names_a_report_directory_of_another_user(run_module, tmp_path):
    dest = tmp_path / "report"
    _previous(dest)
    os.chown(str(dest), NOBODY, NOBODY)
    kind, result = run_module(fleet_report_dest_info, {"dest": str(dest)})
    assert result["dest"]["foreign"] is True and result["dest"]["uid"] == NOBODY and result["dest"]["can_take_over"] is True
    # what another user's directory holds is not compared with
    assert result["previous"]["found"] is False and "belongs to" in result["previous"]["msg"]


@as_root
def test_files_take_over_a_report_directory_of_another_user(run_module, tmp_path):
    dest = tmp_path / "report"
    dest.mkdir()
    os.chown(str(dest), NOBODY, NOBODY)
    os.chmod(str(dest), 0o777)
    src = archive(tmp_path, {"fleet_report.html": b"<p>1</p>"})
    kind, result = run_module(fleet_report_files, {"src": src, "dest": str(dest)}, check_mode=True)
    assert kind == "exit" and result["taken_over"] == [{"path": str(dest), "uid": NOBODY, "owner": "nobody"}]
    assert os.stat(str(dest)).st_uid == NOBODY  # check mode changes nothing
    kind, result = run_module(fleet_report_files, {"src": src, "dest": str(dest)})
    assert kind == "exit" and result["taken_over"] == [{"path": str(dest), "uid": NOBODY, "owner": "nobody"}]
    info = os.stat(str(dest))
    assert info.st_uid == 0 and oct(info.st_mode & 0o777) == "0o750"


def test_files_refuse_a_report_directory_of_another_user_when_not_root(run_module, tmp_path, monkeypatch):
    dest = tmp_path / "report"
    dest.mkdir()
    mine = os.geteuid()
    monkeypatch.setattr(fleet_report_files.os, "geteuid", lambda: mine + 4242)
    kind, result = run_module(fleet_report_files, {"src": archive(tmp_path, {"a.html": b"a"}), "dest": str(dest)})
    assert kind == "fail" and "belongs to uid %d" % mine in result["msg"] and "refusing" in result["msg"]
    assert os.listdir(str(dest)) == []


def test_dest_info_never_offers_to_take_over_a_symbolic_link(run_module, tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir()
    dest = tmp_path / "report"
    dest.symlink_to(target)
    kind, result = run_module(fleet_report_dest_info, {"dest": str(dest)})
    assert kind == "exit" and result["dest"]["exists"] is True and result["dest"]["symlink"] is True
    assert result["dest"]["foreign"] is False and result["dest"]["can_take_over"] is False
    mine = os.geteuid()
    monkeypatch.setattr(fleet_report_dest_info.os, "geteuid", lambda: mine + 4242)
    kind, result = run_module(fleet_report_dest_info, {"dest": str(dest)})
    assert result["dest"]["foreign"] is True and result["dest"]["uid"] == mine and result["dest"]["can_take_over"] is False


def test_files_refuse_a_symbolic_link_of_another_user(run_module, tmp_path, monkeypatch):
    target = tmp_path / "elsewhere"
    target.mkdir()
    dest = tmp_path / "report"
    dest.symlink_to(target)
    src = archive(tmp_path, {"a.html": b"a"})
    kind, result = run_module(fleet_report_files, {"src": src, "dest": str(dest)})
    assert kind == "exit" and result["taken_over"] == [] and os.listdir(str(target)) == ["a.html"]
    mine = os.geteuid()
    monkeypatch.setattr(fleet_report_files.os, "geteuid", lambda: mine + 4242)
    kind, result = run_module(fleet_report_files, {"src": archive(tmp_path, {"b.html": b"b"}), "dest": str(dest)})
    assert kind == "fail" and "symbolic link that belongs to uid %d" % mine in result["msg"]
    assert os.listdir(str(target)) == ["a.html"]
