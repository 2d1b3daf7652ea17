"""Safe mode in-process: says why, refuses every input without VALT, ends on reload."""

from __future__ import annotations

import os
import queue
import threading

import pytest
from conftest import notified

from ivs_accessory.config import check_file
from ivs_accessory.door.feedback import ALL_LEDS, pattern_for
from ivs_accessory.safe_mode import MESSAGE, start_config
from ivs_accessory.service import Service
from ivs_accessory.sources.console import ConsoleSource
from ivs_accessory.web.metrics import health


class LedConsole(ConsoleSource):
    """A console source with keypad LEDs: records every LED state it is given."""

    def __init__(self, name: str, stream) -> None:
        super().__init__(name, stream=stream)
        self.leds: list[frozenset[str]] = []
        self.lit = threading.Event()

    def set_leds(self, leds: set[str]) -> None:
        self.leds.append(frozenset(leds))
        if leds == ALL_LEDS:
            self.lit.set()


class Consoles:
    """A source factory giving each console source a real pipe as its stdin."""

    def __init__(self) -> None:
        self.writers: dict[str, int] = {}
        self.made: dict[str, LedConsole] = {}

    def __call__(self, name, options):
        read, write = os.pipe()
        self.writers[name] = write
        self.made[name] = LedConsole(name, os.fdopen(read, "r"))
        return self.made[name]

    def type(self, name, line):
        os.write(self.writers[name], (line + "\n").encode())


def config_text(tmp_path, server: str, mode: str = "both", room: str = "1") -> str:
    return (
        f"[valt]\nserver = {server}\nusername = admin\npassword = admin\n"
        f"room = {room}\ntimeout_s = 2\n\n"
        f"[mapping]\nmode = {mode}\n\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\n\n"
        "[web]\nenabled = false\n\n[source:door]\nkind = console\n"
    )


@pytest.fixture
def safe(tmp_path, make_sim, notify_socket):
    """A daemon started on a file whose [valt] points at a live simulator but whose
    [mapping] is invalid: yields (sim, service, consoles, outcomes, path)."""
    sim = make_sim(version="6.6.0")
    path = tmp_path / "accessory.conf"
    path.write_text(config_text(tmp_path, sim.url, mode="sometimes"))
    config, safe_mode = start_config(str(path))
    consoles, outcomes = Consoles(), queue.Queue()
    service = Service(
        config,
        safe_mode=safe_mode,
        source_factory=consoles,
        on_outcome=outcomes.put,
        keep_last_good=True,
    )
    service.start()
    try:
        yield sim, service, consoles, outcomes, path
    finally:
        service.stop()


def test_safe_mode_says_why_and_is_ready(safe, notify_socket, caplog):
    sim, service, consoles, outcomes, path = safe
    errors = check_file(str(path))
    assert errors == ["[mapping] mode = 'sometimes': must be one of pin, card, both"]
    assert notified(notify_socket, b"READY=1") == [
        f"STATUS=safe mode: {errors[0]}".encode(),
        b"READY=1",
    ]
    assert service.status()["safe_mode"] == {"errors": errors, "last_good": False}
    started = caplog.get_records("setup")  # the fixture started the service
    assert [r.getMessage() for r in started if r.levelname == "ERROR"] == [
        f"config: {errors[0]}"
    ]
    report = health(service.status())
    assert report["status"] == "degraded"
    assert report["reasons"] == [f"safe mode: {errors[0]}"]
    assert service.is_healthy()  # the watchdog is fed
    assert not os.path.exists(f"{path}.last-good")  # an invalid file is never kept


def test_every_input_is_refused_with_the_error_pattern_and_no_valt_request(safe):
    sim, service, consoles, outcomes, _ = safe
    consoles.type("door", "123456")
    consoles.type("door", "card 654321")
    consoles.type("door", "key plus")  # bound to marker by default
    results = [outcomes.get(timeout=10) for _ in range(3)]
    assert [(o.result, o.action, o.message) for o in results] == [
        ("not_configured", "toggle", MESSAGE),
        ("not_configured", "toggle", MESSAGE),
        ("not_configured", "marker", MESSAGE),
    ]
    assert {pattern_for(o) for o in results} == {"offline"}
    assert consoles.made["door"].lit.wait(5)  # the pattern reached the keypad LEDs
    assert sim.requests() == []
    assert service.status()["valt"]["requests"] == 0
    assert service.status()["dispatcher"]["outcomes"] == {"not_configured": 3}


