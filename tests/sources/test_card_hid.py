"""HID (keyboard-emulating) card readers: decoder tables, the reader on fakes."""

from __future__ import annotations

import logging

import pytest
from evdev_fakes import (
    NUMLOCK,
    WAIT_S,
    E,
    FakeClock,
    FakeInput,
    get,
    info,
    key,
    run_decoder,
    running,
    summary,
)

from ivs_accessory.events import CardRead
from ivs_accessory.sources.card_hid import EvdevCardReader, HidCardDecoder

CARD = "0004512345"  # must never appear in a log record

# Every test: no reader thread may outlive it.
pytestmark = pytest.mark.usefixtures("no_source_thread_left")


# --- HidCardDecoder: tables -----------------------------------------------------------

HEX_KEYS = {c: getattr(E, f"KEY_{c}") for c in "ABCDEF"}


def typed(
    text: str,
    start: float = 0.0,
    *,
    keypad: bool = False,
    shift: bool = True,
    enter: int | None = E.KEY_ENTER,
    gap: float = 0.01,
) -> list[tuple]:
    """Steps for a reader typing ``text`` then Enter, one key every ``gap`` seconds."""
    steps, t = [], start
    for char in text:
        if char.isdigit():
            code = getattr(E, f"KEY_KP{char}" if keypad else f"KEY_{char}")
            steps += [(t, code, 1), (t, code, 0)]
        elif char.upper() in HEX_KEYS:
            code = HEX_KEYS[char.upper()]
            wrap = shift and char.isupper()
            steps += ([(t, E.KEY_LEFTSHIFT, 1)] if wrap else []) + [
                (t, code, 1),
                (t, code, 0),
            ]
            steps += [(t, E.KEY_LEFTSHIFT, 0)] if wrap else []
        else:
            code = getattr(E, f"KEY_{char}")
            steps += [(t, code, 1), (t, code, 0)]
        t += gap
    if enter is not None:
        steps += [(t, enter, 1), (t, enter, 0)]
    return steps


CARD_CASES = [
    # steps, expected reads, expected drops
    (typed(CARD), [("card", "decimal", CARD)], 0),
    (typed(CARD, keypad=True, enter=E.KEY_KPENTER), [("card", "decimal", CARD)], 0),
    (typed("0F00A1B2C3"), [("card", "em4100", "0F00A1B2C3")], 0),
    (typed("0f00a1b2c3"), [("card", "em4100", "0F00A1B2C3")], 0),
    (NUMLOCK + typed("123", keypad=True) + NUMLOCK, [("card", "decimal", "123")], 0),
    (typed("1" * 64), [("card", "decimal", "1" * 64)], 0),
    (typed("1" * 65), [], 1),
    (typed("1" * 65) + typed("42", 0.7), [("card", "decimal", "42")], 1),
    (typed("0A1B2C3D"), [], 1),  # hex, but not EM4100's 10 characters
    (typed("12", enter=None) + [(0.02, E.KEY_SEMICOLON, 1)] + typed("34", 0.03), [], 1),
    ([(0, E.KEY_ENTER, 1), (0, E.KEY_ENTER, 0)], [], 0),  # a lone Enter
    # abandoned for more than 1 s: dropped, and the next read stands alone
    (typed("1234", enter=None) + typed("5678", 2.5), [("card", "decimal", "5678")], 1),
    (
        typed("1234", enter=None) + typed("5678", 0.9),
        [("card", "decimal", "12345678")],
        0,
    ),
    (typed("1234", enter=None) + [(1.5, "tick"), (1.6, E.KEY_ENTER, 1)], [], 1),
    (
        typed("12", enter=None) + [(0.5, "tick")] + typed("34", 0.6),
        [("card", "decimal", "1234")],
        0,
    ),
    # key releases and autorepeat add no characters
    (
        [(0, E.KEY_1, 1), (0.3, E.KEY_1, 2), (0.4, E.KEY_1, 0)] + typed("2", 0.5),
        [("card", "decimal", "12")],
        0,
    ),
    ([(0, E.MSC_SCAN, 1, E.EV_MSC)] + typed("9"), [("card", "decimal", "9")], 0),
]


