"""Turn credentials and key bindings into VALT actions, in as few requests as can be."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace

from ivs_accessory import credentials
from ivs_accessory.directory import UserDirectory
from ivs_accessory.errors import (
    ValtAuthError,
    ValtError,
    ValtNotFound,
    ValtRefused,
    ValtRejected,
    ValtUnavailable,
)
from ivs_accessory.events import CardRead
from ivs_accessory.lockout import Lockout
from ivs_accessory.mapping import Presented, Trigger
from ivs_accessory.outcome import (
    OK_RESULTS,
    RESULT_OF,
    RESULT_WORDS,
    ActionSettings,
    Outcome,
)
from ivs_accessory.room import RoomState
from ivs_accessory.valt import RoomStatus, ValtClient
from ivs_accessory.valt.models import User

# Outcome and ActionSettings live in outcome.py; re-exported where callers look.
__all__ = ["OK_RESULTS", "ActionSettings", "Actions", "Outcome"]

logger = logging.getLogger(__name__)

# What each action needs the room to be, and what the room is once VALT accepted it.
_NEEDS: dict[str, Callable[[RoomStatus], bool]] = {
    "start": lambda s: s.can_start,
    "stop": lambda s: s.has_recording,
    "pause": lambda s: s is RoomStatus.RECORDING,
    "resume": lambda s: s is RoomStatus.PAUSED,
    "lock": lambda s: s.can_start,
    "unlock": lambda s: s is RoomStatus.LOCKED,
    "marker": lambda s: s.has_recording,
}
_AFTER = {
    "start": RoomStatus.RECORDING,
    "stop": RoomStatus.AVAILABLE,
    "pause": RoomStatus.PAUSED,
    "resume": RoomStatus.RECORDING,
    "lock": RoomStatus.LOCKED,
    "unlock": RoomStatus.AVAILABLE,
}


class Actions:
    """Runs one intent at a time (the dispatcher thread's), talking to VALT.

    A warm daemon (user cached, room status known) makes 1 request for PIN -> start
    or stop, 2 with a cold user cache. If VALT refuses because someone else changed
    the room meanwhile (409), the status is read again and the decision made once more.
    """

    def __init__(
        self,
        client: ValtClient | None,
        room: RoomState | None,
        directory: UserDirectory | None,
        settings: ActionSettings,
        lockout: Lockout,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.room = room
        self.directory = directory
        self.settings = settings
        self.lockout = lockout
        self._clock = clock
        # (digest of the credential, user) of whoever started the running recording.
        self._starter: tuple[bytes, User] | None = None

    # -- entry points ------------------------------------------------------------------
    def entry_started(self, source: str) -> None:
        """The first digit of a PIN was typed: fetch VALT's users while the rest is.

        The lookup at Enter then needs no round trip. Skipped while VALT is known to
        be down or the keypad is locked out; a failure is left to that lookup to report.
        """
        if (
            not self.settings.prefetch_users
            or self.directory is None
            or self.room is None
            or self.room.online is False
            or self.lockout.remaining(source, self._clock()) > 0
        ):
            return
        try:
            if self.directory.prefetch():
                logger.debug("%s: user list fetched while the PIN is typed", source)
        except ValtError as exc:
            logger.debug("%s: user list not prefetched: %s", source, exc)

    def present(self, intent: Presented) -> Outcome:
        """Someone typed a PIN or swiped a card: find the user, then toggle."""
        base = {"action": "toggle", "source": intent.source}
        try:
            credential = _credential(intent)
        except credentials.CredentialError as exc:
            logger.warning("unreadable %s from %s: %s", intent.kind, intent.source, exc)
            return self._finish(
                intent, Outcome("unreadable", message="Card not readable", **base), None
            )
        base["credential"] = credential.masked()
        if self.client is None or self.room is None:
            return self._not_configured(intent, base)
        if self._expired(intent):
            return self._finish(intent, self._too_late(base), None)
        waiting = self.lockout.remaining(intent.source, self._clock())
        if waiting > 0:
            return self._finish(
                intent,
                Outcome(
                    "locked_out",
                    message=f"Too many attempts; try again in {waiting:.0f} s",
                    **base,
                ),
                None,
            )
        before = self.client.request_count
        value = credentials.matching_value(credential, self.settings.match_reading)
        try:
            user = self._starter_of_recording(value) or self._user(value)
            if user is None:
                return self._finish(intent, self._denied(intent, base), before)
            self.lockout.success(intent.source)
            outcome = self._act("toggle", user, base)
        except ValtError as exc:
            outcome = self._failed(exc, base)
        self._remember_starter(outcome, value, user if outcome.ok else None)
        return self._finish(intent, outcome, before)

    def trigger(self, intent: Trigger) -> Outcome:
        """A key binding fired: run its action in the room, with no user."""
        base = {"action": intent.action, "source": intent.source}
        if self.client is None or self.room is None:
            return self._not_configured(intent, base)
        if self._expired(intent):
            return self._finish(intent, self._too_late(base), None)
        before = self.client.request_count
        try:
            outcome = self._act(intent.action, None, base)
        except ValtError as exc:
            outcome = self._failed(exc, base)
        return self._finish(intent, outcome, before)

    def refresh(self) -> None:
        """Refresh the room status in the background; failures are only recorded."""
        if self.room is None:
            return
        try:
            self.room.refresh()
        except ValtError as exc:
            logger.warning("cannot read the status of room %s: %s", self.room.room, exc)

    # -- deciding and doing ------------------------------------------------------------
    def _act(self, action: str, user: User | None, base: dict) -> Outcome:
        assert self.room is not None
        status = self.room.known() or self.room.refresh()
        chosen = self._choose(action, status)
        if chosen is None:
            # Our knowledge may be old: confirm with VALT before saying no.
            status = self.room.refresh()
            chosen = self._choose(action, status)
            if chosen is None:
                return self._busy(status, base, user)
        try:
            return self._do(chosen, user, base)
        except (ValtRejected, ValtRefused) as exc:
            if isinstance(exc, ValtRejected) and exc.status != 409:
                raise
            # Someone changed the room since we last knew: look again, decide again.
            logger.info(
                "room %s changed meanwhile (%s); deciding again", self.room.room, exc
            )
            status = self.room.refresh()
            chosen = self._choose(action, status)
            if chosen is None:
                return self._busy(status, base, user)
            return self._do(chosen, user, base)

    def _choose(self, action: str, status: RoomStatus) -> str | None:
        """The concrete action for ``action`` in a ``status`` room, or None (busy)."""
        if action == "toggle":
            if status.can_start:
                return "start"
            if status is RoomStatus.RECORDING:
                return "stop"
            if status is RoomStatus.PAUSED and self.settings.busy_action != "busy":
                return self.settings.busy_action
            return None
        if action == "privacy_toggle":
            return (
                "unlock"
                if status is RoomStatus.LOCKED
                else "lock"
                if status.can_start
                else None
            )
        return action if _NEEDS[action](status) else None

    def _do(self, action: str, user: User | None, base: dict) -> Outcome:
        assert self.client is not None and self.room is not None
        room, s = self.room.room, self.settings
        recording_id = None
        if action == "start":
            recording_id = self.client.start(
                room, s.recording_name, author=user.id if user else None
            )
        elif action == "marker":
            self.client.add_marker(room, s.marker_name, s.marker_colour)
        else:
            recording_id = getattr(self.client, action)(room)
        if action in _AFTER:
            self.room.set(_AFTER[action])
        result = RESULT_OF[action]
        who = (
            f" for {_display(user)}"
            if user and action == "start"
            else f" by {_display(user)}"
            if user
            else ""
        )
        return Outcome(
            result,
            message=RESULT_WORDS[result] + who,
            user_id=user.id if user else None,
            user_name=_display(user) if user else None,
            recording_id=recording_id if action not in ("lock", "unlock") else None,
            room_status=self.room.known(),
            **base,
        )

    def _busy(self, status: RoomStatus, base: dict, user: User | None) -> Outcome:
        return Outcome(
            "busy",
            message=f"Room is busy ({status.value})",
            user_id=user.id if user else None,
            user_name=_display(user) if user else None,
            room_status=status,
            **base,
        )

    def _expired(self, intent: Presented | Trigger) -> bool:
        return self._clock() - intent.timestamp > self.settings.max_wait_s

    def _not_configured(self, intent: Presented | Trigger, base: dict) -> Outcome:
        outcome = Outcome(
            "not_configured", message="VALT server or room not configured", **base
        )
        return self._finish(intent, outcome, None)

    def _too_late(self, base: dict) -> Outcome:
        logger.warning(
            "%s from %s waited over %.0f s behind a slow VALT; not run",
            base["action"],
            base["source"],
            self.settings.max_wait_s,
        )
        return Outcome(
            "expired", message="VALT was too slow; not done, please try again", **base
        )

    # -- users and failures ------------------------------------------------------------
    def _user(self, value: str | None) -> User | None:
        assert self.directory is not None
        return self.directory.find(value) if value else None

    def _starter_of_recording(self, value: str | None) -> User | None:
        """The user who started the room's recording here, if ``value`` is theirs.

        The person who started a recording is the one most likely to stop it, often
        long after the user cache forgot them: knowing them saves the lookup, so the
        stop costs one request. Only a digest of their credential is kept.
        """
        if self._starter is None or value is None or self.room is None:
            return None
        status = self.room.known()
        digest, user = self._starter
        if status is None or not status.has_recording or digest != _digest(value):
            return None
        return user

    def _remember_starter(
        self, outcome: Outcome, value: str | None, user: User | None
    ) -> None:
        if outcome.result == "started" and value and user is not None:
            self._starter = (_digest(value), user)
        elif outcome.result in ("stopped", "started"):
            self._starter = None

    def _denied(self, intent: Presented, base: dict) -> Outcome:
        locked = self.lockout.failure(intent.source, self._clock())
        message = "Unknown PIN or card"
        if locked:
            message += f"; locked for {locked:.0f} s after repeated failures"
            logger.warning(
                "source %s locked out for %.0f s after repeated failures",
                intent.source,
                locked,
            )
        return Outcome("denied", message=message, **base)

    def _failed(self, exc: ValtError, base: dict) -> Outcome:
        if self.room is not None:
            self.room.failed(exc)
        if isinstance(exc, ValtUnavailable):
            result, words = "offline", "VALT is offline"
        elif isinstance(exc, ValtAuthError):
            result, words = "error", "VALT refused the accessory's account"
        elif isinstance(exc, ValtNotFound):
            result, words = "error", "VALT does not know this room"
        else:
            result, words = "error", "VALT error"
        logger.error("%s failed: %s", base["action"], exc)
        return Outcome(result, message=f"{words}: {exc}", **base)

    def _finish(
        self, intent: Presented | Trigger, outcome: Outcome, before: int | None
    ) -> Outcome:
        """Add the request count (``before``: the client's count at the start, None when
        no request could have been made) and the latency since the input."""
        used = (
            0
            if before is None or self.client is None
            else self.client.request_count - before
        )
        latency = max(0.0, self._clock() - intent.timestamp)
        return replace(outcome, requests=used, latency_s=latency)


def _credential(intent: Presented) -> credentials.Credential:
    if intent.kind == "pin":
        return credentials.from_pin(intent.value, intent.source)
    return credentials.from_card(
        CardRead(intent.source, intent.value, intent.kind, intent.timestamp)
    )


def _digest(value: str) -> bytes:
    # Salted per process: what stays in memory cannot be matched against a list.
    return hashlib.sha256(_SALT + value.encode()).digest()


_SALT = os.urandom(16)


def _display(user: User | None) -> str:
    return (user.display_name or user.name) if user else ""
