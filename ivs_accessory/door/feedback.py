"""Tell the person at the door: keypad LEDs, systemd STATUS line, the demo's console."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TextIO

from ivs_accessory.door.outcome import SETTLED_RESULTS, Outcome
from ivs_accessory.valt.models import RoomStatus

logger = logging.getLogger(__name__)

# Steady LED states on a USB keypad: Num Lock = the room is recording, Scroll Lock =
# VALT is offline. Outcomes play a short pattern on all LEDs instead (see PATTERNS).
LED_RECORDING, LED_REFUSED, LED_OFFLINE = "LED_NUML", "LED_CAPSL", "LED_SCROLLL"
ALL_LEDS = frozenset({LED_RECORDING, LED_REFUSED, LED_OFFLINE})

Frame = tuple[bool, float]  # (all LEDs on?, seconds)


def _flashes(count: int, on_s: float, off_s: float) -> tuple[Frame, ...]:
    return ((True, on_s), (False, off_s)) * count


# One rhythm per outcome, on every LED at once: many USB keypads have only a Num Lock
# LED, so the patterns differ in timing, not in which LED lights. Frames are
# multiples of 0.1 s, the dispatcher's tick.
PATTERNS: dict[str, tuple[Frame, ...]] = {
    "good": ((True, 1.0), (False, 0.3)),  # one long flash
    "denied": _flashes(3, 0.2, 0.2),  # three quick flashes
    "busy": _flashes(2, 0.5, 0.5),  # two slow flashes
    "offline": _flashes(6, 0.1, 0.1),  # a fast flicker
    "locked_out": (
        (True, 0.8),
        (False, 0.2),
        (True, 0.2),
        (False, 0.2),
        (True, 0.8),
        (False, 0.3),
    ),  # long-short-long
    # Looped for as long as enrolment mode is on, in place of the steady state.
    "enrolment": ((True, 0.2), (False, 0.2), (True, 0.2), (False, 1.4)),
}


def pattern_for(outcome: Outcome) -> str | None:
    """The pattern name of an outcome: good, denied, busy, offline or locked_out;
    None for a repeat, which leaves the first input's pattern playing."""
    if outcome.result == "repeat":
        return None
    if outcome.result == "enrolment":  # the read was seen: shown on the page
        return "good"
    if outcome.result in SETTLED_RESULTS:
        return "good"
    # "partial": some cameras did not follow a privacy or preset action.
    if outcome.result in ("offline", "error", "not_configured", "partial"):
        return "offline"
    if outcome.result in ("busy", "locked_out"):
        return outcome.result
    if outcome.result == "expired":
        return "busy"
    return "denied"  # denied, unreadable


class FeedbackSink(Protocol):
    """Anything that shows outcomes; every method must return quickly and never
    raise."""

    def show(self, outcome: Outcome) -> None: ...

    def entry(self, source: str, length: int) -> None: ...

    def room(self, status: RoomStatus | None, online: bool | None) -> None: ...

    def tick(self, now: float) -> None: ...


class ConsoleFeedback:
    """One line per outcome on a terminal (the demo)."""

    def __init__(self, stream: TextIO = sys.stdout) -> None:
        self.stream = stream

    def show(self, outcome: Outcome) -> None:
        mark = "OK " if outcome.result in SETTLED_RESULTS else "-- "
        who = f" [{outcome.credential}]" if outcome.credential else ""
        count = outcome.requests
        requests = f"{count} VALT request" + ("" if count == 1 else "s")
        self.stream.write(
            f"{mark}{outcome.message}{who} ({requests}, "
            f"{outcome.latency_s * 1000:.0f} ms)\n"
        )
        self.stream.flush()

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: RoomStatus | None, online: bool | None) -> None:
        pass

    def tick(self, now: float) -> None:
        pass


