"""Sources in general: Backoff, the registry, the protocol, events safe to log."""

from __future__ import annotations

import io
import os
import queue
import threading
import time
from collections.abc import Iterator

import pytest

from ivs_accessory.errors import ConfigError
from ivs_accessory.events import CardRead, CodeEntered, KeyHeld, KeyPressed
from ivs_accessory.sources import base
from ivs_accessory.sources.base import (
    Backoff,
    InputSource,
    create_source,
    describe_event,
    key_release,
    register,
)
from ivs_accessory.sources.card_hid import EvdevCardReader
from ivs_accessory.sources.card_serial import SerialCardReader
from ivs_accessory.sources.console import ConsoleSource
from ivs_accessory.sources.keypad import EvdevKeypad

WAIT_S = 5


@pytest.fixture(autouse=True)
def no_thread_left() -> Iterator[None]:
    yield
    names = [
        t.name for t in threading.enumerate() if t.name.startswith(("source-", "card-"))
    ]
    assert names == []


@pytest.fixture
def registry() -> Iterator[None]:
    """Let a test register kinds; the registry is restored afterwards."""
    saved = dict(base._REGISTRY)
    try:
        yield
    finally:
        base._REGISTRY.clear()
        base._REGISTRY.update(saved)


# --- Backoff --------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_maximum_and_resets():
    backoff = Backoff(0.1, 2.0)
    assert [backoff.next_delay() for _ in range(7)] == pytest.approx(
        [0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    )
    backoff.reset()
    assert backoff.next_delay() == 0.1


def test_backoff_other_factor():
    backoff = Backoff(1, 10, factor=3)
    assert [backoff.next_delay() for _ in range(4)] == [1, 3, 9, 10]


@pytest.mark.parametrize("args", [(0, 1), (2, 1), (0.1, 1, 0.5)])
def test_backoff_rejects_nonsense(args):
    with pytest.raises(ValueError):
        Backoff(*args)


# --- key_release and describe_event ---------------------------------------------------


def test_key_release_is_held_then_pressed():
    assert key_release("kp", "KEY_KP1", 0.3, 9.0) == [
        KeyHeld("kp", "KEY_KP1", 0.3, 9.0, released=True),
        KeyPressed("kp", "KEY_KP1", 9.0),
    ]


@pytest.mark.parametrize(
    "event, text",
    [
        (KeyPressed("kp", "KEY_KP7", 0), "a digit key pressed"),
        (KeyPressed("kp", "KEY_3", 0), "a digit key pressed"),
        (KeyPressed("kp", "KEY_KPPLUS", 0), "KEY_KPPLUS pressed"),
        (
            KeyHeld("kp", "KEY_KPASTERISK", 2.04, 0, released=False),
            "KEY_KPASTERISK held 2.0 s (still down)",
        ),
        (KeyHeld("kp", "KEY_KP1", 0.2, 0), "a digit key held 0.2 s (released)"),
        (CodeEntered("kp", "482913", 0), "code entered (6 digits)"),
        (
            CardRead("rd", "0004921746", "decimal", 0),
            "card read (decimal, 10 characters)",
        ),
    ],
)
def test_describe_event_hides_pins_and_card_numbers(event, text):
    assert describe_event(event) == text


# --- create_source --------------------------------------------------------------------


class Recorder:
    """A registered factory that records what it was given."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []

    def __call__(self, name, options, **seams):
        self.calls.append((name, dict(options), seams))
        return ConsoleSource(name, stream=io.StringIO(""), errors=io.StringIO())


def test_register_adds_a_kind_that_create_source_uses(registry):
    recorder = register("fake")(Recorder())
    source = create_source("door", {"kind": "fake", "speed": 3}, clock=float)
    assert isinstance(source, ConsoleSource) and source.name == "door"
    assert recorder.calls == [("door", {"speed": 3}, {"clock": float})]
    assert "fake" in base.kinds()


@pytest.mark.parametrize(
    "options, message",
    [
        (
            {"kind": "keypda"},
            "unknown source kind 'keypda' in [source:door]; did you mean 'keypad'?",
        ),
        ({"kind": "card-hid"}, "did you mean 'card_hid'?"),
        ({"kind": "serial"}, "did you mean 'card_serial'?"),
        (
            {"kind": "zzz"},
            "unknown source kind 'zzz' in [source:door]; use one of card_hid, "
            "card_pcsc, card_serial, console, keypad",
        ),
        (
            {},
            "[source:door] has no kind; add `kind = <one of card_hid, card_pcsc, "
            "card_serial, console, keypad>`",
        ),
        (
            {"kind": "keypad", "grap": True},
            "unknown key 'grap' for kind 'keypad' in "
            "[source:door]; did you mean 'grab'?",
        ),
        ({"kind": "card_hid", "device": "usb:1:2"}, "write usb:VVVV:PPPP"),
        ({"kind": "card_hid", "leds": True}, "unknown key 'leds' for kind 'card_hid'"),
        ({"kind": "console", "port": "x"}, "unknown key 'port' for kind 'console'"),
        (
            {"kind": "card_serial"},
            "[source:door] kind = card_serial needs a port, e.g. port = /dev/ttyUSB0",
        ),
        (
            {"kind": "card_serial", "port": "/dev/ttyUSB0", "framing": "osdp"},
            "unknown card framing 'osdp'",
        ),
    ],
)
def test_create_source_rejects_bad_config_with_the_fix(options, message):
    with pytest.raises(ConfigError) as caught:
        create_source("door", options)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_create_source_keypad_options():
    source = create_source(
        "door",
        {"kind": "keypad", "device": "usb:04d9:1203", "grab": False, "leds": False},
    )
    assert isinstance(source, EvdevKeypad)
    assert (source.name, str(source.selector), source.grab, source.leds) == (
        "door",
        "usb:04d9:1203",
        False,
        False,
    )
    defaults = create_source("door", {"kind": "keypad"})
    assert (defaults.selector.kind, defaults.grab, defaults.leds) == ("any", True, True)


def test_create_source_card_hid_options():
    source = create_source(
        "desk", {"kind": "card_hid", "device": "name:HID Reader", "grab": "false"}
    )
    assert isinstance(source, EvdevCardReader)
    assert (str(source.selector), source.grab) == ("name:HID Reader", False)


def test_create_source_card_serial_opens_the_configured_port():
    opened: queue.Queue = queue.Queue()

    def open_port(port, **settings):
        opened.put((port, settings))
        raise OSError(2, "No such file or directory")

    source = create_source(
        "desk",
        {
            "kind": "card_serial",
            "port": "/dev/ttyUSB7",
            "baud": 19200,
            "framing": "em4100",
        },
        open_port=open_port,
        reconnect_min_s=0.01,
    )
    assert isinstance(source, SerialCardReader)
    source.start(lambda event: None)
    try:
        port, settings = opened.get(timeout=WAIT_S)
    finally:
        source.close()
    assert port == "/dev/ttyUSB7" and settings["baudrate"] == 19200
    assert source._framer.framing == "em4100"


def test_create_source_passes_seams_to_the_constructor():
    read, write = os.pipe()
    with os.fdopen(read) as stream:
        source = create_source(
            "con", {"kind": "console"}, stream=stream, errors=io.StringIO()
        )
        events: queue.Queue = queue.Queue()
        source.start(events.put)
        try:
            os.write(write, b"99\n")
            assert events.get(timeout=WAIT_S).digits == "99"
        finally:
            source.close()
            os.close(write)


# --- the protocol and the status contract ---------------------------------------------


def every_kind() -> list[InputSource]:
    return [
        create_source("kp", {"kind": "keypad"}, list_devices=list),
        create_source(
            "hid", {"kind": "card_hid", "device": "usb:ffff:0035"}, list_devices=list
        ),
        create_source("ser", {"kind": "card_serial", "port": "/dev/ttyUSB9"}),
        create_source(
            "con", {"kind": "console"}, stream=io.StringIO(""), errors=io.StringIO()
        ),
    ]


def test_every_kind_is_an_input_source_with_the_status_keys():
    for source in every_kind():
        assert isinstance(source, InputSource)
        status = source.status()
        assert {"connected", "device", "last_error", "reconnects"} <= set(status)
        assert status["connected"] is False and status["device"] is None
        assert status["reconnects"] == 0
        if isinstance(source, (EvdevKeypad, EvdevCardReader)):
            assert status["grabbed"] is False
        source.close()  # never started: still fine


def test_every_kind_closes_within_a_second_after_start():
    for source in every_kind():
        source.start(lambda event: None)
        started = time.monotonic()
        source.close()
        assert time.monotonic() - started < 1.0, source
