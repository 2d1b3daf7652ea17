"""Mapping as tables of events: PIN entry, timeouts, card debounce, tap and hold."""

from __future__ import annotations

import pytest

from ivs_accessory.door.mapping import (
    EntryChanged,
    Mapper,
    MappingSettings,
    Presented,
    Trigger,
)
from ivs_accessory.events import (
    ButtonPressed,
    CardRead,
    CodeEntered,
    KeyHeld,
    KeyPressed,
)


def press(key, t=0.0, source="kp"):
    return KeyPressed(source, key, t)


def presented(intents):
    return [i.value for i in intents if isinstance(i, Presented)]


def run(mapper, events):
    out = []
    for event in events:
        out.extend(mapper.handle(event))
    return out


def keys(text, start=0.0, step=0.5):
    names = {"E": "KEY_KPENTER", "B": "KEY_BACKSPACE", ".": "KEY_KPDOT", "C": "KEY_ESC"}
    return [
        press(names.get(ch, f"KEY_KP{ch}"), start + i * step)
        for i, ch in enumerate(text)
    ]


@pytest.mark.parametrize(
    "typed, length, expected",
    [
        ("123456", 6, ["123456"]),
        ("001234", 6, ["001234"]),  # leading zeros kept
        ("1234E", 6, ["1234"]),  # Enter submits early
        ("1234E", 0, ["1234"]),  # length 0: Enter only
        ("12345678E", 0, ["12345678"]),
        ("12B34567", 6, ["134567"]),  # backspace deletes
        ("12.34567", 6, ["134567"]),  # keypad dot deletes too
        ("123C654321", 6, ["654321"]),  # clear empties the entry
        ("E", 6, []),  # empty enter does nothing
        ("123456123456", 6, ["123456", "123456"]),
    ],
)
def test_pin_entry(typed, length, expected):
    mapper = Mapper(MappingSettings(mode="pin", pin_length=length))
    assert presented(run(mapper, keys(typed))) == expected


def test_pin_entry_times_out_between_keys():
    mapper = Mapper(MappingSettings(pin_length=4, entry_timeout_s=10))
    events = keys("12", 0) + keys("3456", 20)
    assert presented(run(mapper, events)) == ["3456"]


def test_pin_entry_expire_clears_and_reports():
    mapper = Mapper(MappingSettings(pin_length=6, entry_timeout_s=10))
    run(mapper, keys("12", 0))
    assert mapper.expire(5.0) == []
    assert mapper.expire(11.0) == [EntryChanged("kp", 0, 11.0)]
    assert presented(run(mapper, keys("3456E", 12))) == ["3456"]


def test_entry_changes_are_reported_for_feedback():
    mapper = Mapper(MappingSettings(pin_length=3))
    out = run(mapper, keys("12B"))
    assert [i.length for i in out if isinstance(i, EntryChanged)] == [1, 2, 1]


def test_each_source_has_its_own_entry():
    mapper = Mapper(MappingSettings(pin_length=2))
    out = run(
        mapper,
        [
            press("KEY_KP1", 0, "a"),
            press("KEY_KP2", 0, "b"),
            press("KEY_KP3", 1, "a"),
            press("KEY_KP4", 1, "b"),
        ],
    )
    assert [(i.source, i.value) for i in out if isinstance(i, Presented)] == [
        ("a", "13"),
        ("b", "24"),
    ]


def test_code_entered_is_presented_as_pin():
    mapper = Mapper(MappingSettings(mode="pin"))
    (intent,) = mapper.handle(CodeEntered("console", "0042", 1.0))
    assert (intent.kind, intent.value) == ("pin", "0042")
    assert "0042" not in repr(intent)


@pytest.mark.parametrize(
    "mode, card_ok, pin_ok",
    [("pin", False, True), ("card", True, False), ("both", True, True)],
)
def test_mode_selects_inputs(mode, card_ok, pin_ok):
    mapper = Mapper(MappingSettings(mode=mode, pin_length=2))
    assert bool(mapper.handle(CardRead("r", "123", "decimal", 0))) == card_ok
    assert bool(presented(run(mapper, keys("12")))) == pin_ok


