"""Which USB ids are lights busylight-core knows, and which of them are plugged in.

A leaf (standard library only): the daemon looks in sysfs before it imports
busylight-core, which with loguru, asyncio and hidapi costs about 5 MiB and 170
modules, so a box whose lamp is configured but not plugged in never pays for it.
Generated from busylight-core's ``Light.subclasses()``; tests/door/test_lamp_ids.py
fails when the installed busylight-core knows an id that is missing here or the other
way round; regenerate with ``python -m ivs_accessory.door.lamp_ids``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_IDS = """
047f:d005 04d8:f372 04d8:f848 0e53:2516 0e53:2517 0e53:2519 10c4:ea60 1130:0001
1130:0002 1130:1e00 1395:0074 16c0:27db 2047:03df 20a0:41e5 20a0:42da 20a0:42db
27b8:01ed 27bb:3bca 27bb:3bcb 27bb:3bcd 27bb:3bce 27bb:3bcf 2c0d:0001 2c0d:0002
2c0d:0003 2c0d:000a 2c0d:000c 2c0d:0010 303a:81df 340b:f001 340b:f002
"""

#: (vendor id, product id) of every light busylight-core knows.
LIGHT_IDS: frozenset[tuple[int, int]] = frozenset(
    (int(vid, 16), int(pid, 16))
    for vid, pid in (pair.split(":") for pair in _IDS.split())
)


def plugged_in(sys_root: Path = Path("/sys")) -> set[tuple[int, int]]:
    """The (vendor, product) ids of the HID devices and USB serial ports present,
    as sysfs under ``sys_root`` lists them; unreadable entries are skipped (a device
    may leave while we look)."""
    classes = sys_root / "class"
    return _hid_ids(classes / "hidraw") | _tty_ids(classes / "tty")


def light_plugged_in(sys_root: Path = Path("/sys")) -> bool:
    """True when a device with a light's USB id is present (it may still be
    another device with the same id, e.g. a USB serial chip: the library decides)."""
    return not LIGHT_IDS.isdisjoint(plugged_in(sys_root))


def lights(sys_root: Path = Path("/sys")) -> list[dict[str, Any]]:
    """The HID devices present with a light's USB id, as ``list-devices`` shows
    them: path, name, usb (``vvvv:pppp``), kind ``light`` and a ``[lamp] device``
    selector (the USB id, or the path when two such lights share it)."""
    found = [
        (node, ids, name)
        for node, ids, name in _hid_devices(sys_root / "class" / "hidraw")
        if ids in LIGHT_IDS
    ]
    described: list[dict[str, Any]] = []
    for node, ids, name in found:
        usb = f"{ids[0]:04x}:{ids[1]:04x}"
        alone = sum(other == ids for _, other, _ in found) == 1
        described.append(
            {
                "path": f"/dev/{node}",
                "by_id": [],
                "name": name,
                "usb": usb,
                "phys": None,
                "leds": False,
                "kind": "light",
                "selector": f"usb:{usb}" if alone else f"/dev/{node}",
            }
        )
    return described


def _hid_ids(hidraw: Path) -> set[tuple[int, int]]:
    return {ids for _, ids, _ in _hid_devices(hidraw)}


def _hid_devices(hidraw: Path) -> list[tuple[str, tuple[int, int], str]]:
    """(node, ids, name) of each hidraw node whose uevent can be read."""
    found = []
    for node in _entries(hidraw):
        try:
            uevent = (node / "device" / "uevent").read_text()
        except OSError:
            continue
        fields = dict(line.partition("=")[::2] for line in uevent.splitlines())
        parts = fields.get("HID_ID", "").split(":")
        if len(parts) != 3:
            continue
        try:
            ids = (int(parts[1], 16), int(parts[2], 16))
        except ValueError:
            continue
        found.append((node.name, ids, fields.get("HID_NAME", "")))
    return found


def _tty_ids(tty: Path) -> set[tuple[int, int]]:
    """A USB serial port's ids live on the USB device, one to three folders above
    the port's ``device`` (ttyACM: the interface's parent; ttyUSB: one more)."""
    found = set()
    for node in _entries(tty):
        try:
            folder = (node / "device").resolve(strict=True)
        except OSError:
            continue
        for parent in list(folder.parents)[:3]:
            try:
                vid = (parent / "idVendor").read_text().strip()
                pid = (parent / "idProduct").read_text().strip()
                found.add((int(vid, 16), int(pid, 16)))
                break
            except (OSError, ValueError):
                continue
    return found


def _entries(folder: Path) -> list[Path]:
    try:
        return sorted(folder.iterdir())
    except OSError:
        return []


def generate() -> frozenset[tuple[int, int]]:
    """The same set, computed from the installed busylight-core."""
    import busylight_core

    kinds = busylight_core.Light.subclasses()
    return frozenset(i for kind in kinds for i in kind.supported_device_ids)


if __name__ == "__main__":  # print the body of _IDS for a newer busylight-core
    import textwrap

    pairs = " ".join(f"{v:04x}:{p:04x}" for v, p in sorted(generate()))
    print(textwrap.fill(pairs, width=84))
