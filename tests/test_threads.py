"""Worker: real threads started, told to stop, joined, or named when stuck."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from ivs_accessory.errors import AccessoryError
from ivs_accessory.threads import ThreadStuckError, Worker

WAIT_S = 5
STUCK_S = 0.05  # how long a stop waits for a thread that will not end


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at the end of the test, so a thread it left stuck ends too."""
    event = threading.Event()
    yield event
    event.set()


def running_names() -> list[str]:
    return [t.name for t in threading.enumerate()]


def test_stop_tells_the_thread_and_waits_for_it():
    stopping, entered, ended = threading.Event(), threading.Event(), threading.Event()

    def loop() -> None:
        entered.set()
        stopping.wait(WAIT_S)
        ended.set()

    worker = Worker(loop, "test-loop", on_stop=stopping.set)
    worker.start()
    assert entered.wait(WAIT_S)
    assert worker.alive and "test-loop" in running_names()
    worker.stop(WAIT_S)
    assert ended.is_set() and not worker.alive


def test_a_stuck_thread_is_named_with_the_timeout(release):
    entered = threading.Event()

    def stuck() -> None:
        entered.set()
        release.wait(WAIT_S)  # deaf to on_stop

    worker = Worker(stuck, "test-stuck", on_stop=lambda: None, hint="a call hangs?")
    worker.start()
    assert entered.wait(WAIT_S)
    with pytest.raises(ThreadStuckError) as caught:
        worker.stop(STUCK_S)
    error = caught.value
    assert str(error) == (
        "thread 'test-stuck' did not stop within 0.05 s (a call hangs?)"
    )
    assert (error.name, error.timeout_s) == ("test-stuck", STUCK_S)
    assert isinstance(error, AccessoryError) and isinstance(error, RuntimeError)
    assert worker.alive  # it goes on; a later stop may still see it end
    release.set()
    worker.stop(WAIT_S)
    assert not worker.alive


@pytest.mark.parametrize("daemon", [True, False])
def test_threads_are_daemons_unless_asked(release, daemon):
    worker = Worker(lambda: release.wait(WAIT_S), "test-daemon", daemon=daemon)
    worker.start()
    try:
        (thread,) = [t for t in threading.enumerate() if t.name == "test-daemon"]
        assert thread.daemon is daemon  # a stuck daemon thread ends with the process
    finally:
        release.set()
        worker.stop(WAIT_S)


def test_stop_before_start_calls_the_hook_and_waits_for_nothing():
    told = threading.Event()
    worker = Worker(lambda: None, "test-never", on_stop=told.set)
    worker.stop(0)
    assert told.is_set() and not worker.alive


def test_a_worker_runs_once():
    ran = threading.Semaphore(0)
    worker = Worker(ran.release, "test-once")
    worker.start()
    assert ran.acquire(timeout=WAIT_S)
    worker.stop(WAIT_S)
    with pytest.raises(RuntimeError, match="once"):
        worker.start()


def test_args_reach_the_target():
    got: list[int] = []
    worker = Worker(got.append, "test-args", args=(7,))
    worker.start()
    worker.stop(WAIT_S)
    assert got == [7]


def test_a_thread_stopping_itself_is_told_and_does_not_wait_for_itself():
    stopping, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def stop_self() -> None:
        try:
            worker.stop(WAIT_S)
        except BaseException as exc:  # noqa: BLE001 - checked on the test's thread
            errors.append(exc)
        done.set()

    worker = Worker(stop_self, "test-self", on_stop=stopping.set)
    worker.start()
    assert done.wait(WAIT_S)
    assert errors == [] and stopping.is_set()
    worker.stop(WAIT_S)


def test_a_failing_hook_is_raised_after_the_join(release):
    def hook() -> None:
        release.set()
        raise OSError("socket already closed")

    worker = Worker(lambda: release.wait(WAIT_S), "test-hook", on_stop=hook)
    worker.start()
    with pytest.raises(OSError, match="already closed"):
        worker.stop(WAIT_S)
    assert not worker.alive


def test_a_failing_hook_and_a_stuck_thread_report_both(release):
    entered = threading.Event()

    def stuck() -> None:
        entered.set()
        release.wait(WAIT_S)

    def hook() -> None:
        raise OSError("socket already closed")

    worker = Worker(stuck, "test-both", on_stop=hook)
    worker.start()
    assert entered.wait(WAIT_S)
    with pytest.raises(ThreadStuckError) as caught:
        worker.stop(STUCK_S)
    assert isinstance(caught.value.__context__, OSError)
