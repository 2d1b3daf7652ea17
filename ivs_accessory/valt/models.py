"""VALT API value objects: room status, server version, rooms, users, schedules."""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# The colours the vendor documents for markers; the server's own list is unknown
# (reference §4), so we offer exactly these and default to the vendor's "red".
MARKER_COLOURS = (
    "white",
    "gray",
    "red",
    "yellow",
    "purple",
    "cyan",
    "blue",
    "green",
    "orange",
)
DEFAULT_MARKER_COLOUR = "red"

RETENTION_TYPES = ("infinitely", "until", "days", "hours", "minutes")


class RoomStatus(enum.Enum):
    """The status of a room as ``GET rooms/{id}/status`` reports it."""

    AVAILABLE = "available"
    RECORDING = "recording"
    PAUSED = "paused"
    LOCKED = "locked"
    PREPARED = "prepared"

    @property
    def code(self) -> int:
        """The vendor module's integer for this status (1 available ... 5 prepared)."""
        return _STATUS_CODES[self]

    @property
    def can_start(self) -> bool:
        """True when a recording may be started (available or prepared)."""
        return self in (RoomStatus.AVAILABLE, RoomStatus.PREPARED)

    @property
    def has_recording(self) -> bool:
        """True while a recording exists in the room (recording or paused)."""
        return self in (RoomStatus.RECORDING, RoomStatus.PAUSED)


_STATUS_CODES = {
    RoomStatus.AVAILABLE: 1,
    RoomStatus.RECORDING: 2,
    RoomStatus.PAUSED: 3,
    RoomStatus.LOCKED: 4,
    RoomStatus.PREPARED: 5,
}


@dataclass(frozen=True, order=True)
class ServerVersion:
    """A VALT server version; decides the version-dependent endpoints (reference
    §1.4)."""

    major: int
    minor: int = 0
    patch: int = 0

    @classmethod
    def parse(cls, text: str) -> ServerVersion:
        """Parse ``"6.5.1"``-style text; missing parts count as 0.

        Raises:
            ValueError: the text does not start with a number.
        """
        parts = re.findall(r"\d+", str(text))
        if not parts or not str(text).strip()[:1].isdigit():
            raise ValueError(f"'{text}' is not a VALT version such as 6.5.0")
        numbers = [int(p) for p in parts[:3]] + [0, 0]
        return cls(numbers[0], numbers[1], numbers[2])

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"

    @property
    def comment_style(self) -> str:
        """How live markers are posted: ``markers`` (5.x), ``template`` (6.0-6.4),
        ``template_typed`` (6.5) or ``message`` (6.6 and later)."""
        if self.major < 6:
            return "markers"
        if self < ServerVersion(6, 5):
            return "template"
        if self < ServerVersion(6, 6):
            return "template_typed"
        return "message"

    @property
    def has_card_query(self) -> bool:
        """True from 6.5 on: ``admin/users?cardNumber=`` looks a user up server-side."""
        return self >= ServerVersion(6, 5)


# Assumed when admin/general cannot be read (for example a non-admin account):
# the newest behaviour we know, logged as an assumption by the client.
NEWEST_KNOWN_VERSION = ServerVersion(6, 6, 0)


@dataclass(frozen=True)
class Room:
    """A room as listed by ``GET rooms/info``."""

    id: int
    name: str


@dataclass(frozen=True)
class Recording:
    """The recording running (or paused) in a room; ``time`` is recorded seconds."""

    id: int
    time: int


@dataclass(frozen=True)
class RoomInfo:
    """``GET rooms/info/{id}``: the room's name and its recording, if any."""

    id: int
    name: str
    has_recording: bool
    recording: Recording | None


@dataclass(frozen=True)
class User:
    """A VALT user; ``card_number`` is None when the server did not send it."""

    id: int
    name: str
    display_name: str = ""
    card_number: str | None = None

    def __repr__(self) -> str:
        # Card numbers double as keypad PINs: keep them out of reprs and logs.
        return f"User(id={self.id}, name={self.name!r})"


