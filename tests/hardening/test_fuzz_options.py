# -*- coding: utf-8 -*-
# Copyright: virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module options from an untrusted survey or inventory: any ``start``/``end``
text, any ``vm`` and ``uuid`` values.  run() either answers or raises
ValueError; the modules either exit or fail with a message - never a
traceback."""
from __future__ import absolute_import, division, print_function

import os

from hypothesis import given, settings, strategies as st

from hardening_util import SAMPLES, budget, check_result, count, engine

from ansible_collections.virtaudit.auvirt.plugins.modules import guest_session_info

LOG = os.path.join(SAMPLES, "sessions-selinux.log")
WORDS = ["now", "recent", "today", "yesterday", "this-week", "week-ago", "this-month", "this-year", "boot",
         "-7d", "+1h", "7d", "2024-03-11", "2024-03-11T08:00:00Z", "2024-03-11 08:00", "03/11/24", "03/11/2024",
         "08:00", "08:00:00", "1710144000", "1710144000.5", "99999999999999999999", "-1", "2024-02-30", "24:00",
         "T", "Z", "+00:00", "+99:99", "1e400", "nan", "inf", "\x00", "\u2028", "\xe9t\xe9"]
when = st.one_of(st.none(), st.text(max_size=40), st.sampled_from(WORDS),
                 st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join))
values = st.lists(st.one_of(st.text(max_size=40), st.sampled_from(["db01", "5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b",
                                                                   "5A8E4F3C-1B2D-4E6F-8A9B-0C1D2E3F4A5B", ""])),
                  max_size=3)


@settings(max_examples=budget(200, 4000))
@given(when, when, values, values)
def test_any_options_answer_or_value_error(start, end, vm, uuid):
    count("options")
    try:
        result = engine([LOG], start=start, end=end, vm=vm, uuid=uuid)
    except ValueError as exc:
        assert str(exc)
        return
    check_result(result, [LOG])


@settings(max_examples=budget(60, 1000))
@given(when, when, values)
def test_module_with_any_options_exits_or_fails_cleanly(run_module, start, end, uuid):
    count("module_options")
    args = {"paths": [LOG], "host": "testhost", "uuid": uuid}
    if start is not None:
        args["start"] = start
    if end is not None:
        args["end"] = end
    kind, result = run_module(guest_session_info, args)
    assert kind in ("exit", "fail")
    if kind == "fail":
        assert result["msg"] and "Traceback" not in result["msg"]
    else:
        assert result["sources"][0]["path"] == LOG
