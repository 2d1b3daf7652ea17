"""The leaf list of lights' USB ids, and the sysfs look that keeps busylight-core
unloaded until a light is plugged in (the real kernel's sysfs is in
tests/integration/test_lamp_vm.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fresh import fresh_json

from ivs_accessory.door.busylight import open_plugged_in
from ivs_accessory.door.lamp import LampError
from ivs_accessory.door.lamp_ids import (
    LIGHT_IDS,
    generate,
    light_plugged_in,
    lights,
    plugged_in,
)

LUXAFOR_FLAG = (0x04D8, 0xF372)
KEYBOARD = (0x046D, 0xC31C)


def add_hidraw(sys_root: Path, node: str, ids: tuple[int, int], bus: int = 3) -> None:
    """A hidraw node as sysfs shows it: class/hidraw/NODE/device/uevent."""
    device = sys_root / "devices" / node
    device.mkdir(parents=True)
    (device / "uevent").write_text(
        f"DRIVER=hid-generic\nHID_ID={bus:04X}:{ids[0]:08X}:{ids[1]:08X}\n"
        "HID_NAME=Some device\n"
    )
    folder = sys_root / "class" / "hidraw" / node
    folder.mkdir(parents=True)
    (folder / "device").symlink_to(device)


def add_usb_tty(sys_root: Path, node: str, ids: tuple[int, int], depth: int) -> None:
    """A USB serial port: its ids sit ``depth`` folders above the port's device."""
    usb = sys_root / "devices" / "usb1" / f"1-{node}"
    usb.mkdir(parents=True)
    (usb / "idVendor").write_text(f"{ids[0]:04x}\n")
    (usb / "idProduct").write_text(f"{ids[1]:04x}\n")
    device = usb
    for level in range(depth):
        device = device / f"level{level}"
    device.mkdir(parents=True, exist_ok=True)
    folder = sys_root / "class" / "tty" / node
    folder.mkdir(parents=True)
    (folder / "device").symlink_to(device)


def test_the_leaf_list_knows_every_light_busylight_core_knows():
    pytest.importorskip("busylight_core", reason="the lamp extra is not installed")
    assert sorted(generate() ^ LIGHT_IDS) == []
    assert LUXAFOR_FLAG in LIGHT_IDS


def test_hid_and_serial_ids_are_read_from_sysfs(tmp_path):
    add_hidraw(tmp_path, "hidraw0", KEYBOARD)
    add_hidraw(tmp_path, "hidraw1", LUXAFOR_FLAG, bus=6)  # uhid's virtual bus too
    add_usb_tty(tmp_path, "ttyACM0", (0x303A, 0x81DF), depth=1)
    add_usb_tty(tmp_path, "ttyUSB0", (0x10C4, 0xEA60), depth=2)
    (tmp_path / "class" / "tty" / "tty0").mkdir()  # a console: no device, no ids
    assert plugged_in(tmp_path) == {
        KEYBOARD,
        LUXAFOR_FLAG,
        (0x303A, 0x81DF),
        (0x10C4, 0xEA60),
    }


def test_a_keyboard_alone_is_no_light(tmp_path):
    add_hidraw(tmp_path, "hidraw0", KEYBOARD)
    assert not light_plugged_in(tmp_path)
    add_hidraw(tmp_path, "hidraw1", LUXAFOR_FLAG)
    assert light_plugged_in(tmp_path)


def test_a_garbled_or_missing_sysfs_is_no_light(tmp_path):
    assert plugged_in(tmp_path / "absent") == set()
    add_hidraw(tmp_path, "hidraw0", LUXAFOR_FLAG)
    uevent = tmp_path / "devices" / "hidraw0" / "uevent"
    uevent.write_text("HID_ID=0003:zz:0000F372\nHID_ID=0003\n")
    assert plugged_in(tmp_path) == set()


def test_this_machines_sysfs_can_be_read():
    found = plugged_in()
    assert all(isinstance(v, int) and isinstance(p, int) for v, p in found)


def attempt(sys_root: Path) -> list:
    """``open_plugged_in`` over ``sys_root`` in a fresh interpreter: [its
    LampError's message, whether busylight-core got imported]."""
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from ivs_accessory.door.busylight import open_plugged_in\n"
        "from ivs_accessory.door.lamp import LampError\n"
        "try:\n"
        f"    open_plugged_in('first', sys_root=Path({str(sys_root)!r}))\n"
        "except LampError as exc:\n"
        "    print(json.dumps([str(exc), 'busylight_core' in sys.modules]))\n"
    )
    return fresh_json(code)


def test_no_light_plugged_in_is_said_without_loading_the_library(tmp_path):
    add_hidraw(tmp_path, "hidraw0", KEYBOARD)
    assert attempt(tmp_path) == ["no supported light found (device = first)", False]


def test_a_missing_library_is_said_before_looking(tmp_path):
    add_hidraw(tmp_path, "hidraw0", LUXAFOR_FLAG)
    with pytest.raises(LampError) as caught:
        open_plugged_in(
            "first",
            sys_root=tmp_path,
            find_spec=lambda name: None if name == "hidraw" else object(),  # type: ignore[arg-type,return-value]
        )
    assert str(caught.value) == (
        "busylight-core not installed (hidraw missing); install the lamp "
        "extra: pip install 'ivs-accessory[lamp]'"
    )


def test_a_light_in_sysfs_hands_over_to_the_library(tmp_path):
    pytest.importorskip("busylight_core", reason="the lamp extra is not installed")
    add_hidraw(tmp_path, "hidraw0", LUXAFOR_FLAG)
    # sysfs says a Flag is there; hidapi, looking at this machine's /dev, finds
    # none, so the answer is the library's own, after it was loaded.
    message, loaded = attempt(tmp_path)
    assert loaded
    assert message == "no supported light found (device = first)"


def test_lights_are_listed_with_a_lamp_selector(tmp_path):
    add_hidraw(tmp_path, "hidraw0", KEYBOARD)
    add_hidraw(tmp_path, "hidraw3", LUXAFOR_FLAG)
    (listed,) = lights(tmp_path)
    assert listed == {
        "path": "/dev/hidraw3",
        "by_id": [],
        "name": "Some device",
        "usb": "04d8:f372",
        "phys": None,
        "leds": False,
        "kind": "light",
        "selector": "usb:04d8:f372",
    }
    add_hidraw(tmp_path, "hidraw4", LUXAFOR_FLAG)  # two alike: the path tells them
    assert [d["selector"] for d in lights(tmp_path)] == ["/dev/hidraw3", "/dev/hidraw4"]
