"""Config field types: what each accepts, the error that names the fix, and back."""

from __future__ import annotations

import pytest

from ivs_accessory.config import (
    Boolean,
    Choice,
    DeviceSelector,
    Float,
    Integer,
    KeyName,
    Path,
    Secret,
    String,
)

from .helpers import PASSWORD

# -- field types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, text, expected",
    [
        (String(), " hello ", "hello"),
        (String(optional=True), "", ""),
        (String(choices=["a", "b"]), "b", "b"),
        (Secret(), "p@ss word", "p@ss word"),
        (Secret(), "", ""),
        (Integer(1, 10), "10", 10),
        (Integer(1, 10), "+3", 3),
        (Integer(-5, 5), "-5", -5),
        (Integer(1, 10, optional=True), "", None),
        (Float(0.5, 60), "0.5", 0.5),
        (Float(0.5, 60), "60", 60.0),
        (Float(0.5, 60), "1e1", 10.0),
        (Float(0.5, 60), ".75", 0.75),
        (Boolean(), "true", True),
        (Boolean(), "Yes", True),
        (Boolean(), "on", True),
        (Boolean(), "1", True),
        (Boolean(), "FALSE", False),
        (Boolean(), "no", False),
        (Boolean(), "off", False),
        (Boolean(), "0", False),
        (Choice(["debug", "info"]), "INFO", "info"),
        (Path(), "/var/lib/x.log", "/var/lib/x.log"),
        (Path(optional=True), "", ""),
        (KeyName(), "KEY_KPPLUS", "KEY_KPPLUS"),
        (KeyName(), "BTN_0", "BTN_0"),
        (DeviceSelector(), "", ""),
        (
            DeviceSelector(),
            "/dev/input/by-id/usb-Keypad-event-kbd",
            "/dev/input/by-id/usb-Keypad-event-kbd",
        ),
        (DeviceSelector(), "usb:ffff:0035", "usb:ffff:0035"),
        (DeviceSelector(), "/dev/input/event3", "/dev/input/event3"),
        (DeviceSelector(), "name:HID 04d9:1203", "name:HID 04d9:1203"),
        (
            DeviceSelector(),
            "phys:usb-0000:00:14.0-1/input0",
            "phys:usb-0000:00:14.0-1/input0",
        ),
    ],
)
def test_type_deserializes_good_values(field, text, expected):
    assert field.deserialize(text) == expected


@pytest.mark.parametrize(
    "field, text, message",
    [
        (String(), "", "must not be empty"),
        (String(example="/dev/ttyUSB0"), "  ", "must not be empty, e.g. /dev/ttyUSB0"),
        (String(choices=["a", "b"]), "c", "must be one of a, b"),
        (String(optional=True), "two\nlines", "single line"),
        (String(optional=True), "tab\there", "without control characters"),
        (String(optional=True), "sep\u2028arator", "single line"),
        (Integer(1, 10), "0", "must be a whole number between 1 and 10"),
        (Integer(1, 10), "11", "between 1 and 10"),
        (Integer(1, 10), "1.5", "whole number"),
        (Integer(1, 10), "", "whole number"),
        (Integer(1, 10), "1_0", "whole number"),
        (
            Integer(1, 10),
            "\u0663",
            "whole number",
        ),  # an Arabic-Indic 3: int() would take it
        (
            Integer(0, 9, unit="seconds", optional=True),
            "x",
            "of seconds between 0 and 9, or empty",
        ),
        (
            Float(0.5, 60, unit="seconds"),
            "abc",
            "must be a number of seconds between 0.5 and 60",
        ),
        (Float(0.5, 60), "0.4", "between 0.5 and 60"),
        (Float(0.5, 60), "nan", "between 0.5 and 60"),
        (Float(0.5, 60), "inf", "between 0.5 and 60"),
        (Float(0.5, 60), "", "between 0.5 and 60"),
        (Boolean(), "maybe", "must be true or false"),
        (Choice(["debug", "info"]), "loud", "must be one of debug, info"),
        (Path(), "", "absolute path"),
        (Path(), "relative/audit.log", "absolute path"),
        (KeyName(), "KEY_KPPLSU", "did you mean 'KEY_KPPLUS'?"),
        (KeyName(), "key_kpplus", "did you mean 'KEY_KPPLUS'?"),
        (KeyName(), "EV_KEY", "must be an evdev key name such as KEY_KPPLUS"),
        (KeyName(), "KEY_MAX", "evdev key name"),
        (DeviceSelector(), "keypad", "unknown device selector 'keypad'"),
        (DeviceSelector(), "usb:ffff", "usb:VVVV:PPPP"),
        (
            DeviceSelector(),
            "/dev/ttyUSB0",
            "use kind = card_serial with port = /dev/ttyUSB0",
        ),
        (
            DeviceSelector(optional=False, empty_message="say which reader"),
            "",
            "say which reader",
        ),
    ],
)
def test_type_rejects_bad_values_and_names_the_fix(field, text, message):
    with pytest.raises(ValueError, match=None) as info:
        field.deserialize(text)
    assert message in str(info.value)
    assert str(info.value)[0].islower()


@pytest.mark.parametrize(
    "field, value, text",
    [
        (String(), "abc", "abc"),
        (Integer(1, 10), 7, "7"),
        (Integer(1, 10, optional=True), None, ""),
        (Float(0.5, 60), 5.0, "5"),
        (Float(0.5, 60), 0.5, "0.5"),
        (Float(0, 100), 12.345678901, "12.345678901"),
        (Boolean(), True, "true"),
        (Boolean(), False, "false"),
        (Choice(["a"]), "a", "a"),
        (Path(), "/x", "/x"),
        (KeyName(), "KEY_A", "KEY_A"),
        (Secret(), PASSWORD, PASSWORD),
    ],
)
def test_type_serializes_to_text_that_deserializes_back(field, value, text):
    assert field.serialize(value) == text
    assert field.deserialize(text) == value


def test_secret_displays_masked_and_empty_as_empty():
    assert Secret().display(PASSWORD) == "********"
    assert Secret().display("") == ""
    assert String().display("visible") == "visible"
