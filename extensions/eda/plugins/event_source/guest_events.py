# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""virtaudit.auvirt.guest_events - an ansible-rulebook event source: libvirt guest events from the audit log.

The work is done in plugins/module_utils/event_follower.py (polling,
de-duplication, state) and plugins/module_utils/guest_events.py (results
-> events); this file reads the options and runs the poll loop.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r"""
short_description: Libvirt guest events from the Linux audit log, as they happen
version_added: 0.1.0
description:
  - Follows the audit log of a libvirt hypervisor and puts one event on the queue for every guest start, stop,
    crash, failed start, host shutdown or crash under a running guest, live migration, SELinux/AppArmor denial,
    anomaly, lost audit records and audit daemon stop - seconds after auditd wrote it.
  - Denials and anomalies that concern no guest (a host service's, a container's) are events too, with
    C(details.attributed) false and no guest; of a flood of them, the newest 1000 between two polls are events
    and one C(avc_flood) (C(anomaly_flood)) event says how many more came (C(details.not_listed)).
  - Reads the log with the engine of M(virtaudit.auvirt.guest_session_info) and its O(checkpoint), so each poll
    reads only the new bytes, also across a log rotation.
  - A small state file beside the checkpoint (O(checkpoint) with C(.events) appended) remembers what was
    already put on the queue - a restart of the rulebook, a log rotation, or a checkpoint that no longer matches
    the logs (then all logs are read again) repeats no event and loses none.
  - Every event has C(kind), C(host), C(name) and C(uuid) of the guest, C(time) (ISO 8601 UTC) and C(epoch),
    C(session_id), C(reason), C(evidence) (the audit event ids it was built from), a stable C(fingerprint)
    and kind-specific C(details). C(docs/events.md) in the collection describes every kind and key.
  - Run ansible-rulebook on the hypervisor, as a user that can read the audit log (normally root), or on a host
    that receives the hypervisors' logs (several C(node=) names in one log are told apart by C(host)).
  - Needs only the Python standard library besides ansible-rulebook.
author:
  - virtaudit.auvirt maintainers (!UNKNOWN)
options:
  paths:
    description:
      - Audit log files to read, oldest first (plain or gzip-compressed).
      - When empty, the auditd log set named by O(auditd_conf) (its C(log_file) and the rotated C(.1), C(.2), ...).
    type: list
    elements: path
    default: []
  auditd_conf:
    description:
      - auditd configuration whose C(log_file) names the live log when O(paths) is empty.
    type: path
    default: /etc/audit/auditd.conf
  host:
    description:
      - Name given to records without a C(node=) prefix. Defaults to this machine's host name.
    type: str
  checkpoint:
    description:
      - Checkpoint file of the incremental reading (see O(virtaudit.auvirt.guest_session_info#module:checkpoint)).
      - The event state is kept beside it, in the same path with C(.events) appended. Both are written with mode
        0600 and are used only when owned by the user the rulebook runs as and not writable by others.
      - The directory must exist and be writable.
    type: path
    default: /var/lib/virtaudit/guest_events.checkpoint
  start:
    description:
      - Where events begin when there is no saved state yet (the first start, or after the state file was
        removed); with a saved state the source always goes on where it stopped.
      - V(now) puts only what is logged from now on on the queue. Any other value is a time in the forms of
        O(virtaudit.auvirt.guest_session_info#module:start) - V(-1h), V(today), V(boot), V(2024-03-11T08:00:00Z),
        epoch seconds - and what happened since then is put on the queue first.
      - Epoch seconds may also be given as a number (also a rulebook variable, which ansible-rulebook turns
        into a number when it looks like one).
    type: str
    default: now
  kinds:
    description:
      - The event kinds to put on the queue; all when empty.
      - The others are still recorded as seen, so adding a kind later does not bring back old events.
      - V(avc) brings V(avc_flood) with it and V(anomaly) V(anomaly_flood) (how many were not listed).
    type: list
    elements: str
    choices: [started, migrated_in, failed_start, stopped, migrated_out, crashed, down, lost, avc, anomaly,
              avc_flood, anomaly_flood, records_lost, audit_stopped]
    default: []
  interval:
    description:
      - Seconds between two polls of the log. A poll whose log has not changed costs one C(stat).
    type: float
    default: 2
  late_margin:
    description:
      - Seconds before the newest event within which events that are logged late are still put on the queue
        (records of several nodes in one log whose clocks differ, records written out of order).
      - Each poll selects the guest sessions that overlap this margin; a larger value costs a little more per poll.
    type: float
    default: 600
notes:
  - A guest crash is reported when libvirt logs the stop (C(reason=crashed) or C(failed)), or 30 seconds after
    the C(ANOM_ABEND) of its qemu when no stop follows; the C(anomaly) event of the abend comes at once.
  - A guest still running when the host shuts down is reported C(down) once the host is seen booting
    (the C(SYSTEM_SHUTDOWN) alone does not tell whether libvirt stopped it after all).
  - Delivery is at least once - the state is saved after the events of a poll were put on the queue, so a
    rulebook killed in between may see that poll's events again; the C(fingerprint) tells them apart.
seealso:
  - module: virtaudit.auvirt.guest_session_info
"""

