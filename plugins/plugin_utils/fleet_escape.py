# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text made safe for the fleet report's formats: bidirectional controls marked in every format
(``mark_controls``), Markdown table cells (``md_escape``) and CSV cells a spreadsheet will not run as
formulas (``neutralise_cell``).  The HTML templates are rendered with autoescaping; JSON writes the
controls as JSON escapes (fleet_output.py).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.virtaudit.auvirt.plugins.module_utils.auvirt_text import UNICODE_CONTROLS

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


# The bidirectional controls (U+202E ...) and the line/paragraph separators, as auvirt_lines writes them
# (module_utils/auvirt_text.py): a guest name must not reorder what a reader sees of a report.  HTML,
# Markdown and CSV show them as the text \u202e; JSON writes them as JSON escapes (the same name when parsed).
_MARKS = dict((ord(char), text) for char, text in UNICODE_CONTROLS.items())


def mark_controls(text):
    """``text`` with every bidirectional control and line separator written as ``\\uXXXX``.

    Every one of them is outside ASCII: an ASCII text (almost every value of a report, and ``isascii`` costs
    next to nothing) is returned as it is without the character-by-character ``translate``."""
    return text if text.isascii() else text.translate(_MARKS)


def neutralise_cell(value):
    """A CSV cell that a spreadsheet will not run as a formula, with the bidirectional controls marked."""
    if value.__class__ is str:
        value = mark_controls(value)
        return "'" + value if value.startswith(FORMULA_PREFIXES) else value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return value
    text = mark_controls(str(value))
    if text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def md_escape(value):
    """Text safe inside a Markdown table cell (no markup, no raw HTML, one line)."""
    if value is None:
        return ""
    text = mark_controls(str(value))
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = " ".join(text.splitlines()).replace("\t", " ")
    out = []
    for char in text:
        if char in "\\`*_[]|~":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
