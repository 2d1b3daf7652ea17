"""Guest side of the lamp's real-kernel test: a Luxafor Flag made with uhid, driven
by the lamp through busylight-core and hidraw, and by the real daemon after a PIN.
Runs only inside the test VM (test_lamp_vm.py starts it); tests run in file order.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration.guest_uhid import LUXAFOR_FLAG, VirtualHid, hidraw_nodes
from integration.guest_uinput import KEYPAD, create, type_digits
from ivs_accessory.door.actions import Outcome
from ivs_accessory.door.lamp import LampSettings
from ivs_accessory.door.lamp_driver import LampSlot
from ivs_accessory.valt.models import RoomStatus
from ivs_accessory.valtsim import ValtSimulator

if not os.environ.get("IVS_VM_GUEST"):
    pytest.skip("runs inside the test VM only (tests/integration/test_lamp_vm.py)",
                allow_module_level=True)  # fmt: skip

WAIT_S = 30  # the emulated CPU runs Python several times slower than the host
FLAG_IDS = f"usb:{LUXAFOR_FLAG.vendor:04x}:{LUXAFOR_FLAG.product:04x}"


def colour_report(r: int, g: int, b: int) -> bytes:
    """What a Luxafor Flag gets for a colour: command 1 (colour), all LEDs, r, g, b."""
    return bytes([1, 0xFF, r, g, b])


RED, GREEN = colour_report(255, 0, 0), colour_report(0, 255, 0)
AMBER, OFF = colour_report(255, 120, 0), colour_report(0, 0, 0)


@pytest.fixture(scope="module")
def flag() -> Iterator[VirtualHid]:
    device = VirtualHid(LUXAFOR_FLAG)
    device.plug()
    device.wait_for("start", WAIT_S)
    try:
        yield device
    finally:
        device.close()


def test_hidapi_sees_the_uhid_light_only_through_hidraw(flag):
    import hid  # hidapi's default module: libusb on Linux
    import hidraw

    ids = (LUXAFOR_FLAG.vendor, LUXAFOR_FLAG.product)
    assert len(hidraw_nodes(*ids)) == 1
    through_hidraw = hidraw.enumerate(*ids)
    assert [d["product_string"] for d in through_hidraw] == ["LUXAFOR FLAG"]
    # Why the lamp uses the hidraw module: libusb lists only devices on a USB bus.
    assert hid.enumerate(*ids) == []
    print("FACT hidapi hid (libusb) sees 0, hidraw sees", len(through_hidraw))


def rss_mib(pid: int) -> float:
    """A process's resident memory, as the README's RSS figures count it."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise LookupError(f"no VmRSS for process {pid}")


def outcome(result: str, status: RoomStatus | None = None) -> Outcome:
    return Outcome(result, "toggle", result, "keypad", room_status=status)


def test_the_lamp_shows_the_room_and_blinks_through_hidraw(flag, caplog):
    now = [0.0]
    slot = LampSlot()  # the real light factory: busylight-core over hidraw
    settings = LampSettings(device=FLAG_IDS)
    (sink,) = slot.sinks(settings, clock=lambda: now[0])
    caplog.set_level(logging.INFO, "ivs_accessory.door.lamp_driver")
    try:
        began = time.monotonic()
        sink.room(RoomStatus.RECORDING, True)
        seen = flag.wait_for("output", WAIT_S, RED)
        assert seen[0].kind == "open"  # hidraw opened it, then wrote
        assert all(e.report_type == 1 for e in seen if e.kind == "output")
        print(
            f"FIGURE lamp: connect and first colour {seen[-1].at - began:.3f} s (TCG)"
        )
        node = hidraw_nodes(LUXAFOR_FLAG.vendor, LUXAFOR_FLAG.product)[0]
        assert slot.status()["device"] == f"Luxafor Flag at {node}"

        asked = time.monotonic()
        sink.show(outcome("started", RoomStatus.RECORDING))
        green = flag.wait_for("output", WAIT_S, GREEN)[-1]
        took = green.at - asked
        print(f"FIGURE lamp: outcome -> report at the device {took:.3f} s (TCG)")
        now[0] = 1.4  # past the long flash and its dark frame
        sink.tick(now[0])
        flag.wait_for("output", WAIT_S, RED)

        flag.unplug()
        sink.room(RoomStatus.PAUSED, True)  # this write finds the light gone
        flag.plug()
        replugged = flag.wait_for("output", WAIT_S, AMBER)
        assert "open" in [e.kind for e in replugged]
        assert slot.status()["reconnects"] == 1
    finally:
        slot.close()
    flag.wait_for("output", WAIT_S, OFF)  # a stopped lamp claims nothing
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "stopped answering" in warnings[0], warnings


def test_the_daemon_turns_the_lamp_red_after_a_pin(flag, tmp_path):
    with ValtSimulator(port=0, version="6.6.0") as sim:
        config = tmp_path / "accessory.conf"
        config.write_text(
            f"[valt]\nserver = {sim.url}\nusername = admin\npassword = admin\n"
            f"room = 1\n\n[logging]\naudit_file = {tmp_path / 'audit.log'}\n\n"
            "[web]\nenabled = false\n\n"
            f"[lamp]\nenabled = true\ndevice = {FLAG_IDS}\n\n"
            "[source:keypad]\nkind = keypad\n"
            f"device = usb:{KEYPAD.vendor:04x}:{KEYPAD.product:04x}\n"
        )
        config.chmod(0o600)
        keypad = create(KEYPAD)
        command = [str(Path(sys.executable).with_name("ivs-accessory")), "run",
                   "--config", str(config)]  # fmt: skip
        daemon = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
        try:
            # The room is available at first: the lamp is dark.
            flag.wait_for("output", WAIT_S * 2, OFF)
            type_digits(keypad, "123456")
            flag.wait_for("output", WAIT_S, GREEN)  # the "good" blink, then the state
            flag.wait_for("output", WAIT_S, RED)
            assert sim.state.room_info(1)["status"] == "recording"
            print(f"FIGURE lamp: daemon RSS {rss_mib(daemon.pid):.1f} MiB with an "
                  "evdev keypad and a light plugged in (page off)")  # fmt: skip
            daemon.send_signal(signal.SIGTERM)
            flag.wait_for("output", WAIT_S, OFF)
            assert daemon.wait(WAIT_S) == 0
        finally:
            keypad.close()
            if daemon.poll() is None:
                daemon.kill()
            log = daemon.communicate(timeout=WAIT_S)[1]
            print("daemon log:\n" + log)
