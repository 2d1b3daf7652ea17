"""Server-sent events for door screens: one stream each, bounded, ended on stop."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from typing import Any

from ivs_accessory.door.board import DoorBoard

logger = logging.getLogger(__name__)

# Each open stream holds one of the server's worker threads for as long as the
# screen stays (serving.THREADS counts them in). A door has a screen or two; more
# than this are told to come back: one event, then the browser reconnects.
MAX_STREAMS = 12
KEEPALIVE_S = 15.0  # an unchanged state is sent again this often (ages, the timer)
RETRY_MS = 3000  # a screen whose stream broke (the daemon restarts) comes back
FULL_RETRY_MS = 15_000  # a screen over MAX_STREAMS asks again this often
HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-store",
    "X-Accel-Buffering": "no",  # a proxy in front must not hold events back
}


def event(snapshot: dict[str, Any]) -> bytes:
    """One server-sent event carrying ``snapshot`` as JSON, with its version as id."""
    data = json.dumps(snapshot, separators=(",", ":"))
    return f"id: {snapshot['version']}\ndata: {data}\n\n".encode()


class DoorStreams:
    """The door screens' open event streams: at most ``limit``; :meth:`close`
    ends them all (the page stops), so the server's stop does not wait for them.

    Each stream sends the board's state at once, then at every change, and again
    after ``keepalive_s`` without one: a screen that hears nothing for twice that
    knows its connection is gone.
    """

    def __init__(
        self, limit: int = MAX_STREAMS, keepalive_s: float = KEEPALIVE_S
    ) -> None:
        self.limit = limit
        self.keepalive_s = keepalive_s
        self._lock = threading.Lock()
        self._open: dict[int, DoorBoard] = {}
        self._next = 0
        self._closed = False
        self.refused = 0

    @property
    def open(self) -> int:
        with self._lock:
            return len(self._open)

    def stream(self, board: DoorBoard) -> Iterator[bytes]:
        """The body of one ``/door/events`` answer (a generator)."""
        key = self._take(board)
        if key is None:
            # Over the limit: one state, and the browser asks again later; no thread
            # is held.
            board.seen()
            yield f"retry: {FULL_RETRY_MS}\n".encode() + event(board.snapshot())
            return
        try:
            with board.viewer():
                yield from self._follow(board)
        finally:
            with self._lock:
                self._open.pop(key, None)

    def close(self) -> None:
        """End every stream now and refuse new ones (the page is stopping)."""
        with self._lock:
            self._closed = True
            boards = {id(b): b for b in self._open.values()}
        for board in boards.values():
            board.wake()

    def _follow(self, board: DoorBoard) -> Iterator[bytes]:
        snapshot = board.snapshot()
        yield f"retry: {RETRY_MS}\n".encode() + event(snapshot)
        seen = snapshot["version"]
        while not self._closed and not board.closed:
            board.wait(seen, self.keepalive_s)
            if self._closed or board.closed:
                return
            snapshot = board.snapshot()
            seen = snapshot["version"]
            yield event(snapshot)

    def _take(self, board: DoorBoard) -> int | None:
        with self._lock:
            if self._closed:
                return None
            if len(self._open) >= self.limit:
                self.refused += 1
                if self.refused == 1 or self.refused % 100 == 0:
                    logger.warning(
                        "door page: %d screens follow the door already; more are "
                        "told to ask every %d s",
                        self.limit,
                        FULL_RETRY_MS // 1000,
                    )
                return None
            self._next += 1
            self._open[self._next] = board
            return self._next
