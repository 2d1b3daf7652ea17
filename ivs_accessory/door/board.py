"""The door's public state for door screens: room, recording, last outcome, sessions."""

from __future__ import annotations

import contextlib
import datetime
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from ivs_accessory.door.feedback import pattern_for
from ivs_accessory.door.outcome import Outcome
from ivs_accessory.door.room import RoomState
from ivs_accessory.door.timetable import Timetable, today
from ivs_accessory.valt.models import RoomStatus, Schedule

OUTCOME_S = 3.0  # an outcome's words stay on the screens this long

STATE_WORDS = {
    "available": "Available",
    "recording": "Recording",
    "paused": "Paused",
    "locked": "Locked",
    "offline": "Offline",
    "unknown": "Status unknown",
    "not_configured": "Not configured",
}
_STATE_OF = {
    RoomStatus.AVAILABLE: "available",
    RoomStatus.PREPARED: "available",  # nothing runs: the room can be used
    RoomStatus.RECORDING: "recording",
    RoomStatus.PAUSED: "paused",
    RoomStatus.LOCKED: "locked",
}
_WHY = {"unreachable": "VALT unreachable", "error": "VALT answered with an error"}
# These outcomes' messages carry VALT's error text (addresses, a server's words):
# a screen in the corridor says it plainly; the audit log keeps the details.
_PLAIN = {
    "offline": "VALT is offline; not done",
    "error": "Not done; please try again",
    "not_configured": "The door is not configured",
}


def public_words(outcome: Outcome) -> str:
    """What a door screen says of ``outcome``: its message (names, no PIN or card
    number), or plain words where the message carries VALT's error text."""
    return _PLAIN.get(outcome.result, outcome.message)


@dataclass(frozen=True)
class _Facts:
    """What the screens show of the room; any change is a new version.

    ``read`` is False until the dispatcher's first turn: until then the board
    knows nothing, not even whether a room is configured.
    """

    read: bool = False
    room: int | None = None
    name: str | None = None
    status: RoomStatus | None = None
    failing: str | None = None  # None, "unreachable" or "error"
    confirmed_at: float | None = None  # kept only while its age is shown
    started_by: str | None = None
    seconds: float | None = None
    at: float = 0.0
    running: bool = False
    enrolment: bool = False


@dataclass(frozen=True)
class _Shown:
    """The last outcome on the screens, until ``until`` (monotonic)."""

    seq: int
    words: str
    kind: str
    until: float


