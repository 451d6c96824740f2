# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The timeline picture of the fleet report: one time axis for every timeline (``timeline_axis``, ticks
on round local times), and per host the SVG geometry the templates draw (``timeline``): one lane per
guest, one bar per session coloured by state, markers for host shutdowns, boots and crashes.  Numbers
and display strings only, never markup.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import datetime

from ansible_collections.virtaudit.auvirt.plugins.plugin_utils import fleet_time

STATE_COLOURS = {
    "running": "#2e7d32",
    "stopped": "#607d8b",
    "crashed": "#c62828",
    "failed": "#ef6c00",
    "down": "#6a1b9a",
    "lost": "#8d6e63",
}
# host shutdowns and reboots on the timelines: a dashed near-black line, far from every state's colour
# (it was #b71c1c, next to crashed's #c62828)
MARKER_COLOUR = "#212121"
HOST_EVENT_LABELS = {
    "shutdown": "host shutdown",
    "boot": "host boot",
    "reboot_detected": "reboot (serial restart)",
    "crash": "host went down",
    "audit_start": "auditd started",
    "audit_end": "auditd stopped",
    "audit_abort": "auditd aborted",
}
TIMELINE_MARKERS = ("shutdown", "boot", "reboot_detected", "crash")

# timeline geometry (px)
LABEL_WIDTH = 190
PLOT_WIDTH = 860
LANE_HEIGHT = 22
BAR_HEIGHT = 14
AXIS_HEIGHT = 28
TICK_STEPS = (60, 300, 900, 1800, 3600, 2 * 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400, 14 * 86400,
              30 * 86400, 91 * 86400, 365 * 86400)


def _tick_step(span):
    for step in TICK_STEPS:
        if span / step <= 10:
            return step
    return TICK_STEPS[-1]


def _tick_label(epoch, step, tzinfo):
    moment = fleet_time.to_datetime(epoch, tzinfo)
    if step >= 86400:
        return moment.strftime("%Y-%m-%d")
    return moment.strftime("%m-%d %H:%M")


def timeline_range(fleet):
    """(t0, t1) of the timelines: the window, else the span of the data (records and sessions; a running
    session is open at its host's newest record).  The controller's clock only when there is no data at all."""
    window = fleet.get("window") or {}
    t0, t1 = window.get("start_epoch"), window.get("end_epoch")
    if t0 is None or t1 is None:
        low = high = None
        for session in fleet["sessions"]:
            for key in ("start_epoch", "first_seen_epoch", "end_epoch", "open_until_epoch"):
                value = session.get(key)
                if value is not None:
                    low = value if low is None or value < low else low
                    high = value if high is None or value > high else high
        for host in fleet["hosts"]:
            for key in ("first_record_epoch", "last_record_epoch"):
                value = host.get(key)
                if value is not None:
                    low = value if low is None or value < low else low
                    high = value if high is None or value > high else high
        generated = fleet.get("generated_epoch")
        if t0 is None:
            t0 = low if low is not None else (generated or 0.0)
        if t1 is None:
            t1 = high if high is not None else (generated or t0)
    if t1 <= t0:
        t1 = t0 + 3600.0
    return t0, t1


def _x(epoch, t0, t1):
    epoch = min(max(epoch, t0), t1)
    return round(LABEL_WIDTH + (epoch - t0) / (t1 - t0) * PLOT_WIDTH, 1)


