"""Which input device a source reads: device descriptions, selectors, the list."""

from __future__ import annotations

import difflib
import glob
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import evdev
from evdev import ecodes

from ivs_accessory.errors import ConfigError

logger = logging.getLogger(__name__)

_TOP_DIGITS = frozenset(getattr(ecodes, f"KEY_{d}") for d in range(10))
_KP_DIGITS = frozenset(getattr(ecodes, f"KEY_KP{d}") for d in range(10))
_ENTERS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})
_LETTERS = frozenset(getattr(ecodes, f"KEY_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_EVENT_PATH = re.compile(r"/dev/input/event\d+")
_USB = re.compile(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")
_SERIAL_PATH = re.compile(r"/dev/(tty|serial/)")
_PREFIXES = ("name", "usb", "phys")
_EXAMPLES = (
    "/dev/input/event3, /dev/input/by-id/usb-…-event-kbd, name:<device name>, "
    "usb:VVVV:PPPP or phys:<phys>"
)


SYS_INPUT = "/sys/class/input"


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
        guess = difflib.get_close_matches(prefix.lower(), _PREFIXES, 1)
        if guess:
            return f"unknown device selector {text!r}; did you mean {guess[0]}:…?"
    if re.fullmatch(r"event\d+", text):
        return f"device {text!r}: write the full path /dev/input/{text}"
    return f"unknown device selector {text!r}; use one of {_EXAMPLES}, e.g. name:{text}"


def _example(prefix: str) -> str:
    return {"name": "USB Keypad", "phys": "usb-0000:01:00.0-1.2/input0"}.get(
        prefix, "04d9:1203"
    )


def describe_device(device: Any, by_id: list[str]) -> DeviceInfo:
    """Build a DeviceInfo from an open evdev-like device."""
    caps = device.capabilities()
    keys = frozenset(caps.get(ecodes.EV_KEY, ()))
    return DeviceInfo(
        path=device.path,
        name=device.name or "",
        vendor=device.info.vendor,
        product=device.info.product,
        phys=device.phys or "",
        uniq=getattr(device, "uniq", "") or "",
        by_id=list(by_id),
        has_leds=bool(caps.get(ecodes.EV_LED)),
        is_keypad=_KP_DIGITS <= keys or (_TOP_DIGITS <= keys and bool(keys & _ENTERS)),
        is_keyboard=_LETTERS <= keys,
    )


def links_by_target(folder: str) -> dict[str, list[str]]:
    """Map each link target in ``folder`` (e.g. /dev/input/by-id) to its links."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return {}  # no such folder: no USB input devices yet, or not udev
    found: dict[str, list[str]] = {}
    for name in names:
        link = os.path.join(folder, name)
        found.setdefault(os.path.realpath(link), []).append(link)
    return found


def event_paths(folder: str = "/dev/input") -> list[str]:
    """Every event node in ``folder``, including those we may not open.

    Unlike ``evdev.list_devices`` this keeps nodes without read/write access, so a
    source selecting one by path sees the PermissionError (and retries it quickly
    while udev sets the group) and ``list-devices`` can show them.
    """
    found = []
    for path in glob.glob(os.path.join(folder, "event*")):
        try:
            if stat.S_ISCHR(os.stat(path).st_mode):
                found.append(path)
        except OSError:
            continue  # vanished while we looked
    return found


def describe_from_sysfs(
    path: str, by_id: list[str], sys_root: str = SYS_INPUT
) -> DeviceInfo:
    """What sysfs tells of a node we may not open: name, IDs, phys, uniq.

    udev matches on these same attributes; reading them needs no access to the
    node, so a ``usb:``/``name:``/``phys:`` selector finds a device in the moment
    before udev has given the node its group.
    """
    folder = os.path.join(sys_root, os.path.basename(path), "device")

    def read(name: str) -> str:
        try:
            with open(os.path.join(folder, name), encoding="utf-8") as file:
                return file.read().strip()
        except (OSError, UnicodeDecodeError):
            return ""

    def hex_id(name: str) -> int:
        try:
            return int(read(name) or "0", 16)
        except ValueError:
            return 0

    return DeviceInfo(
        path, name=read("name"), vendor=hex_id("id/vendor"),
        product=hex_id("id/product"), phys=read("phys"), uniq=read("uniq"),
        by_id=list(by_id), is_accessible=False,
    )  # fmt: skip


def list_devices(
    list_paths: Callable[[], Iterable[str]] = event_paths,
    open_device: Callable[[str], Any] = evdev.InputDevice,
    by_id_dir: str = "/dev/input/by-id",
    sys_root: str = SYS_INPUT,
) -> list[DeviceInfo]:
    """Describe every evdev device, in event-number order.

    A node we may not open is listed with ``is_accessible=False`` and what sysfs
    says of it; one that vanished or fails otherwise is skipped.
    """
    links = links_by_target(by_id_dir)
    found = []
    for path in sorted(list_paths(), key=_event_number):
        try:
            device = open_device(path)
        except PermissionError as exc:
            logger.debug("no access to %s: %s", path, exc)
            found.append(describe_from_sysfs(path, links.get(path, []), sys_root))
            continue
        except OSError as exc:
            logger.debug("cannot open %s to describe it: %s", path, exc)
            continue
        try:
            found.append(describe_device(device, links.get(path, [])))
        except OSError as exc:
            logger.debug("cannot describe %s: %s", path, exc)
        finally:
            device.close()
    return found


def describe_devices(
    list_paths: Callable[[], Iterable[str]] = event_paths,
    open_device: Callable[[str], Any] = evdev.InputDevice,
    by_id_dir: str = "/dev/input/by-id",
    comports: Callable[[], Iterable[Any]] | None = None,
    serial_by_id_dir: str = "/dev/serial/by-id",
) -> list[dict[str, Any]]:
    """What ``ivs-accessory list-devices`` prints: input devices, then serial ports.

    Each dict has path, by_id, name, usb (``vvvv:pppp`` or None), phys, leds, kind
    (keypad, keyboard, serial or other) and selector: a ``device =`` value that
    picks this device and no other listed one. A device we may not open also has
    ``error``.
    """
    devices = list_devices(list_paths, open_device, by_id_dir)
    out = [_describe_input(d, devices) for d in devices]
    if comports is None:
        from serial.tools.list_ports import comports
    links = links_by_target(serial_by_id_dir)
    out.extend(_describe_port(p, links) for p in sorted(comports(), key=_port_path))
    return out


def _describe_input(device: DeviceInfo, every: list[DeviceInfo]) -> dict[str, Any]:
    kind = (
        "keyboard" if device.is_keyboard else "keypad" if device.is_keypad else "other"
    )
    described = {
        "path": device.path,
        "by_id": list(device.by_id),
        "name": device.name,
        "usb": device.usb,
        "phys": device.phys or None,
        "leds": device.has_leds,
        "kind": kind,
        "selector": _suggest(device, every),
    }
    if not device.is_accessible:
        described["error"] = "permission denied (is the user in group 'input'?)"
    return described


def _suggest(device: DeviceInfo, every: list[DeviceInfo]) -> str:
    """The most stable selector that still tells this device from the others."""
    if device.usb and sum(d.usb == device.usb for d in every) == 1:
        return f"usb:{device.usb}"
    # Two identical readers share vendor:product (and often the by-id link, when
    # they have no serial number); the USB port in phys tells them apart.
    if device.phys and sum(d.phys == device.phys for d in every) == 1:
        return f"phys:{device.phys}"
    return device.path


def _describe_port(port: Any, links: dict[str, list[str]]) -> dict[str, Any]:
    vid, pid = getattr(port, "vid", None), getattr(port, "pid", None)
    by_id = links.get(port.device, [])
    name = getattr(port, "product", None) or getattr(port, "description", None) or ""
    return {
        "path": port.device,
        "by_id": by_id,
        "name": "" if name == "n/a" else name,
        "usb": f"{vid:04x}:{pid:04x}" if vid is not None and pid is not None else None,
        "phys": getattr(port, "location", None),
        "leds": False,
        "kind": "serial",
        # by-id survives a replug that turns ttyUSB0 into ttyUSB1.
        "selector": by_id[0] if by_id else port.device,
    }


def _event_number(path: str) -> tuple[int, str]:
    digits = re.search(r"(\d+)$", path)
    return (int(digits.group(1)) if digits else -1, path)


def _port_path(port: Any) -> str:
    return str(port.device)
