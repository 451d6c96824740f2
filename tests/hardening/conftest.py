# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Set-up of the hardening suite (docs/hardening.md).

* makes the collection importable as ``ansible_collections.virtaudit.auvirt``
  (a link farm in a private temporary directory, as tests/unit does);
* registers the Hypothesis profiles: ``share`` (the part of ``make test``,
  small budgets, no example database) and ``fuzz`` (``make fuzz``: the
  budgets times ``HARDENING_FUZZ_FACTOR``); ``HARDENING_PROFILE`` picks one;
* counts every generated case and prints the total at the end of the run;
* ``run_module`` runs a module's ``main()`` in-process the way Ansible does.
"""
from __future__ import absolute_import, division, print_function

import json
import os
import sys
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


sys.path.insert(0, os.path.join(ROOT, "tests"))

from collection_path import ensure_importable  # noqa: E402  pylint: disable=wrong-import-position

ensure_importable("virtaudit-hardening-")

if HERE not in sys.path:
    sys.path.insert(0, HERE)

import hardening_util  # noqa: E402  pylint: disable=wrong-import-position

from hypothesis import HealthCheck, Phase, settings  # noqa: E402  pylint: disable=wrong-import-position

_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                           HealthCheck.function_scoped_fixture],
    print_blob=True,
    # the explain phase re-runs a failing case hundreds of times: too slow for logs of 1 MB
    phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink),
)
settings.register_profile("share", database=None, **_COMMON)
settings.register_profile("fuzz", **_COMMON)
settings.load_profile(hardening_util.PROFILE)


def pytest_report_header(config):  # pylint: disable=unused-argument
    return "hardening: profile %s, budget factor %d" % (hardening_util.PROFILE, hardening_util.FACTOR)


def pytest_terminal_summary(terminalreporter):
    counts = hardening_util.CASES
    total = sum(counts.values())
    terminalreporter.write_sep("=", "hardening: %d generated cases run (profile %s)" % (total, hardening_util.PROFILE))
    for name in sorted(counts):
        terminalreporter.write_line("  %8d  %s" % (counts[name], name))
    report = os.environ.get("HARDENING_COUNT_FILE")
    if report:
        with open(report, "w") as handle:
            json.dump({"profile": hardening_util.PROFILE, "total": total, "tests": counts}, handle, indent=1, sort_keys=True)


class _Exit(Exception):
    def __init__(self, kind, result):
        super(_Exit, self).__init__(kind)
        self.kind = kind
        self.result = result


def _exit_json(self, **kwargs):  # pylint: disable=unused-argument
    kwargs.setdefault("changed", False)
    raise _Exit("exit", kwargs)


def _fail_json(self, msg=None, **kwargs):  # pylint: disable=unused-argument
    kwargs["failed"] = True
    kwargs["msg"] = msg
    raise _Exit("fail", kwargs)


@pytest.fixture
def run_module(monkeypatch):
    """``run_module(module, args)`` -> ``("exit"|"fail", result)`` through AnsibleModule."""
    from ansible.module_utils import basic

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail_json)

    def run(module, args, check_mode=False):
        payload = dict(args)
        payload["_ansible_check_mode"] = check_mode
        payload.setdefault("_ansible_remote_tmp", tempfile.gettempdir())
        payload.setdefault("_ansible_keep_remote_files", False)
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", json.dumps({"ANSIBLE_MODULE_ARGS": payload}).encode("utf-8"))
        if hasattr(basic, "_ANSIBLE_PROFILE"):
            monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy")
        try:
            module.main()
        except _Exit as done:
            return done.kind, done.result
        raise AssertionError("%s.main() returned without exit_json/fail_json" % module.__name__)

    return run