@dataclass(frozen=True)
class Camera:
    """A camera of a room; VALT also sends camera credentials, which we do not keep."""

    id: int
    name: str
    ip: str = ""


@dataclass(frozen=True)
class CameraLogin:
    """A camera of a room with the login VALT keeps for it (reference §2.3), for
    talking to the camera itself; the password stays out of reprs and logs.

    ``ip`` is as VALT lists it; ``http_port`` only when VALT lists one (whether its
    room camera list does is unknown; its camera creation takes one).
    """

    id: int
    name: str
    ip: str
    username: str
    password: str = field(repr=False)
    http_port: int | None = None


@dataclass(frozen=True)
class Schedule:
    """A scheduled recording: start and stop in epoch seconds."""

    start_at: int
    stop_at: int
    name: str


def check_colour(colour: str) -> str:
    """Return the colour in lower case, or raise ValueError naming the valid ones."""
    value = str(colour).strip().lower()
    if value == "grey":
        value = "gray"
    if value not in MARKER_COLOURS:
        raise ValueError(
            f"'{colour}' is not a marker colour; use one of {', '.join(MARKER_COLOURS)}"
        )
    return value


def group_body(
    name: str,
    info_template_id: int,
    marker_template_id: int,
    *,
    rights: Any = None,
    max_record_duration: int | None = None,
    rooms: Sequence[int] | None = None,
    video_access_users: Sequence[int] | None = None,
    video_access_groups: Sequence[int] | None = None,
    retention_type: str | None = None,
    retention_until: str | None = None,
    retention_for: int | None = None,
) -> dict[str, Any]:
    """Build and validate the body of ``POST admin/user_groups``.

    The inner shapes of ``video_access`` and ``retention`` are not evidenced by any
    vendor client (reference §2.5); we send ``{"users", "groups"}`` and
    ``{"type", "until", "for"}`` and pass ``rights`` through unchanged.

    Raises:
        ValueError: an empty name, an unknown retention type or a bad date/duration.
    """
    if not str(name).strip():
        raise ValueError("a group needs a name")
    body: dict[str, Any] = {
        "name": name,
        "template": {
            "information": int(info_template_id),
            "comment": int(marker_template_id),
        },
    }
    if rights is not None:
        body["rights"] = rights
    if max_record_duration is not None:
        body["max_record_duration"] = int(max_record_duration)
    if rooms is not None:
        body["rooms"] = [int(r) for r in rooms]
    if video_access_users is not None or video_access_groups is not None:
        body["video_access"] = {
            "users": [int(u) for u in video_access_users or ()],
            "groups": [int(g) for g in video_access_groups or ()],
        }
    retention = _retention(retention_type, retention_until, retention_for)
    if retention is not None:
        body["retention"] = retention
    return body


def _retention(
    kind: str | None, until: str | None, span: int | None
) -> dict[str, Any] | None:
    if kind is None:
        if until is not None or span is not None:
            raise ValueError("retention_until/retention_for need a retention_type")
        return None
    if kind not in RETENTION_TYPES:
        raise ValueError(
            f"'{kind}' is not a retention type; use one of {', '.join(RETENTION_TYPES)}"
        )
    if kind == "infinitely":
        return {"type": kind}
    if kind == "until":
        return {"type": kind, "until": _check_date(until)}
    if span is None or int(span) < 1:
        raise ValueError(
            f"retention_type '{kind}' needs retention_for, a whole number >= 1"
        )
    return {"type": kind, "for": int(span)}


def _check_date(text: str | None) -> str:
    try:
        if not re.fullmatch(r"\d{2}-\d{2}-\d{4}", str(text)):
            raise ValueError(text)
        datetime.datetime.strptime(str(text), "%m-%d-%Y")
    except ValueError:
        raise ValueError(
            f"'{text}' is not a date in MM-DD-YYYY form, e.g. 12-31-2027"
        ) from None
    return str(text)
