"""Privacy at the door: the room's lock and every camera of the room, together;
presets; and what a recording start does while privacy is on.

Privacy on = the VALT room locked, and each camera with a full-frame privacy mask,
its audio input muted and pan/tilt/zoom disabled, each setting read back. Off is the
reverse. The cameras are done at once, each under its own deadline, so a dead camera
costs that deadline and the door goes on; a partial success names each camera that
failed. Privacy is for an empty room: privacy on in a recording room is refused
("Room is recording") and no camera is touched.

``privacy_toggle`` decides on fresh state: the room's status (as every input does)
and each camera's privacy, read back now. Privacy goes off only when everything
that answered is private (the room locked and each camera that answered); anything
less (a camera that failed last time, someone unmasking one in its own web page)
is completed to privacy on. In a recording room the toggle takes privacy off when a
camera is private, and is refused otherwise. Once decided, the intent is never
turned round: a camera that refuses is reported, not undone.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ivs_accessory.cameras.camera_ops import goto_preset, read_privacy, set_privacy
from ivs_accessory.cameras.fanout import CameraResult, run_all
from ivs_accessory.cameras.roster import CameraRoster
from ivs_accessory.cameras.vapix import VapixCamera
from ivs_accessory.door import privacy_words as words
from ivs_accessory.door.outcome import Outcome
from ivs_accessory.door.privacy_state import CameraBeliefs, overall
from ivs_accessory.door.terms import PRESET_PREFIX
from ivs_accessory.errors import ValtError
from ivs_accessory.valt.models import RoomStatus

logger = logging.getLogger(__name__)

PRIVACY_ACTIONS = ("privacy_toggle", "privacy_on", "privacy_off")
# The room's part of each privacy action, as the door's VALT actions know it.
_ROOM_ACTION = {
    "privacy_toggle": "privacy_toggle",
    "privacy_on": "lock",
    "privacy_off": "unlock",
}
_CHECK_JOIN_S = 2.0  # beyond the cameras' deadline, when the daemon stops


@dataclass(frozen=True)
class RoomSide:
    """What privacy needs of the door's VALT side, for one input (from Actions).

    Attributes:
        status_for: the status a decision uses for an input made at a moment (read
            when what is known is stale); raises ValtError.
        confirmed: the status as VALT gave it during this input (read now if it
            did not); raises ValtError.
        decide_and_do: run a room action (lock, unlock, privacy_toggle, start ...)
            decided on a status, and report it as every action is reported.
        failed: the outcome of a ValtError.
        truth: the outcome "already" or "busy" for an intent in a status.
    """

    status_for: Callable[[float], RoomStatus]
    confirmed: Callable[[RoomStatus], RoomStatus]
    decide_and_do: Callable[[str, RoomStatus], Outcome]
    failed: Callable[[ValtError], Outcome]
    truth: Callable[[str, RoomStatus], Outcome]


class RoomPrivacy:
    """Privacy and presets for the room's cameras (see the module docstring).

    Args:
        roster: the room's cameras (``source`` none: the room's lock alone).
        on_start: ``refuse`` a recording start while privacy is on, or ``clear``
            (take privacy off first).
        check_s: read the cameras' privacy in the background this often (seconds;
            0: never, only when acting).
    """

    def __init__(
        self,
        roster: CameraRoster,
        on_start: str = "refuse",
        check_s: float = 300,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.roster = roster
        self.on_start = on_start
        self.check_s = check_s
        self.beliefs = CameraBeliefs(clock)
        self._clock = clock
        self._check: threading.Thread | None = None
        self._checked_at = -float("inf")

    @staticmethod
    def handles(action: str) -> bool:
        """True for the actions this class runs."""
        return action in PRIVACY_ACTIONS or action.startswith(PRESET_PREFIX)

    # -- the actions -------------------------------------------------------------------
    def act(
        self, action: str, side: RoomSide, moment: float, base: dict[str, Any]
    ) -> Outcome:
        """Run a privacy action or ``preset:NAME`` for an input made at ``moment``."""
        if action.startswith(PRESET_PREFIX):
            return self._preset(action[len(PRESET_PREFIX) :], side, base)
        if not self.roster.in_use:
            return self._room_only(action, side, moment)
        try:
            cameras = self.roster.cameras()
        except ValtError as exc:
            return side.failed(exc)
        if not cameras:
            room = self._room_only(action, side, moment)
            return words.with_room_note(room, "VALT lists no cameras for the room")
        room_status, error = self._room_status(side, moment)
        on, silent = self._wanted(action, room_status, cameras)
        if on and room_status is not None and room_status.has_recording:
            refused = self._recording(side, room_status)
            if refused is not None:
                return refused  # privacy is for an empty room
        room = self._room_part(side, on, room_status, error)
        if on and room.result == "busy":
            return room  # a recording began meanwhile: the cameras stay as they are
        # A camera that failed the toggle's read is not asked again: one deadline
        # per action is all a dead camera may cost.
        asked = [c for i, c in enumerate(cameras) if i not in silent]
        done = iter(self._apply(asked, on))
        results = [silent.get(i) or next(done) for i in range(len(cameras))]
        return words.privacy_outcome(on, room, results, base)

    def start_gate(
        self,
        action: str,
        status: RoomStatus,
        side: RoomSide,
        start: Callable[[RoomStatus], Outcome],
        base: dict[str, Any],
    ) -> Outcome:
        """Run ``start`` (the door's toggle or start, decided on ``status``), after
        privacy had its say when it would start a recording while privacy is on:
        refused, or privacy taken off first (``on_start``)."""
        if not _would_start(action, status) or not self._gates_starts():
            return start(status)
        private = self.beliefs.private()
        if status is not RoomStatus.LOCKED and not private:
            return start(status)
        if self.on_start == "refuse":
            if status is RoomStatus.LOCKED:
                status = side.confirmed(status)  # "busy" only on what VALT said now
            locked = status is RoomStatus.LOCKED
            if not _would_start(action, status) or not (locked or private):
                return start(status)
            return words.refused_start(locked, private, base)
        room = None
        if status is RoomStatus.LOCKED:
            room = self._room_part(side, False, status, None)
            if room.result not in ("unlocked", "already"):
                return words.not_cleared(room, base)
            status = RoomStatus.AVAILABLE  # the start judges on what VALT said
        cameras = [c for c in self._cameras_or_none() if c.name in private]
        results = self._apply(cameras, False) if cameras else []
        return words.after_clear(start(status), room, results)

    def _gates_starts(self) -> bool:
        # Without cameras, "refuse" is what the room's own lock does: VALT refuses a
        # start in a locked room, and the door says so in its usual words.
        return self.roster.in_use or self.on_start == "clear"

    def _room_only(self, action: str, side: RoomSide, moment: float) -> Outcome:
        """The room's lock alone, exactly as before there were cameras."""
        try:
            return side.decide_and_do(_ROOM_ACTION[action], side.status_for(moment))
        except ValtError as exc:
            return side.failed(exc)

    def _recording(self, side: RoomSide, status: RoomStatus) -> Outcome | None:
        """The outcome "Room is recording" when VALT says so during this input;
        None when the recording has ended meanwhile (privacy on goes ahead)."""
        try:
            now = side.confirmed(status)
        except ValtError as exc:
            return side.failed(exc)
        return side.truth("lock", now) if now.has_recording else None

    def _room_status(
        self, side: RoomSide, moment: float
    ) -> tuple[RoomStatus | None, ValtError | None]:
        """The room's status, or the error: the cameras follow the person's intent
        when VALT cannot be asked (a dead VALT must not keep a room unmasked)."""
        try:
            return side.status_for(moment), None
        except ValtError as exc:
            return None, exc

    def _wanted(
        self, action: str, status: RoomStatus | None, cameras: list[VapixCamera]
    ) -> tuple[bool, dict[int, CameraResult]]:
        """True for privacy on; the toggle decides on the cameras read back now.
        Also the cameras whose read failed, by their place (the toggle's only)."""
        if action != "privacy_toggle":
            return action == "privacy_on", {}
        started = self._clock()
        readings = run_all(cameras, read_privacy)
        self._learn(readings, started)
        failed = {i: r for i, r in enumerate(readings) if not r.ok}
        private = [r.reading.private for r in readings if r.ok and r.reading]
        if status is not None and status.has_recording:
            return not any(private), failed  # on is refused; off if one is private
        parts = private + ([status is RoomStatus.LOCKED] if status else [])
        return not (parts and all(parts)), failed

    def _room_part(
        self,
        side: RoomSide,
        on: bool,
        status: RoomStatus | None,
        error: ValtError | None,
    ) -> Outcome:
        if status is None:
            assert error is not None
            return side.failed(error)
        try:
            return side.decide_and_do("lock" if on else "unlock", status)
        except ValtError as exc:
            return side.failed(exc)

    def _apply(self, cameras: Sequence[VapixCamera], on: bool) -> list[CameraResult]:
        started = self._clock()
        results = run_all(cameras, lambda camera: set_privacy(camera, on))
        self._learn(results, started)
        return results

    def _learn(self, results: Sequence[CameraResult], started: float) -> None:
        self.beliefs.learn(results, started)
        if any(r.auth_failed for r in results):
            self.roster.credentials_refused()

    def _cameras_or_none(self) -> list[VapixCamera]:
        try:
            return self.roster.cameras()
        except ValtError as exc:
            logger.warning("cannot list the room's cameras: %s", exc)
            return []

    # -- presets -----------------------------------------------------------------------
    def _preset(self, name: str, side: RoomSide, base: dict[str, Any]) -> Outcome:
        if not self.roster.in_use:
            return Outcome(
                "not_configured",
                message="No cameras configured ([privacy] cameras is none)",
                **base,
            )
        try:
            cameras = self.roster.cameras()
        except ValtError as exc:
            return side.failed(exc)
        private = self.beliefs.private()
        if private:
            return Outcome(
                "busy",
                message=f"Privacy is on ({', '.join(private)}): the cameras stay",
                intent="preset",
                **base,
            )
        results = run_all(cameras, lambda camera: goto_preset(camera, name))
        if any(r.auth_failed for r in results):
            self.roster.credentials_refused()
        return words.preset_outcome(name, results, base)

    # -- the background check ----------------------------------------------------------
    def refresh(self) -> None:
        """Read the cameras' privacy in the background when due (called from the
        dispatcher's housekeeping: VALT's list, when due, is read here, the
        cameras on a thread of their own)."""
        if not self.roster.in_use or self.check_s <= 0:
            return
        running = self._check is not None and self._check.is_alive()
        if running or self._clock() - self._checked_at < self.check_s:
            return
        self._checked_at = self._clock()
        try:
            cameras = self.roster.cameras()
        except ValtError as exc:
            logger.warning("cannot list the room's cameras: %s", exc)
            return
        self.beliefs.keep_only(c.name for c in cameras)
        # A plain thread: it lives for one read, bounded by the cameras' deadline.
        self._check = threading.Thread(
            target=self._read_all,
            args=(cameras, self._checked_at),
            name="camera-check",
            daemon=True,
        )
        self._check.start()

    def _read_all(self, cameras: list[VapixCamera], started: float) -> None:
        self._learn(run_all(cameras, read_privacy), started)

    def wait_checked(self, timeout: float) -> bool:
        """Wait for a background check in progress; False if it outlived
        ``timeout``."""
        check = self._check
        if check is not None:
            check.join(timeout)
            return not check.is_alive()
        return True

    def close(self) -> None:
        """Wait (bounded) for a background check; close the cameras' connections."""
        self.wait_checked(self.roster.timeout_s + _CHECK_JOIN_S)
        self.roster.close()

    # -- for the page ------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """The cameras' privacy as last confirmed (no camera or VALT is asked)."""
        cameras = self.beliefs.snapshot([c.name for c in self.roster.known()])
        return {
            "source": self.roster.source,
            "on_start": self.on_start,
            "state": overall(cameras),
            "cameras": cameras,
            "list_error": self.roster.list_error,
        }


def _would_start(action: str, status: RoomStatus) -> bool:
    """True when ``action`` in ``status`` would start a recording (a toggle in a
    locked room would, once privacy is off)."""
    if action == "start":
        return True
    return action == "toggle" and (status.can_start or status is RoomStatus.LOCKED)
