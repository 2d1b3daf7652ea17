"""Daemon in-process: config -> sources -> dispatcher -> VALT sim, notify, reload."""

from __future__ import annotations

import logging
import queue
import threading
import time

import pytest
from conftest import PipeConsoles

from ivs_accessory.config import load
from ivs_accessory.service import Service


def write_config(
    path, server="", room="1", sources="[source:door]\nkind = console\n", extra=""
):
    path.write_text(
        f"[valt]\nserver = {server}\nusername = admin\npassword = admin\n"
        f"room = {room}\n"
        f"timeout_s = 2\n\n[logging]\naudit_file = {path.parent / 'audit.log'}\n\n"
        "[web]\nenabled = false\n\n"  # the page has its own tests (tests/web)
        f"{sources}\n{extra}"
    )
    return str(path)


@pytest.fixture
def running(tmp_path, make_sim, notify_socket):
    """A started Service on a 6.6 simulator with one console source; yields helpers."""
    sim = make_sim(version="6.6.0")
    consoles = PipeConsoles()
    outcomes: queue.Queue = queue.Queue()
    path = write_config(tmp_path / "accessory.conf", server=sim.url)
    service = Service(load(path), source_factory=consoles, on_outcome=outcomes.put)
    service.start()
    try:
        yield sim, service, consoles, outcomes, path
    finally:
        service.stop()


def test_ready_after_start_and_a_pin_starts_recording(running, notify_socket):
    sim, service, consoles, outcomes, _ = running
    assert notify_socket.recv(4096) == b"READY=1"
    consoles.type("door", "123456")
    outcome = outcomes.get(timeout=10)
    assert outcome.result == "started" and outcome.user_id == 2
    assert sim.state.room_info(1)["status"] == "recording"
    status = service.status()
    room = status["room"]
    assert (room["id"], room["status"], room["started_by"]) == (
        1,
        "recording",
        "Alice Smith",
    )
    assert 0 <= room["elapsed_s"] < 10 and 0 <= room["status_age_s"] < 10
    assert status["valt"]["online"] is True and status["sources"]["door"]["connected"]


def test_status_line_reaches_systemd(running, notify_socket):
    sim, service, consoles, outcomes, _ = running
    consoles.type("door", "654321")
    outcomes.get(timeout=10)
    seen = []
    while not any(m.startswith(b"STATUS=room 1 recording") for m in seen):
        seen.append(notify_socket.recv(4096))
    assert any(b"Recording started for Bob Jones" in m for m in seen)


def test_reload_applies_new_room_and_keeps_unchanged_sources(running, tmp_path):
    sim, service, consoles, outcomes, path = running
    first_source = service.sources["door"]
    write_config(
        tmp_path / "accessory.conf",
        server=sim.url,
        room="2",
        sources="[source:door]\nkind = console\n\n[source:desk]\nkind = console\n",
    )
    service.reload(load(path))
    assert service.sources["door"] is first_source
    assert set(service.sources) == {"door", "desk"}
    consoles.type("desk", "123456")
    assert outcomes.get(timeout=10).result == "started"
    assert sim.state.room_info(2)["status"] == "recording"
    assert sim.state.room_info(1)["status"] == "available"


def test_reload_reopens_a_source_whose_settings_changed(tmp_path, make_sim):
    sim = make_sim()
    consoles = PipeConsoles()
    path = write_config(
        tmp_path / "a.conf", server=sim.url, sources="[source:door]\nkind = console\n"
    )
    service = Service(load(path), source_factory=consoles)
    service.start()
    try:
        write_config(
            tmp_path / "a.conf",
            server=sim.url,
            sources="[source:door]\nkind = card_serial\nport = /dev/ttyUSB9\n",
        )
        service.reload(load(path))
        assert [name for name, _ in consoles.made] == ["door", "door"]
    finally:
        service.stop()


