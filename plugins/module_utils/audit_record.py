# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One audit log line -> one record.

Pure functions, standard library only, Python 3.6+.

A line looks like::

    [node=NAME ]type=TYPE msg=audit(SECONDS.MILLIS:SERIAL): FIELDS[\\x1dENRICHED]

Only the header is parsed eagerly; the fields are tokenised on demand
(``Record.fields()``) because most lines of a hypervisor's log are of no
interest to the session engine.

``EventId`` is the one place that writes and reads event ids
(``SECONDS.MILLIS:SERIAL``); the record types every step shares
(``SERIAL_RESET``, ``DAEMON_TYPES``, ``VIRT_TYPES``) are defined here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

ENRICHED_SEPARATOR = "\x1d"

_HEADER = re.compile(r"(?:node=(\S*) )?type=(\S+) msg=audit\((\d+)\.(\d+):(\d+)\):[ ]?")
# a key starts the text, or follows a blank or the quote that opens msg='...'
_TOKEN = re.compile(r"(?<![^\s'])([A-Za-z0-9_.-]+)=(\"[^\"]*\"|'[^']*'|\S*)")
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")
_UNKNOWN_TYPE = re.compile(r"^UNKNOWN\[(\d+)\]$")
# SECONDS[.FRACTION]:SERIAL, decimal digits (what EventId.parse accepts)
_EVENT_ID = re.compile(r"(\d+(?:\.\d+)?):(\d+)\Z")

# The type of the marker record the reader puts where a node's event serial restarts (a reboot): not a
# record of the log (a log's types never start with "_").
SERIAL_RESET = "_SERIAL_RESET"
# auditd's own records: numbered by auditd, not by the kernel (no serial tracking, not a host's last record)
DAEMON_TYPES = frozenset(("DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "DAEMON_CONFIG", "DAEMON_RECONFIG",
                          "DAEMON_ROTATE", "DAEMON_RESUME", "DAEMON_ACCEPT", "DAEMON_CLOSE", "DAEMON_ERR"))
# libvirt's records of a guest's lifecycle, its label and its resources
VIRT_TYPES = ("VIRT_CONTROL", "VIRT_RESOURCE", "VIRT_MACHINE_ID")

# Record type numbers for the kinds auditd may print as UNKNOWN[N] when its
# tables are older than the sender.
TYPE_NUMBERS = {
    1107: "USER_AVC",
    1127: "SYSTEM_BOOT",
    1128: "SYSTEM_SHUTDOWN",
    1129: "SYSTEM_RUNLEVEL",
    1200: "DAEMON_START",
    1201: "DAEMON_END",
    1202: "DAEMON_ABORT",
    1203: "DAEMON_CONFIG",
    1204: "DAEMON_RECONFIG",
    1205: "DAEMON_ROTATE",
    1206: "DAEMON_RESUME",
    1400: "AVC",
    1700: "ANOM_PROMISCUOUS",
    1701: "ANOM_ABEND",
    1702: "ANOM_LINK",
    1703: "ANOM_CREAT",
    2500: "VIRT_CONTROL",
    2501: "VIRT_RESOURCE",
    2502: "VIRT_MACHINE_ID",
    2503: "VIRT_INTEGRITY_CHECK",
    2504: "VIRT_CREATE",
    2505: "VIRT_DESTROY",
    2506: "VIRT_MIGRATE_IN",
    2507: "VIRT_MIGRATE_OUT",
}

# Keys whose values libvirt (virAuditEncode) or the kernel
# (audit_log_untrustedstring) write as upper-case hex when they contain a
# space, a double quote, a control or a non-ASCII byte.  Values of other keys
# are never hex-decoded: a raw 2012 MAC (new-net=52:54:00:...) or a number
# (new-mem=4194304) stays as written.
ENCODED_KEYS = frozenset((
    "vm", "device", "path", "cgroup", "disk", "chardev",
    "old-disk", "new-disk", "old-net", "new-net", "old-fs", "new-fs",
    "old-chardev", "new-chardev", "old-smartcard", "new-smartcard",
    "old-rng", "new-rng",
    "name", "comm", "exe", "cwd", "proctitle", "acct", "profile", "label",
    "new-name", "old-name", "dev",
))


class ParseError(ValueError):
    """A line that is not an audit record."""


