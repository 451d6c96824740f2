# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``HostIndex``: the fleet model grouped by host once (sessions, findings, migrations, host events, the
node names each inventory host read), with the report's time axis and a cache of times as text, so
that every host page costs what it shows.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time
from ansible_collections.virtaudit.auvirt.plugins.plugin_utils.fleet_timeline import timeline_axis


class HostIndex(object):
    """The fleet model grouped by host, built once for the host pages and the hosts table."""

    def __init__(self, fleet, timezone="UTC"):
        self.fleet = fleet
        self.tzinfo = fleet_time.get_timezone(timezone)
        self._times = {}
        self.axis = timeline_axis(fleet, self.tzinfo)
        self.sessions = {}
        for session in fleet["sessions"]:
            self.sessions.setdefault(session.get("inventory_host") or session["host"], []).append(session)
        self.hosts = dict((h["name"], h) for h in fleet["hosts"])
        # node name -> inventory host (a node's records may be read on another inventory host)
        self.node_of = {}
        for name, items in self.sessions.items():
            for session in items:
                self.node_of.setdefault(session["host"], name)
        for host in fleet["hosts"]:
            self.node_of.setdefault(host["name"], host["name"])
            for node in host.get("node_names") or []:
                self.node_of.setdefault(node, host["name"])
        self.findings = {}
        for item in fleet["findings"]:
            owner = self.node_of.get(item.get("host") or "", item.get("host"))
            if owner is not None:
                self.findings.setdefault(owner, []).append(item)
        self.migrations = {}
        for item in fleet["migrations"]:
            for end in (item["source_host"], item["destination_host"]):
                owner = self.node_of.get(end, end)
                bucket = self.migrations.setdefault(owner, [])
                if not bucket or bucket[-1] is not item:
                    bucket.append(item)
        self.host_events = {}
        for event in fleet.get("host_events") or []:
            owner = event.get("inventory_host") or self.node_of.get(event.get("host"), event.get("host"))
            self.host_events.setdefault(owner, []).append(event)

    def when(self, epoch):
        """The time as text; a page shows most times twice (table and timeline)."""
        text = self._times.get(epoch)
        if text is None:
            if len(self._times) > 100000:
                self._times.clear()
            text = self._times[epoch] = fleet_time.format_time(epoch, self.tzinfo)
        return text
