"""The door panel: the board door screens read, the on-screen pad, today's sessions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from ivs_accessory.config import Config
from ivs_accessory.door.board import DoorBoard
from ivs_accessory.door.room import RoomState
from ivs_accessory.door.terms import PRESET_PREFIX
from ivs_accessory.door.timetable import ScheduleReader
from ivs_accessory.events import InputEvent
from ivs_accessory.sources.touch import TouchSource
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.wiring import status_refresh_s

logger = logging.getLogger(__name__)

# A screen seen this recently still wants today's sessions (a phone that reloads).
_SCHEDULE_WANTED_S = 600.0


def preset_actions(config: Config) -> tuple[str, ...]:
    """The actions ``[door] presets`` offers as buttons (``preset:NAME`` each)."""
    return tuple(PRESET_PREFIX + name for name in config["door"]["presets"])


class DoorPanel:
    """What the door page needs of the daemon, from ``[door]``, kept across reloads.

    Attributes:
        board: the public state; a feedback sink of every dispatcher the service
            builds, and what door screens read (never VALT).
        touch: the on-screen pad's and preset buttons' input source while
            ``[door] keypad = true`` or ``presets`` names any (never in safe
            mode), else None.
        schedule: reads the room's sessions on its own thread while a screen
            wants them (``[door] screen`` or ``keypad``, or a /door page seen in
            the last 10 minutes).

    Args:
        room: the RoomState the dispatcher uses now (None: not configured).
        client: the VALT client now (None: not configured).
        clock: monotonic seconds (the service's); wall: epoch seconds.
        enrolment: True while the page's enrolment mode is on (screens show it).
    """

    def __init__(
        self,
        room: Callable[[], RoomState | None],
        client: Callable[[], ValtClient | None],
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        enrolment: Callable[[], bool] = lambda: False,
    ) -> None:
        self.board = DoorBoard(room, clock=clock, wall=wall, enrolment=enrolment)
        self.touch: TouchSource | None = None
        self.schedule = ScheduleReader(
            self.board,
            client,
            lambda: self._room,
            self.wants_schedule,
            clock=clock,
            wall=wall,
        )
        self.board.on_watch = self.schedule.wake
        self._clock = clock
        self._door: dict[str, Any] = {}
        self._room: int | None = None
        self._emit: Callable[[InputEvent], object] | None = None

    def start(
        self, config: Config, emit: Callable[[InputEvent], object], safe: bool
    ) -> None:
        """Open the pad (when configured) onto ``emit`` and start the reader."""
        self._emit = emit
        self.configure(config, safe)
        self.schedule.start()

    def configure(self, config: Config, safe: bool = False) -> None:
        """Apply ``config`` (at start and at every reload); ``safe``: safe mode."""
        self._door = dict(config["door"])
        self._room = None if safe else config["valt"]["room"]
        self.board.unconfigured_words = (
            "Configuration invalid" if safe else "VALT server or room not configured"
        )
        keypad = bool(self._door["keypad"]) and not safe
        actions = () if safe else preset_actions(config)
        if (keypad or actions) and self.touch is None and self._emit is not None:
            self.touch = TouchSource(clock=self._clock, keypad=keypad, actions=actions)
            self.touch.start(self._emit)
            logger.info(
                "door page %s on, for %s", self.touch_text(), self.allowed_text()
            )
        elif not (keypad or actions) and self.touch is not None:
            self.touch.close()
            self.touch = None
            logger.info("door page keypad and buttons off")
        elif self.touch is not None and (
            self.touch.keypad != keypad or self.touch.actions != actions
        ):
            self.touch.keypad, self.touch.actions = keypad, actions
            logger.info("door page now %s", self.touch_text())
        self.schedule.wake()

    def close(self) -> None:
        """Stopping: door screens' streams end and the pad takes no more PINs."""
        self.board.close()
        if self.touch is not None:
            self.touch.close()

    def stop(self) -> None:
        """Stop the schedule reader (after the VALT client was aborted)."""
        self.schedule.stop()

    def wants_schedule(self) -> bool:
        """True while a screen wants today's sessions."""
        door = self._door
        if door.get("screen") or door.get("keypad"):
            return True
        return self.board.watched(_SCHEDULE_WANTED_S)

    def refresh_interval(self, config: Config) -> Callable[[], float]:
        """The room status refresh interval under ``config``, asked at each turn:
        shorter while a door page is open (see ``wiring.status_refresh_s``)."""
        return lambda: status_refresh_s(config, self.board.watched())

    def touch_text(self) -> str:
        """What the touch source offers, for the log: keypad, buttons or both."""
        touch = self.touch
        if touch is None:
            return "nothing"
        parts = (["keypad"] if touch.keypad else []) + (
            [f"{len(touch.actions)} preset button(s)"] if touch.actions else []
        )
        return " and ".join(parts)

    def allowed_text(self) -> str:
        """``[door] allowed_clients`` as written (for logs and the page)."""
        return " ".join(str(n) for n in self._door.get("allowed_clients", ())) or (
            "no client"
        )

    def sources(self) -> dict[str, dict[str, Any]]:
        """The pad as an input source for the status page (when on)."""
        touch = self.touch
        return {touch.name: touch.status()} if touch is not None else {}

    def status(self) -> dict[str, Any]:
        """For ``Service.status()``: the screens watching, the pad, the sessions."""
        return {
            "screens": self.board.viewers,
            "keypad": self.touch is not None and self.touch.keypad,
            "presets": len(self.touch.actions) if self.touch is not None else 0,
            "schedule_reads": self.schedule.reads,
        }
