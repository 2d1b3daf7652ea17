"""Believed room status: from our actions' answers and a slow refresh, not a poll."""

from __future__ import annotations

import time
from collections.abc import Callable

from ivs_accessory.errors import ValtUnavailable
from ivs_accessory.valt import RoomStatus, ValtClient


class RoomState:
    """The configured room's last known status.

    The vendor polls the status every 5 s; we learn it from the answers to our own
    actions and refresh it every ``refresh_s`` (default 60 s), so an idle box costs
    VALT about one request a minute. Whoever acts on stale knowledge gets a 409 from
    VALT, refreshes and decides again (see ``actions``).
    """

    def __init__(
        self,
        client: ValtClient,
        room: int,
        refresh_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
        offline_refresh_s: float = 15,
    ) -> None:
        self.client = client
        self.room = room
        self.refresh_s = refresh_s
        # While VALT is unreachable or failing, look more often so the box (and the
        # status page) recovers soon after it.
        self.offline_refresh_s = min(offline_refresh_s, refresh_s)
        self._clock = clock
        self.status: RoomStatus | None = None
        self.online: bool | None = None  # None until VALT has been asked once
        self.last_error: str | None = None
        self._checked = -float("inf")

    def refresh(self) -> RoomStatus:
        """Ask VALT (1 request); raises ValtError, after marking the status unknown."""
        self._checked = self._clock()
        try:
            status = self.client.room_status(self.room)
        except Exception as exc:
            self.failed(exc)
            raise
        self.set(status)
        return status

    def set(self, status: RoomStatus) -> None:
        """Record a status VALT has just confirmed (the answer to an action counts)."""
        self.status, self.online, self.last_error = status, True, None
        self._checked = self._clock()

    def failed(self, error: Exception) -> None:
        """VALT could not be asked or refused: the status is unknown until it
        answers."""
        self.status, self.last_error = None, str(error)
        self.online = not isinstance(error, ValtUnavailable)

    def known(self) -> RoomStatus | None:
        """The status if we have one, else None (the next action refreshes first)."""
        return self.status

    def due(self) -> bool:
        """True when the background refresh should run (sooner after a failure)."""
        failing = self.online is False or self.last_error is not None
        interval = self.offline_refresh_s if failing else self.refresh_s
        return self._clock() - self._checked >= interval
