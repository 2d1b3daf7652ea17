"""Pure lockout bookkeeping: after too many failed PINs or cards, refuse for a while."""

from __future__ import annotations


class Lockout:
    """Counts failures per source and locks it out with a growing backoff.

    After ``max_failures`` failures in a row the source is locked for ``base_s``; each
    further lockout doubles that, up to ``max_s``. A success resets the count and the
    backoff. Time is passed in, so tests step it.
    """

    def __init__(
        self, max_failures: int = 5, base_s: float = 30, max_s: float = 900
    ) -> None:
        self.max_failures = max_failures
        self.base_s = base_s
        self.max_s = max_s
        self._failures: dict[str, int] = {}
        self._lockouts: dict[str, int] = {}
        self._until: dict[str, float] = {}

    def remaining(self, source: str, now: float) -> float:
        """Seconds the source stays locked out (0 when it may be used)."""
        return max(0.0, self._until.get(source, 0.0) - now)

    def failure(self, source: str, now: float) -> float:
        """Record a failure; return the lockout it starts in seconds (0 for none)."""
        count = self._failures.get(source, 0) + 1
        if count < self.max_failures:
            self._failures[source] = count
            return 0.0
        self._failures[source] = 0
        rounds = self._lockouts.get(source, 0)
        self._lockouts[source] = rounds + 1
        seconds = min(self.max_s, self.base_s * (2**rounds))
        self._until[source] = now + seconds
        return seconds

    def success(self, source: str) -> None:
        """Record a success: the count and the backoff start again."""
        self._failures.pop(source, None)
        self._lockouts.pop(source, None)
        self._until.pop(source, None)