@pytest.mark.parametrize(
    "times, expected",
    [
        ([0.0, 1.0], 1),  # same card within 2 s: one swipe
        ([0.0, 2.5], 2),  # after the window: a new swipe
        ([0.0, 1.5, 3.0], 1),  # held in the field: the window slides
    ],
)
def test_same_card_within_window_is_one_swipe(times, expected):
    mapper = Mapper(MappingSettings(mode="card", repeat_window_s=2.0))
    out = run(mapper, [CardRead("r", "987654", "decimal", t) for t in times])
    assert len(out) == expected


def test_different_cards_are_not_debounced():
    mapper = Mapper(MappingSettings(mode="card"))
    out = run(
        mapper, [CardRead("r", "1", "decimal", 0), CardRead("r", "2", "decimal", 0.1)]
    )
    assert presented(out) == ["1", "2"]


TAP_AND_HOLD = {
    ("KEY_KPPLUS", "tap"): "marker",
    ("KEY_KPPLUS", "hold"): "lock",
    ("KEY_KPMINUS", "tap"): "stop",
    ("KEY_KPASTERISK", "hold"): "privacy_toggle",
}


def triggers(events):
    mapper = Mapper(MappingSettings(hold_s=1.5, bindings=TAP_AND_HOLD))
    return [i.action for i in run(mapper, events) if isinstance(i, Trigger)]


@pytest.mark.parametrize(
    "events, expected",
    [
        # tap-only key: fires at once on press
        ([press("KEY_KPMINUS")], ["stop"]),
        # tap+hold key: a short press fires the tap on release
        ([press("KEY_KPPLUS"), KeyHeld("kp", "KEY_KPPLUS", 0.2, 0.2)], ["marker"]),
        # held past the threshold: the hold fires once while held, release adds nothing
        (
            [
                press("KEY_KPPLUS"),
                KeyHeld("kp", "KEY_KPPLUS", 1.0, 1.0, released=False),
                KeyHeld("kp", "KEY_KPPLUS", 2.0, 2.0, released=False),
                KeyHeld("kp", "KEY_KPPLUS", 3.0, 3.0, released=False),
                KeyHeld("kp", "KEY_KPPLUS", 3.2, 3.2),
            ],
            ["lock"],
        ),
        # hold detected only at release (no repeat events)
        ([press("KEY_KPPLUS"), KeyHeld("kp", "KEY_KPPLUS", 1.7, 1.7)], ["lock"]),
        # hold-only key: a short press does nothing (OpenWrt style)
        ([press("KEY_KPASTERISK"), KeyHeld("kp", "KEY_KPASTERISK", 0.3, 0.3)], []),
        (
            [press("KEY_KPASTERISK"), KeyHeld("kp", "KEY_KPASTERISK", 1.5, 1.5)],
            ["privacy_toggle"],
        ),
        # two separate holds fire twice
        (
            [
                press("KEY_KPASTERISK", 0),
                KeyHeld("kp", "KEY_KPASTERISK", 2, 2),
                press("KEY_KPASTERISK", 5),
                KeyHeld("kp", "KEY_KPASTERISK", 2, 7),
            ],
            ["privacy_toggle", "privacy_toggle"],
        ),
    ],
)
def test_tap_and_hold_bindings(events, expected):
    assert triggers(events) == expected


def test_bound_keys_do_not_enter_the_pin():
    mapper = Mapper(
        MappingSettings(pin_length=2, bindings={("KEY_KP1", "tap"): "marker"})
    )
    out = run(mapper, keys("1232"))
    assert presented(out) == ["23"]
    assert [i.action for i in out if isinstance(i, Trigger)] == ["marker"]


@pytest.mark.parametrize("mode", ["pin", "card", "both"])
def test_an_on_screen_button_fires_its_action_in_any_mode(mode):
    mapper = Mapper(MappingSettings(mode=mode, bindings={("KEY_F3", "tap"): "lock"}))
    intents = mapper.handle(ButtonPressed("touch", "preset:Wide", 7.0))
    assert intents == [Trigger("touch", "preset:Wide", "screen", 7.0)]
