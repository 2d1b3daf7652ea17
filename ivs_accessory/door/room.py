"""What the door believes about its room: status with its age, history and recording."""

from __future__ import annotations

import collections
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from ivs_accessory.errors import ValtUnavailable
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import RoomInfo, RoomStatus

_HISTORY = 64  # believed statuses kept for status_at(); a few minutes of a busy door


@dataclass(frozen=True)
class Recording:
    """The room's recording as far as the door knows it.

    ``seconds`` were recorded at monotonic time ``at``; while ``running`` the count
    goes on with the clock. ``seconds`` is None when the door cannot know it (the
    recording was started, paused or resumed elsewhere, or resumed on a server that
    may restart the count): the next marker reads it from VALT first.
    """

    id: int | None
    started_by: str | None  # display name, when it was started at this door
    seconds: float | None
    at: float
    running: bool

    def elapsed(self, now: float) -> float | None:
        """Seconds recorded by ``now``, or None when unknown."""
        if self.seconds is None:
            return None
        return self.seconds + (max(0.0, now - self.at) if self.running else 0.0)


@dataclass(frozen=True)
class Belief:
    """The status the door believed from ``since`` on, confirmed by VALT at
    ``confirmed``; ``seen`` when it was read, not the answer to our own action."""

    since: float
    status: RoomStatus | None
    confirmed: float | None
    seen: bool = True


