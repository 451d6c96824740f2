# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""pair_migrations: the rule that pairs the two halves of a live migration."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.migrations import pair_migrations

U = "61616161-0000-4000-8000-000000000001"


def s(host, start=None, end=None, start_reason="booted", stop_reason=None, state="stopped", uuid=U):
    return {"host": host, "uuid": uuid, "state": state, "start_epoch": start, "end_epoch": end,
            "start_reason": start_reason, "stop_reason": stop_reason}


def test_pairs_the_closest_incoming_start_on_another_host():
    out = s("a", 0, 100, stop_reason="migrated")
    early = s("b", 50, 300, start_reason="migrated")
    close = s("c", 99, None, start_reason="migrated", state="running")
    pairs, sources, destinations = pair_migrations([out, early, close])
    assert pairs == [(out, close)] and sources == [] and destinations == [early]


def test_slack_after_the_stop_and_not_before_the_source_started():
    out = s("a", 1000, 2000, stop_reason="migrated")
    late = s("b", 2000 + 301, None, start_reason="migrated", state="running")
    before = s("c", 900, None, start_reason="migrated", state="running")
    assert pair_migrations([out, late, before]) == ([], [out], [late, before])
    skewed = s("b", 2000 + 300, None, start_reason="migrated", state="running")
    assert pair_migrations([out, skewed])[0] == [(out, skewed)]


def test_same_host_failed_start_and_other_uuid_are_never_partners():
    out = s("a", 0, 100, stop_reason="migrated")
    same_host = s("a", 99, None, start_reason="migrated", state="running")
    failed = s("b", 99, 99, start_reason="migrated", state="failed")
    other = s("b", 99, None, start_reason="migrated", state="running", uuid="62626262-0000-4000-8000-000000000002")
    pairs, sources, destinations = pair_migrations([out, same_host, failed, other])
    assert pairs == [] and sources == [out] and destinations == [same_host, other]


def test_a_guest_migrated_back_and_forth_pairs_each_move_once():
    first = s("a", 0, 100, stop_reason="migrated")
    there = s("b", 99, 200, start_reason="migrated", stop_reason="migrated")
    back = s("a", 199, None, start_reason="migrated", state="running")
    pairs, sources, destinations = pair_migrations([first, there, back])
    assert pairs == [(first, there), (there, back)] and sources == [] and destinations == []
