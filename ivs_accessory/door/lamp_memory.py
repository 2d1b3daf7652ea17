"""Lamps without hardware, behind the real lamp's interface: tests, demo, benchmarks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ivs_accessory.door.lamp import OFF, LampError, Rgb


class MemoryLight:
    """One opened light of :class:`MemoryLights`; fails once it is unplugged."""

    def __init__(self, lights: MemoryLights, number: int) -> None:
        self._lights = lights
        self.name = f"memory light {number}"
        self.closed = False

    def on(self, rgb: Rgb) -> None:
        self._lights.record(self, rgb)

    def off(self) -> None:
        self._lights.record(self, OFF)

    def close(self) -> None:
        self.closed = True


class MemoryLights:
    """An opener (``selector -> Light``) for one light that a test can unplug and
    plug in again, recording every colour written with the time it was.

    Args:
        plugged: whether the light is there at first.
        gate: when given, each write waits for it to be set (a USB write that hangs).
        clock: the time recorded with each write.
    """

    def __init__(
        self,
        plugged: bool = True,
        gate: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plugged = plugged
        self.gate = gate
        self.clock = clock
        self.writes: list[tuple[Rgb, float]] = []
        self.opened = 0
        self.selectors: list[str] = []
        self._current: MemoryLight | None = None
        self._changed = threading.Condition()

    def __call__(self, selector: str) -> MemoryLight:
        with self._changed:
            self.selectors.append(selector)
            self._changed.notify_all()  # a test may wait for the attempts
            if not self.plugged:
                raise LampError(f"no supported light found (device = {selector})")
            self.opened += 1
            self._current = MemoryLight(self, self.opened)
            return self._current

    def unplug(self) -> None:
        """Take the light away: writes to the open one fail, opening finds nothing."""
        with self._changed:
            self.plugged, self._current = False, None

    def plug(self) -> None:
        with self._changed:
            self.plugged = True

    def record(self, light: MemoryLight, rgb: Rgb) -> None:
        if self.gate is not None:
            self.gate.wait()
        with self._changed:
            if light is not self._current or light.closed:
                raise LampError(f"{light.name}: no such device")
            self.writes.append((rgb, self.clock()))
            self._changed.notify_all()

    @property
    def shown(self) -> Rgb | None:
        """The colour last written, or None before any write."""
        with self._changed:
            return self.writes[-1][0] if self.writes else None

    def wait_for(
        self, predicate: Callable[[MemoryLights], bool], timeout: float = 5.0
    ) -> bool:
        """Wait until ``predicate(self)`` holds (checked at each open and write)."""
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self), timeout)
