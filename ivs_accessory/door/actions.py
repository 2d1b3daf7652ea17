"""Turn credentials and key bindings into VALT actions: one intent per input, decided
on fresh state, reported truthfully whatever VALT answers."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ivs_accessory.door import credentials, decide, reports
from ivs_accessory.door.calls import together
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Presented, Trigger
from ivs_accessory.door.outcome import (
    OK_RESULTS,
    ActionSettings,
    Outcome,
)
from ivs_accessory.door.privacy import RoomPrivacy, RoomSide
from ivs_accessory.door.repeats import RepeatGuard
from ivs_accessory.door.room import RoomState
from ivs_accessory.door.starter import Starter, digest
from ivs_accessory.errors import (
    ValtError,
    ValtRefused,
)
from ivs_accessory.events import CardRead
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import RoomStatus, User

# Outcome and ActionSettings live in outcome.py; re-exported where callers look.
__all__ = ["OK_RESULTS", "ActionSettings", "Actions", "Outcome"]

logger = logging.getLogger(__name__)

# Privacy changes whose success is read back before it is reported.
_CONFIRMED = frozenset({"lock", "unlock"})
# Bound keys whose repeat would undo the first press; a marker may be wanted twice.
_GUARDED_TRIGGERS = frozenset(
    {"toggle", "start", "stop", "pause", "resume", "lock", "unlock"}
    | {"privacy_toggle", "privacy_on", "privacy_off"}
)


class Actions:
    """Runs one input at a time (the dispatcher thread's), talking to VALT.

    Each input resolves to one intent from the room status known when the person
    acted (read first when that was older than ``status_max_age_s``). An intent is
    never inverted: when VALT refuses, or answers something unusable, the room is
    read once and the person is told the truth against their intent ("already
    stopped", "paused in VALT"). A warm daemon makes 1 request for PIN -> start or
    stop; see README for the budget of each case. ``privacy`` (door/privacy.py)
    runs the privacy actions and presets, and has its say on a recording start.
    """

    def __init__(
        self,
        client: ValtClient | None,
        room: RoomState | None,
        directory: UserDirectory | None,
        settings: ActionSettings,
        lockout: Lockout,
        clock: Callable[[], float] = time.monotonic,
        privacy: RoomPrivacy | None = None,
    ) -> None:
        self.client = client
        self.privacy = privacy
        self.room = room
        self.directory = directory
        self.settings = settings
        self.lockout = lockout
        self._clock = clock
        self.repeats = RepeatGuard(settings.repeat_window_s)
        self._starter = Starter()  # who started the running recording here
        # Requests made while a PIN is typed, by source: they count for its outcome.
        self._typing: dict[str, int] = {}
        self._began = -float("inf")  # when the input in hand began to be handled

    # -- entry points ------------------------------------------------------------------
    def entry_started(self, source: str) -> None:
        """The first digit of a PIN was typed: read what the PIN will need while the
        rest is typed, so that Enter is one round trip from the action.

        That is the user list (see ``UserDirectory.prefetch``) and the room status,
        when what is known would be stale by then. Both go at once. Skipped while the
        keypad is locked out; a failure is left to the input to report.
        """
        self._typing[source] = 0
        if self.client is None or self.room is None or self.room.online is False:
            return  # VALT down: reading would only hold the typed keys up
        if self.lockout.remaining(source, self._clock()) > 0:
            return
        before = self.client.request_count
        want_users = self.settings.prefetch_users and self.directory is not None
        want_status = self._stale_soon()
        try:
            together(
                self._prefetch_users if want_users else None,
                self.room.refresh if want_status else None,
            )
        except ValtError as exc:
            logger.debug("%s: not read while the PIN is typed: %s", source, exc)
        finally:
            self._typing[source] = self.client.request_count - before

    def present(self, intent: Presented) -> Outcome:
        """Someone typed a PIN or swiped a card: find the user, then toggle."""
        base: dict[str, Any] = {"action": "toggle", "source": intent.source}
        typed = self._typing.pop(intent.source, 0)
        try:
            outcome = self._present(intent, base)
        except Exception:
            # A bug must still give the person an outcome (LED, STATUS, audit).
            logger.exception("input from %s failed unexpectedly", intent.source)
            outcome = Outcome("error", message="Internal error; see the log", **base)
        return replace(outcome, requests=outcome.requests + typed)

    def trigger(self, intent: Trigger) -> Outcome:
        """A key binding fired: run its action in the room, with no user."""
        base: dict[str, Any] = {"action": intent.action, "source": intent.source}
        try:
            return self._trigger(intent, base)
        except Exception:
            logger.exception("%s from %s failed unexpectedly", *base.values())
            return Outcome("error", message="Internal error; see the log", **base)

    def refresh(self) -> None:
        """Refresh the room status in the background; failures are only recorded.

        The first one also reads the room's name and recording (the page shows the
        name; a marker on a recording already running then costs one request).
        """
        if self.room is None:
            return
        try:
            self.room.refresh()
            if self.room.name is None:
                self.room.read_info()
        except ValtError as exc:
            logger.warning("cannot read the status of room %s: %s", self.room.room, exc)
        if self.privacy is not None:
            self.privacy.refresh()

    # -- one input ---------------------------------------------------------------------
    def _present(self, intent: Presented, base: dict[str, Any]) -> Outcome:
        try:
            credential = _credential(intent)
        except credentials.CredentialError as exc:
            logger.warning("unreadable %s from %s: %s", intent.kind, intent.source, exc)
            unreadable = Outcome("unreadable", message="Card not readable", **base)
            return self._finish(intent, unreadable)
        base["credential"] = credential.masked()
        refused = self._refuse_early(intent, base)
        if refused is not None:
            return refused
        value = credentials.matching_value(credential, self.settings.match_reading)
        return self._once(
            intent,
            digest(value or ""),
            base,
            lambda: self._toggle(intent, value, base),
        )

    def _trigger(self, intent: Trigger, base: dict[str, Any]) -> Outcome:
        refused = self._refuse_early(intent, base, lockout=False)
        if refused is not None:
            return refused
        if intent.action not in _GUARDED_TRIGGERS:
            return self._counted(intent, lambda: self._act(intent, None, base))
        key = digest(f"{intent.source}\0{intent.key}\0{intent.action}")
        return self._once(intent, key, base, lambda: self._act(intent, None, base))

    def _once(
        self,
        intent: Presented | Trigger,
        key: bytes,
        base: dict[str, Any],
        run: Callable[[], Outcome],
    ) -> Outcome:
        """Run ``run`` unless the input repeats one pending or just done (``key``)."""
        repeat = self.repeats.check(key, intent.timestamp)
        if repeat is not None:
            return self._finish(intent, Outcome("repeat", message=repeat, **base))
        outcome = Outcome("error", message="Internal error; see the log", **base)
        try:
            outcome = self._counted(intent, run)
            return outcome
        finally:
            self.repeats.done(key, self._clock(), outcome.message)

    def _refuse_early(
        self, intent: Presented | Trigger, base: dict[str, Any], lockout: bool = True
    ) -> Outcome | None:
        """The outcome of an input that cannot be run at all, or None."""
        if self.client is None or self.room is None:
            return self._finish(
                intent,
                Outcome(
                    "not_configured",
                    message="VALT server or room not configured",
                    **base,
                ),
            )
        if self._clock() - intent.timestamp > self.settings.max_wait_s:
            late = reports.too_late(base, self.settings.max_wait_s)
            return self._finish(intent, late)
        waiting = self.lockout.remaining(intent.source, self._clock()) if lockout else 0
        if waiting > 0:
            message = f"Too many attempts; try again in {waiting:.0f} s"
            return self._finish(intent, Outcome("locked_out", message=message, **base))
        return None

    def _counted(
        self, intent: Presented | Trigger, run: Callable[[], Outcome]
    ) -> Outcome:
        """Run ``run`` and add the requests it made and the latency since the input."""
        assert self.client is not None
        before = self.client.request_count
        self._began = self._clock()
        outcome = run()
        return self._finish(intent, outcome, self.client.request_count - before)

    def _toggle(
        self, intent: Presented, value: str | None, base: dict[str, Any]
    ) -> Outcome:
        starter = self._starter.of_recording(value, self.room)
        user = None
        try:
            user, status = self._user_and_status(intent, value, starter)
            if user is None:
                return self._denied(intent, base)
            self.lockout.success(intent.source)
            outcome = self._gated("toggle", status, user, base)
        except ValtError as exc:
            outcome = self._failed(exc, base)
        self._starter.remember(outcome.result, value, user if outcome.ok else None)
        return outcome

    def _act(self, intent: Trigger, user: User | None, base: dict[str, Any]) -> Outcome:
        if self.privacy is not None and self.privacy.handles(intent.action):
            side = self._side(user, base)
            return self.privacy.act(intent.action, side, intent.timestamp, base)
        try:
            status = self._status_for(intent.timestamp)
            return self._gated(intent.action, status, user, base)
        except ValtError as exc:
            return self._failed(exc, base)

    def _gated(
        self, action: str, status: RoomStatus, user: User | None, base: dict[str, Any]
    ) -> Outcome:
        """The action, after privacy's say on a recording start (door/privacy.py)."""
        run = functools.partial(self._decide_and_do, action, user=user, base=base)
        if self.privacy is None:
            return run(status)
        return self.privacy.start_gate(
            action, status, self._side(user, base), run, base
        )

    def _side(self, user: User | None, base: dict[str, Any]) -> RoomSide:
        room = self.room
        assert room is not None
        return RoomSide(
            status_for=self._status_for,
            confirmed=lambda s: s if self._read_during_input() else room.refresh(),
            decide_and_do=lambda a, s: self._decide_and_do(a, s, user, base),
            failed=lambda exc: self._failed(exc, base),
            truth=lambda intent, s: self._truth(intent, s, user, base),
        )

    # -- the state a decision uses -----------------------------------------------------
    def _status_for(self, moment: float) -> RoomStatus:
        """The status known when the person acted, if fresh then; else read now."""
        assert self.room is not None
        return self.room.fresh_at(moment) or self.room.refresh()

    def _user_and_status(
        self, intent: Presented, value: str | None, starter: User | None
    ) -> tuple[User | None, RoomStatus]:
        """The user and the decision's status; a card needing both asks VALT for
        both at once (one round trip)."""
        assert self.room is not None
        status = self.room.fresh_at(intent.timestamp)
        if starter is not None or not value:
            return starter, status or self.room.refresh()
        users, read = together(
            lambda: self._user(value), None if status else self.room.refresh
        )
        return users, status or read

    def _stale_soon(self) -> bool:
        """True when the known status would be too old by the time a PIN is
        complete (typing takes a few seconds: half the limit is left for it)."""
        assert self.room is not None
        age = self.room.age()
        return age is None or age > self.room.max_age_s / 2

    # -- deciding and doing ------------------------------------------------------------
    def _decide_and_do(
        self,
        action: str,
        decided_on: RoomStatus,
        user: User | None,
        base: dict[str, Any],
    ) -> Outcome:
        """Resolve the intent from ``decided_on``, then do it unless the room's
        current status already says how it stands.

        A person is told "already ..." or "busy" only on a status VALT gave during
        this input: nothing else was sent to check what the door believes, and the
        room may have changed in VALT since (read once, then judged again).
        """
        assert self.room is not None
        intent = decide.resolve(action, decided_on, self.settings.busy_action)
        now = self.room.known() or decided_on
        if intent is None or decide.judge(intent, now) != decide.POSSIBLE:
            if not self._read_during_input():
                now = self.room.refresh()
                intent = intent or decide.resolve(
                    action, now, self.settings.busy_action
                )
            if intent is None or decide.judge(intent, now) != decide.POSSIBLE:
                return self._truth(intent, now, user, base)
        try:
            return self._do(intent, user, base)
        except ValtError as exc:
            if not reports.maybe_seen_by_valt(exc):
                raise
            return self._after_doubt(intent, exc, user, base)

    def _read_during_input(self) -> bool:
        assert self.room is not None
        confirmed = self.room.confirmed_at
        return confirmed is not None and confirmed >= self._began

    def _do(self, intent: str, user: User | None, base: dict[str, Any]) -> Outcome:
        assert self.client is not None and self.room is not None
        room, s = self.room.room, self.settings
        recording_id = None
        if intent == "start":
            recording_id = self.client.start(
                room, s.recording_name, author=user.id if user else None
            )
        elif intent == "marker":
            self._add_marker()
        else:
            recording_id = getattr(self.client, intent)(room)
        if intent in _CONFIRMED:
            return self._confirmed(intent, user, base)
        if intent != "marker":
            self.room.changed(
                intent,
                recording_id=recording_id,
                started_by=reports.display(user) or None,
            )
        return self._done(intent, user, base, recording_id)

    def _confirmed(
        self, intent: str, user: User | None, base: dict[str, Any]
    ) -> Outcome:
        """Lock and unlock are read back before the person is told (1 request more):
        their answer carries no recording id to check, and a server that answers a
        refused lock with 200 (valt-api-v3 §2.1) would otherwise leave a room
        unlocked that the door calls locked."""
        assert self.room is not None
        status = self.room.refresh()
        if decide.judge(intent, status) == decide.ACHIEVED:
            return self._done(intent, user, base, None)
        return self._truth(intent, status, user, base)

    def _add_marker(self) -> None:
        """A marker at the recording's current second: 1 request when the door knows
        the recording (it started it, or read it before), else 2."""
        assert self.client is not None and self.room is not None
        known = self.room.marker_time()
        if known is None or known[1] is None:
            self.room.read_info()
            known = self.room.marker_time()
        if known is None:
            raise ValtRefused(f"room {self.room.room} is not recording")
        seconds, recording_id = known
        s = self.settings
        self.client.add_marker(
            self.room.room,
            s.marker_name,
            s.marker_colour,
            time=seconds,
            recording_id=recording_id,
        )

    def _after_doubt(
        self, intent: str, exc: ValtError, user: User | None, base: dict[str, Any]
    ) -> Outcome:
        """VALT refused, or its answer cannot be used: read the room once and tell
        the truth against the intent. Nothing is sent again."""
        assert self.room is not None
        refused = reports.refused(exc)
        logger.info(
            "%s in room %s: %s; reading the room once", intent, self.room.room, exc
        )
        try:
            status = self.room.refresh()
        except ValtError as read_error:
            self.room.failed(read_error)
            return reports.unknown(intent, exc, read_error, base)
        where = decide.judge(intent, status)
        if where == decide.ACHIEVED and not refused and intent != "marker":
            # VALT did it but said so badly: it counts as done.
            if intent == "start":
                self.room.claim(reports.display(user) or None)
            done = self._done(intent, user, base, None)
            words = decide.state_words(intent) + " (VALT's answer was unclear)"
            return replace(done, message=words)
        if where == decide.POSSIBLE:
            return reports.not_done(intent, exc, base, user, refused)
        return self._truth(intent, status, user, base)

    # -- outcomes (words in reports.py) -----------------------------------------------
    def _done(
        self,
        intent: str,
        user: User | None,
        base: dict[str, Any],
        recording_id: int | None,
    ) -> Outcome:
        assert self.room is not None
        return reports.done(intent, user, base, recording_id, self.room.known())

    def _truth(
        self,
        intent: str | None,
        status: RoomStatus,
        user: User | None,
        base: dict[str, Any],
    ) -> Outcome:
        assert self.room is not None
        rec = self.room.recording
        by = rec.started_by if rec is not None else None
        return reports.truth(intent, status, by, user, base)

    def _failed(self, exc: ValtError, base: dict[str, Any]) -> Outcome:
        if self.room is not None:
            self.room.failed(exc)
        return reports.failed(exc, base)

    def _finish(
        self, intent: Presented | Trigger, outcome: Outcome, requests: int = 0
    ) -> Outcome:
        """Add the request count and the latency since the input."""
        latency = max(0.0, self._clock() - intent.timestamp)
        return replace(outcome, requests=requests, latency_s=latency)

    # -- users -------------------------------------------------------------------------
    def _prefetch_users(self) -> None:
        assert self.directory is not None
        if self.directory.prefetch():
            logger.debug("user list fetched while the PIN is typed")

    def _user(self, value: str) -> User | None:
        assert self.directory is not None
        return self.directory.find(value)

    def _denied(self, intent: Presented, base: dict[str, Any]) -> Outcome:
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


def _credential(intent: Presented) -> credentials.Credential:
    if intent.kind == "pin":
        return credentials.from_pin(intent.value, intent.source)
    return credentials.from_card(
        CardRead(intent.source, intent.value, intent.kind, intent.timestamp)
    )
