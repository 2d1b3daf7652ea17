"""Who started the room's recording at this door, kept as a salted digest of their
credential, so that their stop needs no user lookup; and that digest itself."""

from __future__ import annotations

import hashlib
import os
from typing import TYPE_CHECKING

from ivs_accessory.valt.models import User

if TYPE_CHECKING:
    from ivs_accessory.door.room import RoomState

# Salted per process: what stays in memory cannot be matched against a list.
_SALT = os.urandom(16)


def digest(value: str) -> bytes:
    """A salted digest of a credential (or any key a repeat is recognised by)."""
    return hashlib.sha256(_SALT + value.encode()).digest()


class Starter:
    """The user who started the running recording here, and their digest.

    The person who started a recording is the one most likely to stop it, often
    long after the user cache forgot them: knowing them saves the lookup, so the
    stop costs one request. Only a digest of their credential is kept.
    """

    def __init__(self) -> None:
        self._known: tuple[bytes, User] | None = None

    def of_recording(self, value: str | None, room: RoomState | None) -> User | None:
        """The starter, if ``value`` is theirs and the room still has a recording."""
        if self._known is None or value is None or room is None:
            return None
        known, user = self._known
        status = room.known()
        if status is None or not status.has_recording or known != digest(value):
            return None
        return user

    def remember(self, result: str, value: str | None, user: User | None) -> None:
        """After an outcome: a start by a known user is theirs; a stop ends it."""
        if result == "started" and value and user is not None:
            self._known = (digest(value), user)
        elif result in ("stopped", "started"):
            self._known = None