def test_unconfigured_server_still_runs_and_says_so(tmp_path, notify_socket):
    consoles = PipeConsoles()
    outcomes: queue.Queue = queue.Queue()
    path = write_config(tmp_path / "a.conf", server="", room="")
    service = Service(load(path), source_factory=consoles, on_outcome=outcomes.put)
    service.start()
    try:
        assert notify_socket.recv(4096) == b"READY=1"
        consoles.type("door", "123456")
        assert outcomes.get(timeout=10).result == "not_configured"
        assert service.status()["valt"]["configured"] is False
    finally:
        service.stop()


def test_a_source_that_cannot_start_does_not_stop_the_others(
    tmp_path, make_sim, caplog
):
    sim = make_sim()
    consoles = PipeConsoles()

    def factory(name, options):
        if name == "broken":
            raise OSError("no such port")
        return consoles(name, options)

    path = write_config(
        tmp_path / "a.conf",
        server=sim.url,
        sources=("[source:broken]\nkind = console\n\n[source:door]\nkind = console\n"),
    )
    outcomes: queue.Queue = queue.Queue()
    service = Service(load(path), source_factory=factory, on_outcome=outcomes.put)
    service.start()
    try:
        consoles.type("door", "123456")
        assert outcomes.get(timeout=10).result == "started"
        assert "broken" in caplog.text and "no such port" in caplog.text
    finally:
        service.stop()


def test_stop_is_quick(running):
    sim, service, consoles, outcomes, _ = running
    began = time.monotonic()
    service.stop()
    assert time.monotonic() - began < 2.0


def test_watchdog_pings_and_stops_while_the_dispatcher_hangs(
    tmp_path, make_sim, notify_socket, monkeypatch
):
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 0.05 s
    sim = make_sim()
    consoles = PipeConsoles()
    path = write_config(tmp_path / "a.conf", server=sim.url)
    service = Service(load(path), source_factory=consoles, hung_after_s=0.5)
    service.start()
    try:
        while notify_socket.recv(4096) != b"WATCHDOG=1":
            pass
        released = threading.Event()
        sim.inject(path="admin/users", delay_ms=1800, count=1)  # the timeout is 2 s
        consoles.type("door", "123456")
        missed = threading.Event()
        for _ in range(300):
            if service.watchdog.missed:
                missed.set()
                break
            released.wait(0.01)
        assert missed.is_set()
    finally:
        service.stop()


class StuckSink:
    """Feedback whose tick blocks the dispatcher thread until released."""

    def __init__(self) -> None:
        self.entered, self.release = threading.Event(), threading.Event()

    def tick(self, now: float) -> None:
        self.entered.set()
        self.release.wait(30)

    def show(self, outcome) -> None: ...

    def entry(self, source, length) -> None: ...

    def room(self, status, online) -> None: ...


def test_a_stuck_dispatcher_is_logged_and_the_rest_still_stops(
    tmp_path, make_sim, caplog
):
    caplog.set_level(logging.INFO, "ivs_accessory.service")
    sim = make_sim()
    sink = StuckSink()
    path = write_config(tmp_path / "a.conf", server=sim.url)
    service = Service(load(path), source_factory=PipeConsoles(), feedback=[sink])
    service.start()
    try:
        assert sink.entered.wait(10)
        began = time.monotonic()
        service.stop(drain_s=0)
        assert time.monotonic() - began < 3.0
        assert (
            "the dispatcher did not stop cleanly: thread 'dispatcher' did not stop "
            "within 1.5 s (a VALT call hangs?)"
        ) in caplog.text
        assert service.client is None and "accessory stopped" in caplog.text
    finally:
        sink.release.set()


@pytest.mark.parametrize(
    ("timeout", "limit"), [("1", 30.0), ("5", 40.0), ("60", 480.0)]
)
def test_hung_limit_follows_the_valt_timeout(tmp_path, timeout, limit):
    from ivs_accessory.service import hung_after_s

    path = tmp_path / "a.conf"
    path.write_text(f"[valt]\ntimeout_s = {timeout}\n")
    assert hung_after_s(load(str(path))) == limit
