"""Device selectors: parsing tables, matching, the device list behind list-devices."""

from __future__ import annotations

import errno
import os
from types import SimpleNamespace

import pytest
from evdev import ecodes

from ivs_accessory.errors import ConfigError
from ivs_accessory.sources.devices import describe_devices, event_paths, list_devices
from ivs_accessory.sources.selector import DeviceInfo, parse_selector

E = ecodes
KP_KEYS = [getattr(E, f"KEY_KP{d}") for d in range(10)] + [E.KEY_KPENTER, E.KEY_NUMLOCK]
TOP_KEYS = [getattr(E, f"KEY_{d}") for d in range(10)] + [E.KEY_ENTER]
LETTERS = [getattr(E, f"KEY_{c}") for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
LEDS = [E.LED_NUML, E.LED_CAPSL, E.LED_SCROLLL]


# --- parse_selector -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, kind, value",
    [
        ("", "any", ""),
        ("   ", "any", ""),
        ("/dev/input/event3", "path", "/dev/input/event3"),
        (
            "/dev/input/by-id/usb-04d9_1203-event-kbd",
            "link",
            "/dev/input/by-id/usb-04d9_1203-event-kbd",
        ),
        (
            "/dev/input/by-path/platform-xhci-usb-0:1.2:1.0-event-kbd",
            "link",
            "/dev/input/by-path/platform-xhci-usb-0:1.2:1.0-event-kbd",
        ),
        ("/dev/ivs-keypad", "link", "/dev/ivs-keypad"),  # a udev SYMLINK+=
        ("name:USB Keypad", "name", "USB Keypad"),
        ("name: USB Keypad ", "name", "USB Keypad"),
        ("NAME:USB Keypad", "name", "USB Keypad"),
        ("usb:04d9:1203", "usb", "04d9:1203"),
        ("usb:04D9:12AB", "usb", "04d9:12ab"),
        ("phys:usb-0000:01:00.0-1.2/input0", "phys", "usb-0000:01:00.0-1.2/input0"),
    ],
)
def test_parse_selector_accepts(text, kind, value):
    selector = parse_selector(text)
    assert (selector.kind, selector.value) == (kind, value)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "usb:04d9",
            "device 'usb:04d9': write usb:VVVV:PPPP with 4 hex digits each, "
            "e.g. usb:04d9:1203 (see `ivs-accessory list-devices`)",
        ),
        ("usb:zzzz:1203", "write usb:VVVV:PPPP"),
        ("usb:4d9:1203", "write usb:VVVV:PPPP"),
        ("name:", "device 'name:' names no name; e.g. name:USB Keypad"),
        ("phys:  ", "names no phys; e.g. phys:usb-"),
        (
            "nmae:USB Keypad",
            "unknown device selector 'nmae:USB Keypad'; did you mean name:…?",
        ),
        ("event3", "device 'event3': write the full path /dev/input/event3"),
        (
            "/dev/ttyUSB0",
            "device '/dev/ttyUSB0' is a serial port, not an input device; "
            "use kind = card_serial with port = /dev/ttyUSB0",
        ),
        ("/dev/serial/by-id/usb-FTDI-if00-port0", "use kind = card_serial"),
        ("/dev/input/mouse0", "is not an event device; use a /dev/input/eventN path"),
        ("USB Keypad", "unknown device selector 'USB Keypad'; use one of "),
        ("USB Keypad", "e.g. name:USB Keypad"),
    ],
)
def test_parse_selector_rejects_with_the_fix(text, message):
    with pytest.raises(ConfigError) as caught:
        parse_selector(text)
    assert message in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_selector_str_is_what_was_written():
    assert str(parse_selector("usb:04D9:1203")) == "usb:04D9:1203"
    assert str(parse_selector("")) == "any keypad"


# --- Selector.matches / pick ----------------------------------------------------------

KEYPAD = DeviceInfo(
    "/dev/input/event3",
    "USB Keypad",
    0x04D9,
    0x1203,
    "usb-0000:01:00.0-1.2/input0",
    by_id=["/dev/input/by-id/usb-04d9_1203-event-kbd"],
    has_leds=True,
    is_keypad=True,
)
TWIN = DeviceInfo(
    "/dev/input/event4",
    "USB Keypad",
    0x04D9,
    0x1203,
    "usb-0000:01:00.0-1.3/input0",
    is_keypad=True,
)
KEYBOARD = DeviceInfo(
    "/dev/input/event1",
    "Dell Keyboard",
    0x413C,
    0x2113,
    "usb-x/input0",
    has_leds=True,
    is_keypad=True,
    is_keyboard=True,
)
POWER = DeviceInfo("/dev/input/event0", "pwr_button")