def _next_local_midnight(t0, tzinfo, step):
    moment = fleet_time.to_datetime(t0, tzinfo)
    day = moment.date()
    epoch = fleet_time.parse_bound(day.isoformat(), tzinfo, t0)
    while epoch <= t0:
        day = datetime.date.fromordinal(day.toordinal() + max(1, step // 86400))
        epoch = fleet_time.parse_bound(day.isoformat(), tzinfo, t0)
    return epoch


def timeline_axis(fleet, tzinfo):
    """``(t0, t1, ticks)``: the one time axis of every timeline of the report (ticks on round local times)."""
    t0, t1 = timeline_range(fleet)
    step = _tick_step(t1 - t0)
    if step < 86400:
        offset = fleet_time.to_datetime(t0, tzinfo).utcoffset().total_seconds()
        first_tick = ((int(t0 + offset) // step) + 1) * step - offset
    else:
        first_tick = _next_local_midnight(t0, tzinfo, step)
    ticks = []
    tick = first_tick
    while tick < t1 and len(ticks) < 40:
        ticks.append({"x": _x(tick, t0, t1), "label": _tick_label(tick, step, tzinfo)})
        tick += step
    return t0, t1, ticks


def timeline(host, sessions, host_events, axis, tzinfo, when=None):
    """SVG geometry of one host: one lane per guest, one bar per session coloured by state, host event markers.

    ``when(epoch)``: the time as text (default: format_time in ``tzinfo``)."""
    if when is None:
        def when(epoch):
            return fleet_time.format_time(epoch, tzinfo)
    t0, t1, ticks = axis
    lanes = []
    lane_of = {}
    for session in sessions:
        key = (session.get("name") or "", session["uuid"])
        if key not in lane_of:
            lane_of[key] = len(lanes)
            lanes.append({"label": _truncate(session.get("name") or session["uuid"], 28), "title": session["uuid"]})
    bars = []
    for session in sessions:
        lane = lane_of[(session.get("name") or "", session["uuid"])]
        start = session.get("start_epoch")
        if start is None:
            start = session.get("first_seen_epoch") if session.get("first_seen_epoch") is not None else t0
        end = session.get("end_epoch")
        open_end = end is None
        if open_end:
            end = session.get("open_until_epoch") if session.get("open_until_epoch") is not None else t1
        x0, x1 = _x(start, t0, t1), _x(end, t0, t1)
        bars.append({
            "x": x0, "y": AXIS_HEIGHT + lane * LANE_HEIGHT + (LANE_HEIGHT - BAR_HEIGHT) / 2.0, "width": max(round(x1 - x0, 1), 3.0),
            "height": BAR_HEIGHT, "colour": STATE_COLOURS.get(session["state"], "#9e9e9e"), "state": session["state"],
            "open_end": open_end,
            "tooltip": "%s (%s) %s: %s -> %s [%s]" % (
                session.get("name") or "", session["uuid"], session["state"],
                when(session.get("start_epoch")) or "before the logs",
                when(session.get("end_epoch")) or _open_text(session, when) or "unknown",
                session["session_id"]),
        })
    markers = []
    for event in host_events:
        if event.get("type") in TIMELINE_MARKERS and event.get("epoch") is not None and t0 <= event["epoch"] <= t1:
            markers.append({"x": _x(event["epoch"], t0, t1), "type": event["type"],
                            "tooltip": "%s %s (%s)" % (HOST_EVENT_LABELS.get(event["type"], event["type"]),
                                                       when(event["epoch"]), event.get("id"))})
    height = AXIS_HEIGHT + len(lanes) * LANE_HEIGHT + 6
    for number, lane in enumerate(lanes):
        lane["y"] = AXIS_HEIGHT + number * LANE_HEIGHT + LANE_HEIGHT / 2.0 + 4
    return {"host": host, "width": LABEL_WIDTH + PLOT_WIDTH + 10, "height": height, "plot_x": LABEL_WIDTH, "plot_width": PLOT_WIDTH,
            "label_x": LABEL_WIDTH - 8, "lanes": lanes, "bars": bars, "ticks": ticks, "markers": markers, "marker_colour": MARKER_COLOUR}


def _open_text(session, when):
    """``still running at the newest record (TIME)`` for a running session, else ''."""
    if session.get("state") != "running" or session.get("open_until_epoch") is None:
        return "still running" if session.get("state") == "running" else ""
    where = "window end" if session.get("open_until_source") == "window_end" else "newest record"
    return "still running at the %s (%s)" % (where, when(session["open_until_epoch"]))


def _truncate(text, length):
    return text if len(text) <= length else text[:length - 3] + "..."
