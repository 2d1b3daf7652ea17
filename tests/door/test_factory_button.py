"""The factory button: evdev events built by hand, a fake clock, the keypad LEDs."""

from __future__ import annotations

import queue
import threading

import pytest
from conftest import FakeClock
from evdev import InputEvent, ecodes

from ivs_accessory.config import load
from ivs_accessory.door.factory_button import ALL_LEDS, FactoryButton
from ivs_accessory.door.feedback import LedFeedback
from ivs_accessory.errors import SystemActionError
from ivs_accessory.events import KeyHeld, KeyPressed
from ivs_accessory.service import Service
from ivs_accessory.sources.keypad import KeypadDecoder

WAIT_S = 10


class LedDevice:
    """Records every LED set it is given; ``seen`` fires when ``wanted`` appears."""

    name = "fake keypad"

    def __init__(self, wanted=frozenset()) -> None:
        self.history: list[frozenset[str]] = []
        self.wanted = wanted
        self.seen = threading.Event()

    def set_leds(self, on) -> None:
        self.history.append(frozenset(on))
        if frozenset(on) == self.wanted:
            self.seen.set()


class Rig:
    """Decoder -> button -> LEDs, stepped by a fake clock, like the dispatcher does."""

    def __init__(self, hold_s=10.0, trigger=None) -> None:
        self.clock = FakeClock(100.0)
        self.calls = 0
        self.decoder = KeypadDecoder("door", clock=self.clock)
        self.button = FactoryButton(
            "KEY_RESTART", hold_s, trigger or self._trigger, self.clock, ("door",)
        )
        self.device = LedDevice()
        self.leds = LedFeedback(
            lambda: [self.device], clock=self.clock, override=self.button.leds
        )
        self.passed: list = []  # events the button let through to the mapper

    def _trigger(self) -> None:
        self.calls += 1

    def at(self, t: float, value: int | None = None, code=ecodes.KEY_RESTART) -> None:
        """At t seconds after the start, feed a key event (or just tick)."""
        self.clock.now = 100.0 + t
        raw = (
            []
            if value is None
            else self.decoder.feed(InputEvent(0, 0, ecodes.EV_KEY, code, value))
        )
        for event in raw + self.decoder.tick():
            if not self.button.handle(event):
                self.passed.append(event)
        self.leds.tick(self.clock.now)


def test_a_long_press_arms_at_the_threshold_blinks_and_triggers_on_release():
    rig = Rig(hold_s=10)
    rig.at(0, 1)
    for second in range(1, 10):
        rig.at(second + 0.99)
        assert rig.button.leds() is None, second
    assert rig.leds.wanted() == frozenset()
    rig.at(10.0)
    assert rig.button.armed_at == 110.0
    assert rig.leds.wanted() == ALL_LEDS
    rig.at(10.6)
    assert rig.leds.wanted() == frozenset()  # blinking: the pattern changed
    rig.at(11.1)
    assert rig.leds.wanted() == ALL_LEDS
    assert rig.calls == 0  # nothing happens while the key is still held
    rig.at(11.3, 0)
    assert rig.calls == 1
    rig.at(11.9)
    rig.at(13.0)
    assert rig.leds.wanted() == ALL_LEDS  # steady until the reboot
    assert rig.device.history[-1] == ALL_LEDS
    assert [type(e).__name__ for e in rig.passed] == ["KeyHeld"] * 9  # progress only


@pytest.mark.parametrize("release_at", [0.1, 3.0, 9.9])
def test_a_short_press_does_nothing_and_goes_on_to_the_mapper(release_at, caplog):
    caplog.set_level("INFO", "ivs_accessory")
    rig = Rig(hold_s=10)
    rig.at(0, 1)
    rig.at(release_at, 0)
    rig.at(release_at + 5)
    assert rig.calls == 0
    assert rig.button.leds() is None and rig.device.history in ([], [frozenset()])
    assert isinstance(rig.passed[-1], KeyPressed)
    assert "hold it 10 s to restore the factory settings" in caplog.text


