# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Attributes shared by the collection's modules.  Private to the collection."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):

    # Standard documentation fragment
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
"""

    # For modules with an action plugin of the same name (fleet_report_collect, fleet_report_write)
    ACTION = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
  async:
    description: Supports being used with the C(async) keyword.
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
"""

    PLATFORM = r"""
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
"""

    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""

    FACTS = r"""
options: {}
attributes:
  facts:
    description: Action returns an C(ansible_facts) dictionary that will update existing host facts.
"""

    FACTS_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
  facts:
    support: full
"""

    # Options shared by guest_session_info and guest_session_facts
    LOG_OPTIONS = r"""
options:
  paths:
    description:
      - Audit log files to read, oldest first. Plain text or gzip-compressed (detected by content).
      - Records may be RAW or ENRICHED, with or without a C(node=) prefix.
      - When empty, the module reads the auditd log set like C(ausearch) does - the C(log_file) of
        O(auditd_conf) (default C(/var/log/audit/audit.log)) and its rotated siblings C(.1), C(.2), ...
        (also C(.N.gz)), oldest first, so sessions continue across files.
      - The logs are readable by root only on most systems; use C(become=true).
    type: list
    elements: path
    default: []
  auditd_conf:
    description:
      - auditd configuration file whose C(log_file) setting names the live log when O(paths) is empty.
    type: path
    default: /etc/audit/auditd.conf
  start:
    description:
      - Select the sessions that were running at or after this time (sessions that overlap the window).
        A selected session keeps its real start, even when that lies before O(start).
      - "Accepts the auvirt keywords V(now), V(recent), V(today), V(yesterday), V(this-week),
        V(week-ago), V(this-month), V(this-year) and V(boot), on the host's clock and local time;
        ISO 8601 dates and date-times (V(2024-03-11), V(2024-03-11T08:30:00+01:00)); epoch seconds;
        and relative times V(-7d), V(-12h), V(-30m)."
      - See C(docs/time-windows.md) in the collection for every form and its exact meaning.
    type: str
  end:
    description:
      - Select the sessions that were running at or before this time. Same forms as O(start); a date
        without a time means the end of that day.
    type: str
  vm:
    description:
      - Only guests with one of these names (exact, case-sensitive, after hex decoding).
    type: list
    elements: str
    default: []
  uuid:
    description:
      - Only guests with one of these UUIDs (case-insensitive). Invalid UUIDs fail the task.
    type: list
    elements: str
    default: []
  host:
    description:
      - Name given to records that carry no C(node=) prefix.
      - Defaults to the host name of the machine the module runs on.
    type: str
  checkpoint:
    description:
      - A file on the managed node where the module keeps where it stopped (the log file's identity - inode
        and a fingerprint of its first bytes - the offset, and the open sessions). The next run reads only
        what is new, also across a log rotation in between or during the run (the identity is that of the file
        that was read), and returns the same sessions as a full read.
      - A checkpoint that does not match the logs (log replaced or truncated, other O(host), raw log lines
        asked for when the checkpoint was written without them) is detected; then all logs are read and a
        warning says why. The file is replaced atomically; if it cannot be written the result is still
        returned, with a warning, and the previous checkpoint stays as it was.
      - Ended sessions are kept in it as compressed text, decoded only when a run returns their details.
      - Not written in check mode. A last line of the live log that auditd is still writing is left for the next
        run (a rotated file is complete, so its last line is read).
      - A checkpoint is used only when it can be trusted; otherwise all logs are read, with a warning, and a
        new checkpoint is written. It must be a regular file (a FIFO or a device at this path is neither read
        nor replaced) of at most 128 MiB, owned by the user the module runs as and not writable by group or
        others, and its content must match the SHA-256 checksum in its first line (an edited or damaged file
        is detected) and have the expected shape.
    type: path
"""
