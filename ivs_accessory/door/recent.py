"""Last input events, masked for the page's live view (no PIN digit, no card number)."""

from __future__ import annotations

import collections
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from ivs_accessory.door.credentials import mask
from ivs_accessory.events import (
    ButtonPressed,
    CardRead,
    CodeEntered,
    InputEvent,
    KeyHeld,
)

# Digit keys are parts of a PIN: the live view says "a digit", never which one.
_TAP_S = 0.5  # a release sooner than this is a tap, shown as the KeyPressed only
_DIGIT_KEYS = frozenset(
    {f"KEY_{d}" for d in range(10)} | {f"KEY_KP{d}" for d in range(10)}
)


def masked_event(event: InputEvent) -> dict[str, Any]:
    """``{"source", "kind", "detail"}`` describing ``event`` without its secret part.

    A key shows its evdev name (digits show as ``digit``), a held key its seconds, a
    complete code its length, an on-screen button its action, a card its kind,
    length and at most its last 4 digits.
    """
    if isinstance(event, CardRead):
        return {
            "source": event.source,
            "kind": "card",
            "detail": f"{event.kind} card {mask(event.raw)} "
            f"({len(event.raw)} characters)",
        }
    if isinstance(event, CodeEntered):
        return {
            "source": event.source,
            "kind": "code",
            "detail": f"code of {len(event.digits)} digits",
        }
    if isinstance(event, ButtonPressed):
        return {"source": event.source, "kind": "button", "detail": event.action}
    key = "digit" if event.key in _DIGIT_KEYS else event.key
    if isinstance(event, KeyHeld):
        state = "released" if event.released else "still down"
        return {
            "source": event.source,
            "kind": "hold",
            "detail": f"{key} held {event.seconds:.1f} s ({state})",
        }
    return {"source": event.source, "kind": "key", "detail": key}


class RecentEvents:
    """A bounded, thread-safe list of masked events; readers call :meth:`add`.

    Each entry gets a sequence number so a poller can ask only for what is new.
    """

    def __init__(self, size: int = 50, clock: Callable[[], float] = time.time) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=size
        )
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()
        self._clock = clock

    def add(self, event: InputEvent) -> None:
        """Record one event (masked at once: the raw value is never kept).

        The short ``KeyHeld`` that precedes every ``KeyPressed`` (see
        ``sources.base.key_release``) is left out: it would show each tap twice.
        """
        if isinstance(event, KeyHeld) and event.released and event.seconds < _TAP_S:
            return
        entry = masked_event(event)
        with self._lock:
            entry["seq"] = next(self._numbers)
            entry["time"] = self._clock()
            self._entries.append(entry)

    def latest(self, count: int = 20, after: int = 0) -> list[dict[str, Any]]:
        """Up to ``count`` entries newer than sequence ``after``, newest first."""
        with self._lock:
            found = [e for e in self._entries if e["seq"] > after]
        return [dict(e) for e in found[::-1][:count]]
