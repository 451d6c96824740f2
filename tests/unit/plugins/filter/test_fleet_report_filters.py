# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The filter plugin: the report window, errors as AnsibleFilterError."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.virtaudit.auvirt.plugins.filter import fleet_report as plugin


def test_filters_are_registered():
    assert set(plugin.FilterModule().filters()) == {"fleet_report_window"}


def test_window():
    window = plugin.fleet_report_window("2026-03-02", "2026-03-02", "UTC", "2026-03-03T00:00:00Z")
    assert window["module_start"] == "1772409600.000000" and window["now"] == "2026-03-03T00:00:00.000+00:00"
    assert plugin.fleet_report_window("", None)["start_epoch"] is None


def test_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="fleet_report_start"):
        plugin.fleet_report_window("someday")
    with pytest.raises(AnsibleFilterError, match="unknown time zone"):
        plugin.fleet_report_window("", "", "Nowhere/Nothing")