class DoorBoard:
    """The door's public state, kept for its screens; a feedback sink.

    The dispatcher tells it of outcomes and room changes on its own thread
    (``show``, ``room``, ``tick``); the schedule reader gives it the room's
    sessions. Screens read :meth:`snapshot` and wait for the next change with
    :meth:`wait`: each change bumps :attr:`version` and wakes every waiter, so any
    number of screens cost VALT nothing. Nothing secret is kept: the starter's
    display name only when they started at this door, outcome words without a
    PIN or card number. Unknown or offline is shown as such, with the age of what
    is known.

    Args:
        room: the RoomState the dispatcher uses now (None: not configured); read
            only on the dispatcher thread.
        clock: monotonic seconds (the dispatcher's clock).
        wall: epoch seconds (the clock on the screens, today's sessions).
        tz: the time zone for sessions' times (None: the box's).
        outcome_s: how long an outcome's words are shown.
        enrolment: True while enrolment mode is on (the screens say so).
    """

    def __init__(
        self,
        room: Callable[[], RoomState | None],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        tz: datetime.tzinfo | None = None,
        outcome_s: float = OUTCOME_S,
        enrolment: Callable[[], bool] = lambda: False,
    ) -> None:
        self._room = room
        self._enrolment = enrolment
        self._clock, self._wall, self._tz = clock, wall, tz
        self.outcome_s = outcome_s
        self.unconfigured_words = "VALT server or room not configured"
        # Called (off the lock) when a first screen starts watching.
        self.on_watch: Callable[[], object] | None = None
        self._cond = threading.Condition()
        self._version = 1
        self._facts = _Facts()
        self._shown: _Shown | None = None
        self._seq = 0
        self._timetable = Timetable()
        self._viewers = 0
        self._seen_at = -float("inf")
        self._wakes = 0
        self._closed = False

    # -- the feedback sink (dispatcher thread) ----------------------------------------
    def show(self, outcome: Outcome) -> None:
        now = self._clock()
        kind = pattern_for(outcome) or "wait"  # a repeat: still working on it
        with self._cond:
            self._seq += 1
            self._shown = _Shown(
                self._seq, public_words(outcome), kind, now + self.outcome_s
            )
        self._update(now, changed=True)

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: RoomStatus | None, online: bool | None) -> None:
        self._update(self._clock())

    def tick(self, now: float) -> None:
        self._update(now)

    # -- the schedule reader's thread -------------------------------------------------
    def set_schedule(self, room: int, items: Sequence[Schedule]) -> None:
        """VALT listed ``items`` for ``room`` just now."""
        timetable = Timetable(room, tuple(items), self._clock(), False)
        self._set_timetable(timetable)

    def schedule_failed(self, room: int) -> None:
        """The schedule could not be read: what was read before stays, marked."""
        with self._cond:
            known = self._timetable
        if known.room != room:
            known = Timetable(room)
        self._set_timetable(Timetable(room, known.items, known.read_at, True))

    # -- screens (web threads) ---------------------------------------------------------
    @property
    def version(self) -> int:
        with self._cond:
            return self._version

    @property
    def closed(self) -> bool:
        return self._closed

    def snapshot(self) -> dict[str, Any]:
        """The public state now, JSON-ready (elapsed time and ages as of now)."""
        now, wall = self._clock(), self._wall()
        with self._cond:
            facts, shown, version = self._facts, self._shown, self._version
            timetable = self._timetable
        if timetable.room != facts.room:
            timetable = Timetable(facts.room)
        stamp = datetime.datetime.fromtimestamp(wall, self._tz).astimezone(self._tz)
        offset = stamp.utcoffset()
        return {
            "version": version,
            "now_ms": round(wall * 1000),
            "utc_offset_s": int(offset.total_seconds()) if offset else 0,
            "room": facts.room,
            "title": _title(facts),
            "enrolment": facts.enrolment,
            **self._state(facts, now),
            "outcome": _outcome(shown, now),
            "schedule": today(timetable, wall, now, self._tz),
        }

    def wait(self, seen: int, timeout: float) -> int:
        """Wait until the version is no longer ``seen`` (or :meth:`wake`, or
        :meth:`close`, or ``timeout`` seconds); returns the version then."""
        with self._cond:
            wakes = self._wakes
            self._cond.wait_for(
                lambda: self._version != seen or self._wakes != wakes or self._closed,
                timeout,
            )
            return self._version

    def wake(self) -> None:
        """Wake every waiter without a change (a page ending its streams)."""
        with self._cond:
            self._wakes += 1
            self._cond.notify_all()

    def close(self) -> None:
        """The daemon stops: every waiter returns at once, and from now on."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @contextlib.contextmanager
    def viewer(self) -> Iterator[None]:
        """Count a screen watching for as long as the ``with`` block runs."""
        with self._cond:
            self._viewers += 1
            first = self._viewers == 1
            self._seen_at = self._clock()
        if first and self.on_watch is not None:
            self.on_watch()
        try:
            yield
        finally:
            with self._cond:
                self._viewers -= 1
                self._seen_at = self._clock()

    def seen(self) -> None:
        """A screen asked once (a poll, not a stream)."""
        with self._cond:
            self._seen_at = self._clock()

    def watched(self, within_s: float = 0.0) -> bool:
        """True while a screen watches, or one did within ``within_s`` seconds."""
        with self._cond:
            viewers, seen_at = self._viewers, self._seen_at
        return viewers > 0 or self._clock() - seen_at < within_s

    @property
    def viewers(self) -> int:
        with self._cond:
            return self._viewers

    # -- inside ------------------------------------------------------------------------
    def _update(self, now: float, changed: bool = False) -> None:
        facts = self._read_facts()
        with self._cond:
            if self._shown is not None and now >= self._shown.until:
                self._shown, changed = None, True
            if changed or facts != self._facts:
                self._facts = facts
                self._bump()

    def _set_timetable(self, timetable: Timetable) -> None:
        with self._cond:
            self._timetable = timetable
            self._bump()

    def _bump(self) -> None:
        self._version += 1
        self._cond.notify_all()

    def _read_facts(self) -> _Facts:
        """What the room's state says now (on the dispatcher thread, its owner)."""
        room = self._room()
        enrolment = self._enrolment()
        if room is None:
            return _Facts(read=True, enrolment=enrolment)
        failing = None
        if room.online is False:
            failing = "unreachable"
        elif room.last_error is not None:
            failing = "error"
        rec = room.recording
        aged = failing is not None or room.status is None
        return _Facts(
            True,
            room.room,
            room.name,
            room.status,
            failing,
            room.confirmed_at if aged else None,
            rec.started_by if rec else None,
            rec.seconds if rec else None,
            rec.at if rec else 0.0,
            rec.running if rec else False,
            enrolment,
        )

    def _state(self, facts: _Facts, now: float) -> dict[str, Any]:
        """state, words, detail, started_by, elapsed_s and running, as of ``now``."""
        idle: dict[str, Any] = {"started_by": None, "elapsed_s": None, "running": False}
        if not facts.read:
            return _words("unknown", "Starting…") | idle
        if facts.room is None:
            return _words("not_configured", self.unconfigured_words) | idle
        age = None if facts.confirmed_at is None else max(0.0, now - facts.confirmed_at)
        if facts.failing is not None:
            # No timer and no starter: the door cannot see the recording now.
            return _words("offline", _stale(facts, age)) | idle
        if facts.status is None:
            return _words("unknown", "Connecting to VALT…") | idle
        prepared = facts.status is RoomStatus.PREPARED
        detail = "Recording prepared in VALT" if prepared else ""
        if not facts.status.has_recording:
            return _words(_STATE_OF[facts.status], detail) | idle
        elapsed = None
        if facts.seconds is not None:  # unknown for a recording started elsewhere
            extra = max(0.0, now - facts.at) if facts.running else 0.0
            elapsed = round(facts.seconds + extra, 1)
        if facts.started_by:
            detail = f"Started by {facts.started_by}"
        return _words(_STATE_OF[facts.status], detail) | {
            "started_by": facts.started_by,
            "elapsed_s": elapsed,
            "running": facts.running,
        }


