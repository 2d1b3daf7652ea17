"""Lockout: failures add up per source; a valid PIN does not clear them; the backoff
survives a restart."""

from __future__ import annotations

import json
import os

from ivs_accessory.door.lockout import Lockout


def test_lockout_after_max_failures_in_a_row():
    lock = Lockout(max_failures=3, base_s=30, max_s=900)
    assert [lock.failure("kp", 0) for _ in range(3)] == [0, 0, 30]
    assert lock.remaining("kp", 10) == 20
    assert lock.remaining("kp", 31) == 0
    assert lock.remaining("other", 10) == 0


def test_lockout_backoff_doubles_and_caps():
    lock = Lockout(max_failures=1, base_s=30, max_s=100)
    assert [lock.failure("kp", 0) for _ in range(4)] == [30, 60, 100, 100]


def test_a_valid_pin_ends_the_run_but_not_the_doubling():
    lock = Lockout(max_failures=2, base_s=10, max_s=100)
    assert [lock.failure("kp", 0), lock.failure("kp", 0)] == [0, 10]
    lock.success("kp")
    assert lock.failure("kp", 20) == 0  # the run starts again ...
    assert lock.failure("kp", 20) == 20  # ... but the backoff doubled


def test_the_doubling_ends_after_a_quiet_window():
    lock = Lockout(max_failures=1, base_s=10, max_s=100, window_s=600)
    assert [lock.failure("kp", 0), lock.failure("kp", 20)] == [10, 20]
    assert lock.failure("kp", 20 + 601) == 10


def test_four_wrong_and_one_valid_repeated_still_locks_the_keypad():
    # An independent tester: four wrong PINs and one valid, eight times over, gave
    # 32 guesses and no lockout. The window rule catches it at 20.
    lock = Lockout(max_failures=5, base_s=30, window_failures=20, window_s=3600)
    now, guesses = 0.0, 0
    while lock.remaining("kp", now) == 0 and guesses < 100:
        for _ in range(4):
            lock.failure("kp", now)
            guesses += 1
            now += 2
        lock.success("kp")
        now += 2
    assert guesses == 20
    assert lock.remaining("kp", now) > 3000  # until the first guess leaves the hour


def test_the_lockout_survives_a_restart(tmp_path):
    path = str(tmp_path / "lockout.json")
    wall = [1_000_000.0]
    first = Lockout(3, 30, 900, state_file=path, clock=lambda: 50.0,
                    wall_clock=lambda: wall[0])  # fmt: skip
    for _ in range(3):
        first.failure("kp", 50.0)
    assert os.stat(path).st_mode & 0o777 == 0o600
    wall[0] += 10  # restarted 10 s later; the monotonic clock began again at 0
    second = Lockout(3, 30, 900, state_file=path, clock=lambda: 0.0,
                     wall_clock=lambda: wall[0])  # fmt: skip
    assert second.remaining("kp", 0.0) == 20
    assert second.failure("kp", 25.0) == 0  # the run was not carried: it locked


def test_a_damaged_state_file_is_ignored_with_a_warning(tmp_path, caplog):
    path = tmp_path / "lockout.json"
    for text in ("{not json", json.dumps({"kp": {"failures": "x"}}), "[]"):
        path.write_text(text)
        lock = Lockout(state_file=str(path))
        assert lock.remaining("kp", 0) == 0
    assert "ignoring the lockout state" in caplog.text


def test_an_unwritable_state_file_does_not_stop_the_lockout(tmp_path, caplog):
    lock = Lockout(max_failures=1, state_file=str(tmp_path / "missing" / "l.json"))
    assert lock.failure("kp", 0) == 30
    assert "cannot save the lockout state" in caplog.text
