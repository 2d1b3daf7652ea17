"""VALT request timings: which bucket a duration falls in, sums, snapshots."""

from __future__ import annotations

import math
import threading

import pytest

from ivs_accessory.valt.timings import BOUNDS, TimingRecorder, Timings


@pytest.mark.parametrize(
    "seconds, bound",
    [
        (0.0, 0.01),
        (0.01, 0.01),  # a bound belongs to its own bucket (le is "less or equal")
        (0.0101, 0.025),
        (4.99, 5.0),
        (10.0, 10.0),
        (10.01, math.inf),
    ],
)
def test_a_duration_lands_in_its_bucket(seconds, bound):
    recorder = TimingRecorder()
    recorder.observe(seconds)
    firsts = [le for le, count in recorder.snapshot().cumulative() if count == 1]
    assert firsts[0] == bound


def test_cumulative_counts_end_with_every_request():
    recorder = TimingRecorder()
    for seconds in (0.02, 0.02, 0.3, 99.0):
        recorder.observe(seconds)
    timings = recorder.snapshot()
    pairs = timings.cumulative()
    assert [le for le, _ in pairs] == [*BOUNDS, math.inf]
    assert pairs[-1] == (math.inf, 4) == (math.inf, timings.count)
    assert timings.seconds == pytest.approx(99.34)


def test_timings_add_up():
    one, two = TimingRecorder(), TimingRecorder()
    one.observe(0.02)
    two.observe(0.3)
    both = one.snapshot() + two.snapshot()
    assert both.count == 2 and both.seconds == pytest.approx(0.32)
    assert Timings() + both == both


def test_threads_observing_at_once_lose_no_count():
    recorder, start = TimingRecorder(), threading.Barrier(4)

    def observe_many():
        start.wait(timeout=10)
        for _ in range(5000):
            recorder.observe(0.05)

    threads = [threading.Thread(target=observe_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert recorder.snapshot().count == 20000
