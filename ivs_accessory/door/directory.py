"""Card/PIN owner: VALT user lookups, short cache; a swipe costs at most one request."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import User

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _UserList:
    """VALT's whole user list by card number, and when it was taken.

    ``complete``: a card missing from it belongs to nobody. True before 6.5, where
    the list is what a lookup reads anyway; on 6.5+ a miss is asked by query, since
    the list might not show every card the query finds.
    """

    by_card: dict[str, User]
    taken: float
    complete: bool

    def answer(self, card: str) -> tuple[User | None] | None:
        user = self.by_card.get(card)
        if user is not None or self.complete:
            return (user,)
        return None


class UserDirectory:
    """Find the VALT user whose ``card_number`` is a value, remembering answers briefly.

    On 6.5+ each value is looked up with ``?cardNumber=`` (1 request) and the answer,
    found or not, is kept ``ttl_s``. Older servers only offer the whole list: one
    request fills the cache for every card at once. ``ttl_s = 0`` disables caching.
    Users removed from VALT stop working within ``ttl_s``.

    :meth:`prefetch` fetches the whole list ahead of a lookup (when the first digit of
    a PIN is typed), so the lookup at Enter needs no round trip. The prefetched list
    answers the next lookup if it is at most ``PREFETCH_VALID_S`` old, even with
    ``ttl_s = 0``: it is as fresh as the moment the person started typing. Servers
    from 6.5 on may leave card numbers out of the list; the first list shows whether
    this one does, and if it does, PINs are looked up at Enter from then on.
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
        self._list: _UserList | None = None
        self._prefetched: _UserList | None = None  # fetched ahead, not used yet
        self._list_has_cards: bool | None = None  # 6.5+: unknown until one is seen

    def find(self, card_number: str) -> User | None:
        """The user with this card number, or None (raises ValtError when VALT
        fails)."""
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
        return self._fetch_list(now, complete=True).by_card.get(card_number)

    def prefetch(self) -> bool:
        """Fetch the whole user list now, unless a cached one is still fresh or this
        server's list has no card numbers.

        Returns True when a usable list was fetched. Raises ValtError when VALT fails.
        """
        by_query = self.client.looks_up_cards_by_query()
        if by_query and self._list_has_cards is False:
            return False
        now = self._clock()
        with self._lock:
            listed = self._list
            if (
                self.ttl_s > 0
                and listed is not None
                and now - listed.taken < self.ttl_s
            ):
                return False
        fetched = self._fetch_list(now, complete=not by_query)
        if by_query and self._list_has_cards is None:
            self._list_has_cards = bool(fetched.by_card)
            if not fetched.by_card:
                logger.info(
                    "VALT lists its users without card numbers: "
                    "each PIN is looked up when it is entered"
                )
        if not fetched.by_card and by_query:
            return False
        with self._lock:
            self._prefetched = fetched
        return True

    def clear(self) -> None:
        """Forget every answer (after a configuration change)."""
        with self._lock:
            self._cards.clear()
            self._list = self._prefetched = None
            self._list_has_cards = None

    def _fetch_list(self, now: float, complete: bool) -> _UserList:
        by_card = {u.card_number: u for u in self.client.users() if u.card_number}
        fetched = _UserList(by_card, now, complete)
        with self._lock:
            # A 6.5+ list without card numbers would answer nothing: not kept.
            if by_card or complete:
                self._list = fetched
        return fetched

    def _prefetched_answer(self, card: str, now: float) -> tuple[User | None] | None:
        """The prefetched list's answer, used once (the entry it was fetched for)."""
        fetched, self._prefetched = self._prefetched, None
        if fetched is None or now - fetched.taken >= self.PREFETCH_VALID_S:
            return None
        return fetched.answer(card)

    def _cached(self, card: str, now: float) -> tuple[User | None] | None:
        if self.ttl_s <= 0:
            return None
        entry = self._cards.get(card)
        if entry is not None and now - entry[1] < self.ttl_s:
            return (entry[0],)
        if self._list is not None and now - self._list.taken < self.ttl_s:
            return self._list.answer(card)
        return None