class RoomState:
    """The configured room's last known status, how old it is, and its recording.

    The vendor polls the status every 5 s; we learn it from the answers to our own
    actions, read it when a decision needs it and what is known is older than
    ``max_age_s``, and refresh it every ``refresh_s`` (default 60 s), so an idle box
    costs VALT about one request a minute. ``interval``, when given, is asked for the
    refresh interval at each turn instead (10 s while a door screen shows the room).
    After a failure the last known status is kept with its age (the page shows it)
    and ``online`` says VALT failed.

    :meth:`status_at` answers what the door believed at an earlier moment: a person
    acted on what was known then, even if their input waited behind a slow call.
    """

    def __init__(
        self,
        client: ValtClient,
        room: int,
        refresh_s: float = 60,
        clock: Callable[[], float] = time.monotonic,
        offline_refresh_s: float = 15,
        max_age_s: float = 10,
        interval: Callable[[], float] | None = None,
    ) -> None:
        self.client = client
        self.room = room
        self.refresh_s = refresh_s
        # When set, asked at each turn instead of refresh_s: the interval may change
        # while the daemon runs (a door page opens or closes).
        self._interval = interval
        # While VALT is unreachable or failing, look more often so the box (and the
        # status page) recovers soon after it.
        self.offline_refresh_s = min(offline_refresh_s, refresh_s)
        self.max_age_s = max_age_s
        self._clock = clock
        self.status: RoomStatus | None = None
        self.confirmed_at: float | None = None
        self.online: bool | None = None  # None until VALT has been asked once
        self.last_error: str | None = None
        self.name: str | None = None
        self.recording: Recording | None = None
        self._checked = -float("inf")
        self._history: collections.deque[Belief] = collections.deque(maxlen=_HISTORY)

    # -- asking VALT -------------------------------------------------------------------
    def refresh(self) -> RoomStatus:
        """Ask VALT for the status (1 request); raises ValtError after recording it."""
        self._checked = self._clock()
        try:
            status = self.client.room_status(self.room)
        except Exception as exc:
            self.failed(exc)
            raise
        self.seen(status)
        return status

    def read_info(self) -> RoomInfo:
        """Ask VALT for the name and the recording (1 request); raises ValtError."""
        try:
            info = self.client.room_info(self.room)
        except Exception as exc:
            self.failed(exc)
            raise
        self.learn(info)
        return info

    # -- what VALT said ----------------------------------------------------------------
    def seen(self, status: RoomStatus) -> None:
        """VALT reported ``status`` (a read): keep what we know of the recording only
        where it still fits."""
        now = self._clock()
        self.recording = _reconcile(self.recording, status, now)
        self._confirm(status, now)

    def learn(self, info: RoomInfo) -> None:
        """VALT reported the room's name and recording (``rooms/info``)."""
        now = self._clock()
        self.name = info.name or self.name
        self.online, self.last_error = True, None
        if info.recording is None:
            self.recording = None
            return
        known = self.recording
        running = self.status is not RoomStatus.PAUSED
        self.recording = Recording(
            info.recording.id,
            known.started_by if known and known.id == info.recording.id else None,
            float(info.recording.time),
            now,
            running,
        )

    def changed(
        self,
        action: str,
        *,
        recording_id: int | None = None,
        started_by: str | None = None,
    ) -> None:
        """VALT accepted our ``action`` (start, stop, pause, resume, lock, unlock)."""
        now = self._clock()
        rec = self.recording
        if action == "start":
            # Counting from the answer is off by at most the answer's travel time.
            self.recording = Recording(recording_id, started_by, 0.0, now, True)
        elif action == "stop":
            self.recording = None
        elif action == "pause" and rec is not None:
            self.recording = replace(
                rec, seconds=rec.elapsed(now), at=now, running=False
            )
        elif action == "resume" and rec is not None:
            # Some servers restart the count on resume (valt-api-v3 §2.1 leaves it
            # open): the next marker reads the time rather than guess.
            self.recording = replace(rec, seconds=None, at=now, running=True)
        self._confirm(_AFTER[action], now, seen=False)

    def claim(self, started_by: str | None) -> None:
        """The running recording was started at this door (its answer was unclear,
        so the id and the time are read when a marker needs them)."""
        if self.recording is not None:
            self.recording = replace(self.recording, started_by=started_by)

    def failed(self, error: Exception) -> None:
        """VALT could not be asked or refused: the status stays as last known, with
        its age; ``online`` says whether VALT answered at all."""
        self.last_error = str(error)
        self.online = not isinstance(error, ValtUnavailable)

    # -- what the door knows -----------------------------------------------------------
    def known(self) -> RoomStatus | None:
        """The last known status (however old), or None if VALT never said."""
        return self.status

    def age(self) -> float | None:
        """Seconds since VALT last confirmed the status, or None."""
        if self.confirmed_at is None:
            return None
        return max(0.0, self._clock() - self.confirmed_at)

    def fresh_at(self, moment: float) -> RoomStatus | None:
        """The status a person who acted at ``moment`` saw, or None when the door
        must read it now.

        That is the status believed at ``moment`` if it was then at most
        ``max_age_s`` old. Otherwise, for an input that waited in the queue, the
        first status read after ``moment``, if nothing we did came in between: it
        is what the room was when they acted. If our own action came first, the
        status it was decided on (what the door showed when they acted).
        """
        belief = self.status_at(moment)
        if belief.status is not None and belief.confirmed is not None:
            if moment - belief.confirmed <= self.max_age_s:
                return belief.status
        later = next((b for b in self._history if b.since > moment), None)
        if later is None:
            return None
        return later.status if later.seen else belief.status

    def status_at(self, moment: float) -> Belief:
        """What the door believed at ``moment`` (the newest belief not after it)."""
        for belief in reversed(self._history):
            if belief.since <= moment:
                return belief
        return Belief(moment, None, None)

    def marker_time(self) -> tuple[int, int | None] | None:
        """(recorded seconds now, recording id) when both are known, else None."""
        rec = self.recording
        if rec is None:
            return None
        seconds = rec.elapsed(self._clock())
        return None if seconds is None else (int(seconds), rec.id)

    def due(self) -> bool:
        """True when the background refresh should run (sooner after a failure)."""
        failing = self.online is False or self.last_error is not None
        every = self._interval() if self._interval is not None else self.refresh_s
        interval = min(self.offline_refresh_s, every) if failing else every
        return self._clock() - self._checked >= interval

    def _confirm(self, status: RoomStatus, now: float, seen: bool = True) -> None:
        self.status, self.confirmed_at = status, now
        self.online, self.last_error = True, None
        self._checked = now
        self._history.append(Belief(now, status, now, seen))


_AFTER = {
    "start": RoomStatus.RECORDING,
    "stop": RoomStatus.AVAILABLE,
    "pause": RoomStatus.PAUSED,
    "resume": RoomStatus.RECORDING,
    "lock": RoomStatus.LOCKED,
    "unlock": RoomStatus.AVAILABLE,
}


def _reconcile(
    rec: Recording | None, status: RoomStatus, now: float
) -> Recording | None:
    """What still holds of ``rec`` once VALT reports ``status``."""
    if not status.has_recording:
        return None
    running = status is RoomStatus.RECORDING
    if rec is None:
        return Recording(None, None, None, now, running)  # started elsewhere
    if rec.running == running:
        return rec
    # Paused or resumed elsewhere, at a moment we do not know.
    return replace(rec, seconds=None, at=now, running=running)
