"""The rooms' state machine: start, pause, resume, stop, lock; markers and comments."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.valtsim.refusals import ForbiddenTransition, SimError

STATUSES = ("available", "recording", "paused", "locked", "prepared")


@dataclass
class Recording:
    """One recording; its time advances with the clock except while paused."""

    id: int
    room: int
    name: str
    author: int | None
    started: float
    paused_at: float | None = None
    paused_total: float = 0.0
    stopped: bool = False

    def time(self, now: float) -> int:
        end = self.paused_at if self.paused_at is not None else now
        return max(0, int(end - self.started - self.paused_total))


@dataclass
class Room:
    id: int
    name: str
    status: str = "available"
    recording: Recording | None = None


@dataclass
class Comment:
    id: int
    record_id: int
    time: int
    text: str
    colour: str | None
    type: str = "simple"
    extra: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        body = {
            "id": self.id,
            "recordId": self.record_id,
            "recordTime": self.time,
            "type": self.type,
            "message": self.text,
        }
        if self.colour:
            body["color"] = self.colour
        return body


def _forbidden(room: Room, action: str) -> ForbiddenTransition:
    """The refusal of ``action`` in ``room``'s present state (call with the lock)."""
    return ForbiddenTransition(
        f"room {room.id} is {room.status}; cannot {action}",
        room.recording.id if room.recording is not None else None,
    )


class RoomsMixin:
    """Room and recording methods of :class:`~ivs_accessory.valtsim.state.SimState`."""

    # SimState sets these up (reset() rebuilds the dicts); declared here so that
    # what this part needs from SimState is visible.
    lock: threading.RLock
    clock: Callable[[], float]
    reset_time_on_resume: bool
    marker_colours: list[str] | None
    users: dict[int, dict[str, Any]]
    rooms: dict[int, Room]
    recordings: dict[int, Recording]
    comments: dict[int, Comment]
    next_id: Callable[[str], int]

    # -- rooms and recordings ---------------------------------------------------
    def room(self, room_id: int) -> Room:
        room = self.rooms.get(room_id)
        if room is None:
            raise SimError(404, f"room {room_id} not found")
        return room

    def room_info(self, room_id: int) -> dict[str, Any]:
        with self.lock:
            room = self.room(room_id)
            info: dict[str, Any] = {
                "id": room.id,
                "name": room.name,
                "status": room.status,
                "has_recording": room.recording is not None,
            }
            if room.recording is not None:
                rec = room.recording
                info["recording"] = {
                    "id": rec.id,
                    "name": rec.name,
                    "time": rec.time(self.clock()),
                    "author": rec.author,
                }
            return info

    def start(self, room_id: int, name: Any, author: Any) -> int:
        if not isinstance(name, str) or not name.strip():
            raise SimError(400, "start needs a non-empty 'name'")
        if author is not None and (
            not isinstance(author, int) or author not in self.users
        ):
            raise SimError(400, f"author {author!r} is not a user id")
        with self.lock:
            room = self.room(room_id)
            if room.status not in ("available", "prepared"):
                raise _forbidden(room, "start recording")
            rec = Recording(
                self.next_id("recording"), room_id, name, author, self.clock()
            )
            self.recordings[rec.id] = rec
            room.recording, room.status = rec, "recording"
            return rec.id

    def stop(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            rec = room.recording
            if rec is None:
                raise _forbidden(room, "stop recording")
            if rec.paused_at is not None:
                rec.paused_total += self.clock() - rec.paused_at
                rec.paused_at = None
            rec.stopped = True
            room.recording, room.status = None, "available"
            return rec.id

    def pause(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            if room.status != "recording" or room.recording is None:
                raise _forbidden(room, "pause")
            room.recording.paused_at = self.clock()
            room.status = "paused"
            return room.recording.id

    def resume(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            rec = room.recording
            if room.status != "paused" or rec is None:
                raise _forbidden(room, "resume")
            now = self.clock()
            if self.reset_time_on_resume:
                rec.started, rec.paused_total = now, 0.0
            else:
                rec.paused_total += now - (rec.paused_at or now)
            rec.paused_at = None
            room.status = "recording"
            return rec.id

    def lock_room(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            if room.status not in ("available", "prepared"):
                raise _forbidden(room, "lock")
            room.status = "locked"
            return room.id

    def unlock_room(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            if room.status != "locked":
                raise _forbidden(room, "unlock")
            room.status = "available"
            return room.id

    def set_room_status(self, room_id: int, status: str) -> None:
        """Force a status, as another VALT user or the server itself would.

        Statuses outside the known five are stored as given, to test clients against
        values they do not know.
        """
        with self.lock:
            room = self.room(room_id)
            if status in ("recording", "paused") and room.recording is None:
                rec = Recording(
                    self.next_id("recording"),
                    room_id,
                    "Started elsewhere",
                    None,
                    self.clock(),
                )
                self.recordings[rec.id] = rec
                room.recording = rec
            if status in ("recording", "paused") and room.recording is not None:
                rec = room.recording
                if status == "paused" and rec.paused_at is None:
                    rec.paused_at = self.clock()
                if status == "recording" and rec.paused_at is not None:
                    rec.paused_total += self.clock() - rec.paused_at
                    rec.paused_at = None
            if (
                status in ("available", "prepared", "locked")
                and room.recording is not None
            ):
                room.recording.stopped = True
                room.recording = None
            room.status = status

    # -- markers and comments ---------------------------------------------------
    def recording(self, record_id: Any) -> Recording:
        rec = self.recordings.get(record_id) if isinstance(record_id, int) else None
        if rec is None:
            raise SimError(404, f"recording {record_id!r} not found")
        return rec

    def add_comment(
        self,
        record_id: int,
        time: Any,
        text: Any,
        colour: str | None,
        kind: str = "simple",
        extra: dict[str, Any] | None = None,
    ) -> Comment:
        if not isinstance(time, (int, float)) or isinstance(time, bool) or time < 0:
            raise SimError(400, "the marker time must be a number of seconds >= 0")
        if not isinstance(text, str) or not text.strip():
            raise SimError(400, "the marker needs a non-empty text")
        with self.lock:
            rec = self.recording(record_id)
            if rec.stopped:
                raise ForbiddenTransition(
                    f"room {rec.room} is no longer recording {rec.id}; "
                    "cannot add a comment",
                    None,
                )
            comment = Comment(
                self.next_id("comment"),
                rec.id,
                int(time),
                text,
                colour,
                kind,
                extra or {},
            )
            self.comments[comment.id] = comment
            return comment

    def live_recording(self, room_id: int) -> Recording:
        with self.lock:
            room = self.room(room_id)
            if room.recording is None:
                raise _forbidden(room, "add a marker")
            return room.recording

    def check_colour(self, colour: Any) -> str:
        if not isinstance(colour, str) or not colour.strip():
            raise SimError(400, "'color' must be a non-empty string")
        if self.marker_colours is not None and colour not in self.marker_colours:
            raise SimError(
                400, f"colour {colour!r} is not one of {self.marker_colours}"
            )
        return colour

    def markers(self, record_id: int) -> list[dict[str, Any]]:
        """Markers/comments of a recording as ``{id, time, text, colour}``, by time."""
        with self.lock:
            found = [c for c in self.comments.values() if c.record_id == record_id]
        return [
            {"id": c.id, "time": c.time, "text": c.text, "colour": c.colour}
            for c in sorted(found, key=lambda c: (c.time, c.id))
        ]
