# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every way of reading a log gives the result of a full read of the same bytes."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils.session_report import run

V = ("pid=1523 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:virtqemud_t:s0 msg=")
OK = ' exe="/usr/sbin/virtqemud" hostname=? addr=? terminal=? res=success\''
U = "61616161-0000-4000-8000-000000000001"
SERVICE = ("pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='unit=cron "
           "comm=\"systemd\" exe=\"/usr/lib/systemd/systemd\" hostname=? addr=? terminal=? res=success'")
# a guest starts, the host reboots (auditd starts again, the kernel's serials restart at 20)
REBOOT_LOG = "".join(line + "\n" for line in (
    "type=VIRT_MACHINE_ID msg=audit(1710144000.000:10): " + V + "'virt=kvm vm=\"g1\" uuid=" + U
    + " vm-ctx=system_u:system_r:svirt_t:s0:c1,c2 img-ctx=system_u:object_r:svirt_image_t:s0:c1,c2 model=selinux" + OK,
    "type=VIRT_CONTROL msg=audit(1710144000.600:11): " + V + "'virt=kvm op=start reason=booted vm=\"g1\" uuid=" + U
    + " vm-pid=4242" + OK,
    "type=SERVICE_START msg=audit(1710144100.000:200): " + SERVICE,
    "type=DAEMON_START msg=audit(1710147000.000:4213): op=start ver=3.0.9 format=raw kernel=6.1.0-18-amd64 "
    "auid=4294967295 pid=812 uid=0 ses=4294967295 subj=system_u:system_r:auditd_t:s0 res=success",
    "type=SERVICE_START msg=audit(1710147001.000:20): " + SERVICE,
    "type=SERVICE_START msg=audit(1710148000.000:30): " + SERVICE,
))


@pytest.mark.xfail(strict=True, reason="issue 10: a reboot inside a block skimmed before the window is missed")
def test_reboot_inside_a_block_before_the_window(tmp_path):
    """The serial restart lies in a block wholly before ``start``: g1 still went down with the host."""
    log = tmp_path / "audit.log"
    log.write_text(REBOOT_LOG)
    full = run(paths=[str(log)], all_events=True, default_host="hv", now=1710150000)
    assert [(s["name"], s["state"]) for s in full["sessions"]] == [("g1", "down")]
    windowed = run(paths=[str(log)], all_events=True, start="1710148500", default_host="hv", now=1710150000)
    # g1 went down at the reboot (1710144100), long before the window: it is not in it
    assert [(s["name"], s["state"]) for s in windowed["sessions"]] == []
    assert windowed["summary"]["states"]["running"] == 0
    # a window that reaches back to the guest's run shows it down
    earlier = run(paths=[str(log)], all_events=True, start="1710144050", default_host="hv", now=1710150000)
    assert [(s["name"], s["state"], s["end_id"]) for s in earlier["sessions"]] == [("g1", "down", "1710144100.000:200")]
