"""The simulated VALT server's state: users, tokens, rooms, recordings, comments, groups."""

from __future__ import annotations

import copy
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("available", "recording", "paused", "locked", "prepared")


class SimError(Exception):
    """An API answer other than success: HTTP status and the message for ``{"error": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def parse_version(text: str) -> tuple[int, int, int]:
    """``"6.5.0"`` -> (6, 5, 0); missing parts are 0."""
    parts = str(text).strip().split(".")
    try:
        numbers = [int(p) for p in parts[:3]]
    except ValueError:
        raise ValueError(
            f"VALT version {text!r} is not dotted numbers like 6.6.0"
        ) from None
    return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]


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


class SimState:
    """Everything the server remembers; every method is safe from several threads.

    Args:
        data: seed data (see :mod:`ivs_accessory.valtsim.data`).
        version: the VALT version this server reports.
        clock: seconds, monotonic; drives recording time and token expiry.
        token_lifetime_s: how long a token stays valid after login.
        reset_time_on_resume: whether resume restarts the recording time at 0
            (the reference leaves this unknown, §4).
        marker_colours: allow-list for 5.x marker colours; None accepts any non-empty string.
    """

    def __init__(
        self,
        data: dict[str, Any],
        *,
        version: str,
        clock: Callable[[], float],
        token_lifetime_s: float,
        reset_time_on_resume: bool,
        marker_colours: list[str] | None,
    ) -> None:
        self.version_text = version
        self.version = parse_version(version)
        self.clock = clock
        self.token_lifetime_s = token_lifetime_s
        self.reset_time_on_resume = reset_time_on_resume
        self.marker_colours = marker_colours
        self._seed = copy.deepcopy(data)
        self.lock = threading.RLock()
        self.reset()

    # -- whole state -----------------------------------------------------------
    def reset(self) -> None:
        """Back to the seed data; all tokens, recordings and comments are forgotten."""
        data = copy.deepcopy(self._seed)
        with self.lock:
            self.users: dict[int, dict[str, Any]] = {u["id"]: u for u in data["users"]}
            self.rooms: dict[int, Room] = {
                r["id"]: Room(r["id"], str(r.get("name", f"Room {r['id']}")))
                for r in data["rooms"]
            }
            self.cameras = {c["id"]: c for c in data["cameras"]}
            self.schedule_items = {s["id"]: s for s in data["schedules"]}
            self.groups = {g["id"]: g for g in data["groups"]}
            self.templates = {t["id"]: t for t in data["templates"]}
            self.recordings: dict[int, Recording] = {}
            self.comments: dict[int, Comment] = {}
            self.tokens: dict[str, tuple[int, float]] = {}
            self._ids = {
                "recording": 1000,
                "comment": 0,
                "user": 100,
                "group": 100,
                "schedule": 100,
            }

    def next_id(self, kind: str) -> int:
        with self.lock:
            self._ids[kind] += 1
            return self._ids[kind]

    def at_least(self, major: int, minor: int = 0) -> bool:
        """True when the simulated version is ``major.minor`` or newer."""
        return self.version[:2] >= (major, minor)

    # -- tokens ----------------------------------------------------------------
    def login(self, username: Any, password: Any) -> str:
        """Return the user's still-valid token, or a new one (reference §1.3)."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise SimError(400, "login needs 'username' and 'password' strings")
        with self.lock:
            user = next((u for u in self.users.values() if u["name"] == username), None)
            if user is None or not secrets.compare_digest(
                user["password"].encode(), password.encode()
            ):
                raise SimError(401, "invalid username or password")
            now = self.clock()
            for token, (user_id, expires) in list(self.tokens.items()):
                if user_id == user["id"] and expires > now:
                    return token
            token = secrets.token_hex(16)
            self.tokens[token] = (user["id"], now + self.token_lifetime_s)
            return token

    def user_for_token(self, token: str | None) -> dict[str, Any]:
        """The user a valid token belongs to; 401 when missing, unknown or expired."""
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None:
                raise SimError(401, "missing or invalid access_token")
            user_id, expires = entry
            if expires <= self.clock():
                del self.tokens[token]
                raise SimError(401, "access_token expired")
            user = self.users.get(user_id)
            if user is None:
                raise SimError(401, "the token's user no longer exists")
            return user

    def peek_user(self, token: str | None) -> dict[str, Any] | None:
        """The user of a currently valid token, or None; changes nothing."""
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None or entry[1] <= self.clock():
                return None
            return self.users.get(entry[0])

    def revoke_tokens(self, user_id: int | None = None) -> None:
        """Forget every token (of one user, or of everyone)."""
        with self.lock:
            for token, (owner, _) in list(self.tokens.items()):
                if user_id is None or owner == user_id:
                    del self.tokens[token]

    def token_for(self, username: str) -> str | None:
        """The current token of a user, if any (for tests)."""
        with self.lock:
            now = self.clock()
            for token, (owner, expires) in self.tokens.items():
                user = self.users.get(owner)
                if user and user["name"] == username and expires > now:
                    return token
        return None

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
                raise SimError(
                    409, f"room {room_id} is {room.status}; cannot start recording"
                )
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
                raise SimError(409, f"room {room_id} is not recording")
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
                raise SimError(409, f"room {room_id} is {room.status}; cannot pause")
            room.recording.paused_at = self.clock()
            room.status = "paused"
            return room.recording.id

    def resume(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            rec = room.recording
            if room.status != "paused" or rec is None:
                raise SimError(409, f"room {room_id} is {room.status}; cannot resume")
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
                raise SimError(409, f"room {room_id} is {room.status}; cannot lock")
            room.status = "locked"
            return room.id

    def unlock_room(self, room_id: int) -> int:
        with self.lock:
            room = self.room(room_id)
            if room.status != "locked":
                raise SimError(409, f"room {room_id} is not locked")
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
                raise SimError(409, f"recording {record_id} has ended")
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
                raise SimError(409, f"room {room_id} is not recording")
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

    # -- users -------------------------------------------------------------------
    def user_json(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user as the server lists it; 6.5+ leaves out ``card_number`` (our choice)."""
        shown = {
            "id": user["id"],
            "name": user["name"],
            "displayName": user["displayName"],
            "admin": bool(user.get("admin")),
        }
        if not self.at_least(6, 5):
            shown["card_number"] = user["card_number"]
        return shown

    def user(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise SimError(404, f"user {user_id} not found")
        return user

    # -- schedules ---------------------------------------------------------------
    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule as ``{id, name, start_at, stop_at, room, rooms}`` (for tests)."""
        with self.lock:
            return [
                {
                    "id": s["id"],
                    "name": s.get("name", ""),
                    "start_at": s["start_at"],
                    "stop_at": s["stop_at"],
                    "room": (s.get("rooms") or [None])[0],
                    "rooms": list(s.get("rooms", [])),
                }
                for s in self.schedule_items.values()
            ]

    def schedule_json(self, item: dict[str, Any]) -> dict[str, Any]:
        """One schedule in the version's shape: ``room: {id}`` before 6.5, ``rooms`` after."""
        shown = {
            "id": item["id"],
            "name": item.get("name", ""),
            "start_at": item["start_at"],
            "stop_at": item["stop_at"],
        }
        rooms = list(item.get("rooms", []))
        if self.at_least(6, 5):
            shown["rooms"] = [{"id": r} for r in rooms]
        else:
            shown["room"] = {"id": rooms[0]} if rooms else None
        return shown

    # -- inspection --------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able data, without passwords or tokens."""
        with self.lock:
            return {
                "version": self.version_text,
                "rooms": [self.room_info(r) for r in sorted(self.rooms)],
                "recordings": [
                    {
                        "id": r.id,
                        "room": r.room,
                        "name": r.name,
                        "author": r.author,
                        "time": r.time(self.clock()),
                        "stopped": r.stopped,
                        "markers": self.markers(r.id),
                    }
                    for r in self.recordings.values()
                ],
                "users": [
                    self.user_json(u) | {"card_number": u["card_number"]}
                    for u in self.users.values()
                ],
                "groups": list(self.groups.values()),
                "schedules": self.schedules(),
                "tokens": len(self.tokens),
            }
