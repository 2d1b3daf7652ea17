"""Lockout: failures in a row lock a source out, with a doubling, capped backoff."""

from ivs_accessory.lockout import Lockout


def test_lockout_after_max_failures():
    lock = Lockout(max_failures=3, base_s=30, max_s=900)
    assert [lock.failure("kp", 0) for _ in range(3)] == [0, 0, 30]
    assert lock.remaining("kp", 10) == 20
    assert lock.remaining("kp", 31) == 0
    assert lock.remaining("other", 10) == 0


def test_lockout_backoff_doubles_and_caps():
    lock = Lockout(max_failures=1, base_s=30, max_s=100)
    assert [lock.failure("kp", 0) for _ in range(4)] == [30, 60, 100, 100]


def test_success_resets_count_and_backoff():
    lock = Lockout(max_failures=2, base_s=10, max_s=100)
    lock.failure("kp", 0)
    lock.failure("kp", 0)
    lock.success("kp")
    assert lock.remaining("kp", 1) == 0
    assert lock.failure("kp", 2) == 0
    assert lock.failure("kp", 2) == 10
