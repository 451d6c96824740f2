# -*- coding: utf-8 -*-
# Copyright (c) virtaudit.auvirt contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shape of JSON data read back from disk (checkpoints), checked before it is used.

A shape is written with plain Python values:

- a type (``int``, ``str``, ``bool``, ``float``): a value of that type
  (``int`` excludes ``bool``; ``float`` accepts an int too);
- ``None``: only ``null``;
- ``AtLeast(0)``: an int not below the bound (and below 2**63);
- ``Between(0, 10.5)``: a number (int or float) within the bounds;
- ``Maybe(shape)``: ``null`` or the shape;
- ``[shape]``: a list whose every item has the shape;
- ``NonEmpty(shape)``: the same with at least one item;
- ``Row(shape, shape, ...)``: a list of exactly those items, in order;
- ``{"key": shape, ...}``: an object with exactly these keys;
- ``Fields({"key": shape, ...})``: an object with at least these keys;
- ``OneOf("a", "b")``: one of these values;
- ``Either(shape, shape)``: the first shape that the value's kind selects
  (an object with the first shape's keys is checked against it, else against
  the next);
- ``MapOf(shape)``: an object with string keys and values of the shape;
- ``ANY``: anything JSON can hold.

``check_shape(value, shape, where)`` returns None, or the first problem as
text (``state.position.offset: expected an int >= 0, got -5``).

Standard library only, Python 3.6+.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class AtLeast(object):
    def __init__(self, low):
        self.low = low


class Between(object):
    def __init__(self, low, high):
        self.low = low
        self.high = high


class Maybe(object):
    def __init__(self, shape):
        self.shape = shape


class NonEmpty(object):
    def __init__(self, shape):
        self.shape = shape


class Row(object):
    def __init__(self, *shapes):
        self.shapes = shapes


class Fields(object):
    def __init__(self, shapes):
        self.shapes = shapes


class OneOf(object):
    def __init__(self, *values):
        self.values = values


class Either(object):
    def __init__(self, *shapes):
        self.shapes = shapes


class MapOf(object):
    def __init__(self, shape):
        self.shape = shape


ANY = object()

_NAMES = {int: "an int", float: "a number", str: "a string", bool: "true or false"}


def _got(value):
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return "got %s" % text


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _check_type(value, shape, where):
    if shape is int:
        ok = _is_int(value)
    elif shape is float:
        ok = _is_int(value) or isinstance(value, float)
    else:
        ok = isinstance(value, shape) and (shape is bool or not isinstance(value, bool))
    if ok:
        return None
    return "%s: expected %s, %s" % (where, _NAMES.get(shape, shape.__name__), _got(value))


def check_shape(value, shape, where="value"):
    """None when ``value`` has ``shape``, else the first problem found (text)."""
    if shape is ANY:
        return None
    if shape is None:
        return None if value is None else "%s: expected null, %s" % (where, _got(value))
    if isinstance(shape, type):
        return _check_type(value, shape, where)
    if isinstance(shape, AtLeast):
        if _is_int(value) and shape.low <= value < 2 ** 63:
            return None
        return "%s: expected an int >= %d, %s" % (where, shape.low, _got(value))
    if isinstance(shape, Between):
        if (_is_int(value) or isinstance(value, float)) and shape.low <= value <= shape.high:
            return None
        return "%s: expected a number from %s to %s, %s" % (where, shape.low, shape.high, _got(value))
    if isinstance(shape, OneOf):
        if any(value == item and type(value) is type(item) for item in shape.values):
            return None
        return "%s: expected one of %s, %s" % (where, ", ".join(repr(v) for v in shape.values), _got(value))
    if isinstance(shape, Fields):
        if not isinstance(value, dict):
            return "%s: expected an object, %s" % (where, _got(value))
        return _check_keys(value, shape.shapes, where)
    if isinstance(shape, Either):
        for option in shape.shapes[:-1]:
            if isinstance(option, dict) and isinstance(value, dict) and set(option) <= set(value):
                return check_shape(value, option, where)
        return check_shape(value, shape.shapes[-1], where)
    if isinstance(shape, Maybe):
        return None if value is None else check_shape(value, shape.shape, where)
    if isinstance(shape, list):
        if not isinstance(value, list):
            return "%s: expected a list, %s" % (where, _got(value))
        for index, item in enumerate(value):
            problem = check_shape(item, shape[0], "%s[%d]" % (where, index))
            if problem:
                return problem
        return None
    if isinstance(shape, NonEmpty):
        if isinstance(value, list) and not value:
            return "%s: expected a list of at least one item, got []" % where
        return check_shape(value, [shape.shape], where)
    if isinstance(shape, Row):
        if not isinstance(value, list) or len(value) != len(shape.shapes):
            return "%s: expected a list of %d items, %s" % (where, len(shape.shapes), _got(value))
        for index, (item, item_shape) in enumerate(zip(value, shape.shapes)):
            problem = check_shape(item, item_shape, "%s[%d]" % (where, index))
            if problem:
                return problem
        return None
    if isinstance(shape, MapOf):
        if not isinstance(value, dict):
            return "%s: expected an object, %s" % (where, _got(value))
        for key in sorted(value):
            problem = check_shape(value[key], shape.shape, "%s.%s" % (where, key))
            if problem:
                return problem
        return None
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return "%s: expected an object, %s" % (where, _got(value))
        missing = sorted(set(shape) - set(value))
        if missing:
            return "%s: %s is missing" % (where, missing[0])
        extra = sorted(set(value) - set(shape))
        if extra:
            return "%s: unexpected key %r" % (where, extra[0][:40])
        return _check_keys(value, shape, where)
    raise TypeError("not a shape: %r" % (shape,))


def _check_keys(value, shapes, where):
    for key in sorted(shapes):
        if key not in value:
            return "%s: %s is missing" % (where, key)
        problem = check_shape(value[key], shapes[key], "%s.%s" % (where, key))
        if problem:
            return problem
    return None
