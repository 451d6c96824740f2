# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import absolute_import, division, print_function
__metaclass__ = type

import pytest

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_record import (
    MALFORMED_ID,
    EventId,
    ParseError,
    decode_value,
    parse_fields,
    parse_line,
    selinux_avc,
)

VIRT = ("type=VIRT_CONTROL msg=audit(1710144001.124:1016): pid=1523 uid=0 auid=4294967295 ses=4294967295 "
        "subj=system_u:system_r:virtqemud_t:s0 msg='virt=kvm op=start reason=booted vm=\"web01\" "
        "uuid=5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b vm-pid=4242 exe=\"/usr/sbin/virtqemud\" hostname=? addr=? "
        "terminal=? res=success'")


def test_header_and_id():
    rec = parse_line(VIRT)
    assert rec.type == "VIRT_CONTROL"
    assert rec.id == "1710144001.124:1016"
    assert rec.serial == 1016
    assert rec.epoch == pytest.approx(1710144001.124)
    assert rec.node is None


def test_inner_fields_override_and_decode():
    f = parse_line(VIRT).fields()
    assert f["op"] == "start"
    assert f["vm"] == "web01"
    assert f["vm-pid"] == "4242"
    assert f["uid"] == "0"
    assert f["hostname"] is None
    assert f["res"] == "success"
    assert f["exe"] == "/usr/sbin/virtqemud"


def test_node_prefix():
    rec = parse_line("node=hv2 " + VIRT)
    assert rec.node == "hv2"
    assert rec.fields()["uuid"] == "5a8e4f3c-1b2d-4e6f-8a9b-0c1d2e3f4a5b"


def test_enriched_suffix_is_cut_and_kept():
    rec = parse_line(VIRT + '\x1dUID="root" AUID="unset"')
    assert rec.fields()["res"] == "success"
    assert rec.enrichment() == {"UID": "root", "AUID": "unset"}


def test_hex_encoded_name_is_decoded():
    assert decode_value("vm", "57696E2031302050726F") == "Win 10 Pro"
    assert decode_value("vm", "766D2DC3BC6EC3AF63C3B864C3A9") == u"vm-\u00fcn\u00efc\u00f8d\u00e9"


def test_invalid_utf8_in_hex_is_kept_escaped():
    assert decode_value("vm", "41FF42") == "A\\xffB"


def test_raw_2012_mac_is_not_hex_decoded():
    assert decode_value("new-net", "52:54:00:fd:3c:2a") == "52:54:00:fd:3c:2a"


def test_numbers_of_unencoded_keys_stay_numbers():
    # 4194304 would be valid hex; new-mem is never encoded by libvirt
    assert decode_value("new-mem", "4194304") == "4194304"
    assert decode_value("vm-pid", "12") == "12"


def test_question_mark_means_none():
    assert decode_value("old-disk", '"?"') is None
    assert decode_value("hostname", "?") is None


def test_single_quote_inside_inner_message():
    body = ("pid=1 uid=0 msg='virt=kvm op=start reason=booted vm=\"O'Brien\" uuid=11111111-2222-4333-8444-555555555555 "
            "vm-pid=1 exe=\"/usr/sbin/libvirtd\" hostname=? addr=? terminal=? res=success'")
    fields = parse_fields(body)
    assert fields["vm"] == "O'Brien"
    assert fields["res"] == "success"


def test_unknown_numeric_type_is_named():
    rec = parse_line(VIRT.replace("type=VIRT_CONTROL", "type=UNKNOWN[2500]"))
    assert rec.type == "VIRT_CONTROL"


@pytest.mark.parametrize("line,reason", [
    ("", "empty"),
    ("hello world", "no type="),
    ("type=AVC msg=audit(abc): x", "header"),
    ("type=AVC msg=audit(1710144001.12:5): x", "3 digits"),
])
def test_bad_lines_raise_parse_error(line, reason):
    with pytest.raises(ParseError) as err:
        parse_line(line)
    assert reason in str(err.value)


def test_selinux_avc_result_and_permissions():
    body = ('avc:  denied  { read write } for  pid=4242 comm="qemu-kvm" name="shared.img" '
            "scontext=system_u:system_r:svirt_t:s0:c107,c434 tcontext=system_u:object_r:virt_image_t:s0 tclass=file permissive=0")
    assert selinux_avc(body) == ("denied", "read,write")
    fields = parse_fields(body)
    assert fields["scontext"] == "system_u:system_r:svirt_t:s0:c107,c434"
    assert fields["name"] == "shared.img"
    assert selinux_avc("apparmor=\"DENIED\"") == (None, None)


# ---------------------------------------------------------------- event ids (EventId: the one reader and writer)

def test_event_id_of_a_record_is_its_header():
    rec = parse_line(VIRT)
    assert EventId.format(rec.sec, rec.ms, rec.serial) == rec.id == "1710144001.124:1016"
    assert EventId.time(rec.sec, rec.ms) == rec.epoch
    assert EventId.parse(rec.id) == (1710144001.124, 1016)
    assert EventId.parse(rec.id).seconds == 1710144001.124 and EventId.parse(rec.id).serial == 1016
    assert EventId.epoch(rec.id) == 1710144001.124


def test_event_ids_sort_by_time_then_serial_as_a_number():
    ids = ["1710144001.124:100", "1710144001.124:99", "1710144000.999:1000", "1710144001.125:1"]
    assert sorted(ids, key=EventId.key) == [
        "1710144000.999:1000", "1710144001.124:99", "1710144001.124:100", "1710144001.125:1"]


MALFORMED = [None, "", "junk", "1.5", ":7", "1710144000.123:", "1710144000.123:12:1", "1710144000.123:x",
             "x1710144000.123:5", " 1710144000.123:5", "1710144000.123:5 ", "1e9:5", "1710144000.123:-5"]


@pytest.mark.parametrize("text", MALFORMED)
def test_a_malformed_event_id_has_no_time_and_sorts_first(text):
    assert EventId.parse(text) is None
    assert EventId.epoch(text) is None
    assert EventId.key(text) == EventId.key("0.000:0") == MALFORMED_ID
    assert sorted(["1710144000.000:1", text, "0.001:0"], key=EventId.key)[0] == text


def test_a_serial_longer_than_int_reads_is_malformed_or_read():
    text = "1710144000.500:" + "9" * 5000
    try:
        number = int("9" * 5000)
    except ValueError:  # Python 3.11+: more digits than int() reads
        assert EventId.key(text) == MALFORMED_ID
    else:
        assert EventId.key(text) == (1710144000.5, number)


def test_other_fractions_are_read_as_written():
    assert EventId.key("99.5:700") == (99.5, 700)
    assert EventId.key("1710144000.1234:2") == (1710144000.1234, 2)
    assert EventId.epoch("1710144000.1234:2") == 1710144000.123
    assert EventId.key("1710144000:7") == (1710144000.0, 7)
    assert EventId.key(17) == MALFORMED_ID