@pytest.mark.parametrize(
    "text, device, expected",
    [
        ("", KEYPAD, True),
        ("", KEYBOARD, True),
        ("", POWER, False),
        ("/dev/input/event3", KEYPAD, True),
        ("/dev/input/event3", TWIN, False),
        ("/dev/input/by-id/usb-04d9_1203-event-kbd", KEYPAD, True),
        ("/dev/input/by-id/usb-04d9_1203-event-kbd", TWIN, False),
        ("name:USB Keypad", KEYPAD, True),
        ("name:USB Keypad", TWIN, True),
        ("name:usb keypad", KEYPAD, False),  # exact
        ("name:pwr_button", POWER, True),  # an explicit selector needs no digits
        ("usb:04d9:1203", KEYPAD, True),
        ("usb:04D9:1203", TWIN, True),
        ("usb:04d9:1204", KEYPAD, False),
        ("usb:0000:0000", POWER, False),
        ("phys:usb-0000:01:00.0-1.2/input0", KEYPAD, True),
        ("phys:usb-0000:01:00.0-1.2/input0", TWIN, False),  # tells twins apart
    ],
)
def test_selector_matches(text, device, expected):
    assert parse_selector(text).matches(device) is expected


def test_selector_link_is_resolved_when_matching(tmp_path):
    link = tmp_path / "ivs-keypad"
    link.symlink_to("/dev/input/event4")
    selector = parse_selector(str(link))
    assert selector.matches(TWIN) and not selector.matches(KEYPAD)
    link.unlink()
    link.symlink_to("/dev/input/event3")  # replugged: now another node
    assert selector.matches(KEYPAD) and not selector.matches(TWIN)


@pytest.mark.parametrize(
    "text, devices, expected",
    [
        ("", [POWER, KEYBOARD, KEYPAD, TWIN], KEYPAD),  # a keypad before a keyboard
        ("", [POWER, KEYBOARD], KEYBOARD),
        ("", [POWER], None),
        ("usb:04d9:1203", [KEYBOARD, TWIN, KEYPAD], TWIN),  # the first match
        ("phys:usb-0000:01:00.0-1.2/input0", [TWIN, KEYPAD], KEYPAD),
        ("name:nothing", [KEYPAD], None),
    ],
)
def test_selector_pick(text, devices, expected):
    assert parse_selector(text).pick(devices) == expected


# --- list_devices with fake evdev devices --------------------------------------------


class FakeEvdev:
    """What list_devices reads from an evdev.InputDevice."""

    def __init__(self, path, name, vendor, product, phys, keys=(), leds=(), uniq=""):
        self.path, self.name, self.phys, self.uniq = path, name, phys, uniq
        self.info = SimpleNamespace(
            vendor=vendor, product=product, bustype=3, version=1
        )
        self._caps = {E.EV_SYN: [0, 1], E.EV_KEY: list(keys)}
        if leds:
            self._caps[E.EV_LED] = list(leds)
        self.closed = False

    def capabilities(self):
        return self._caps

    def close(self):
        self.closed = True


class FakeNodes:
    """The ``list_paths`` and ``open_device`` seams over a dict of fake devices."""

    def __init__(self, *devices: FakeEvdev, denied: tuple[str, ...] = ()) -> None:
        self.devices = {d.path: d for d in devices}
        self.denied = denied

    def list_paths(self):
        return list(self.devices) + list(self.denied)

    def open_device(self, path):
        if path in self.denied:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return self.devices[path]


def nodes() -> FakeNodes:
    return FakeNodes(
        FakeEvdev(
            "/dev/input/event10",
            "HID 0c27:3bfa",
            0x0C27,
            0x3BFA,
            "usb-0000:01:00.0-1.4/input0",
            TOP_KEYS + LETTERS,
            LEDS,
        ),
        FakeEvdev(
            "/dev/input/event2",
            "USB Keypad",
            0x04D9,
            0x1203,
            "usb-0000:01:00.0-1.2/input0",
            KP_KEYS,
            LEDS,
        ),
        FakeEvdev(
            "/dev/input/event3",
            "USB Keypad",
            0x04D9,
            0x1203,
            "usb-0000:01:00.0-1.3/input0",
            KP_KEYS,
        ),
        FakeEvdev("/dev/input/event0", "pwr_button", 0, 0, "", [E.KEY_POWER]),
        FakeEvdev("/dev/input/event1", "Top row only", 0x1234, 0x0001, "", TOP_KEYS),
        FakeEvdev("/dev/input/event5", "No enter", 0x1234, 0x0002, "", TOP_KEYS[:10]),
        denied=("/dev/input/event7",),
    )


