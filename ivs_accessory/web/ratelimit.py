"""A token bucket: a burst of tries, then one per interval (the door page's PIN pad)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """At most ``burst`` tries at once, refilled at one every ``refill_s`` seconds.

    Thread-safe: page requests arrive on several threads.
    """

    def __init__(
        self,
        burst: int,
        refill_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or refill_s <= 0:
            raise ValueError(f"bad token bucket: burst {burst}, refill {refill_s} s")
        self.burst, self.refill_s = burst, refill_s
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> float:
        """Take one try: 0.0 when allowed, else the seconds until the next one."""
        with self._lock:
            now = self._clock()
            elapsed = max(0.0, now - self._at)
            self._tokens = min(
                float(self.burst), self._tokens + elapsed / self.refill_s
            )
            self._at = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            return (1 - self._tokens) * self.refill_s
