"""The real lamp driver: busylight-core's lights found and written over a hidraw
module with hidapi's interface (the real kernel path is tests/integration/
test_lamp_vm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivs_accessory.door.busylight import load_library, open_busylight, udev_rules
from ivs_accessory.door.lamp import LampError

pytest.importorskip("busylight_core", reason="the lamp extra is not installed")

ROOT = Path(__file__).resolve().parents[2]

FLAG = {  # what hidapi's enumerate() gives for a Luxafor Flag
    "path": b"/dev/hidraw3",
    "vendor_id": 0x04D8,
    "product_id": 0xF372,
    "serial_number": "LX0042",
    "release_number": 0x0100,
    "manufacturer_string": "Microchip Technology Inc.",
    "product_string": "LUXAFOR FLAG",
    "usage_page": 0xFF00,
    "usage": 1,
    "interface_number": 0,
    "bus_type": 1,
}
KEYBOARD = {**FLAG, "path": b"/dev/hidraw0", "vendor_id": 0x046D, "product_id": 0xC31C,
            "product_string": "USB Keyboard", "serial_number": ""}  # fmt: skip


class FakeHidDevice:
    """hidapi's ``hidraw.device``: open_path, write (returns -1 once gone), close."""

    def __init__(self, bus: FakeHidraw) -> None:
        self.bus = bus
        self.path: bytes | None = None

    def open_path(self, path):
        if path in self.bus.refused:
            raise OSError("open failed")
        self.path = path
        self.bus.opened.append(path)

    def write(self, data):
        if self.path in self.bus.gone:
            return -1
        self.bus.written.append((self.path, bytes(data)))
        return len(data)

    def error(self):
        return "No such device"

    def close(self):
        self.bus.closed.append(self.path)


class FakeHidraw:
    """The ``hidraw`` module's interface over a list of device descriptions."""

    def __init__(self, *devices: dict) -> None:
        self.devices = list(devices)
        self.opened: list[bytes] = []
        self.closed: list[bytes | None] = []
        self.written: list[tuple[bytes | None, bytes]] = []
        self.refused: set[bytes] = set()
        self.gone: set[bytes] = set()

    def enumerate(self):
        return [dict(d) for d in self.devices]

    def device(self):
        return FakeHidDevice(self)


def open_on(bus: FakeHidraw, selector: str = "first"):
    return open_busylight(selector, hidraw=bus, serial_ports=False)


def test_a_luxafor_flag_gets_busylight_cores_colour_report():
    bus = FakeHidraw(KEYBOARD, FLAG)
    light = open_on(bus)
    assert light.name == "Luxafor Flag at /dev/hidraw3"
    assert bus.opened == [b"/dev/hidraw3"]  # the keyboard is never opened
    light.on((255, 0, 0))
    light.off()
    # Luxafor's "colour" command to all six LEDs: 1, 0xFF, red, green, blue.
    assert bus.written == [
        (b"/dev/hidraw3", bytes([1, 0xFF, 255, 0, 0])),
        (b"/dev/hidraw3", bytes([1, 0xFF, 0, 0, 0])),
    ]
    light.close()
    assert bus.closed == [b"/dev/hidraw3"]


@pytest.mark.parametrize(
    "selector, found",
    [
        ("usb:04d8:f372", True),
        ("usb:04D8:F372", True),
        ("usb:2c0d:0001", False),
        ("serial:LX0042", True),
        ("serial:LX0043", False),
        ("name:flag", True),
        ("name:Luxafor", True),
        ("name:blink(1)", False),
        ("/dev/hidraw3", True),
        ("/dev/hidraw0", False),  # the keyboard's node: not a light
    ],
)
def test_the_device_setting_picks_the_light(selector, found):
    bus = FakeHidraw(KEYBOARD, FLAG)
    if found:
        assert open_on(bus, selector).name.startswith("Luxafor Flag")
    else:
        with pytest.raises(LampError, match=r"no supported light found \(device = "):
            open_on(bus, selector)


def test_no_light_plugged_in():
    with pytest.raises(LampError, match=r"^no supported light found \(device = first"):
        open_on(FakeHidraw(KEYBOARD))


def test_a_light_that_cannot_be_opened_names_its_node_and_the_fix():
    bus = FakeHidraw(FLAG)
    bus.refused.add(b"/dev/hidraw3")
    with pytest.raises(LampError) as caught:
        open_on(bus)
    assert "cannot open /dev/hidraw3: open failed" in str(caught.value)
    assert "udev rule" in str(caught.value)


def test_a_write_to_an_unplugged_light_raises_lamp_error():
    bus = FakeHidraw(FLAG)
    light = open_on(bus)
    bus.gone.add(b"/dev/hidraw3")
    # hidapi returns -1; busylight-core would take that for success.
    with pytest.raises(LampError):
        light.on((0, 255, 0))


def test_without_the_library_the_error_says_what_to_install():
    def missing(name):
        raise ImportError(f"No module named {name!r}", name=name)

    with pytest.raises(LampError) as caught:
        load_library(missing)
    assert str(caught.value) == (
        "busylight-core not installed (busylight_core missing); install the lamp "
        "extra: pip install 'ivs-accessory[lamp]'"
    )


def test_the_udev_rules_cover_every_light_busylight_core_knows():
    shipped = ROOT / "systemd" / "71-ivs-accessory-lamp.rules"
    assert shipped.read_text() == udev_rules(), (
        "busylight-core's lights changed: write the output of "
        "ivs_accessory.door.busylight.udev_rules() to " + str(shipped)
    )
    assert 'ATTRS{idVendor}=="04d8", ATTRS{idProduct}=="f372"' in shipped.read_text()