@pytest.fixture
def by_id(tmp_path):
    folder = tmp_path / "by-id"
    folder.mkdir()
    os.symlink("/dev/input/event2", folder / "usb-04d9_1203-event-kbd")
    os.symlink("/dev/input/event10", folder / "usb-0c27_3bfa-event-kbd")
    return folder


def test_list_devices_describes_and_closes_every_device(tmp_path, by_id):
    fake = nodes()
    found = list_devices(
        fake.list_paths, fake.open_device, str(by_id), str(tmp_path / "no-sysfs")
    )
    assert [d.path for d in found] == [
        "/dev/input/event0",
        "/dev/input/event1",
        "/dev/input/event2",
        "/dev/input/event3",
        "/dev/input/event5",
        "/dev/input/event7",
        "/dev/input/event10",
    ]
    assert all(d.closed for d in fake.devices.values())
    by_path = {d.path: d for d in found}
    keypad = by_path["/dev/input/event2"]
    assert (keypad.name, keypad.vendor, keypad.product, keypad.usb) == (
        "USB Keypad",
        0x04D9,
        0x1203,
        "04d9:1203",
    )
    assert keypad.has_leds and keypad.is_keypad and not keypad.is_keyboard
    assert by_path["/dev/input/event10"].by_id == [
        str(by_id / "usb-0c27_3bfa-event-kbd")
    ]
    assert by_path["/dev/input/event10"].is_keyboard
    assert by_path["/dev/input/event1"].is_keypad  # top-row digits plus Enter
    assert not by_path["/dev/input/event5"].is_keypad  # digits but no Enter
    assert (
        not by_path["/dev/input/event0"].is_keypad
        and by_path["/dev/input/event0"].usb is None
    )
    assert not by_path["/dev/input/event3"].has_leds
    assert keypad.by_id == [str(by_id / "usb-04d9_1203-event-kbd")]
    # a node we may not open: listed by path only, so a path selector still finds it
    assert by_path["/dev/input/event7"] == DeviceInfo(
        "/dev/input/event7", is_accessible=False
    )
    assert keypad.is_accessible


def test_node_we_may_not_open_is_described_from_sysfs_so_selectors_find_it(tmp_path):
    # The layout of /sys/class/input/eventN/device/ (the inputN folder) that udev reads.
    device = tmp_path / "sys" / "event7" / "device"
    (device / "id").mkdir(parents=True)
    (device / "name").write_text("RFID Reader\n")
    (device / "phys").write_text("usb-0000:01:00.0-1.9/input0\n")
    (device / "uniq").write_text("\n")
    (device / "id" / "vendor").write_text("ffff\n")
    (device / "id" / "product").write_text("0035\n")
    fake = nodes()
    found = {
        d.path: d
        for d in list_devices(
            fake.list_paths,
            fake.open_device,
            str(tmp_path / "by-id"),
            str(tmp_path / "sys"),
        )
    }
    late = found["/dev/input/event7"]
    assert late == DeviceInfo(
        "/dev/input/event7",
        name="RFID Reader",
        vendor=0xFFFF,
        product=0x35,
        phys="usb-0000:01:00.0-1.9/input0",
        is_accessible=False,
    )
    for text in (
        "usb:ffff:0035",
        "name:RFID Reader",
        "phys:usb-0000:01:00.0-1.9/input0",
    ):
        assert parse_selector(text).pick(found.values()) is late, text
    assert not late.is_keypad  # capabilities are not guessed: "any keypad" skips it


def test_list_devices_without_a_by_id_folder(tmp_path):
    fake = nodes()
    found = list_devices(fake.list_paths, fake.open_device, str(tmp_path / "missing"))
    assert len(found) == 7 and all(d.by_id == [] for d in found)


def test_list_devices_follows_by_id_links_to_the_real_node(tmp_path):
    real = tmp_path / "event9"
    real.touch()
    folder = tmp_path / "by-id"
    folder.mkdir()
    (folder / "usb-x-event-kbd").symlink_to("../event9")  # relative, as udev makes them
    fake = FakeNodes(FakeEvdev(str(real), "X", 1, 2, "", KP_KEYS))
    (found,) = list_devices(fake.list_paths, fake.open_device, str(folder))
    assert found.by_id == [str(folder / "usb-x-event-kbd")]
    assert parse_selector(str(folder / "usb-x-event-kbd")).matches(found)