def test_other_keys_and_a_disabled_button_are_ignored():
    rig = Rig(hold_s=2)
    rig.at(0, 1, code=ecodes.KEY_KPMINUS)
    rig.at(5, 0, code=ecodes.KEY_KPMINUS)
    assert rig.calls == 0 and rig.button.armed_at is None
    off = FactoryButton("", 2, lambda: None)
    assert not off.handle(KeyHeld("door", "KEY_RESTART", 30, 0, released=True))


def test_a_second_long_press_after_a_failed_trigger_tries_again(caplog):
    attempts = []

    def failing() -> None:
        attempts.append(1)
        raise SystemActionError("systemctl failed with exit code 1: Access denied")

    rig = Rig(hold_s=2, trigger=failing)
    rig.at(0, 1)
    rig.at(2.5)
    rig.at(2.6, 0)
    assert attempts == [1] and not rig.button.triggered
    assert "could not be started: systemctl failed" in caplog.text
    assert rig.button.leds() is None  # back to the normal LEDs
    rig.at(3, 1)
    rig.at(5.2)
    rig.at(5.3, 0)
    assert attempts == [1, 1]


def test_release_reports_carry_the_length_even_without_progress_events():
    calls = []
    button = FactoryButton("KEY_RESTART", 10, lambda: calls.append(1), sources=["door"])
    assert button.handle(KeyHeld("door", "KEY_RESTART", 10.2, 0, released=True))
    assert button.handle(KeyPressed("door", "KEY_RESTART", 0))  # swallowed too
    assert not button.handle(
        KeyPressed("door", "KEY_RESTART", 1)
    )  # the next press isn't
    assert calls == [1]


def test_from_settings_runs_the_configured_factory_default_command(tmp_path):
    trace = tmp_path / "trace"
    script = tmp_path / "start"
    script.write_text(f'#!/bin/sh\necho "$@" > {trace}\n')
    script.chmod(0o755)
    conf = tmp_path / "a.conf"
    conf.write_text(
        f"[system]\nfactory_default_command = {script} factory\n"
        "factory_key = KEY_KPMINUS\nfactory_hold_ms = 3000\n"
        "factory_sources = front door\n"
    )
    button = FactoryButton.from_settings(load(conf)["system"])
    assert (button.key, button.hold_s) == ("KEY_KPMINUS", 3.0)
    assert button.sources == frozenset({"front", "door"})
    button.handle(KeyHeld("door", "KEY_KPMINUS", 3.0, 0, released=True))
    assert trace.read_text() == "factory\n"


def test_the_key_counts_only_from_the_configured_sources(caplog):
    calls = []
    button = FactoryButton("KEY_RESTART", 10, lambda: calls.append(1))
    assert button.sources == frozenset({"button"})  # the packaged default
    usb = [
        KeyHeld("keypad", "KEY_RESTART", 10.5, 0, released=False),
        KeyHeld("keypad", "KEY_RESTART", 30, 0, released=True),
        KeyPressed("keypad", "KEY_RESTART", 0),
    ]
    assert [button.handle(e) for e in usb] == [False, False, False]
    assert calls == [] and button.leds() is None
    assert button.handle(KeyHeld("button", "KEY_RESTART", 10.2, 0, released=True))
    assert calls == [1]
    nobody = FactoryButton("KEY_RESTART", 10, lambda: calls.append(2), sources=[])
    assert not nobody.handle(KeyHeld("button", "KEY_RESTART", 11, 0, released=True))
    assert calls == [1]


def test_packaged_defaults_take_the_key_from_the_button_source_only():
    system = load(None)["system"]
    assert system["factory_sources"] == "button"
    assert FactoryButton.from_settings(system).sources == frozenset({"button"})