EXAMPLES = r"""
# rulebook: react to a crashed guest within seconds
- name: Guest events of this hypervisor
  hosts: localhost
  sources:
    - virtaudit.auvirt.guest_events:
        checkpoint: /var/lib/virtaudit/guest_events.checkpoint
        kinds: [crashed, failed_start, down, records_lost, audit_stopped]
  rules:
    - name: A guest crashed
      condition: event.kind == "crashed"
      action:
        run_playbook:
          name: playbooks/collect_crash.yml
          extra_vars:
            guest: "{{ event.name }}"

# copied logs of several hypervisors, from the beginning of March
- name: Replay
  hosts: localhost
  sources:
    - virtaudit.auvirt.guest_events:
        paths:
          - /srv/audit/audit.log.1
          - /srv/audit/audit.log
        checkpoint: /srv/audit/events.checkpoint
        start: "2026-03-01"
        interval: 10
  rules:
    - name: Denials, of a guest or not
      condition: event.kind == "avc"
      action:
        print_event:
"""

import asyncio
import logging
import os
import sys

LOG = logging.getLogger("virtaudit.auvirt.guest_events")

# option: (type, default); docs/events.md and DOCUMENTATION describe them
OPTIONS = {
    "paths": ("list", []),
    "auditd_conf": ("path", "/etc/audit/auditd.conf"),
    "host": ("str", None),
    "checkpoint": ("path", "/var/lib/virtaudit/guest_events.checkpoint"),
    "start": ("str", "now"),
    "kinds": ("list", []),
    "interval": ("float", 2.0),
    "late_margin": ("float", 600.0),
}


def _collection():
    """The collection's module_utils, also when ansible-rulebook runs this file by path.

    ansible-rulebook finds the source in an installed collection and runs it
    with runpy; the collections directory is not on sys.path then.  This
    file lies at ``<dir>/ansible_collections/virtaudit/auvirt/extensions/
    eda/plugins/event_source/``, so ``<dir>`` is added when the import fails.
    """
    try:
        from ansible_collections.virtaudit.auvirt.plugins.module_utils import event_follower, session_report
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        top = here
        for dummy in range(7):
            top = os.path.dirname(top)
        if os.path.basename(os.path.dirname(os.path.dirname(here))) != "eda" or top in sys.path:
            raise
        sys.path.insert(0, top)
        from ansible_collections.virtaudit.auvirt.plugins.module_utils import event_follower, session_report
    return event_follower, session_report


def parse_options(args):
    """The options from the rulebook's ``args`` with defaults; ValueError naming a bad or unknown one."""
    args = dict(args or {})
    unknown = sorted(key for key in args if key not in OPTIONS and not str(key).startswith("eda_"))
    if unknown:
        raise ValueError("virtaudit.auvirt.guest_events: unknown option(s) %s; known: %s"
                         % (", ".join(unknown), ", ".join(sorted(OPTIONS))))
    out = {}
    for name, (kind, default) in OPTIONS.items():
        value = args.get(name)
        if value is None:
            out[name] = list(default) if isinstance(default, list) else default
            continue
        if kind == "list":
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
                raise ValueError("virtaudit.auvirt.guest_events: %s must be a list of strings, got %r" % (name, value))
            value = [os.path.expanduser(item) for item in value] if name == "paths" else list(value)
        elif kind == "float":
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError("virtaudit.auvirt.guest_events: %s must be a number of seconds, got %r"
                                 % (name, value))
            if not value >= (0.1 if name == "interval" else 0.0) or value == float("inf"):
                raise ValueError("virtaudit.auvirt.guest_events: %s must be %s, got %r"
                                 % (name, "at least 0.1" if name == "interval" else "a number >= 0", value))
        elif name == "start" and isinstance(value, (int, float)) and not isinstance(value, bool):
            # epoch seconds written as a number, or a rulebook variable that ansible-rulebook renders as one
            value = repr(value)
        elif not isinstance(value, str):
            raise ValueError("virtaudit.auvirt.guest_events: %s must be a string, got %r" % (name, value))
        elif kind == "path":
            value = os.path.expanduser(value)
        out[name] = value
    return out


def follower(options):
    """The EventFollower of parsed ``options`` (its warnings go to the log)."""
    event_follower = _collection()[0]
    return event_follower.EventFollower(
        options["checkpoint"], paths=options["paths"], auditd_conf=options["auditd_conf"], host=options["host"],
        kinds=options["kinds"], start=options["start"], late_margin=options["late_margin"],
        warn=lambda text: LOG.warning("virtaudit.auvirt.guest_events: %s", text))


async def main(queue, args):
    """Poll the audit log every ``interval`` seconds and put the new guest events on ``queue``.

    Bad options and a log that cannot be read at the first poll end the
    source with the reason; later read failures (a log briefly missing
    during a rotation) are logged and retried.
    """
    options = parse_options(args)
    session_report = _collection()[1]
    source = follower(options)
    loop = asyncio.get_running_loop()
    started = False
    last_problem = None
    while True:
        try:
            events = await loop.run_in_executor(None, source.poll)
        except session_report.LogAccessError as exc:
            if not started:
                raise
            if str(exc) != last_problem:
                LOG.warning("virtaudit.auvirt.guest_events: %s; trying again every %s s", exc, options["interval"])
                last_problem = str(exc)
        else:
            for event in events:
                await queue.put(event)
            await loop.run_in_executor(None, source.commit)
            started = True
            last_problem = None
        await asyncio.sleep(options["interval"])


if __name__ == "__main__":
    # python guest_events.py [CHECKPOINT [LOG...]]: print the events as they come

    class PrintQueue(object):
        """Prints what is put on it."""

        async def put(self, event):
            print(event)

    logging.basicConfig()
    ARGS = {"checkpoint": sys.argv[1]} if len(sys.argv) > 1 else {}
    if len(sys.argv) > 2:
        ARGS["paths"] = sys.argv[2:]
    asyncio.run(main(PrintQueue(), ARGS))
