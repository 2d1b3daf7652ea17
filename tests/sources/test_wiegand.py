"""Wiegand frames from serial converters: key frames (4, 8 bits) and card frames,
as tables, on a real pty, and through the daemon to the VALT simulator."""

from __future__ import annotations

import logging
import os
import queue
import threading
import tty

import pytest
from conftest import FakeClock
from hypothesis import given
from hypothesis import strategies as st

from ivs_accessory.config import load
from ivs_accessory.door.credentials import from_card
from ivs_accessory.errors import ConfigError
from ivs_accessory.events import CardRead, KeyPressed
from ivs_accessory.service import Service
from ivs_accessory.sources.base import create_source
from ivs_accessory.sources.card_serial import (
    SerialCardReader,
    make_framer,
    open_serial,
)
from ivs_accessory.sources.wiegand import WiegandFramer

WAIT_S = 10


def key4(value: int) -> bytes:
    return f"{value:04b}\r\n".encode()


def key8(value: int) -> bytes:
    return f"{(value ^ 0x0F) << 4 | value:08b}\r\n".encode()


def card(facility: int, number: int, bits: int = 26) -> str:
    """A card frame with both parity bits worked out (H10301, 34-bit, H10304)."""
    widths = {26: (8, 16, 12), 34: (16, 16, 16), 37: (16, 19, 18)}
    facility_bits, card_bits, span = widths[bits]
    data = f"{facility:0{facility_bits}b}{number:0{card_bits}b}"
    even = str(data[:span].count("1") % 2)
    odd = str(1 - data[-span:].count("1") % 2)
    return even + data + odd


def what(events) -> list[tuple[str, str]]:
    return [
        ("key", e.key) if isinstance(e, KeyPressed) else (e.kind, e.raw) for e in events
    ]


# --- the framer: tables ---------------------------------------------------------

CARD26 = card(18, 4660)
CARD37 = card(7, 123456, bits=37)

FRAMES = [
    # input, events, dropped
    (key4(1), [("key", "KEY_KP1")], 0),
    (key4(0) + key4(9), [("key", "KEY_KP0"), ("key", "KEY_KP9")], 0),
    (key4(10), [("key", "KEY_ESC")], 0),  # "*" clears
    (key4(11), [("key", "KEY_KPENTER")], 0),  # "#" submits
    (key4(12), [], 1),  # no key has values 12-15
    (key8(5), [("key", "KEY_KP5")], 0),
    (key8(11), [("key", "KEY_KPENTER")], 0),
    (b"11100001\r\n", [("key", "KEY_KP1")], 0),  # the form converters' manuals show
    (b"11110001\r\n", [], 1),  # the check nibble is not the complement
    (b"00000001\n", [], 1),
    (CARD26.encode() + b"\r\n", [("wiegand", CARD26)], 0),
    (CARD37.encode() + b"\n", [("wiegand", CARD37)], 0),
    (b"\r\n\r\n\n", [], 0),  # blank lines between frames are normal
    (b"101\r\n", [], 1),  # no frame has 3 bits
    (b"0" * 30 + b"\r\n", [], 1),
    (b"1" * 200 + b"\r\n" + key4(3), [("key", "KEY_KP3")], 1),  # overlong, then on
    (b"1012\r\n", [], 1),  # not bits
    (b"10x1\r\n" + key4(2), [("key", "KEY_KP2")], 1),
]


@pytest.mark.parametrize(("data", "expected", "dropped"), FRAMES)
def test_framer_table(data, expected, dropped):
    framer = WiegandFramer("door", FakeClock())
    assert what(framer.feed(data)) == expected
    assert (framer.frames, framer.dropped) == (len(expected), dropped)


@pytest.mark.parametrize(("data", "expected", "dropped"), FRAMES)
def test_framer_table_byte_by_byte(data, expected, dropped):
    framer = WiegandFramer("door", FakeClock())
    events = [e for byte in data for e in framer.feed(bytes((byte,)))]
    assert what(events) == expected and framer.dropped == dropped


def test_framer_stamps_source_and_time():
    clock = FakeClock(42.0)
    framer = WiegandFramer("door", clock)
    (event,) = framer.feed(key4(7))
    assert event == KeyPressed("door", "KEY_KP7", 42.0)
    (read,) = framer.feed(CARD26.encode() + b"\n")
    assert read == CardRead("door", CARD26, "wiegand", 42.0)


def test_card_frames_decode_to_their_readings():
    (read,) = WiegandFramer("door").feed(CARD26.encode() + b"\n")
    credential = from_card(read)
    assert credential.reading("wiegand_facility") == "18"
    assert credential.reading("wiegand_card") == "4660"
    assert credential.reading("wiegand26") == str(18 * 65536 + 4660)


def test_reset_drops_a_partial_line_and_it_does_not_join_the_next():
    framer = WiegandFramer("door", FakeClock())
    assert framer.feed(b"00") == []
    framer.reset()
    assert what(framer.feed(b"11\r\n" + key4(4))) == [("key", "KEY_KP4")]
    assert framer.dropped == 2  # the cut line, then "11" alone


def test_drops_are_logged_without_the_bits_and_warned_once_a_second(caplog):
    caplog.set_level(logging.DEBUG, logger="ivs_accessory")
    clock = FakeClock()
    framer = WiegandFramer("door", clock)
    framer.feed(CARD26[:-1].encode() + b"\n")  # 25 bits: most of a card number
    framer.feed(b"1111\r\n")
    clock.advance(1.5)
    framer.feed(b"101\r\n")
    levels = [r.levelno for r in caplog.records if "dropped" in r.getMessage()]
    assert levels == [logging.WARNING, logging.DEBUG, logging.WARNING]
    assert CARD26[:-1] not in caplog.text
    assert "card reader door dropped a line of 25 characters" in caplog.text


