"""Outcomes as they happen, timed to the moment, for the live input view's results."""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ivs_accessory.door.outcome import Outcome

if TYPE_CHECKING:  # the page uses the service's dispatcher, never imports it
    from ivs_accessory.door.dispatcher import Dispatcher


class OutcomeWatch:
    """Keeps the latest outcomes with the wall-clock time their input was read.

    The audit log keeps whole seconds only; to put each outcome next to the input
    that caused it, the page listens on the dispatcher's ``on_outcome`` (keeping
    whatever listened before) and takes the time at once: the outcome's latency
    runs from its input event, so ``now - latency`` is when that input arrived.
    """

    def __init__(self, size: int = 50, clock: Callable[[], float] = time.time) -> None:
        self._entries: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=size
        )
        self._lock = threading.Lock()
        self._clock = clock
        self._dispatcher: Dispatcher | None = None
        self._previous: Callable[[Outcome], object] | None = None

    def attach(self, dispatcher: Dispatcher | None) -> None:
        """Listen to ``dispatcher``'s outcomes (nothing when there is none)."""
        if dispatcher is None:
            return
        self._dispatcher, self._previous = dispatcher, dispatcher.on_outcome
        dispatcher.on_outcome = self.seen

    def detach(self) -> None:
        """Give the dispatcher its previous listener back (the page is closing)."""
        dispatcher, self._dispatcher = self._dispatcher, None
        if dispatcher is not None and dispatcher.on_outcome == self.seen:
            dispatcher.on_outcome = self._previous

    def seen(self, outcome: Outcome) -> None:
        """Record one outcome (on the dispatcher thread), then pass it on."""
        now = self._clock()
        with self._lock:
            self._entries.append(
                {
                    "began": now - outcome.latency_s,
                    "source": outcome.source,
                    "result": outcome.result,
                    "message": outcome.message,
                }
            )
        if self._previous is not None:
            self._previous(outcome)

    def recent(self) -> list[dict[str, Any]]:
        """The outcomes seen, newest first."""
        with self._lock:
            return [dict(e) for e in reversed(self._entries)]
