"""Live input view's record: masked on arrival, bounded, newest first, by sequence."""

from __future__ import annotations

import pytest

from ivs_accessory.door.recent import RecentEvents, masked_event
from ivs_accessory.events import CardRead, CodeEntered, KeyHeld, KeyPressed

T = 100.0


@pytest.mark.parametrize(
    "event, kind, detail",
    [
        (KeyPressed("kp", "KEY_KP7", T), "key", "digit"),
        (KeyPressed("kp", "KEY_3", T), "key", "digit"),
        (KeyPressed("kp", "KEY_KPENTER", T), "key", "KEY_KPENTER"),
        (
            KeyHeld("kp", "KEY_KPASTERISK", 2.04, T),
            "hold",
            "KEY_KPASTERISK held 2.0 s (released)",
        ),
        (
            KeyHeld("kp", "KEY_KP1", 1.5, T, released=False),
            "hold",
            "digit held 1.5 s (still down)",
        ),
        (CodeEntered("kp", "0042", T), "code", "code of 4 digits"),
        (
            CardRead("rd", "0004921746", "decimal", T),
            "card",
            "decimal card ****1746 (10 characters)",
        ),
        (
            CardRead("rd", "123456", "decimal", T),
            "card",
            "decimal card **** (6 characters)",
        ),
        (
            CardRead("rd", "0F00A1B2C3", "em4100", T),
            "card",
            "em4100 card ****B2C3 (10 characters)",
        ),
    ],
)
def test_masked_event_hides_digits_and_numbers(event, kind, detail):
    assert masked_event(event) == {
        "source": event.source,
        "kind": kind,
        "detail": detail,
    }


def test_recent_events_newest_first_after_a_sequence_number():
    recent = RecentEvents(size=3, clock=lambda: T)
    for key in ("KEY_A", "KEY_B", "KEY_C", "KEY_D"):
        recent.add(KeyPressed("kp", key, T))
    latest = recent.latest()
    assert [e["detail"] for e in latest] == ["KEY_D", "KEY_C", "KEY_B"]
    assert [e["seq"] for e in latest] == [4, 3, 2]
    assert [e["detail"] for e in recent.latest(after=3)] == ["KEY_D"]
    assert recent.latest(count=1)[0]["time"] == T


def test_the_short_hold_before_every_tap_is_not_shown_twice():
    recent = RecentEvents()
    recent.add(KeyHeld("kp", "KEY_KPPLUS", 0.1, T))
    recent.add(KeyPressed("kp", "KEY_KPPLUS", T))
    assert [e["kind"] for e in recent.latest()] == ["key"]