@pytest.mark.parametrize("steps, reads, drops", CARD_CASES)
def test_hid_card_decoder_table(steps, reads, drops):
    clock = FakeClock(100.0)
    decoder = HidCardDecoder("rdr", clock)
    assert summary(run_decoder(decoder, clock, steps)) == reads
    assert (decoder.reads, decoder.dropped) == (len(reads), drops)


def test_hid_card_decoder_event_has_source_and_time():
    clock = FakeClock(100.0)
    (read,) = run_decoder(HidCardDecoder("desk", clock), clock, typed("42", 1.0))
    assert read == CardRead("desk", "42", "decimal", pytest.approx(101.02))


def test_hid_card_decoder_never_logs_digits_and_warns_once_per_second(caplog):
    caplog.set_level(logging.DEBUG)
    clock = FakeClock(100.0)
    decoder = HidCardDecoder("rdr", clock)
    steps = (
        typed(CARD, enter=None)
        + [(2.0, "tick")]
        + typed("9" * 70, 2.1)
        + typed(CARD, 2.5)
        + typed(CARD, enter=None, start=5)
        + [(7, "tick")]
    )
    assert summary(run_decoder(decoder, clock, steps)) == [("card", "decimal", CARD)]
    assert decoder.dropped == 3
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "card reader rdr dropped a partial read abandoned for more than 1 s",
        "card reader rdr dropped a partial read abandoned for more than 1 s",
    ]
    assert all(
        CARD not in r.getMessage() and "9999" not in r.getMessage()
        for r in caplog.records
    )


def test_hid_card_decoder_reset_drops_a_partial_read():
    clock = FakeClock(100.0)
    decoder = HidCardDecoder("rdr", clock)
    run_decoder(decoder, clock, typed("12", enter=None))
    decoder.reset()
    decoder.reset()  # nothing left: not counted twice
    assert run_decoder(decoder, clock, [(0.1, E.KEY_ENTER, 1)]) == []
    assert decoder.dropped == 1


# --- EvdevCardReader ------------------------------------------------------------------


def test_card_reader_reads_cards_and_never_logs_the_number(caplog):
    caplog.set_level(logging.DEBUG)
    world = FakeInput(info(name="HID Reader", is_keyboard=True))
    reader = EvdevCardReader("desk", "name:HID Reader", **world.seams())
    with running(reader) as events:
        device = world.opened.get(timeout=WAIT_S)
        device.push(*(key(code, value) for _, code, value in typed(CARD)))
        device.push(*(key(code, value) for _, code, value in typed("1" * 70)))
        read = get(events)
        status = reader.status()
        device.push(*(key(code, value) for _, code, value in typed(CARD, keypad=True)))
        assert get(events).raw == CARD
    assert (read.source, read.raw, read.kind) == ("desk", CARD, "decimal")
    assert status["connected"] and status["grabbed"] and status["reads"] >= 1
    assert reader.status()["dropped"] == 1 and reader.status()["reads"] == 2
    assert not hasattr(reader, "set_leds")
    assert all(
        CARD not in r.getMessage() and "1111" not in r.getMessage()
        for r in caplog.records
    )
    assert "card reader desk: card read (decimal, 10 characters)" in caplog.messages


def test_card_reader_drops_a_read_cut_by_an_unplug(caplog):
    world = FakeInput(info())
    reader = EvdevCardReader("desk", "", **world.seams())
    with running(reader) as events:
        first = world.opened.get(timeout=WAIT_S)
        first.push(*(key(code, value) for _, code, value in typed("12", enter=None)))
        first.unplug()
        second = world.opened.get(timeout=WAIT_S)
        second.push(*(key(code, value) for _, code, value in typed("34")))
        assert get(events).raw == "34"
    assert reader.status()["dropped"] == 1
    assert "card reader desk dropped a read cut short by a reconnect" in caplog.messages
