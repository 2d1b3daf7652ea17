"""Which input devices and serial ports this box has: evdev and sysfs, for list-devices
and for the sources that open a device by its selector."""

from __future__ import annotations

import glob
import logging
import os
import re
import stat
from collections.abc import Callable, Iterable
from typing import Any

import evdev
from evdev import ecodes

from ivs_accessory.sources.selector import DeviceInfo

logger = logging.getLogger(__name__)

_TOP_DIGITS = frozenset(getattr(ecodes, f"KEY_{d}") for d in range(10))
_KP_DIGITS = frozenset(getattr(ecodes, f"KEY_KP{d}") for d in range(10))
_ENTERS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})
_LETTERS = frozenset(getattr(ecodes, f"KEY_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
SYS_INPUT = "/sys/class/input"


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
    lights: Callable[[], Iterable[dict[str, Any]]] = tuple,
) -> list[dict[str, Any]]:
    """What ``ivs-accessory list-devices`` prints: input devices, serial ports, then
    what ``lights`` lists (the callers pass ``door.lamp_ids.lights``: status lights,
    kind ``light``, with a ``[lamp] device`` selector).

    Each dict has path, by_id, name, usb (``vvvv:pppp`` or None), phys, leds, kind
    (keypad, keyboard, serial or other) and selector: a ``device =`` value that
    picks this device and no other listed one. A device we may not open also has
    ``error``.
    """
    devices = list_devices(list_paths, open_device, by_id_dir)
    out = [_describe_input(d, devices) for d in devices]
    if comports is None:
        from serial.tools import list_ports

        comports = list_ports.comports
    links = links_by_target(serial_by_id_dir)
    out.extend(_describe_port(p, links) for p in sorted(comports(), key=_port_path))
    out.extend(lights())
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
