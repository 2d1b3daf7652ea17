"""Who a card or PIN belongs to: VALT user lookups with a short cache, so a swipe costs at most one request."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from ivs_accessory.valt import ValtClient
from ivs_accessory.valt.models import User


class UserDirectory:
    """Find the VALT user whose ``card_number`` is a value, remembering answers briefly.

    On 6.5+ each value is looked up with ``?cardNumber=`` (1 request) and the answer,
    found or not, is kept ``ttl_s``. Older servers only offer the whole list: one
    request fills the cache for every card at once. ``ttl_s = 0`` disables caching.
    Users removed from VALT stop working within ``ttl_s``.

    :meth:`prefetch` fetches the whole list ahead of a lookup (when the first digit of
    a PIN is typed), so the lookup at Enter needs no round trip. Only before 6.5:
    newer servers may leave card numbers out of the list. The prefetched list
    answers the next lookup if it is at most ``PREFETCH_VALID_S`` old, even with
    ``ttl_s = 0``: it is as fresh as the moment the person started typing.
    """

    PREFETCH_VALID_S = 30.0

    def __init__(
        self,
        client: ValtClient,
        ttl_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._cards: dict[str, tuple[User | None, float]] = {}
        self._whole_list: tuple[dict[str, User], float] | None = None
        self._prefetched: float | None = None  # when a prefetch not yet used was taken

    def find(self, card_number: str) -> User | None:
        """The user with this card number, or None (raises ValtError when VALT fails)."""
        now = self._clock()
        with self._lock:
            cached = self._prefetched_answer(card_number, now) or self._cached(
                card_number, now
            )
        if cached is not None:
            return cached[0]
        if self.client.looks_up_cards_by_query():
            user = self.client.user_by_card(card_number)
            with self._lock:
                self._cards[card_number] = (user, now)
            return user
        return self._fetch_all(now).get(card_number)

    def prefetch(self) -> bool:
        """Fetch the whole user list now, unless a cached one is still fresh or the
        server looks cards up by query (6.5+).

        Returns True when the list was fetched. Raises ValtError when VALT fails.
        """
        if self.client.looks_up_cards_by_query():
            return False
        now = self._clock()
        with self._lock:
            listed = self._whole_list
            if self.ttl_s > 0 and listed is not None and now - listed[1] < self.ttl_s:
                return False
        self._fetch_all(now)
        with self._lock:
            self._prefetched = now
        return True

    def clear(self) -> None:
        """Forget every answer (after a configuration change)."""
        with self._lock:
            self._cards.clear()
            self._whole_list = None
            self._prefetched = None

    def _fetch_all(self, now: float) -> dict[str, User]:
        by_card = {u.card_number: u for u in self.client.users() if u.card_number}
        with self._lock:
            self._whole_list = (by_card, now)
        return by_card

    def _prefetched_answer(self, card: str, now: float) -> tuple[User | None] | None:
        """The prefetched list's answer, used once (the entry it was fetched for)."""
        taken, self._prefetched = self._prefetched, None
        if taken is None or self._whole_list is None:
            return None
        if now - taken >= self.PREFETCH_VALID_S:
            return None
        return (self._whole_list[0].get(card),)

    def _cached(self, card: str, now: float) -> tuple[User | None] | None:
        if self.ttl_s <= 0:
            return None
        entry = self._cards.get(card)
        if entry is not None and now - entry[1] < self.ttl_s:
            return (entry[0],)
        if self._whole_list is not None and now - self._whole_list[1] < self.ttl_s:
            return (self._whole_list[0].get(card),)
        return None
