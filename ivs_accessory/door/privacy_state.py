"""What the door believes about each camera's privacy, from its last read-back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ivs_accessory.cameras.fanout import CameraResult


@dataclass(frozen=True)
class Belief:
    """One camera as last confirmed.

    Attributes:
        private: True (in privacy), False (out of it), None (unknown: never read,
            or the last action or read failed).
        detail: the last problem, "" when the last action or read worked.
        at: when the action or read that set it began (monotonic seconds).
    """

    private: bool | None
    detail: str
    at: float


class CameraBeliefs:
    """Camera name -> :class:`Belief`, shared by the dispatcher, the background
    check and the page (one lock)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._beliefs: dict[str, Belief] = {}
        self._lock = threading.Lock()

    def learn(self, results: Sequence[CameraResult], started: float) -> None:
        """Take in what an action or a read found; an older read never overrides
        what a newer one found (a background check may end after an action)."""
        with self._lock:
            for result in results:
                if result.skipped:
                    continue
                known = self._beliefs.get(result.name)
                if known is not None and known.at > started:
                    continue
                self._beliefs[result.name] = Belief(
                    _private(result), result.detail, started
                )

    def private(self) -> list[str]:
        """The cameras believed in privacy."""
        with self._lock:
            return [name for name, b in self._beliefs.items() if b.private]

    def keep_only(self, names: Iterable[str]) -> None:
        """Forget cameras the room no longer has."""
        wanted = set(names)
        with self._lock:
            for name in [n for n in self._beliefs if n not in wanted]:
                del self._beliefs[name]

    def snapshot(self, names: Sequence[str]) -> list[dict[str, Any]]:
        """Each camera of ``names``: private, problem, age in seconds (None:
        never read)."""
        now = self._clock()
        with self._lock:
            found = [(n, self._beliefs.get(n)) for n in names]
        return [
            {
                "name": name,
                "private": b.private if b else None,
                "problem": (b.detail or None) if b else None,
                "age_s": round(now - b.at, 1) if b else None,
            }
            for name, b in found
        ]


def _private(result: CameraResult) -> bool | None:
    """True or False from a good read-back; None when it failed, or when the
    camera is half in privacy (neither private nor public)."""
    reading = result.reading
    if not result.ok or reading is None:
        return None
    if reading.private:
        return True
    return False if reading.public else None


def overall(cameras: Sequence[dict[str, Any]]) -> str | None:
    """``on``, ``off``, ``partial`` or ``unknown`` for the room's cameras (None:
    there are none)."""
    if not cameras:
        return None
    values = [c["private"] for c in cameras]
    if all(v is True for v in values):
        return "on"
    if all(v is False for v in values):
        return "off"
    if all(v is None for v in values):
        return "unknown"
    return "partial"
