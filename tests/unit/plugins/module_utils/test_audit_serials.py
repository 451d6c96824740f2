# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serial tracking: gaps, late records, restarts; bulk ``follow`` == line-by-line ``observe``."""
from __future__ import absolute_import, division, print_function
__metaclass__ = type

from hypothesis import given, settings, strategies as st

from ansible_collections.virtaudit.auvirt.plugins.module_utils.audit_serials import SerialTracker


def observe_all(serials, skip=()):
    tracker = SerialTracker()
    resets = []
    for i, serial in enumerate(serials):
        if i in skip:
            continue
        prev = tracker.observe(None, str(1000 + i), "000", serial, 0, i + 1)
        if prev is not None:
            resets.append((i, prev))
    return tracker, resets


def _without_skipped(block, offset, skip):
    """The records of ``block`` that carry a kernel serial (the reader leaves auditd's own out) and their indices."""
    kept = [i for i in range(len(block)) if offset + i not in skip]
    return [block[i] for i in kept], kept


def follow_all(blocks, skip=(), digits=False):
    """``follow`` (or ``follow_digits``) block by block; returns the tracker, the resets and the cheap blocks."""
    tracker = SerialTracker()
    resets = []
    offset = 0
    cheap = 0
    for block in blocks:
        serials, kept = _without_skipped(block, offset, skip)
        base = offset

        def stamp_of(k, base=base, kept=kept):
            return (str(1000 + base + kept[k]), "000")

        def line_of(k, base=base, kept=kept):
            return base + kept[k] + 1

        if digits:
            calls = []
            follow = tracker.follow
            tracker.follow = lambda *args: calls.append(args) or follow(*args)
            got = tracker.follow_digits(None, [b"%d" % serial for serial in serials], stamp_of, 0, line_of)
            del tracker.follow
            cheap += not calls
        else:
            got = tracker.follow(None, serials, stamp_of, 0, line_of)
        resets.extend((base + kept[k], prev) for k, prev in got)
        offset += len(block)
    return tracker, resets, cheap


def story(steps, start, cuts, skip):
    """Serials from ``start`` by ``steps`` (-10000 = a restart), the skipped lines that exist, and the blocks."""
    serials = []
    current = start
    for step in steps:
        current = max(1, current + step) if step != -10000 else 1
        serials.append(current)
    skip = set(i for i in skip if i < len(serials))
    bounds = sorted(set(c for c in cuts if c < len(serials)))
    blocks = [serials[a:b] for a, b in zip([0] + bounds, bounds + [len(serials)])]
    return serials, skip, blocks


def assert_same_tracking(got, expected):
    (tracker, resets), (want, want_resets) = got, expected
    assert resets == want_resets
    assert tracker.missing == want.missing
    assert tracker.gaps == want.gaps
    assert tracker.nodes == want.nodes


def test_consecutive_and_repeated_serials_are_no_gap():
    tracker, resets = observe_all([5, 5, 6, 7, 7, 7, 8])
    assert tracker.missing == 0 and resets == []


def test_gap_counted_with_location():
    tracker, _resets = observe_all([10, 11, 15, 16])
    assert tracker.missing == 3
    gap = tracker.gaps[0]
    assert (gap["after_id"], gap["before_id"], gap["line"]) == ("1001.000:11", "1002.000:15", 3)


def test_late_record_fills_gap():
    tracker, _resets = observe_all([10, 12, 11, 13])
    assert tracker.missing == 0 and tracker.gaps == []


def test_restart_is_reported_with_previous_record():
    tracker, resets = observe_all([900, 901, 3, 4])
    assert resets == [(2, ("1001", "000", 901))]
    assert tracker.missing == 0


def test_skipped_lines_do_not_count():
    tracker, resets = observe_all([10, 4000, 11, 12], skip={1})
    assert tracker.missing == 0 and resets == []
    tracker, resets, dummy = follow_all([[10, 4000, 11, 12]], skip={1})
    assert tracker.missing == 0 and resets == []


serial_runs = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=2),          # repeat / next / small gap
        st.integers(min_value=-3, max_value=-1),        # a late record
        st.integers(min_value=3, max_value=200),        # a gap
        st.just(-10000),                                # a restart
    ),
    min_size=1, max_size=120)


@settings(max_examples=500, deadline=None)
@given(steps=serial_runs, cuts=st.lists(st.integers(min_value=1, max_value=119), max_size=6),
       skip=st.sets(st.integers(min_value=0, max_value=119), max_size=8))
