# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""File names inside the fleet report: the directory of the host pages and, per host, its page and
its detail file, safe for any inventory name.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import hashlib
import re

HOSTS_DIR = "fleet_report_hosts"
_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")


def host_page(name):
    """Relative path of a host's page: ``fleet_report_hosts/<safe name>.html`` (a hash keeps odd names apart)."""
    safe = _UNSAFE_FILE.sub("_", str(name))
    if safe != str(name) or safe.startswith(".") or not safe:
        safe = "%s-%s" % (safe.lstrip(".") or "host", hashlib.sha256(str(name).encode("utf-8", "surrogateescape")).hexdigest()[:8])
    return "%s/%s.html" % (HOSTS_DIR, safe)


def host_details_file(name):
    """Relative path of a host's detail file (all_events): ``fleet_report_hosts/<safe name>.events.json``."""
    return host_page(name)[:-len(".html")] + ".events.json"