class LedFeedback:
    """Keypad LEDs: a pattern per outcome, then the steady recording/offline state.

    Args:
        devices: a callable returning the sources that have ``set_leds(set[str])``
            (called each time, so re-opened devices are found).
        result_s: the longest a pattern plays before the steady state returns.
        override: returns the LEDs to show instead of the normal ones, or None
            (the factory button's "let go now" pattern).
        looping: returns the name of a pattern to loop instead of the steady
            state, or None (enrolment mode); outcomes still play over it.
    """

    def __init__(
        self,
        devices: Callable[[], Iterable[Any]],
        result_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        override: Callable[[], frozenset[str] | None] | None = None,
        looping: Callable[[], str | None] | None = None,
    ) -> None:
        self._devices = devices
        self._override = override
        self._looping = looping
        self.result_s = result_s
        self._clock = clock
        self._recording = False
        self._offline = False
        self._pattern: tuple[Frame, ...] = ()
        self._pattern_at = 0.0
        self._shown: frozenset[str] | None = None

    def show(self, outcome: Outcome) -> None:
        name = pattern_for(outcome)
        if name is None:
            return
        self.play(name)
        self._offline = outcome.result == "offline"
        if outcome.room_status is not None:
            self._recording = outcome.room_status.has_recording

    def play(self, name: str) -> None:
        """Start pattern ``name`` (a key of PATTERNS) now, replacing any playing one."""
        self._pattern, self._pattern_at = PATTERNS[name], self._clock()
        self._apply()

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: RoomStatus | None, online: bool | None) -> None:
        # While VALT cannot be reached the door does not know whether the room
        # records: Num Lock would claim what it has not seen; only Scroll Lock shows.
        self._offline = online is False
        self._recording = bool(status and status.has_recording) and not self._offline
        self._apply()

    def tick(self, now: float) -> None:
        self._apply()

    def wanted(self) -> frozenset[str]:
        """The LEDs that should be on now."""
        shown = self._override() if self._override is not None else None
        if shown is not None:
            return frozenset(shown)
        now = self._clock()
        elapsed = now - self._pattern_at
        if self._pattern and elapsed < self.result_s:
            lit = _lit(self._pattern, elapsed)
            if lit is not None:
                return ALL_LEDS if lit else frozenset()
        self._pattern = ()
        looped = self._looping() if self._looping is not None else None
        if looped is not None:
            frames = PATTERNS[looped]
            lit = _lit(frames, now % sum(seconds for _, seconds in frames))
            return ALL_LEDS if lit else frozenset()
        on = set()
        if self._recording:
            on.add(LED_RECORDING)
        if self._offline:
            on.add(LED_OFFLINE)
        return frozenset(on)

    def _apply(self) -> None:
        wanted = self.wanted()
        if wanted == self._shown:
            return
        self._shown = wanted
        for device in self._devices():
            try:
                device.set_leds(set(wanted))
            except Exception:  # a vanished device must not stop the dispatcher
                logger.debug(
                    "cannot set LEDs on %s",
                    getattr(device, "name", device),
                    exc_info=True,
                )


def _lit(frames: tuple[Frame, ...], elapsed: float) -> bool | None:
    """Whether the LEDs are on ``elapsed`` seconds into ``frames``; None past its
    end."""
    end = 0.0
    for lit, seconds in frames:
        end += seconds
        if elapsed < end - 1e-6:  # a tick landing on a boundary starts the next frame
            return lit
    return None


class StatusFeedback:
    """The systemd ``STATUS=`` line: the room's state and the last outcome, in words."""

    def __init__(self, notify: Callable[[str], object], room: int | None) -> None:
        self._notify = notify
        self._room = room
        self._lock = threading.Lock()
        self._state = "starting"
        self._last = ""

    def show(self, outcome: Outcome) -> None:
        self._last = f"last: {outcome.message}"
        if outcome.room_status is not None:
            self._state = _room_words(self._room, outcome.room_status, True)
        elif outcome.result == "offline":
            self._state = "VALT offline"
        self._send()

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: RoomStatus | None, online: bool | None) -> None:
        self._state = _room_words(self._room, status, online)
        self._send()

    def tick(self, now: float) -> None:
        pass

    def _send(self) -> None:
        with self._lock:
            line = "; ".join(p for p in (self._state, self._last) if p)
        self._notify(f"STATUS={line}")


def _room_words(
    room: int | None, status: RoomStatus | None, online: bool | None
) -> str:
    if room is None:
        return "no room configured"
    if online is False:
        return f"room {room}: VALT offline"
    if status is None:
        return f"room {room}: status unknown"
    return f"room {room} {status.value}"
