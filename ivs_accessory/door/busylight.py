"""The real lamp: any light busylight-core knows, found and written through hidraw.

busylight-core (the field's library: Luxafor, BlinkStick, Kuando, Embrava, blink(1),
…) knows which USB ids are lights and what bytes set a colour. Its own HID I/O uses
hidapi's ``hid`` module, which the PyPI wheel builds on libusb on Linux: that needs
the raw USB node, detaches the kernel's driver, and cannot see HID devices that are
not on USB at all (a ``uhid`` light in the VM tests). So the lights are enumerated
and opened through the same wheel's ``hidraw`` module (the kernel's /dev/hidraw*
nodes, which a udev rule can give to the daemon's group), and busylight-core is
handed the open handle. Lights on a serial port use busylight-core's own serial I/O.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
from typing import Any

from ivs_accessory.door.lamp import LampError, Rgb
from ivs_accessory.door.lamp_ids import LIGHT_IDS, light_plugged_in

INSTALL_HINT = "install the lamp extra: pip install 'ivs-accessory[lamp]'"
_USB = re.compile(r"usb:([0-9a-fA-F]{4}):([0-9a-fA-F]{4})")  # as [lamp] device checks


class HidrawHandle:
    """What busylight-core's ``Hardware.handle`` must offer, over hidapi's hidraw
    backend; a failed write raises (hidapi only returns -1, and busylight-core
    would take that for success)."""

    def __init__(self, hidraw: ModuleType) -> None:
        self._device = hidraw.device()
        self.is_open = False

    def open_path(self, path: bytes) -> None:
        self._device.open_path(path)
        self.is_open = True

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._device.close()

    def write(self, data: bytes) -> int:
        return self._checked(self._device.write(bytes(data)), "write")

    def read(self, size: int, timeout_ms: int | None = None) -> list[int]:
        return list(self._device.read(size, timeout_ms or 0))

    def send_feature_report(self, data: bytes) -> int:
        return self._checked(self._device.send_feature_report(bytes(data)), "report")

    def get_feature_report(self, report: int, size: int) -> list[int]:
        return list(self._device.get_feature_report(report, size))

    def _checked(self, result: int, what: str) -> int:
        if result < 0:
            raise OSError(f"{what} failed: {self._device.error() or 'device gone'}")
        return result


class BusylightLight:
    """A busylight-core light behind the lamp's :class:`~door.lamp.Light` interface;
    every failure comes out as :class:`LampError`."""

    def __init__(self, light: Any) -> None:
        self._light = light
        self.name = f"{light.vendor()} {light.name} at {light.path}"

    def on(self, rgb: Rgb) -> None:
        self._call(self._light.on, rgb)

    def off(self) -> None:
        self._call(self._light.off)

    def close(self) -> None:
        self._call(self._light.cancel_tasks)  # Kuando keep-alive timers
        self._call(self._light.release)

    def _call(self, method: Any, *args: Any) -> None:
        try:
            method(*args)
        except Exception as exc:  # the library's own errors, OSError, ValueError …
            cause = exc.__cause__ or exc.__context__ or exc
            raise LampError(str(cause) or type(cause).__name__) from exc


def load_library(
    importer: Callable[[str], ModuleType] = importlib.import_module,
) -> tuple[ModuleType, ModuleType]:
    """``(busylight_core, hidraw)``, imported now: the lamp is an optional extra.

    Raises:
        LampError: busylight-core (or hidapi, which it brings) is not installed.
    """
    try:
        return importer("busylight_core"), importer("hidraw")
    except ImportError as exc:
        raise _not_installed(exc.name) from None


def _not_installed(missing: str | None) -> LampError:
    return LampError(
        f"busylight-core not installed ({missing} missing); {INSTALL_HINT}"
    )


def open_plugged_in(
    selector: str,
    *,
    sys_root: Path = Path("/sys"),
    find_spec: Callable[[str], ModuleSpec | None] = importlib.util.find_spec,
) -> BusylightLight:
    """:func:`open_busylight`, once sysfs shows a device with a light's USB id.

    Until then busylight-core stays unloaded: with loguru, asyncio and hidapi it is
    about 5 MiB of the daemon's memory, which a box whose light is not plugged in
    (yet) should not pay. The lamp's thread calls this on every retry.

    Raises:
        LampError: as :func:`open_busylight`; the library's absence is found
            without importing it.
    """
    for name in ("busylight_core", "hidraw"):
        if find_spec(name) is None:
            raise _not_installed(name)
    if not light_plugged_in(sys_root):
        raise LampError(f"no supported light found (device = {selector})")
    return open_busylight(selector)


def open_busylight(
    selector: str,
    *,
    hidraw: ModuleType | None = None,
    serial_ports: bool = True,
    importer: Callable[[str], ModuleType] = importlib.import_module,
) -> BusylightLight:
    """Open the first light that busylight-core supports and ``selector`` picks.

    Args:
        selector: ``first``, a device path (a udev symlink is followed),
            ``usb:VVVV:PPPP``, ``serial:SERIAL`` or ``name:NAME`` (a part of the
            light's name, e.g. ``name:flag``, any case).
        hidraw: hidapi's hidraw module, or one with its interface (tests).
        serial_ports: also look at serial ports (lights such as the BusyTag).
        importer: imports the libraries (tests show a missing one).

    Raises:
        LampError: the library is missing, no such light is plugged in, or it
            cannot be opened (the message names the device and the reason).
    """
    library, real_hidraw = load_library(importer)
    failures = []
    for hardware in _hardware(library, hidraw or real_hidraw, serial_ports):
        kind = _claimant(library, hardware)
        if kind is None or not selects(selector, hardware, kind):
            continue
        try:
            return BusylightLight(kind(hardware, reset=False, exclusive=True))
        except Exception as exc:
            failures.append(
                f"cannot open {_path(hardware)}: {exc or type(exc).__name__}"
            )
    if failures:
        raise LampError(
            "; ".join(failures) + " (is the daemon's group allowed to use it? "
            "see the lamp udev rule)"
        )
    raise LampError(f"no supported light found (device = {selector})")


def _hardware(
    library: ModuleType, hidraw: ModuleType, serial_ports: bool
) -> Iterator[Any]:
    """Every HID device (over hidraw) and serial port, as busylight-core sees them."""
    hardware = library.Hardware
    for info in hidraw.enumerate():
        try:
            found = hardware.from_hid(dict(info))
        except library.InvalidHardwareError:
            continue
        # Hardware.handle is a cached property: set first, acquire() opens this one.
        found.handle = HidrawHandle(hidraw)
        yield found
    if serial_ports:
        yield from hardware.enumerate(library.hardware.ConnectionType.SERIAL)


def _claimant(library: ModuleType, hardware: Any) -> Any:
    for kind in library.Light.subclasses():
        try:
            if kind.claims(hardware):
                return kind
        except Exception:  # noqa: S112 - a claim that cannot even read the ids
            continue
    return None


def selects(selector: str, hardware: Any, kind: Any) -> bool:
    """True when ``selector`` (``[lamp] device``) picks this light."""
    if selector == "first":
        return True
    if selector.startswith("/dev/"):
        return os.path.realpath(selector) == os.path.realpath(_path(hardware))
    usb = _USB.fullmatch(selector)
    if usb is not None:
        wanted_ids = (int(usb.group(1), 16), int(usb.group(2), 16))
        return wanted_ids == (hardware.vendor_id, hardware.product_id)
    form, _, wanted = selector.partition(":")
    if form == "serial":
        return bool(hardware.serial_number) and hardware.serial_number == wanted
    name = kind.supported_device_ids.get((hardware.vendor_id, hardware.product_id), "")
    names = f"{kind.vendor()} {name} {hardware.product_string or ''}"
    return wanted.strip().casefold() in names.casefold()


def _path(hardware: Any) -> str:
    path = hardware.path
    return path.decode("utf-8", "replace") if isinstance(path, bytes) else str(path)


def udev_rules() -> str:
    """The udev rules that give the daemon's group the hidraw node of every light
    busylight-core knows (systemd/71-ivs-accessory-lamp.rules is this text), from
    the leaf list in door/lamp_ids.py, which a test holds to the installed library."""
    ids = sorted(LIGHT_IDS)
    lines = [
        "# udev: the recording lamp's /dev/hidraw node, for the daemon's group: every",
        "# light busylight-core knows. Made by udev_rules() in door/busylight.py;",
        "# tests/door/test_busylight.py checks it is current.",
    ]
    lines += [
        f'SUBSYSTEM=="hidraw", ATTRS{{idVendor}}=="{vid:04x}", '
        f'ATTRS{{idProduct}}=="{pid:04x}", GROUP="ivs-accessory", MODE="0660"'
        for vid, pid in ids
    ]
    return "\n".join(lines) + "\n"