class EventId(tuple):
    """An audit event id, ``SECONDS.MILLIS:SERIAL`` (``1710144000.600:1001``), as ``(seconds, serial)``.

    Every record of one event carries the same id.  The one place ids are
    written and read:

    - ``EventId.format(sec, ms, serial)``: the id of a record's header
      (the digits of its seconds and milliseconds as written, its serial);
    - ``EventId.time(sec, ms)``: the time of a record, ``int(sec) + int(ms)
      / 1000.0`` (the engine's epochs are exactly this float);
    - ``EventId.parse(text)``: an EventId (a tuple ``(seconds as a float,
      serial as an int)``), or None for text that is not an id;
    - ``EventId.key(text)``: the sort key - by time, then by serial as a
      number (``:99`` before ``:100``);
    - ``EventId.epoch(text)``: its time in seconds to the millisecond, or None.

    An id is decimal digits, optionally a fraction (the engine writes three
    digits), and a colon followed by the serial's digits.  Anything else - None, ``""``,
    ``junk``, ``1.5``, ``:7``, two colons, a serial too long for ``int()`` -
    is *malformed*, everywhere alike: its epoch is None and it sorts as
    ``0.000:0``, before every well-formed id (as a time the engine does not
    know sorts as 0.0 in a session's timeline).  The engine writes only
    well-formed ids; malformed ones come from elsewhere (a fleet report's
    result files).
    """

    __slots__ = ()

    @property
    def seconds(self):
        return self[0]

    @property
    def serial(self):
        return self[1]

    @staticmethod
    def format(sec, ms, serial):
        """``SECONDS.MILLIS:SERIAL`` of a record's header fields."""
        return "%s.%s:%d" % (sec, ms, serial)

    @staticmethod
    def time(sec, ms):
        """Epoch seconds of a record's header fields (the digits of its seconds and milliseconds)."""
        return int(sec) + int(ms) / 1000.0

    @classmethod
    def parse(cls, text):
        """The EventId of ``text`` (a str, or anything ``str()`` makes one of), or None when it is malformed."""
        if text.__class__ is not str:
            if text is None:
                return None
            text = str(text)
        match = _EVENT_ID.match(text)
        if match is None:
            return None
        seconds, serial = match.groups()
        try:
            return tuple.__new__(cls, (float(seconds), int(serial)))
        except ValueError:  # more digits than int() reads (Python 3.11+)
            return None

    @classmethod
    def key(cls, text):
        """Sort key of an id: ``(seconds, serial)``; a malformed id sorts as ``0.000:0``."""
        return cls.parse(text) or MALFORMED_ID

    @classmethod
    def epoch(cls, text):
        """Epoch seconds of an id to the millisecond (``1710144000.6``), or None when it is malformed."""
        parsed = cls.parse(text)
        return None if parsed is None else round(parsed[0], 3)


# how a malformed event id sorts: as 0.000:0
MALFORMED_ID = EventId((0.0, 0))


class Record(object):
    """One audit record.  ``fields()`` is computed on first use."""

    __slots__ = ("node", "type", "sec", "ms", "serial", "epoch", "body",
                 "enriched", "source", "line", "raw", "_fields", "previous", "companions", "_id")

    def __init__(self, node, rtype, sec, ms, serial, body, enriched, source, line, raw):
        self.node = node
        self.type = rtype
        self.sec = sec
        self.ms = ms
        self.serial = serial
        self.epoch = EventId.time(sec, ms)
        self.body = body
        self.enriched = enriched
        self.source = source
        self.line = line
        self.raw = raw
        self._fields = None
        self.previous = None       # (SECONDS, MILLIS, serial) of the record before (serial restarts, SYSTEM_BOOT)
        self.companions = None     # of an AVC: the other records of its event, see audit_events.Event
        self._id = None

    @property
    def id(self):
        """The event id ``SECONDS.MILLIS:SERIAL`` as written in the log."""
        if self._id is None:
            self._id = EventId.format(self.sec, self.ms, self.serial)
        return self._id

    def fields(self):
        """Decoded fields: outer fields, then the inner ``msg='...'`` ones."""
        if self._fields is None:
            self._fields = parse_fields(self.body)
        return self._fields

    def text(self):
        """The record as a log line (its raw line when kept); ``parse_line`` reads it back as this record."""
        if self.raw is not None:
            return self.raw
        line = "%stype=%s msg=audit(%s.%s:%d): %s" % (
            "node=%s " % self.node if self.node else "", self.type, self.sec, self.ms, self.serial, self.body)
        return line if self.enriched is None else line + ENRICHED_SEPARATOR + self.enriched

    def enrichment(self):
        """The ENRICHED interpretations (``UID="root"`` ...) as a dict."""
        if not self.enriched:
            return {}
        return dict((k, strip_quotes(v)) for k, v in tokenize(self.enriched))


