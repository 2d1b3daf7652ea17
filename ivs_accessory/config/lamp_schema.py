"""The ``[lamp]`` section: which USB status light, and its colour for each state."""

from __future__ import annotations

import re
from typing import Any

from ivs_accessory.config.section import Errors, Section, Values
from ivs_accessory.config.types import Boolean, ConfigValue, String

Rgb = tuple[int, int, int]

# Names a person can type. Amber and orange lean to red because the green die of
# an RGB status light outshines the red one at the same value.
COLOURS: dict[str, Rgb] = {
    "off": (0, 0, 0),
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "amber": (255, 120, 0),
    "orange": (255, 60, 0),
    "yellow": (255, 200, 0),
    "white": (255, 255, 255),
    "purple": (128, 0, 255),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
}
_HEX = re.compile(r"#?([0-9a-fA-F]{6})")
_USB = re.compile(r"usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
DEVICE_FORMS = "first, a /dev/hidraw… path, usb:VVVV:PPPP, serial:SERIAL or name:NAME"


class Colour(ConfigValue):
    """A colour: a name (red, amber, off …) or ``#rrggbb``; the value is (r, g, b)."""

    def deserialize(self, text: str) -> Rgb:
        value = text.strip().lower()
        if value in COLOURS:
            return COLOURS[value]
        match = _HEX.fullmatch(value)
        if match is None:
            raise ValueError(
                f"must be a colour name ({', '.join(COLOURS)}) or #rrggbb, "
                "e.g. amber or #ff7800"
            )
        raw = bytes.fromhex(match.group(1))
        return (raw[0], raw[1], raw[2])

    def serialize(self, value: Any) -> str:
        rgb = tuple(value)
        for name, known in COLOURS.items():
            if known == rgb:
                return name
        return "#" + "".join(f"{c:02x}" for c in rgb)


class LampDevice(String):
    """Which light: ``first``, a device path, ``usb:VVVV:PPPP``, ``serial:…`` or
    ``name:…`` (matched against the light's name, e.g. ``name:Flag``)."""

    def __init__(self, *, default: str | None = None) -> None:
        super().__init__(example="first", default=default)

    def deserialize(self, text: str) -> str:
        value = super().deserialize(text)
        if value == "first" or value.startswith("/dev/") or _USB.fullmatch(value):
            return value
        kind, colon, rest = value.partition(":")
        if colon and kind in ("serial", "name") and rest.strip():
            return value
        raise ValueError(f"must be {DEVICE_FORMS}, e.g. usb:04d8:f372")


def _offline_claims_nothing(values: Values, label: str) -> Errors:
    offline, recording = values.get("offline"), values.get("recording")
    if offline is None or offline != recording:
        return {}
    return {
        "offline": f"[{label}] offline = {Colour().serialize(offline)}: the same as "
        "recording, so the lamp would claim a recording it cannot see while VALT "
        "is offline; choose another colour, e.g. blue or off"
    }


LAMP = Section(
    {
        "enabled": Boolean(default="false"),
        "device": LampDevice(default="first"),
        # The room's state, steady.
        "recording": Colour(default="red"),
        "paused": Colour(default="amber"),
        "available": Colour(default="off"),
        "locked": Colour(default="off"),
        # VALT offline or the room's state not known yet: never the recording colour.
        "offline": Colour(default="blue"),
        # A short blink for each outcome, in the keypad LEDs' rhythm.
        "blink": Boolean(default="true"),
        "good": Colour(default="green"),
        "refused": Colour(default="red"),
    },
    checks=[_offline_claims_nothing],
)
"""The ``[lamp]`` schema (SCHEMA["lamp"])."""
