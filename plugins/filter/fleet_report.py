# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter of the fleet report: the report window, resolved once on the controller.

* ``fleet_report_window`` - human window input -> epoch bounds (fleet_time.parse_window)

Everything else of the report happens in the action plugins
fleet_report_collect and fleet_report_write, in Python, away from
templating.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time


def _text(value):
    """A plain str (or None) of a templated scalar."""
    return None if value is None else str(value)


def fleet_report_window(start=None, end=None, timezone="UTC", now=None):
    """``{start_epoch, end_epoch, module_start, module_end, ...}`` of the report window."""
    try:
        return fleet_time.parse_window(_text(start), _text(end), _text(timezone) or "UTC", _text(now))
    except (ValueError, RuntimeError) as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """Fleet report filters."""

    def filters(self):
        return {
            "fleet_report_window": fleet_report_window,
        }
