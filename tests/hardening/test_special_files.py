# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Special files at every path option of every module (docs/hardening.md, "Special files").

A FIFO blocks whoever opens it until a writer comes, /dev/zero never ends,
a socket cannot be opened at all.  Each module is run the way Ansible runs
it (its own process, arguments from a file) with a time limit and a memory
limit: it must finish, and either fail naming the path or warn about it -
never hang, never be killed, never print a traceback.  Issue: a FIFO at
``checkpoint`` or ``auditd_conf`` hung the module; ``auditd_conf:
/dev/zero`` was OOM-killed at 21.7 GB.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import resource
import socket
import subprocess
import sys

import pytest

from hardening_util import SAMPLES

from ansible_collections.virtaudit.auvirt.plugins.modules import audit_config_info, guest_session_facts, guest_session_info

import ansible_collections

LOG = os.path.join(SAMPLES, "sessions-selinux.log")
KINDS = ("fifo", "zero", "directory", "socket", "link-to-zero")
MEMORY_LIMIT = 1 << 30  # 1 GiB of address space: far above what a module needs here


def special(tmp_path, kind):
    path = str(tmp_path / ("special-" + kind))
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "zero":
        return "/dev/zero"
    elif kind == "directory":
        os.mkdir(path)
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path)
        special.sockets.append(server)
    else:
        os.symlink("/dev/zero", path)
    return path


special.sockets = []


def _limit():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_module(module, args, tmp_path):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_remote_tmp=str(tmp_path))}))
    top = list(ansible_collections.__path__)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(p) for p in top] + sys.path))
    proc = subprocess.Popen([sys.executable, module.__file__, str(args_file)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, preexec_fn=_limit)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail("%s hung for 60 s on %r" % (module.__name__, args))
    assert b"Traceback" not in out + err, (out + err).decode("utf-8", "replace")
    assert proc.returncode in (0, 1), (proc.returncode, err)
    return json.loads(out.decode("utf-8"))


CASES = [
    (guest_session_info, "paths"), (guest_session_info, "auditd_conf"), (guest_session_info, "checkpoint"),
    (guest_session_facts, "paths"), (guest_session_facts, "auditd_conf"), (guest_session_facts, "checkpoint"),
    (audit_config_info, "libvirt_config_paths"),
]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("module, option", CASES, ids=["%s-%s" % (m.__name__.rsplit(".", 1)[-1], o) for m, o in CASES])
def test_special_file_at_a_path_option(tmp_path, module, option, kind):
    path = special(tmp_path, kind)
    if module is audit_config_info:
        args = {"libvirt_config_paths": [path], "use_auditctl": False}
    elif option == "paths":
        args = {"paths": [path]}
    elif option == "auditd_conf":
        args = {"auditd_conf": path}
    else:
        args = {"paths": [LOG], "checkpoint": path}
    result = run_module(module, args, tmp_path)
    said = json.dumps(result)
    if result.get("failed"):
        assert path in result["msg"], result["msg"]
        assert option != "checkpoint", "a checkpoint that cannot be used is a warning, not a failure"
    elif module is audit_config_info:
        assert result["libvirt"][0]["exists"] is False and result["libvirt"][0]["error"], said
    elif module is guest_session_facts and option == "paths":
        # a facts module does not fail fact gathering: empty facts saying why
        facts = result["ansible_facts"]["virt_sessions"]
        assert facts["status"] == "unreadable" and path in facts["message"], said
    else:
        # ansible-core 2.19 returns warnings as structured summaries, older versions as text
        assert option == "checkpoint" and path in json.dumps(result.get("warnings", [])), said
        if module is guest_session_info:
            # a link is replaced by the new checkpoint (never written through); anything else is left alone
            assert result["checkpoint"]["saved"] is (kind == "link-to-zero"), said
    if kind in ("fifo", "directory", "socket"):
        assert os.path.exists(path) and not os.path.isfile(path), "the %s was replaced" % kind
    assert os.path.exists("/dev/zero") and not os.path.isfile("/dev/zero")
