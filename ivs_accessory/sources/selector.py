"""Which input device a source means: selectors and device descriptions (no evdev)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ivs_accessory.errors import ConfigError
from ivs_accessory.spelling import closest

_EVENT_PATH = re.compile(r"/dev/input/event\d+")
_USB = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_SERIAL_PATH = re.compile(r"/dev/(tty|serial/)")
_PREFIXES = ("name", "usb", "phys")
_EXAMPLES = (
    "/dev/input/event3, /dev/input/by-id/usb-…-event-kbd, name:<device name>, "
    "usb:VVVV:PPPP or phys:<phys>"
)


@dataclass(frozen=True)
class DeviceInfo:
    """What a selector can match and ``list-devices`` shows about one evdev device.

    Attributes:
        path: the event node, e.g. ``/dev/input/event3``.
        by_id: the ``/dev/input/by-id`` links that point at ``path``.
        is_keypad: has the digits (keypad KEY_KP0..9, or top-row KEY_0..9 plus Enter).
        is_keyboard: has the letters A..Z too (full keyboards, most HID card readers).
        is_accessible: False when the node exists but we may not open it; the
            name, IDs and phys then come from sysfs (no capabilities).
    """

    path: str
    name: str = ""
    vendor: int = 0
    product: int = 0
    phys: str = ""
    uniq: str = ""
    by_id: list[str] = field(default_factory=list)
    has_leds: bool = False
    is_keypad: bool = False
    is_keyboard: bool = False
    is_accessible: bool = True

    @property
    def usb(self) -> str | None:
        """``vvvv:pppp`` in hex, or None without IDs (e.g. built-in buttons)."""
        if not (self.vendor or self.product):
            return None
        return f"{self.vendor:04x}:{self.product:04x}"


@dataclass(frozen=True)
class Selector:
    """A parsed device selector; ``kind`` is any, path, link, name, usb or phys."""

    kind: str
    value: str = ""
    text: str = ""

    def matches(
        self, device: DeviceInfo, resolve: Callable[[str], str] = os.path.realpath
    ) -> bool:
        """True when ``device`` is the one this selector means.

        ``resolve`` follows a symlink selector (by-id, by-path, a udev SYMLINK) at
        match time, so a replugged device that came back as another eventN is found.
        """
        if self.kind == "any":
            return device.is_keypad
        if self.kind == "path":
            return device.path == self.value
        if self.kind == "link":
            return self.value in device.by_id or resolve(self.value) == device.path
        if self.kind == "name":
            return device.name == self.value
        if self.kind == "phys":
            return device.phys == self.value
        return device.usb == self.value

    def pick(
        self,
        devices: Iterable[DeviceInfo],
        resolve: Callable[[str], str] = os.path.realpath,
    ) -> DeviceInfo | None:
        """The first matching device; ``""`` prefers numeric keypads to keyboards."""
        found = [d for d in devices if self.matches(d, resolve)]
        if self.kind == "any":
            found.sort(
                key=lambda d: d.is_keyboard
            )  # stable: keeps path order otherwise
        return found[0] if found else None

    def __str__(self) -> str:
        return self.text or "any keypad"


def parse_selector(text: str) -> Selector:
    """Parse a ``device =`` value into a Selector.

    Accepted: ``""`` (any keypad-like device), ``/dev/input/eventN``, any other
    absolute path that links to an event node (``/dev/input/by-id/…``, a udev
    ``SYMLINK``), ``name:<exact name>``, ``usb:VVVV:PPPP`` (hex) and ``phys:<phys>``.

    Raises:
        ConfigError: the text is none of these; the message says what would work.
    """
    text = text.strip()
    if not text:
        return Selector("any")
    if text.startswith("/"):
        return _parse_path(text)
    prefix, colon, value = text.partition(":")
    if colon and prefix.lower() in _PREFIXES:
        return _parse_prefixed(text, prefix.lower(), value.strip())
    raise ConfigError(_unknown_form(text, prefix if colon else None))


def _parse_path(text: str) -> Selector:
    if _EVENT_PATH.fullmatch(text):
        return Selector("path", text, text)
    if _SERIAL_PATH.match(text):
        raise ConfigError(
            f"device {text!r} is a serial port, not an input device; "
            f"use kind = card_serial with port = {text}"
        )
    if text.startswith("/dev/input/") and not text.startswith("/dev/input/by-"):
        raise ConfigError(
            f"device {text!r} is not an event device; use a "
            f"/dev/input/eventN path (see `ivs-accessory list-devices`)"
        )
    return Selector("link", text, text)


def _parse_prefixed(text: str, prefix: str, value: str) -> Selector:
    if not value:
        raise ConfigError(
            f"device {text!r} names no {prefix}; e.g. {prefix}:"
            f"{_example(prefix)} (see `ivs-accessory list-devices`)"
        )
    if prefix != "usb":
        return Selector(prefix, value, text)
    match = _USB.fullmatch(value)
    if not match:
        raise ConfigError(
            f"device {text!r}: write usb:VVVV:PPPP with 4 hex digits "
            f"each, e.g. usb:04d9:1203 (see `ivs-accessory list-devices`)"
        )
    return Selector("usb", value.lower(), text)


def _unknown_form(text: str, prefix: str | None) -> str:
    if prefix is not None:
        guess = closest(prefix.lower(), _PREFIXES)
        if guess:
            return f"unknown device selector {text!r}; did you mean {guess}:…?"
    if re.fullmatch(r"event\d+", text):
        return f"device {text!r}: write the full path /dev/input/{text}"
    return f"unknown device selector {text!r}; use one of {_EXAMPLES}, e.g. name:{text}"


def _example(prefix: str) -> str:
    return {"name": "USB Keypad", "phys": "usb-0000:01:00.0-1.2/input0"}.get(
        prefix, "04d9:1203"
    )