def test_a_valid_reload_leaves_safe_mode_and_keeps_last_good(safe, notify_socket):
    sim, service, consoles, outcomes, path = safe
    notified(notify_socket, b"READY=1")
    path.write_text(config_text(path.parent, sim.url))
    assert service.reload_file() == []
    messages = notified(notify_socket, b"READY=1")
    assert b"STATUS=configuration valid again; safe mode ended" in messages
    assert service.safe_mode is None and service.status()["safe_mode"] is None
    assert open(f"{path}.last-good").read() == path.read_text()
    consoles.type("door", "123456")
    assert outcomes.get(timeout=10).result == "started"
    assert sim.state.room_info(1)["status"] == "recording"


def test_an_invalid_reload_in_safe_mode_updates_the_errors(safe, notify_socket):
    sim, service, consoles, outcomes, path = safe
    notified(notify_socket, b"READY=1")
    path.write_text(config_text(path.parent, "htps://x", mode="sometimes"))
    errors = service.reload_file()
    assert len(errors) == 2 and errors == check_file(str(path))
    assert (
        notify_socket.recv(4096) == f"STATUS=safe mode: {errors[0]} (+1 more)".encode()
    )
    assert service.status()["safe_mode"]["errors"] == errors
    consoles.type("door", "123456")
    assert outcomes.get(timeout=10).result == "not_configured"


@pytest.fixture
def running(tmp_path, make_sim, notify_socket):
    """A daemon started cleanly (it keeps last good): (sim, service, consoles,
    outcomes, path)."""
    sim = make_sim(version="6.6.0")
    path = tmp_path / "accessory.conf"
    path.write_text(config_text(tmp_path, sim.url))
    config, safe_mode = start_config(str(path))
    assert safe_mode is None
    consoles, outcomes = Consoles(), queue.Queue()
    service = Service(
        config, source_factory=consoles, on_outcome=outcomes.put, keep_last_good=True
    )
    service.start()
    try:
        yield sim, service, consoles, outcomes, path
    finally:
        service.stop()


def test_a_clean_start_keeps_last_good(running):
    sim, service, consoles, outcomes, path = running
    kept = path.parent / "accessory.conf.last-good"
    assert kept.read_text() == path.read_text()
    assert kept.stat().st_mode & 0o777 == 0o600


def test_an_invalid_reload_keeps_the_running_config(running, notify_socket):
    sim, service, consoles, outcomes, path = running
    notified(notify_socket, b"READY=1")
    before = service.config
    path.write_text(config_text(path.parent, "https://:443", room="2"))
    errors = service.reload_file()
    assert errors == [
        "[valt] server = 'https://:443': has no host name, e.g. "
        "https://valt.example.org"
    ]
    assert service.config is before and service.safe_mode is None
    assert notify_socket.recv(4096) == (
        b"STATUS=configuration not reloaded, the previous one runs on: "
        + errors[0].encode()
    )
    consoles.type("door", "123456")
    assert outcomes.get(timeout=10).result == "started"
    assert sim.state.room_info(1)["status"] == "recording"


def test_restore_last_good_brings_back_the_file_and_applies_it(running, notify_socket):
    sim, service, consoles, outcomes, path = running
    good = path.read_text()
    path.write_text(config_text(path.parent, sim.url, room="kitchen"))
    assert service.reload_file()  # refused: the old configuration runs on
    service.restore_last_good()
    assert path.read_text() == good and path.stat().st_mode & 0o777 == 0o600
    assert service.config.text == good
    consoles.type("door", "123456")
    assert outcomes.get(timeout=10).result == "started"


def test_restore_last_good_from_safe_mode(tmp_path, make_sim, notify_socket):
    sim = make_sim(version="6.6.0")
    path = tmp_path / "accessory.conf"
    path.write_text(config_text(tmp_path, sim.url))
    (tmp_path / "accessory.conf.last-good").write_text(path.read_text())
    path.write_text(config_text(tmp_path, "http://[::1", room="2"))
    config, safe_mode = start_config(str(path))
    assert safe_mode is not None and safe_mode.last_good is True
    consoles, outcomes = Consoles(), queue.Queue()
    service = Service(
        config, safe_mode=safe_mode, source_factory=consoles, on_outcome=outcomes.put
    )
    service.start()
    try:
        assert service.status()["safe_mode"]["last_good"] is True
        service.restore_last_good()
        assert service.safe_mode is None
        consoles.type("door", "123456")
        assert outcomes.get(timeout=10).result == "started"
    finally:
        service.stop()