# --- describe_devices (list-devices) --------------------------------------------------


def port(device, vid=None, pid=None, product=None, description="n/a", location=None):
    return SimpleNamespace(
        device=device,
        vid=vid,
        pid=pid,
        product=product,
        description=description,
        location=location,
    )


def test_describe_devices_lists_inputs_then_serial_ports(tmp_path, by_id):
    fake = nodes()
    serial_by_id = tmp_path / "serial-by-id"
    serial_by_id.mkdir()
    os.symlink("/dev/ttyUSB0", serial_by_id / "usb-Silicon_Labs_CP2102-if00-port0")
    ports = [
        port(
            "/dev/ttyUSB0", 0x10C4, 0xEA60, "CP2102 USB to UART", location="1-1.3:1.0"
        ),
        port("/dev/ttyAMA0", description="ttyAMA0"),
    ]
    found = describe_devices(
        fake.list_paths,
        fake.open_device,
        str(by_id),
        comports=lambda: ports,
        serial_by_id_dir=str(serial_by_id),
    )
    by_path = {d["path"]: d for d in found}
    assert [d["kind"] for d in found] == [
        "other",
        "keypad",
        "keypad",
        "keypad",
        "other",
        "other",
        "keyboard",
        "serial",
        "serial",
    ]
    assert by_path["/dev/input/event10"] == {
        "path": "/dev/input/event10",
        "by_id": [str(by_id / "usb-0c27_3bfa-event-kbd")],
        "name": "HID 0c27:3bfa",
        "usb": "0c27:3bfa",
        "phys": "usb-0000:01:00.0-1.4/input0",
        "leds": True,
        "kind": "keyboard",
        "selector": "usb:0c27:3bfa",
    }
    # identical twins: usb: would match both, so phys: tells them apart
    assert (
        by_path["/dev/input/event2"]["selector"] == "phys:usb-0000:01:00.0-1.2/input0"
    )
    assert (
        by_path["/dev/input/event3"]["selector"] == "phys:usb-0000:01:00.0-1.3/input0"
    )
    assert by_path["/dev/input/event0"]["selector"] == "/dev/input/event0"
    assert (
        by_path["/dev/input/event0"]["usb"] is None
        and by_path["/dev/input/event0"]["phys"] is None
    )
    assert by_path["/dev/ttyUSB0"] == {
        "path": "/dev/ttyUSB0",
        "by_id": [str(serial_by_id / "usb-Silicon_Labs_CP2102-if00-port0")],
        "name": "CP2102 USB to UART",
        "usb": "10c4:ea60",
        "phys": "1-1.3:1.0",
        "leds": False,
        "kind": "serial",
        "selector": str(serial_by_id / "usb-Silicon_Labs_CP2102-if00-port0"),
    }
    assert (
        by_path["/dev/ttyAMA0"]["usb"] is None
        and by_path["/dev/ttyAMA0"]["name"] == "ttyAMA0"
    )
    infos = list_devices(fake.list_paths, fake.open_device, str(by_id))
    assert by_path["/dev/input/event7"]["error"] == (
        "permission denied (is the user in group 'input'?)"
    )
    assert "error" not in by_path["/dev/input/event2"]
    for item in found[:7]:  # each suggested selector picks that device and no other
        selector = parse_selector(item["selector"])
        assert [d.path for d in infos if selector.matches(d)] == [item["path"]]


def test_describe_devices_with_nothing_plugged_in(tmp_path):
    assert (
        describe_devices(
            lambda: [],
            lambda path: None,
            str(tmp_path),
            comports=lambda: [],
            serial_by_id_dir=str(tmp_path),
        )
        == []
    )


def test_describe_devices_lists_the_lights_it_is_given_last(tmp_path):
    light = {"path": "/dev/hidraw3", "kind": "light", "selector": "usb:04d8:f372"}
    found = describe_devices(
        lambda: [],
        lambda path: None,
        str(tmp_path),
        comports=lambda: [port("/dev/ttyAMA0", description="ttyAMA0")],
        serial_by_id_dir=str(tmp_path),
        lights=lambda: [light],
    )
    assert [d["kind"] for d in found] == ["serial", "light"]
    assert found[-1] == light


def test_event_paths_lists_character_devices_only(tmp_path):
    (tmp_path / "event1").touch()  # a plain file is not a device node
    (tmp_path / "mouse0").symlink_to("/dev/null")
    (tmp_path / "event4").symlink_to("/dev/null")  # a character device
    assert event_paths(str(tmp_path)) == [str(tmp_path / "event4")]
    assert event_paths(str(tmp_path / "missing")) == []
