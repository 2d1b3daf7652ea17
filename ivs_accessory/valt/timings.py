"""How long VALT took to answer: request durations counted into fixed buckets."""

from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass

# Upper bounds in seconds. A VALT on the LAN answers in tens of milliseconds; the
# config's timeout_s is 5 s by default (at most 60), so the top buckets show calls that
# ran into it. Changing them changes the exported series: keep them stable.
BOUNDS: tuple[float, ...] = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class Timings:
    """Request durations so far: a count per bucket (not cumulative), sum, count.

    ``buckets[i]`` counts durations in ``(BOUNDS[i-1], BOUNDS[i]]``; the last entry
    counts those over the highest bound.
    """

    buckets: tuple[int, ...] = (0,) * (len(BOUNDS) + 1)
    seconds: float = 0.0

    @property
    def count(self) -> int:
        """How many requests."""
        return sum(self.buckets)

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, count up to it)`` as histograms want them, infinity last."""
        pairs, total = [], 0
        for bound, n in zip((*BOUNDS, math.inf), self.buckets, strict=True):
            total += n
            pairs.append((bound, total))
        return pairs

    def __add__(self, other: Timings) -> Timings:
        return Timings(
            tuple(a + b for a, b in zip(self.buckets, other.buckets, strict=True)),
            self.seconds + other.seconds,
        )


class TimingRecorder:
    """Counts each request's duration as it ends (the transport calls ``observe``).

    Plain integers under a lock, so timing a request costs a bisect and needs no
    monitoring library; the page turns a snapshot into a histogram when scraped.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets = [0] * (len(BOUNDS) + 1)
        self._seconds = 0.0

    def observe(self, seconds: float) -> None:
        """Count one request that took ``seconds``."""
        index = bisect.bisect_left(BOUNDS, seconds)
        with self._lock:
            self._buckets[index] += 1
            self._seconds += seconds

    def snapshot(self) -> Timings:
        """The counts so far (a consistent copy)."""
        with self._lock:
            return Timings(tuple(self._buckets), self._seconds)
