# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers of the tests that compare the ways of reading a log (unit and hardening suites)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os


def merged_sources(first, second):
    """The sources of a run and of the run that went on from its checkpoint, as one read would list them."""
    out = [dict(source) for source in first]
    for number, source in enumerate(second):
        if number == 0 and out and source["path"] == out[-1]["path"]:  # where the checkpoint was written
            item = out[-1]
            for key in ("bytes", "records", "duplicates"):
                item[key] += source[key]
            if source["last_epoch"] is not None:
                item["last"], item["last_epoch"] = source["last"], source["last_epoch"]
                if item["first_epoch"] is None:
                    item["first"], item["first_epoch"] = source["first"], source["first_epoch"]
        else:
            out.append(dict(source))
    return out


def resumed(run, path, data, cut, state, **options):
    """The run that goes on from a checkpoint (``state``, written anew) of ``path`` holding the first ``cut`` bytes
    of ``data``, once ``path`` holds all of them."""
    if os.path.exists(state):
        os.remove(state)
    with open(path, "wb") as handle:
        handle.write(data[:cut])
    run(paths=[path], checkpoint=state, **options)
    with open(path, "wb") as handle:
        handle.write(data)
    return run(paths=[path], checkpoint=state, **options)