def test_follow_in_blocks_equals_observe(steps, cuts, skip):
    serials, skip, blocks = story(steps, 20000, cuts, skip)
    assert_same_tracking(follow_all(blocks, skip)[:2], observe_all(serials, skip))


def follow_digits_all(blocks, skip=()):
    return follow_all(blocks, skip, digits=True)


regular_runs = st.lists(
    st.one_of(
        st.integers(min_value=0, max_value=1), st.integers(min_value=0, max_value=1),
        st.integers(min_value=0, max_value=1), st.integers(min_value=0, max_value=1),
        st.integers(min_value=-3, max_value=-1), st.integers(min_value=2, max_value=30), st.just(-10000),
    ),
    min_size=1, max_size=120)


@settings(max_examples=500, deadline=None)
@given(steps=regular_runs, start=st.sampled_from([1, 20000, 9990, 99995, 999980]),
       cuts=st.lists(st.integers(min_value=1, max_value=119), max_size=8),
       skip=st.sets(st.integers(min_value=0, max_value=119), max_size=3))
def test_follow_digits_equals_observe(steps, start, cuts, skip):
    """The whole-list check for blocks that simply continue gives what line-by-line tracking gives."""
    serials, skip, blocks = story(steps, start, cuts, skip)
    assert_same_tracking(follow_digits_all(blocks, skip)[:2], observe_all(serials, skip))


def test_follow_digits_takes_the_cheap_way_only_for_blocks_that_continue():
    # 98..101 crosses a width: numbers are needed; then two blocks that simply continue
    tracker, resets, cheap = follow_digits_all([[98, 99, 99, 100, 101], [101, 102, 102, 103], [104, 105]])
    assert (cheap, resets, tracker.missing) == (2, [], 0)
    # a gap hidden between equal-width digits is still seen (not cheap)
    tracker, resets, cheap = follow_digits_all([[500, 501], [502, 504, 505]])
    assert (cheap, tracker.missing) == (0, 1)
    # out of order within a block: not cheap, the late record fills the gap
    tracker, resets, cheap = follow_digits_all([[500, 501], [503, 502, 504]])
    assert (cheap, tracker.missing) == (0, 0)
    # a block of equal width that falls back by a restart
    tracker, resets, cheap = follow_digits_all([[700, 701], [702, 101, 102]])
    assert cheap == 0 and resets == [(3, ("1002", "000", 702))]


def test_a_late_record_is_not_a_restart():
    """A serial far below the top is a new boot only when its record is younger than the record before it: the
    SYSCALL of an earlier AVC written after later events (its time that of its event) is late."""
    tracker = SerialTracker()
    records = [("1710144020", "000", 1003), ("1710144030", "000", 1100), ("1710144020", "000", 1003),
               ("1710144100", "000", 1101)]
    resets = [tracker.observe("hv", sec, ms, serial, 0, n) for n, (sec, ms, serial) in enumerate(records)]
    assert resets == [None] * 4
    assert tracker.missing == 96
    # a late record inside the gap fills it
    tracker = SerialTracker()
    for sec, serial in (("10", 200), ("11", 300), ("10", 250)):
        assert tracker.observe("hv", sec, "000", serial, 0, 1) is None
    assert tracker.missing == 98
    # the same time as the record before: late too (a host does not reboot within a millisecond)
    tracker = SerialTracker()
    assert tracker.observe("hv", "10", "500", 900, 0, 1) is None
    assert tracker.observe("hv", "10", "500", 5, 0, 2) is None
    # ... and should it have been a new boot after all (a clock set back), the next younger record says so
    assert tracker.observe("hv", "10", "501", 6, 0, 3) == ("10", "500", 5)
    tracker = SerialTracker()
    tracker.observe("hv", "10", "500", 900, 0, 1)
    assert tracker.observe("hv", "60", "000", 5, 0, 2) == ("10", "500", 900)


def test_a_late_record_in_a_block_is_not_a_restart():
    """The same through ``follow`` (the reader's bulk path)."""
    stamps = [("1710144020", "000"), ("1710144030", "000"), ("1710144020", "000"), ("1710144100", "000")]
    serials = [1003, 1100, 1003, 1101]
    tracker = SerialTracker()
    assert tracker.follow("hv", serials, stamps.__getitem__, 0, lambda k: k + 1) == []
    assert tracker.follow_digits("hv", [b"5", b"6"], lambda k: ("1710150000", "000"), 0, lambda k: k + 5) == [
        (0, ("1710144100", "000", 1101))]
