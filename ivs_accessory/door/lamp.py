"""The recording lamp's colours: the room's state, steady, and a blink per outcome."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ivs_accessory.door.feedback import PATTERNS, Frame, pattern_for
from ivs_accessory.door.outcome import Outcome
from ivs_accessory.errors import AccessoryError
from ivs_accessory.valt.models import RoomStatus

Rgb = tuple[int, int, int]
OFF: Rgb = (0, 0, 0)


class LampError(AccessoryError, OSError):
    """A lamp cannot be found, opened or written; the message says why."""


class Light(Protocol):
    """One open status light; :class:`door.busylight.BusylightLight` is the real one.

    Each call may block on USB; only the lamp's own thread makes them. ``on`` and
    ``off`` raise :class:`LampError` when the light is gone.
    """

    name: str  # what the status line calls it, e.g. "Luxafor Flag at /dev/hidraw0"

    def on(self, rgb: Rgb) -> None: ...

    def off(self) -> None: ...

    def close(self) -> None: ...


class LampOutput(Protocol):
    """Where the wanted colour goes (:class:`door.lamp_driver.LampDriver`); returns
    at once, whatever the light is doing."""

    def want(self, rgb: Rgb, meaning: str) -> None: ...


@dataclass(frozen=True)
class LampSettings:
    """``[lamp]`` as the lamp uses it: the device selector and a colour per meaning.

    ``result_s`` ([feedback] result_ms) is the longest an outcome's blink plays.
    """

    device: str = "first"
    recording: Rgb = (255, 0, 0)
    paused: Rgb = (255, 120, 0)
    available: Rgb = OFF
    locked: Rgb = OFF
    offline: Rgb = (0, 0, 255)
    blink: bool = True
    good: Rgb = (0, 255, 0)
    refused: Rgb = (255, 0, 0)
    result_s: float = 2.0

    @classmethod
    def from_section(cls, values: Mapping[str, Any], result_s: float) -> LampSettings:
        """Settings from the validated ``[lamp]`` values (``enabled`` is ignored)."""
        keys = [k for k in cls.__dataclass_fields__ if k not in ("result_s",)]
        return cls(**{k: values[k] for k in keys if k in values}, result_s=result_s)

    def steady(self, status: RoomStatus | None, online: bool | None) -> tuple[Rgb, str]:
        """The colour and its meaning for the room's state as the door knows it.

        Offline or not known yet is its own colour: the last status VALT gave
        before it went away is not shown, as the room may have changed since.
        """
        if online is False or status is None:
            return self.offline, "offline" if online is False else "unknown"
        if status is RoomStatus.RECORDING:
            return self.recording, "recording"
        if status is RoomStatus.PAUSED:
            return self.paused, "paused"
        if status is RoomStatus.LOCKED:
            return self.locked, "locked"
        return self.available, "available"  # available or prepared

    def blink_colour(self, pattern: str) -> Rgb:
        """The colour an outcome's pattern flashes in."""
        if pattern == "good":
            return self.good
        if pattern == "offline":
            return self.offline
        return self.refused  # denied, busy, locked_out


class LampFeedback:
    """A feedback sink that tells a lamp which colour to show; never touches USB.

    The room's state picks the steady colour; each outcome plays its pattern (the
    keypad LEDs' rhythm, :data:`door.feedback.PATTERNS`) in its blink colour, dark
    between flashes, then the steady colour returns. Every method only works out
    a colour and hands it to ``output``, which returns at once.
    """

    def __init__(
        self,
        settings: LampSettings,
        output: LampOutput,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._output = output
        self._clock = clock
        self._status: RoomStatus | None = None
        self._online: bool | None = None
        self._pattern: tuple[Frame, ...] = ()
        self._pattern_colour = OFF
        self._pattern_at = 0.0
        self._sent: tuple[Rgb, str] | None = None

    def show(self, outcome: Outcome) -> None:
        name = pattern_for(outcome)
        if name is None:
            return  # a repeat: the first input's blink goes on
        if outcome.result == "offline":
            self._online = False
        elif outcome.room_status is not None:
            # VALT itself just told us, with the answer to this input.
            self._status, self._online = outcome.room_status, True
        if self.settings.blink:
            self._pattern, self._pattern_at = PATTERNS[name], self._clock()
            self._pattern_colour = self.settings.blink_colour(name)
        self._send()

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: RoomStatus | None, online: bool | None) -> None:
        self._status, self._online = status, online
        self._send()

    def tick(self, now: float) -> None:
        self._send()

    def wanted(self) -> tuple[Rgb, str]:
        """The colour the lamp should show now, and what it means."""
        elapsed = self._clock() - self._pattern_at
        if self._pattern and elapsed < self.settings.result_s:
            end = 0.0
            for lit, seconds in self._pattern:
                end += seconds
                if elapsed < end - 1e-6:  # a tick on a boundary starts the next frame
                    return (self._pattern_colour if lit else OFF), "blink"
        self._pattern = ()
        return self.settings.steady(self._status, self._online)

    def _send(self) -> None:
        wanted = self.wanted()
        if wanted != self._sent:
            self._sent = wanted
            self._output.want(*wanted)