class ButtonSource:
    """A keypad source the test drives by calling ``emit``; it has LEDs."""

    def __init__(self, device: LedDevice, name: str = "door") -> None:
        self.device = device
        self.emit = None
        self.name = name

    def start(self, emit) -> None:
        self.emit = emit

    def close(self) -> None:
        pass

    def status(self) -> dict:
        return {"connected": True, "device": None, "last_error": None, "reconnects": 0}

    def set_leds(self, on) -> None:
        self.device.set_leds(on)


def test_the_daemon_blinks_the_keypad_leds_then_starts_the_factory_default(tmp_path):
    trace = tmp_path / "trace"
    script = tmp_path / "start-helper"
    script.write_text(f'#!/bin/sh\necho "$@" > {trace}.tmp && mv {trace}.tmp {trace}\n')
    script.chmod(0o755)
    conf = tmp_path / "a.conf"
    conf.write_text(
        f"[system]\nfactory_default_command = {script} factory-default\n"
        f"factory_key = KEY_KPMINUS\nfactory_hold_ms = 2000\nfactory_sources = door\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\n"
        "[source:door]\nkind = keypad\n"
    )
    device = LedDevice(wanted=ALL_LEDS)
    source = ButtonSource(device)
    service = Service(load(conf), source_factory=lambda name, options: source)
    service.start()
    try:
        source.emit(KeyHeld("door", "KEY_KPMINUS", 1.0, 0, released=False))
        source.emit(KeyHeld("door", "KEY_KPMINUS", 2.0, 0, released=False))
        assert device.seen.wait(WAIT_S), device.history
        assert not trace.exists()
        source.emit(KeyHeld("door", "KEY_KPMINUS", 2.4, 0, released=True))
        source.emit(KeyPressed("door", "KEY_KPMINUS", 0))
        done = threading.Event()
        for _ in range(WAIT_S * 100):  # the dispatcher thread runs the command
            if trace.exists():
                done.set()
                break
            done.wait(0.01)
        assert done.is_set()
        assert trace.read_text() == "factory-default\n"
    finally:
        service.stop()


def test_the_daemon_ignores_the_key_held_on_a_usb_keypad(tmp_path):
    trace = tmp_path / "trace"
    script = tmp_path / "start-helper"
    script.write_text(f'#!/bin/sh\necho "$@" > {trace}\n')
    script.chmod(0o755)
    conf = tmp_path / "a.conf"
    conf.write_text(
        f"[system]\nfactory_default_command = {script} factory-default\n"
        "factory_hold_ms = 2000\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\n"
        "[source:keypad]\nkind = keypad\n[source:button]\nkind = keypad\n"
    )
    sources = {name: ButtonSource(LedDevice(), name) for name in ("keypad", "button")}
    outcomes: queue.Queue = queue.Queue()
    service = Service(
        load(conf),
        source_factory=lambda name, options: sources[name],
        on_outcome=outcomes.put,
    )
    service.start()
    try:
        usb = sources["keypad"]
        usb.emit(KeyHeld("keypad", "KEY_RESTART", 2.5, 0, released=False))
        usb.emit(KeyHeld("keypad", "KEY_RESTART", 12.0, 0, released=True))
        usb.emit(KeyPressed("keypad", "KEY_KPPLUS", 0))  # a marker: any outcome
        outcomes.get(timeout=WAIT_S)  # so the hold above has been handled too
        assert not trace.exists()
        assert not service.factory_button.triggered
        button = sources["button"]
        button.emit(KeyHeld("button", "KEY_RESTART", 2.2, 0, released=True))
        done = threading.Event()
        for _ in range(WAIT_S * 100):  # the dispatcher thread runs the command
            # The shell creates the file before echo writes to it: wait for the line.
            if trace.exists() and trace.read_text() == "factory-default\n":
                done.set()
                break
            done.wait(0.01)
        assert done.is_set(), trace.read_text() if trace.exists() else "no trace"
    finally:
        service.stop()
