"""Keypad lockout: failed PINs and cards add up per source; a success does not clear
them, and the backoff survives a restart."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ivs_accessory.system.atomic import atomic_write

logger = logging.getLogger(__name__)


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)  # within the window
    in_a_row: int = 0
    rounds: int = 0  # lockouts so far: each doubles the next
    until: float = 0.0


class Lockout:
    """Counts failures per source and locks it out with a growing backoff.

    Two rules, so that one person with a valid PIN cannot guess everyone else's:

    - ``max_failures`` failures in a row lock the source for ``base_s``, doubling
      with each further lockout up to ``max_s``. A success ends the run of failures
      but not the doubling: that only ends after ``window_s`` without a failure.
    - ``window_failures`` failures within ``window_s`` (successes in between do not
      matter) lock it until the oldest of them leaves the window.

    Times are passed in (monotonic seconds), so tests step them. With
    ``state_file`` the records are saved after each failure and read at start, so a
    restart does not clear them (wall-clock times in the file).
    """

    def __init__(
        self,
        max_failures: int = 5,
        base_s: float = 30,
        max_s: float = 900,
        *,
        window_failures: int = 20,
        window_s: float = 3600,
        state_file: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_failures = max_failures
        self.base_s = base_s
        self.max_s = max_s
        self.window_failures = window_failures
        self.window_s = window_s
        self.state_file = state_file
        self._clock = clock
        self._wall = wall_clock
        self._records: dict[str, _Record] = {}
        self._load()

    def remaining(self, source: str, now: float) -> float:
        """Seconds the source stays locked out (0 when it may be used)."""
        record = self._records.get(source)
        return max(0.0, record.until - now) if record else 0.0

    def failure(self, source: str, now: float) -> float:
        """Record a failure; return the lockout it starts in seconds (0 for none)."""
        record = self._fresh(source, now)
        record.failures.append(now)
        record.in_a_row += 1
        seconds = 0.0
        if record.in_a_row >= self.max_failures:
            record.in_a_row = 0
            seconds = min(self.max_s, self.base_s * 2 ** min(record.rounds, 30))
            record.rounds += 1
        if len(record.failures) >= self.window_failures:
            seconds = max(seconds, record.failures[0] + self.window_s - now)
        if seconds > 0:
            record.until = max(record.until, now + seconds)
        self._save(now)
        return seconds

    def success(self, source: str) -> None:
        """Record a success: the run of failures ends; the window and the doubling
        stay."""
        record = self._records.get(source)
        if record is not None:
            record.in_a_row = 0

    def forget(self, source: str) -> None:
        """Drop everything about the source (the page, after a correct password:
        that proves who is there, which a keypad PIN does not)."""
        self._records.pop(source, None)

    def _fresh(self, source: str, now: float) -> _Record:
        """The source's record with failures older than the window dropped."""
        record = self._records.setdefault(source, _Record())
        quiet = not record.failures or now - record.failures[-1] > self.window_s
        record.failures = [t for t in record.failures if now - t < self.window_s]
        if quiet:
            record.rounds = 0
        return record

    # -- surviving a restart -----------------------------------------------------------
    def _save(self, now: float) -> None:
        if not self.state_file:
            return
        offset = self._wall() - now  # monotonic -> wall clock
        data = {
            source: {
                "failures": [t + offset for t in r.failures],
                "in_a_row": r.in_a_row,
                "rounds": r.rounds,
                "until": r.until + offset,
            }
            for source, r in self._records.items()
        }
        try:
            atomic_write(self.state_file, json.dumps(data).encode(), 0o600)
        except OSError as exc:
            logger.warning(
                "cannot save the lockout state to %s: %s", self.state_file, exc
            )

    def _load(self) -> None:
        if not self.state_file or not os.path.exists(self.state_file):
            return
        offset = self._clock() - self._wall()  # wall clock -> monotonic
        try:
            with open(self.state_file, encoding="utf-8") as handle:
                data = json.load(handle)
            for source, saved in data.items():
                self._records[str(source)] = _Record(
                    [float(t) + offset for t in saved["failures"]],
                    int(saved["in_a_row"]),
                    int(saved["rounds"]),
                    float(saved["until"]) + offset,
                )
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            # A damaged file must not keep the door from starting; it is rewritten
            # at the next failure.
            logger.warning("ignoring the lockout state in %s: %s", self.state_file, exc)
