"""Today's sessions at the door: the room's schedule, read on a thread of its own."""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ivs_accessory.errors import ValtError
from ivs_accessory.threads import Worker
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import Schedule

if TYPE_CHECKING:  # the board imports this module; the reader only feeds it
    from ivs_accessory.door.board import DoorBoard

logger = logging.getLogger(__name__)

EVERY_S = 300.0  # a schedule changes rarely: 0.2 requests a minute while wanted
RETRY_S = 60.0  # after a failure
IDLE_S = 60.0  # how often an unwanted reader looks again (a screen also wakes it)
_KEEP_S = 2 * 86_400.0  # sessions kept around now; the rest of VALT's list is dropped
_STOP_S = 1.5


@dataclass(frozen=True)
class Timetable:
    """What was read of a room's schedule: its sessions, when (monotonic), and
    whether the last try failed (the sessions read before are kept)."""

    room: int | None = None
    items: tuple[Schedule, ...] = ()
    read_at: float | None = None
    failed: bool = False


def today(
    timetable: Timetable, wall: float, now: float, tz: datetime.tzinfo | None = None
) -> dict[str, Any]:
    """The sessions of the local day of ``wall`` (epoch seconds), JSON-ready.

    Each row has ``name``, ``start``/``stop`` (``HH:MM``), ``start_at``/``stop_at``
    and ``when``: past, now, next (the first one still to begin) or later.
    ``note`` says why the list may be empty or old ("" when it is current).
    """
    midnight = _local(wall, tz).replace(hour=0, minute=0, second=0, microsecond=0)
    day = (midnight.timestamp(), (midnight + datetime.timedelta(days=1)).timestamp())
    rows, upcoming = [], False
    for item in timetable.items:
        if item.stop_at <= day[0] or item.start_at >= day[1]:
            continue
        when = "past" if item.stop_at <= wall else "now"
        if item.start_at > wall:
            when, upcoming = ("later", True) if upcoming else ("next", True)
        rows.append(
            {
                "name": item.name,
                "start": _local(item.start_at, tz).strftime("%H:%M"),
                "stop": _local(item.stop_at, tz).strftime("%H:%M"),
                "start_at": item.start_at,
                "stop_at": item.stop_at,
                "when": when,
            }
        )
    return {"sessions": rows, "note": _note(timetable, bool(rows), now)}


def _local(epoch: float, tz: datetime.tzinfo | None) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(epoch, tz).astimezone(tz)


def _note(timetable: Timetable, any_rows: bool, now: float) -> str:
    if timetable.room is None:
        return ""
    if timetable.read_at is None:
        return "Sessions could not be read" if timetable.failed else "Not read yet"
    if timetable.failed:
        minutes = int(max(0.0, now - timetable.read_at) // 60)
        return f"As read {minutes} min ago; VALT cannot be asked now"
    return "" if any_rows else "No sessions today"


class ScheduleReader:
    """Reads the room's schedule from VALT for the door screens, on its own thread.

    Off the door's path: not on the dispatcher thread (a slow answer would hold
    inputs up) nor on a web thread (screens would cost VALT requests). While
    ``wanted()`` it reads at once, then every ``every_s``, after a failure again
    after ``retry_s``; while nothing wants it, nothing is read. :meth:`wake` makes
    it look now (a first screen connected).

    Args:
        board: gets what was read.
        client: the VALT client now, asked each time (a reload replaces it);
            None: not configured.
        room: the room now (None: none chosen).
        wanted: True while a screen wants the sessions.
        clock: monotonic seconds; wall: epoch seconds (which sessions to keep).
    """

    def __init__(
        self,
        board: DoorBoard,
        client: Callable[[], ValtClient | None],
        room: Callable[[], int | None],
        wanted: Callable[[], bool],
        *,
        every_s: float = EVERY_S,
        retry_s: float = RETRY_S,
        idle_s: float = IDLE_S,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.board = board
        self._client, self._room, self._wanted = client, room, wanted
        self.every_s, self.retry_s, self.idle_s = every_s, retry_s, idle_s
        self._clock, self._wall = clock, wall
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._worker: Worker | None = None
        self._read_room: int | None = None
        self._next_at = -float("inf")
        self._failing = False
        self.reads = 0

    def start(self) -> None:
        """Start the reader thread."""
        self._stopping.clear()
        self._worker = Worker(
            self._run,
            "door-schedule",
            on_stop=self._stop_now,
            hint="a VALT call hangs?",
        )
        self._worker.start()

    def stop(self, timeout: float = _STOP_S) -> None:
        """Stop the thread (a call in hand is bounded by the client's deadline).

        Raises:
            ThreadStuckError: the thread is still running after ``timeout``.
        """
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(timeout)

    def wake(self) -> None:
        """Look now whether the sessions are wanted and due (any thread)."""
        self._wake.set()

    def _stop_now(self) -> None:
        self._stopping.set()
        self._wake.set()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                delay = self.turn()
            except Exception:
                # A bug must not end the thread for good: log it, look again later.
                logger.exception("reading the room's schedule failed unexpectedly")
                delay = self.retry_s
            self._wake.wait(max(0.0, delay))
            self._wake.clear()

    def turn(self) -> float:
        """Read the schedule if wanted and due; seconds until the next look."""
        client, room = self._client(), self._room()
        if client is None or room is None or not self._wanted():
            return self.idle_s
        now = self._clock()
        if room == self._read_room and now < self._next_at:
            return self._next_at - now
        try:
            items = client.schedules(room)
        except ValtError as exc:
            self._failed(room, exc)
            self._next_at = self._clock() + self.retry_s
        else:
            self._read(room, items)
            self._next_at = self._clock() + self.every_s
        self._read_room = room
        return self._next_at - self._clock()

    def _read(self, room: int, items: list[Schedule]) -> None:
        self.reads += 1
        wall = self._wall()
        kept = [
            s
            for s in items
            if s.stop_at > wall - _KEEP_S / 2 and s.start_at < wall + _KEEP_S
        ]
        if self._failing:
            logger.info("the schedule of room %s can be read again", room)
        self._failing = False
        self.board.set_schedule(room, kept)

    def _failed(self, room: int, exc: ValtError) -> None:
        # One warning per outage; the screens say the sessions may be old.
        logger.log(
            logging.DEBUG if self._failing else logging.WARNING,
            "cannot read the schedule of room %s: %s",
            room,
            exc,
        )
        self._failing = True
        self.board.schedule_failed(room)
