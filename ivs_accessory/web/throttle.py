"""Login throttling: a doubling lockout per address and a failure budget for the box."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ivs_accessory.web.hosts import network_key

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    """What :meth:`LoginThrottle.begin` decided.

    Attributes:
        wait_s: seconds to wait before a try is allowed; 0 when this one is.
        global_limit: the wait comes from the box-wide budget, not the address.
        locks_s: the lockout this try starts if its password turns out wrong.
    """

    wait_s: float
    global_limit: bool = False
    locks_s: float = 0.0


@dataclass
class _Entry:
    failures: int = 0
    rounds: int = 0
    until: float = 0.0
    seen: float = 0.0


class LoginThrottle:
    """Failed password checks, counted per address and for the whole box.

    Per address (IPv6: per /64) ``max_failures`` failures in a row lock it for
    ``base_s``, twice as long after each further round, up to ``max_s``. The box
    as a whole allows a burst of ``burst`` failures, then one per ``refill_s``:
    guesses spread over many addresses get no more tries than that.

    :meth:`begin` checks and counts in one step, under one lock, so parallel
    requests cannot slip in more tries than serial ones: a try counts as failed
    until :meth:`succeeded` takes it back.

    Args:
        max_entries: addresses remembered at most; the longest unseen go first.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        max_failures: int = 5,
        base_s: float = 30,
        max_s: float = 900,
        *,
        burst: int = 10,
        refill_s: float = 6,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures, self.base_s, self.max_s = max_failures, base_s, max_s
        self.burst, self.refill_s, self.max_entries = burst, refill_s, max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self._tokens = float(burst)
        self._refilled = clock()
        self._pruned = self._refilled
        self._limited = False

    def begin(self, address: str) -> Verdict:
        """May ``address`` try a password now? If so, the try is counted as failed."""
        key = network_key(address)
        with self._lock:
            now = self._clock()
            self._prune(now)
            entry = self._entries.get(key)
            own_wait = max(0.0, entry.until - now) if entry else 0.0
            box_wait = self._box_wait(now)
            if own_wait > 0 or box_wait > 0:
                return Verdict(max(own_wait, box_wait), box_wait > own_wait)
            self._tokens -= 1
            entry = self._entries.setdefault(key, _Entry())
            entry.seen = now
            entry.failures += 1
            if entry.failures < self.max_failures:
                return Verdict(0.0)
            entry.failures = 0
            locks = min(self.max_s, self.base_s * 2**entry.rounds)
            entry.rounds += 1
            entry.until = now + locks
        logger.warning(
            "page login from %s locked for %.0f s after repeated failures",
            address,
            locks,
        )
        return Verdict(0.0, False, locks)

    def succeeded(self, address: str) -> None:
        """The password was right: the address starts again, the budget gets it back."""
        with self._lock:
            self._entries.pop(network_key(address), None)
            self._tokens = min(float(self.burst), self._tokens + 1)

    def tracked(self) -> int:
        """How many addresses are remembered (bounded by ``max_entries``)."""
        with self._lock:
            return len(self._entries)

    def _box_wait(self, now: float) -> float:
        elapsed = max(0.0, now - self._refilled)
        self._tokens = min(float(self.burst), self._tokens + elapsed / self.refill_s)
        self._refilled = now
        if self._tokens >= 1:
            self._limited = False
            return 0.0
        if not self._limited:
            self._limited = True
            logger.warning(
                "page logins: %d wrong passwords in a short time, from any address; "
                "checking at most one every %.0f s",
                self.burst,
                self.refill_s,
            )
        return (1 - self._tokens) * self.refill_s

    def _prune(self, now: float) -> None:
        """Forget addresses idle for ``max_s`` and unlocked; keep ``max_entries``."""
        # Before an entry is added: room for it is made here.
        if now - self._pruned < 60 and len(self._entries) < self.max_entries:
            return
        self._pruned = now
        self._entries = {
            key: entry
            for key, entry in self._entries.items()
            if entry.until > now or now - entry.seen < self.max_s
        }
        if len(self._entries) >= self.max_entries:
            keep = sorted(self._entries.items(), key=lambda item: item[1].seen)
            self._entries = dict(keep[-(self.max_entries * 3 // 4) :])
