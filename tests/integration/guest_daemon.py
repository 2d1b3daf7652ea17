"""Guest side of the real-kernel daemon tier: the real ``ivs-accessory run`` reads
uinput devices on a real kernel. Runs only inside the test VM (test_daemon_vm.py starts
it); the tests share one daemon and run in file order, like a person at the door would.
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
from evdev import InputDevice, UInput
from evdev import ecodes as e

from integration.guest_uinput import (
    CARD_READER,
    KEYPAD,
    create,
    is_readable,
    read_events,
    replug,
    tap,
    try_grab,
    type_card,
    type_digits,
)
from ivs_accessory.valtsim import ValtSimulator

if not os.environ.get("IVS_VM_GUEST"):
    pytest.skip("runs inside the test VM only (tests/integration/test_daemon_vm.py)",
                allow_module_level=True)  # fmt: skip

DAEMON = [str(Path(sys.executable).with_name("ivs-accessory")), "-v", "run", "--config"]
# The emulated CPU runs Python several times slower than the host: generous bounds.
WAIT_S = 30
NOBODY = 65534


class Daemon:
    """The daemon as a subprocess, with its log lines on a queue as they arrive."""

    def __init__(self, config: Path, as_user: int | None = None) -> None:
        command = DAEMON
        if as_user is not None:
            # setpriv drops to an unprivileged user, as the service's User= does; that
            # user cannot use the checkout's venv (it may be under /root, or in a 0700
            # folder) and runs the copy installed for every user, as on a box.
            venv = os.environ.get("IVS_VM_VENV")
            assert venv, "IVS_VM_VENV is unset: run this through test_daemon_vm.py"
            command = [
                "setpriv",
                f"--reuid={as_user}",
                f"--regid={as_user}",
                "--clear-groups",
                str(Path(venv, "bin", "ivs-accessory")),
                *DAEMON[1:],
            ]
        self.process = subprocess.Popen(
            command + [str(config)],
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        self.seen: list[tuple[float, str]] = []
        self.claimed: set[int] = set()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put((time.monotonic(), line.rstrip("\n")))

    def wait_line(self, text: str, timeout_s: float = WAIT_S) -> float:
        """Wait for a log line containing ``text`` that no earlier wait claimed (lines
        may arrive in any order); returns when it was read."""
        deadline = time.monotonic() + timeout_s
        while True:
            for index, (at, line) in enumerate(self.seen):
                if index not in self.claimed and text in line:
                    self.claimed.add(index)
                    return at
            try:
                at, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no log line with {text!r}; log so far:\n"
                                     + "\n".join(self.log)) from None  # fmt: skip
            self.seen.append((at, line))
            print("daemon:", line)

    @property
    def log(self) -> list[str]:
        return [line for _, line in self.seen]


def wait_until(check: Callable[[], bool], what: str, timeout_s: float = WAIT_S) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def sim() -> Iterator[ValtSimulator]:
    with ValtSimulator(port=0, version="6.6.0") as simulator:
        yield simulator


@pytest.fixture(scope="module")
def daemon(sim: ValtSimulator, tmp_path_factory) -> Iterator[Daemon]:
    folder = tmp_path_factory.mktemp("daemon")
    config = folder / "accessory.conf"
    config.write_text(
        f"[valt]\nserver = {sim.url}\nusername = admin\npassword = admin\nroom = 1\n"
        f"timeout_s = 5\n\n[logging]\naudit_file = {folder / 'audit.log'}\n\n"
        f"[source:keypad]\nkind = keypad\n"
        f"device = usb:{KEYPAD.vendor:04x}:{KEYPAD.product:04x}\n\n"
        f"[source:reader]\nkind = card_hid\n"
        f"device = usb:{CARD_READER.vendor:04x}:{CARD_READER.product:04x}\n"
    )
    config.chmod(0o600)
    running = Daemon(config)
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait(10)


@pytest.fixture(scope="module")
def devices() -> Iterator[dict[str, UInput]]:
    """The devices, plugged in by the first test (the daemon starts without them)."""
    plugged: dict[str, UInput] = {}
    yield plugged
    for ui in plugged.values():
        ui.close()


def started_by(sim: ValtSimulator) -> list[object]:
    return [r["body"].get("author") for r in sim.requests("rooms/1/record/start")]


def test_daemon_starts_without_its_devices_then_opens_them(daemon, devices):
    daemon.wait_line("accessory started")
    daemon.wait_line("no input device matches usb:1209:0001")
    plugged = time.monotonic()
    devices["keypad"], devices["reader"] = create(KEYPAD), create(CARD_READER)
    opened = max(
        daemon.wait_line("keypad keypad reading"),
        daemon.wait_line("card reader reader reading"),
    )
    print(f"FIGURE devices opened {opened - plugged:.2f} s after they appeared")
    assert opened - plugged < 10


def test_pin_typed_on_the_keypad_starts_a_recording_for_its_user(sim, daemon, devices):
    type_digits(devices["keypad"], "123456")
    wait_until(lambda: sim.state.room_info(1)["status"] == "recording", "recording")
    assert started_by(sim) == [2]  # asmith, whose card number is the PIN


def test_keypad_is_grabbed_so_no_one_else_reads_it(devices):
    with closing(InputDevice(devices["keypad"].device.path)) as other:
        assert try_grab(other) == "EBUSY"
        tap(devices["keypad"], e.KEY_KP5)
        tap(devices["keypad"], e.KEY_BACKSPACE)
        # uinput delivers inside the write: nothing now means nothing at all.
        assert not is_readable(other.fd, 0)


def test_leds_show_recording_and_flash_for_a_refused_pin(devices):
    keypad = devices["keypad"]
    with closing(InputDevice(keypad.device.path)) as probe:
        wait_until(lambda: probe.leds() == [e.LED_NUML], "Num Lock lit while recording")
        list(read_events(keypad, 100, 0.2, types=(e.EV_LED,)))  # what came before
        type_digits(keypad, "999999")
        changes = read_events(keypad, 8, WAIT_S, types=(e.EV_LED,))
        caps = [ev.value for ev in changes if ev.code == e.LED_CAPSL]
        assert caps[:4] == [1, 0, 1, 0], changes  # the denied pattern flashes
        wait_until(lambda: probe.leds() == [e.LED_NUML], "Num Lock steady again")


def test_card_on_the_hid_reader_stops_the_recording(sim, daemon, devices):
    type_card(devices["reader"], "654321")
    wait_until(lambda: sim.state.room_info(1)["status"] == "available", "stopped")
    assert len(sim.requests("rooms/1/record/stop")) == 1


def test_unplugged_keypad_is_reopened_when_it_comes_back(sim, daemon, devices):
    gone = time.monotonic()
    devices["keypad"] = replug(devices["keypad"], KEYPAD)
    daemon.wait_line("lost /dev/input/")
    back = daemon.wait_line("keypad keypad reconnected to")
    print(f"FIGURE keypad reopened {back - gone:.2f} s after the replug")
    type_digits(devices["keypad"], "123456")
    wait_until(lambda: len(started_by(sim)) == 2, "a second recording")
    assert daemon.process.poll() is None


def test_sigterm_stops_the_daemon_cleanly(daemon):
    asked = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    assert daemon.process.wait(WAIT_S) == 0
    print(f"FIGURE stopped {time.monotonic() - asked:.2f} s after SIGTERM")
    daemon.wait_line("accessory stopped")


LATE_READER = dataclasses.replace(CARD_READER, name="IVS late reader", product=0x0003)


def test_node_readable_only_after_a_moment_is_opened_without_a_warning(sim):
    """As with udev: the node appears root-only and gets its group a moment later."""
    tmp_path = Path(tempfile.mkdtemp(prefix="late-", dir="/tmp"))  # nobody can enter
    config = tmp_path / "late.conf"
    config.write_text(
        f"[valt]\nserver = {sim.url}\nusername = admin\npassword = admin\nroom = 1\n\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\nlevel = debug\n\n"
        f"[source:late]\nkind = card_hid\n"
        f"device = usb:{LATE_READER.vendor:04x}:{LATE_READER.product:04x}\n"
    )
    os.chown(tmp_path, NOBODY, NOBODY)
    os.chown(config, NOBODY, NOBODY)
    config.chmod(0o600)
    ui = create(LATE_READER)
    try:
        os.chmod(ui.device.path, 0o600)  # devtmpfs: root only, as before udev runs
        late = Daemon(config, as_user=NOBODY)
        try:
            late.wait_line(f"cannot open {ui.device.path}")  # denied: a DEBUG retry
            granted = time.monotonic()
            os.chmod(ui.device.path, 0o666)
            opened = late.wait_line("card reader late reading")
            print(
                f"FIGURE late node opened {opened - granted:.2f} s "
                "after its mode changed"
            )
            type_card(ui, "123456")
            late.wait_line("late: Recording")
            assert not [line for line in late.log if line.startswith("WARNING")]
        finally:
            late.process.terminate()
            assert late.process.wait(WAIT_S) == 0
    finally:
        ui.close()
