"""The on-screen pad as an input source: a whole PIN in, one CodeEntered out; a
preset button in, one ButtonPressed out."""

from __future__ import annotations

import logging

import pytest
from conftest import FakeClock

from ivs_accessory.events import ButtonPressed, CodeEntered
from ivs_accessory.sources.touch import TouchSource


def test_a_submitted_pin_is_the_event_a_keypads_whole_pin_is():
    got: list = []
    touch = TouchSource(clock=FakeClock(50.0))
    touch.start(got.append)
    assert touch.submit("012345") is True
    assert got == [CodeEntered("touch", "012345", 50.0)]  # leading zero kept
    assert touch.status()["connected"] and touch.status()["pins"] == 1


@pytest.mark.parametrize("bad", ["", "12a4", "1" * 33, "١٢٣", " 1234", "12 34"])
def test_anything_but_digits_is_refused_without_repeating_it(bad):
    got: list = []
    touch = TouchSource()
    touch.start(got.append)
    with pytest.raises(ValueError) as refused:
        touch.submit(bad)
    assert got == [] and (not bad.strip() or bad.strip() not in str(refused.value))


def test_a_closed_pad_takes_no_pin():
    got: list = []
    touch = TouchSource()
    touch.start(got.append)
    touch.close()
    assert touch.submit("123456") is False and got == []
    assert not touch.status()["connected"]


def test_a_pad_starts_once():
    touch = TouchSource()
    touch.start(lambda event: None)
    with pytest.raises(RuntimeError, match="already started"):
        touch.start(lambda event: None)


def test_the_pin_never_reaches_the_log(caplog):
    caplog.set_level(logging.DEBUG)
    touch = TouchSource()
    touch.start(lambda event: None)
    touch.submit("987654")
    assert caplog.records and all(
        "987654" not in r.getMessage() for r in caplog.records
    )


def test_a_listed_button_is_one_button_pressed():
    got: list = []
    touch = TouchSource(clock=FakeClock(9.0), actions=["preset:Wide", "preset:Board"])
    touch.start(got.append)
    assert touch.press("preset:Board") is True
    assert got == [ButtonPressed("touch", "preset:Board", 9.0)]
    assert touch.status()["presses"] == 1


@pytest.mark.parametrize("bad", ["preset:Table", "toggle", "unlock", "", "Wide"])
def test_a_button_not_listed_is_refused(bad):
    got: list = []
    touch = TouchSource(actions=["preset:Wide"])
    touch.start(got.append)
    with pytest.raises(ValueError, match=r"\[door\] presets"):
        touch.press(bad)
    assert got == [] and touch.presses == 0


def test_buttons_alone_take_no_pin_and_a_closed_source_no_button():
    got: list = []
    touch = TouchSource(keypad=False, actions=["preset:Wide"])
    touch.start(got.append)
    with pytest.raises(ValueError, match="keypad = false"):
        touch.submit("123456")
    assert touch.status()["device"] == "door page buttons"
    touch.close()
    assert touch.press("preset:Wide") is False and got == []