def parse_line(text, source=None, line=None, keep_raw=False):
    """Parse one line (str, without its newline) into a Record.

    Raises ParseError with a short reason when the line is not a record.
    """
    if ENRICHED_SEPARATOR in text:
        main, enriched = text.split(ENRICHED_SEPARATOR, 1)
    else:
        main, enriched = text, None
    m = _HEADER.match(main)
    if m is None:
        if not main.strip():
            raise ParseError("empty line")
        if "type=" not in main:
            raise ParseError("no type= field")
        raise ParseError("no msg=audit(SECONDS.MILLIS:SERIAL) header")
    node, rtype, sec, ms, serial = m.groups()
    if len(ms) != 3:
        raise ParseError("timestamp milliseconds must have 3 digits")
    if len(sec) > 10:
        raise ParseError("timestamp out of range (more than 10 digits of seconds)")
    return Record(node or None, record_type(rtype), sec, ms, int(serial), main[m.end():], enriched,
                  source, line, text if keep_raw else None)


def record_type(rtype):
    """The record type as the engine knows it: ``UNKNOWN[2500]`` (auditd older than the kernel) is VIRT_CONTROL."""
    if rtype.startswith("UNKNOWN["):
        um = _UNKNOWN_TYPE.match(rtype)
        if um:
            return TYPE_NUMBERS.get(int(um.group(1)), rtype)
    return rtype


def tokenize(text):
    """(key, raw value token) pairs of the ``key=value`` items of ``text``."""
    return _TOKEN.findall(text)


def strip_quotes(token):
    if len(token) >= 2 and token[0] == token[-1] and token[0] in "\"'":
        return token[1:-1]
    return token


def decode_value(key, token):
    """Decode one value token as libvirt and the kernel encode them.

    ``"text"`` -> text; ``?`` and ``"?"`` -> None; unquoted upper-case hex
    for a key in ENCODED_KEYS -> the decoded bytes as UTF-8 (invalid bytes
    kept as backslash escapes); anything else as written.
    """
    if token.startswith('"') and token.endswith('"') and len(token) >= 2:
        value = token[1:-1]
        return None if value == "?" else value
    if token == "?" or token == "":
        return None if token == "?" else ""
    if key in ENCODED_KEYS and _HEX.match(token):
        return bytes.fromhex(token).decode("utf-8", "backslashreplace")
    return token


def _decode_all(pairs, fields):
    """decode_value over ``(key, token)`` pairs into ``fields`` (the hot loop of the engine)."""
    encoded = ENCODED_KEYS
    hexmatch = _HEX.match
    for key, token in pairs:
        first = token[:1]
        if first == '"':
            value = token[1:-1] if len(token) >= 2 and token[-1] == '"' else token
            fields[key] = None if value == "?" else value
        elif token == "?":
            fields[key] = None
        elif key in encoded and hexmatch(token):
            fields[key] = bytes.fromhex(token).decode("utf-8", "backslashreplace")
        else:
            fields[key] = token


def parse_fields(body):
    """Tokenise a record body into a dict of decoded values.

    The inner ``msg='...'`` of userspace records is unwrapped (its values may
    contain single quotes, so it ends at the last quote of the body) and its
    fields override outer fields of the same name.
    """
    fields = {}
    findall = _TOKEN.findall
    idx = body.find("msg='")
    while idx > 0 and body[idx - 1] != " ":
        idx = body.find("msg='", idx + 1)
    if idx < 0:
        _decode_all(findall(body), fields)
        return fields
    end = body.rfind("'")
    if end < idx + 5:
        end = len(body)
    _decode_all(findall(body, 0, idx), fields)
    _decode_all(findall(body, idx + 5, end), fields)
    if end + 1 < len(body):
        _decode_all(findall(body, end + 1), fields)
    return fields


def selinux_avc(body):
    """Result and permissions of a SELinux AVC body (``avc:  denied  { read write } for ...``)."""
    m = re.match(r"\s*avc:\s+(\w+)\s+\{\s*([^}]*?)\s*\}", body)
    if not m:
        return None, None
    return m.group(1), ",".join(m.group(2).split())
