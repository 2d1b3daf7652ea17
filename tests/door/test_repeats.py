"""RepeatGuard: the same credential again while pending or just done is one input."""

from __future__ import annotations

from ivs_accessory.door.repeats import RepeatGuard

KEY, OTHER = b"k" * 32, b"o" * 32


def test_a_repeat_typed_while_the_first_is_pending_is_still_working_on_it():
    guard = RepeatGuard(window_s=2)
    assert guard.check(KEY, typed=0.0) is None
    # The first took 4 s at VALT; the person typed again at 2.5 s, outside the
    # window but while it was pending.
    guard.done(KEY, finished=4.0, words="Recording started")
    assert guard.check(KEY, typed=2.5) == "Still working on it"


def test_the_window_counts_from_when_each_was_typed_not_from_the_finish():
    guard = RepeatGuard(window_s=2)
    assert guard.check(KEY, typed=0.0) is None
    guard.done(KEY, finished=0.1, words="Recording started")
    assert guard.check(KEY, typed=1.9) == "Already done: Recording started"
    assert guard.check(KEY, typed=2.1) is None  # a new input: it may stop


def test_other_credentials_are_not_repeats():
    guard = RepeatGuard(window_s=2)
    assert guard.check(KEY, typed=0.0) is None
    assert guard.check(OTHER, typed=0.5) is None


def test_old_uses_are_forgotten():
    guard = RepeatGuard(window_s=2)
    for n in range(100):
        key = n.to_bytes(32, "big")
        guard.check(key, typed=float(n * 10))
        guard.done(key, finished=float(n * 10) + 0.1, words="ok")
    assert len(guard._uses) <= 1
