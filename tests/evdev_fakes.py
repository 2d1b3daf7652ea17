"""Shared by the evdev source tests: decoder drivers, and fakes of the device seams.

``FakeDevice`` stands in for an evdev ``InputDevice`` (its ``fd`` is a real pipe, so
the readers' select() works); ``FakeInput`` is what is plugged in, served through the
``list_devices``/``open_device`` seams the real sources take. The real kernel path is
tested in the VM (tests/integration).
"""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import os
import queue
import threading
from collections.abc import Iterator

from conftest import FakeClock
from evdev import InputEvent, ecodes

from ivs_accessory.events import KeyHeld, KeyPressed
from ivs_accessory.sources.selector import DeviceInfo

WAIT_S = 5
E = ecodes
# What some keypads send around every digit: a Num Lock press and release.
NUMLOCK = [(0.0, E.KEY_NUMLOCK, 1), (0.0, E.KEY_NUMLOCK, 0)]


def key(code: int, value: int, etype: int = E.EV_KEY) -> InputEvent:
    return InputEvent(0, 0, etype, code, value)


def run_decoder(decoder, clock: FakeClock, steps) -> list:
    """Feed (time, code, value) steps (or (time, "tick")) at the given clock times."""
    out = []
    for t, *rest in steps:
        clock.now = 100.0 + t
        if rest == ["tick"]:
            out.extend(decoder.tick())
        else:
            out.extend(decoder.feed(key(*rest)))
    return out


def summary(events) -> list[tuple]:
    """Events as short tuples; seconds rounded so float sums compare."""
    out = []
    for ev in events:
        if isinstance(ev, KeyHeld):
            out.append(("held", ev.key, round(ev.seconds, 3), ev.released))
        elif isinstance(ev, KeyPressed):
            out.append(("pressed", ev.key))
        else:
            out.append(("card", ev.kind, ev.raw))
    return out


# --- fakes for the reader threads -----------------------------------------------------


class FakeDevice:
    """An evdev-like device whose ``fd`` is a real pipe, so select() works on it."""

    def __init__(self, path: str, grab_error: OSError | None = None) -> None:
        self.path = path
        self.grab_error = grab_error
        self.grabbed = False
        self.leds: list[tuple[int, int]] = []
        self.closed = threading.Event()
        self._read_fd, self._write_fd = os.pipe()
        os.set_blocking(self._read_fd, False)
        self._items: collections.deque = collections.deque()
        self._lock = threading.Lock()

    @property
    def fd(self) -> int:
        return self._read_fd

    def push(self, *items) -> None:
        """Queue InputEvents (or an exception to raise) and wake the reader."""
        with self._lock:
            self._items.extend(items)
        os.write(self._write_fd, b"x")

    def unplug(self) -> None:
        self.push(OSError(errno.ENODEV, "No such device"))

    def read(self):
        with contextlib.suppress(BlockingIOError):
            os.read(self._read_fd, 4096)
        with self._lock:
            items, self._items = list(self._items), collections.deque()
        if not items:
            raise BlockingIOError(errno.EAGAIN, "no events")
        if isinstance(items[0], Exception):
            raise items[0]
        errors = [i for i, item in enumerate(items) if isinstance(item, Exception)]
        if errors:  # events before the error now, the error on the next read
            self.push(*items[errors[0] :])
            items = items[: errors[0]]
        return iter(items)

    def grab(self) -> None:
        if self.grab_error is not None:
            raise self.grab_error
        self.grabbed = True

    def set_led(self, code: int, value: int) -> None:
        self.leds.append((code, value))

    def close(self) -> None:
        if not self.closed.is_set():
            self.closed.set()
            os.close(self._read_fd)
            os.close(self._write_fd)


def info(path: str = "/dev/input/event3", **fields) -> DeviceInfo:
    defaults = dict(
        name="USB Keypad",
        vendor=0x04D9,
        product=0x1203,
        phys="usb-0000:01:00.0-1.2/input0",
        has_leds=True,
        is_keypad=True,
    )
    return DeviceInfo(path, **(defaults | fields))


class FakeInput:
    """What is plugged in: the ``list_devices`` and ``open_device`` seams."""

    def __init__(self, *present: DeviceInfo) -> None:
        self.present = {i.path: i for i in present}
        self.opened: queue.Queue[FakeDevice] = queue.Queue()
        self.all_opened: list[FakeDevice] = []
        self.open_errors: collections.deque[OSError] = collections.deque()
        self.grab_errors: collections.deque[OSError] = collections.deque()
        self.listings = 0
        self.listed = threading.Condition()

    def list_devices(self) -> list[DeviceInfo]:
        with self.listed:
            self.listings += 1
            self.listed.notify_all()
        return list(self.present.values())

    def open_device(self, path: str) -> FakeDevice:
        if self.open_errors:
            raise self.open_errors.popleft()
        if path not in self.present:
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        grab_error = self.grab_errors.popleft() if self.grab_errors else None
        device = FakeDevice(path, grab_error)
        self.all_opened.append(device)
        self.opened.put(device)
        return device

    def wait_listings(self, count: int) -> None:
        with self.listed:
            assert self.listed.wait_for(lambda: self.listings >= count, WAIT_S)

    def seams(self) -> dict:
        return {
            "open_device": self.open_device,
            "list_devices": self.list_devices,
            "reconnect_min_s": 0.01,
            "reconnect_max_s": 0.05,
        }


@contextlib.contextmanager
def running(source, emit=None) -> Iterator[queue.Queue]:
    """Start ``source``; yield the queue its events go to; always close it."""
    events: queue.Queue = queue.Queue()
    source.start(emit or events.put)
    try:
        yield events
    finally:
        source.close()


def get(events: queue.Queue):
    return events.get(timeout=WAIT_S)


def press(device: FakeDevice, code: int) -> None:
    device.push(key(code, 1), InputEvent(0, 0, E.EV_SYN, E.SYN_REPORT, 0), key(code, 0))


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
