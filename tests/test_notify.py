"""sd_notify via systemd-python to a real datagram socket, and the watchdog thread."""

from __future__ import annotations

import os
import threading

import pytest

from ivs_accessory.notify import Notifier, Watchdog
from ivs_accessory.threads import ThreadStuckError


def test_messages_reach_the_notify_socket(notify_socket):
    notifier = Notifier()
    assert notifier("READY=1") is True
    assert notify_socket.recv(4096) == b"READY=1"
    notifier("STATUS=room 1 available")
    assert notify_socket.recv(4096) == b"STATUS=room 1 available"


def test_without_systemd_nothing_is_sent(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert notifier("READY=1") is False and notifier.sent == ["READY=1"]


@pytest.mark.parametrize(
    "environ, interval",
    [
        ({"WATCHDOG_USEC": "30000000"}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}, 15.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({}, None),
        ({"WATCHDOG_USEC": "soon"}, None),
    ],
)
def test_watchdog_interval_from_environment(environ, interval):
    assert Notifier(environ=environ).watchdog_interval_s() == interval


def test_watchdog_pings_only_while_alive():
    pings, alive = [], threading.Event()
    alive.set()
    got = threading.Semaphore(0)

    def notify(message):
        pings.append((message, alive.is_set()))
        got.release()

    dog = Watchdog(notify, 0.01, alive.is_set)
    dog.start()
    try:
        assert got.acquire(timeout=5)
        alive.clear()
        missed = threading.Event()
        for _ in range(500):
            if dog.missed >= 3:
                missed.set()
                break
            missed.wait(0.01)
        assert missed.is_set()
    finally:
        dog.stop()
    assert pings and all(
        message == "WATCHDOG=1" and was_alive for message, was_alive in pings
    )


def test_watchdog_stop_names_a_thread_stuck_in_its_health_check():
    asked, release = threading.Event(), threading.Event()

    def alive() -> bool:  # a health check that hangs
        asked.set()
        release.wait(30)
        return True

    dog = Watchdog(lambda message: None, 0.01, alive)
    dog.start()
    try:
        assert asked.wait(5)
        with pytest.raises(
            ThreadStuckError, match="'watchdog' did not stop within 1 s"
        ):
            dog.stop()
    finally:
        release.set()
    dog.stop()