def _words(state: str, detail: str) -> dict[str, Any]:
    return {"state": state, "words": STATE_WORDS[state], "detail": detail}


def _title(facts: _Facts) -> str:
    if facts.name:
        return facts.name
    return f"Room {facts.room}" if facts.room is not None else "Door"


def _stale(facts: _Facts, age: float | None) -> str:
    """``Last known: Recording, 2 min ago · VALT unreachable``."""
    why = _WHY[facts.failing or "error"]
    if facts.status is None:
        return f"Room status not known · {why}"
    when = f", {ago(age)}" if age is not None else ""
    return f"Last known: {STATE_WORDS[_STATE_OF[facts.status]]}{when} · {why}"


def ago(seconds: float) -> str:
    """``just now``, ``42 s ago``, ``5 min ago``, ``3 h ago``, ``2 d ago``."""
    whole = int(max(0.0, seconds))
    if whole < 2:
        return "just now"
    for size, unit in ((86_400, "d"), (3600, "h"), (60, "min")):
        if whole >= size:
            return f"{whole // size} {unit} ago"
    return f"{whole} s ago"


def _outcome(shown: _Shown | None, now: float) -> dict[str, Any] | None:
    if shown is None or now >= shown.until:
        return None
    return {
        "seq": shown.seq,
        "words": shown.words,
        "kind": shown.kind,
        "left_s": round(shown.until - now, 2),
    }