@given(st.binary(max_size=300), st.lists(st.integers(0, 300), max_size=6))
def test_framer_never_raises_and_ignores_how_bytes_are_split(data, cuts):
    whole = WiegandFramer("door", FakeClock())
    expected = what(whole.feed(data))
    split = WiegandFramer("door", FakeClock())
    bounds = [0, *sorted(c for c in cuts if c <= len(data)), len(data)]
    events = [e for a, b in zip(bounds, bounds[1:], strict=False) for e in
              split.feed(data[a:b])]  # fmt: skip
    assert what(events) == expected and split.dropped == whole.dropped


def test_an_unknown_framing_names_the_choices():
    with pytest.raises(ConfigError, match="auto, line, em4100, wiegand"):
        make_framer("osdp", "door", FakeClock())


# --- a converter on a real pty ----------------------------------------------------


class Opener:
    """Opens ports with open_serial and sets ``opened`` (opening flushes the port's
    input, so a test writes only after it)."""

    def __init__(self) -> None:
        self.opened = threading.Event()

    def __call__(self, port: str, **settings):
        handle = open_serial(port, **settings)
        self.opened.set()
        return handle


@pytest.fixture
def pty_port():
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        yield master, os.ttyname(slave)
    finally:
        os.close(master)
        os.close(slave)


def test_the_serial_reader_passes_keys_and_cards_on(pty_port):
    master, path = pty_port
    events: queue.Queue = queue.Queue()
    opener = Opener()
    reader = SerialCardReader("door", path, framing="wiegand", open_port=opener)
    reader.start(events.put)
    try:
        assert opener.opened.wait(WAIT_S)
        os.write(master, key8(1) + key4(2)[:2])
        os.write(master, key4(2)[2:] + b"0110\r\n" + CARD26.encode() + b"\r\n")
        got = [events.get(timeout=WAIT_S) for _ in range(4)]
        assert what(got) == [
            ("key", "KEY_KP1"),
            ("key", "KEY_KP2"),
            ("key", "KEY_KP6"),
            ("wiegand", CARD26),
        ]
        assert reader.status()["frames"] == 4 and reader.status()["dropped"] == 0
    finally:
        reader.close()


# --- through the daemon to VALT ---------------------------------------------------


def start_daemon(
    tmp_path, sim, port: str, extra: str = ""
) -> tuple[Service, queue.Queue]:
    """The daemon reading ``port`` as a Wiegand converter; returns once the port is
    open (opening flushes its input, so earlier frames would be lost)."""
    config = tmp_path / "accessory.conf"
    config.write_text(
        f"[valt]\nserver = {sim.url}\nusername = admin\npassword = admin\nroom = 1\n"
        f"timeout_s = 2\n\n[logging]\naudit_file = {tmp_path / 'audit.log'}\n\n"
        "[web]\nenabled = false\n\n"
        f"[source:door]\nkind = card_serial\nport = {port}\nframing = wiegand\n\n"
        f"{extra}"
    )
    outcomes: queue.Queue = queue.Queue()
    opener = Opener()

    def sources(name, options):
        return create_source(name, options, open_port=opener)

    service = Service(
        load(str(config)), source_factory=sources, on_outcome=outcomes.put
    )
    service.start()
    assert opener.opened.wait(WAIT_S), "the daemon did not open the port"
    return service, outcomes


def test_a_pin_typed_on_a_wiegand_keypad_starts_and_stops_a_recording(
    tmp_path, make_sim, pty_port
):
    sim = make_sim(version="6.6.0")
    master, path = pty_port
    service, outcomes = start_daemon(
        tmp_path, sim, path, "[mapping]\nrepeat_window_ms = 0\n"
    )
    try:
        # A wrong start, cleared with "*", then Alice's PIN with "#" (4-bit keys).
        os.write(master, key4(9) + key4(9) + key4(10))
        os.write(master, b"".join(key4(int(d)) for d in "123456"))
        started = outcomes.get(timeout=WAIT_S)
        assert started.result == "started" and started.user_id == 2
        assert sim.state.room_info(1)["status"] == "recording"
        # The same PIN in 8-bit frames stops it (six digits submit at pin_length).
        os.write(master, b"".join(key8(int(d)) for d in "123456"))
        assert outcomes.get(timeout=WAIT_S).result == "stopped"
        assert sim.state.room_info(1)["status"] != "recording"
    finally:
        service.stop()


def test_a_wiegand_card_is_matched_by_the_reading_chosen(tmp_path, make_sim, pty_port):
    sim = make_sim(version="6.6.0")
    master, path = pty_port
    # Alice's VALT card number is 123456: the card field of a 37-bit frame.
    service, outcomes = start_daemon(
        tmp_path, sim, path, "[mapping]\nmode = both\nmatch_reading = wiegand_card\n"
    )
    try:
        os.write(master, CARD37.encode() + b"\r\n")
        outcome = outcomes.get(timeout=WAIT_S)
        assert outcome.result == "started" and outcome.user_id == 2
        bad = CARD37[:-1] + ("0" if CARD37[-1] == "1" else "1")  # odd parity broken
        os.write(master, bad.encode() + b"\r\n")
        assert outcomes.get(timeout=WAIT_S).result not in ("started", "stopped")
        assert sim.state.room_info(1)["status"] == "recording"
    finally:
        service.stop()
