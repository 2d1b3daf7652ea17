"""The [lamp] section: defaults, colours, the device, errors that name the fix."""

from __future__ import annotations

import pytest

from ivs_accessory.config import load, validate_section
from ivs_accessory.config.lamp_schema import Colour


def test_lamp_defaults_are_off_with_red_amber_and_a_distinct_offline():
    values, errors = validate_section("lamp", {})
    assert errors == {}
    assert values == {
        "enabled": False,
        "device": "first",
        "recording": (255, 0, 0),
        "paused": (255, 120, 0),
        "available": (0, 0, 0),
        "locked": (0, 0, 0),
        "offline": (0, 0, 255),
        "blink": True,
        "good": (0, 255, 0),
        "refused": (255, 0, 0),
    }


def test_the_packaged_defaults_load_the_lamp_section():
    assert load(None)["lamp"]["enabled"] is False


@pytest.mark.parametrize(
    "text, rgb",
    [("Amber", (255, 120, 0)), ("#00ff80", (0, 255, 128)), ("10203a", (16, 32, 58))],
)
def test_colours_are_names_or_hex(text, rgb):
    assert Colour().deserialize(text) == rgb


@pytest.mark.parametrize("rgb", [(255, 120, 0), (1, 2, 3), (0, 0, 0)])
def test_colours_read_back_what_they_write(rgb):
    field = Colour()
    assert field.deserialize(field.serialize(rgb)) == rgb


def test_a_bad_colour_names_the_forms_that_work():
    _, errors = validate_section("lamp", {"paused": "ambr"})
    assert errors["paused"] == (
        "[lamp] paused = 'ambr': must be a colour name (off, red, green, blue, amber, "
        "orange, yellow, white, purple, magenta, cyan) or #rrggbb, e.g. amber or "
        "#ff7800"
    )


@pytest.mark.parametrize(
    "device",
    ["first", "/dev/hidraw0", "/dev/ivs-lamp", "usb:04d8:f372", "serial:LX1",
     "name:Luxafor Flag"],
)  # fmt: skip
def test_device_forms_that_are_accepted(device):
    values, errors = validate_section("lamp", {"device": device})
    assert errors == {} and values["device"] == device


@pytest.mark.parametrize("device", ["hidraw0", "usb:4d8:f372", "name:", "last"])
def test_a_bad_device_says_what_would_work(device):
    _, errors = validate_section("lamp", {"device": device})
    assert errors["device"] == (
        f"[lamp] device = {device!r}: must be first, a /dev/hidraw… path, "
        "usb:VVVV:PPPP, serial:SERIAL or name:NAME, e.g. usb:04d8:f372"
    )


def test_an_empty_device_suggests_first():
    _, errors = validate_section("lamp", {"device": " "})
    assert errors["device"] == "[lamp] device: must not be empty, e.g. first"


def test_offline_may_not_look_like_recording():
    _, errors = validate_section("lamp", {"offline": "red"})
    assert errors == {
        "offline": "[lamp] offline = red: the same as recording, so the lamp would "
        "claim a recording it cannot see while VALT is offline; choose another "
        "colour, e.g. blue or off"
    }
    _, errors = validate_section("lamp", {"offline": "red", "recording": "magenta"})
    assert errors == {}


def test_an_unknown_lamp_key_suggests_the_right_one():
    _, errors = validate_section("lamp", {"recordng": "red"})
    assert (
        errors["recordng"]
        == "unknown key 'recordng' in [lamp]; did you mean 'recording'?"
    )
