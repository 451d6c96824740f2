# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run the collection's modules in-process, the way Ansible runs them.

``run_module(module, args)`` hands ``args`` to ``AnsibleModule`` like the
controller does (JSON in ``ansible.module_utils.basic._ANSIBLE_ARGS``, plus
the serialization profile that ansible-core 2.19 needs and older releases do
not have), calls ``module.main()`` and returns ``("exit", result)`` or
``("fail", result)``.  Works with ansible-core 2.11 (Python 3.6) to 2.19.
"""
from __future__ import absolute_import, division, print_function

import json
import os

import pytest

from ansible.module_utils import basic

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
SAMPLES = os.path.join(ROOT, "tests", "fixtures", "samples")


class _Exit(Exception):
    def __init__(self, kind, result):
        super(_Exit, self).__init__(kind)
        self.kind = kind
        self.result = result


def _exit_json(self, **kwargs):
    kwargs.setdefault("changed", False)
    raise _Exit("exit", kwargs)


def _fail_json(self, msg=None, **kwargs):
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise _Exit("fail", kwargs)


@pytest.fixture
def run_module(monkeypatch):
    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

    def run(module, args, check_mode=False):
        payload = dict(args)
        payload["_ansible_check_mode"] = check_mode
        payload.setdefault("_ansible_remote_tmp", "/tmp")
        payload.setdefault("_ansible_keep_remote_files", False)
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS",
                            json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode("utf-8"))
        if hasattr(basic, "_ANSIBLE_PROFILE"):
            monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        try:
            module.main()
        except _Exit as done:
            return done.kind, done.result
        raise AssertionError("%s.main() returned without exit_json/fail_json" % module.__name__)

    return run


@pytest.fixture
def sample():
    def path(name):
        full = os.path.join(SAMPLES, name)
        assert os.path.isfile(full), "fixture missing: %s" % full
        return full
    return path
