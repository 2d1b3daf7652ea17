"""VALT's answers checked for shape in one place: anything unusable is ValtBadResponse.

The transport has already refused what is not JSON, non-finite numbers and answers
over the size cap; this module checks that the JSON has the shape each call needs
and turns it into value objects. A wrong type, a missing key or an out-of-range
number raises :class:`ValtBadResponse` naming the call and the field, never
``KeyError``, ``TypeError``, ``ValueError`` or ``OverflowError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ivs_accessory.errors import ValtBadResponse, ValtRefused
from ivs_accessory.valt.models import (
    Camera,
    CameraLogin,
    Recording,
    Room,
    RoomInfo,
    RoomStatus,
    Schedule,
    ServerVersion,
    User,
)

# Ids and times beyond this are not VALT's (they would not fit its database).
_MAX_INT = 2**63 - 1


def bad(what: str, problem: str) -> ValtBadResponse:
    """The error for an answer to ``what`` that has ``problem``."""
    return ValtBadResponse(f"cannot {what}: VALT's answer {problem}")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def data(answer: Any, what: str) -> Any:
    """The ``data`` member of an answer ``{"data": ...}``."""
    if not isinstance(answer, Mapping):
        raise bad(what, f"is {_shown(answer)}, not an object with 'data'")
    if "data" not in answer:
        raise bad(what, "has no 'data'")
    return answer["data"]


def mapping(value: Any, what: str, field: str = "data") -> Mapping[str, Any]:
    """``value`` if it is a JSON object."""
    if not isinstance(value, Mapping):
        raise bad(what, f"has {field} = {_shown(value)}, not an object")
    return value


def items(value: Any, what: str, field: str) -> list[Mapping[str, Any]]:
    """``value`` if it is a list of JSON objects (None counts as empty)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad(what, f"has {field} = {_shown(value)}, not a list")
    for entry in value:
        mapping(entry, what, f"an item of {field}")
    return value


def integer(value: Any, what: str, field: str) -> int:
    """A whole number: an int, a whole float or a string of digits."""
    number: Any = value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        number = int(value.strip())
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    if (
        isinstance(number, bool)
        or not isinstance(number, int)
        or abs(number) > _MAX_INT
    ):
        raise bad(what, f"has {field} = {_shown(value)}, not a whole number")
    return int(number)


def text(value: Any, what: str, field: str) -> str:
    """A string (numbers are written as text; None is empty)."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad(what, f"has {field} = {_shown(value)}, not text")
    return str(value)


def id_of(answer: Any, what: str) -> int:
    """``data.id`` of an action's answer (start, stop, lock ...)."""
    body = mapping(data(answer, what), what)
    if body.get("id") is None:
        raise bad(what, "has no id")
    return integer(body["id"], what, "id")


def check_added(answer: Any, what: str) -> None:
    """A marker's answer: the vendor's clients ignore it, and so do we, except
    where it says outright that nothing was made (an ``id`` of null): a server
    that answers a refused marker with 200 (valt-api-v3 §2.1) must not be taken
    at its word."""
    body = answer.get("data", answer) if isinstance(answer, Mapping) else None
    if isinstance(body, Mapping) and "id" in body and body["id"] is None:
        raise ValtRefused(f"cannot {what}: VALT answered that it added nothing")


def room_status(answer: Any, what: str) -> RoomStatus:
    """``data.status`` of ``rooms/{id}/status``."""
    value = mapping(data(answer, what), what).get("status")
    try:
        return RoomStatus(value)
    except ValueError:
        raise bad(what, f"has an unknown status {_shown(value)}") from None


def room_info(answer: Any, room: int, what: str) -> RoomInfo:
    """``rooms/info/{id}``: the name and the recording, if any."""
    body = mapping(data(answer, what), what)
    rec = body.get("recording")
    recording = None
    if rec is not None:
        rec = mapping(rec, what, "recording")
        if rec.get("id") is not None:
            recording = Recording(
                integer(rec["id"], what, "recording.id"),
                integer(rec.get("time") or 0, what, "recording.time"),
            )
    return RoomInfo(
        id=integer(body.get("id", room), what, "id"),
        name=text(body.get("name"), what, "name"),
        has_recording=body.get("has_recording") is True,
        recording=recording,
    )


def rooms(answer: Any, what: str) -> list[Room]:
    """``rooms/info``: ``data.rooms`` (or ``data`` as a list)."""
    body = data(answer, what)
    listed = body.get("rooms") if isinstance(body, Mapping) else body
    return [
        Room(integer(r.get("id"), what, "room id"), text(r.get("name"), what, "name"))
        for r in items(listed, what, "rooms")
    ]


def user(item: Any, what: str) -> User:
    """One user object, tolerating both casings of the display name."""
    item = mapping(item, what, "user")
    card = item.get("card_number", item.get("cardNumber"))
    shown = item.get("displayName", item.get("display_name"))
    return User(
        id=integer(item.get("id"), what, "user id"),
        name=text(item.get("name"), what, "user name"),
        display_name=text(shown, what, "displayName"),
        card_number=None if card in (None, "") else text(card, what, "card_number"),
    )


def users(answer: Any, what: str) -> list[User]:
    """``admin/users``: a list of users."""
    return [user(u, what) for u in items(data(answer, what), what, "data")]


def cameras(answer: Any, what: str) -> list[Camera]:
    """``admin/rooms/{id}/cameras``: ``data.cameras`` (credentials are not kept)."""
    body = data(answer, what)
    listed = body.get("cameras") if isinstance(body, Mapping) else body
    return [
        Camera(
            integer(c.get("id"), what, "camera id"),
            text(c.get("name"), what, "camera name"),
            text(c.get("ip"), what, "camera ip"),
        )
        for c in items(listed, what, "cameras")
    ]


def camera_logins(answer: Any, what: str) -> list[CameraLogin]:
    """``admin/rooms/{id}/cameras`` with each camera's address and login."""
    body = data(answer, what)
    listed = body.get("cameras") if isinstance(body, Mapping) else body
    found = []
    for c in items(listed, what, "cameras"):
        port = c.get("http_port")
        found.append(
            CameraLogin(
                integer(c.get("id"), what, "camera id"),
                text(c.get("name"), what, "camera name"),
                text(c.get("ip"), what, "camera ip"),
                text(c.get("username"), what, "camera username"),
                text(c.get("password"), what, "camera password"),
                integer(port, what, "camera http_port") if port is not None else None,
            )
        )
    return found


def schedules(answer: Any, room: int, what: str) -> list[Schedule]:
    """``schedule``: the room's scheduled recordings, sorted by start."""
    body = data(answer, what)
    listed = body.get("schedules") if isinstance(body, Mapping) else body
    found = [
        Schedule(
            integer(s.get("start_at"), what, "start_at"),
            integer(s.get("stop_at"), what, "stop_at"),
            text(s.get("name"), what, "schedule name"),
        )
        for s in items(listed, what, "schedules")
        if room in schedule_rooms(s, what)
    ]
    return sorted(found, key=lambda s: (s.start_at, s.stop_at))


def schedule_rooms(item: Mapping[str, Any], what: str) -> set[int]:
    """The room ids of a schedule item: ``room: {id}`` before 6.5, ``rooms: [...]``
    after (reference §2.4)."""
    ids = set()
    single = item.get("room")
    if isinstance(single, Mapping) and "id" in single:
        ids.add(integer(single["id"], what, "room.id"))
    for entry in items(item.get("rooms"), what, "rooms"):
        if "id" in entry:
            ids.add(integer(entry["id"], what, "rooms[].id"))
    return ids


def token(answer: Any, host: str) -> str:
    """``data.access_token`` of a login."""
    body = answer.get("data") if isinstance(answer, Mapping) else None
    found = body.get("access_token") if isinstance(body, Mapping) else None
    if not isinstance(found, str) or not found:
        raise ValtBadResponse(f"{host} answered the login without an access token")
    return found


def version(answer: Any, what: str) -> ServerVersion:
    """``data.version`` of ``admin/general``."""
    value = mapping(data(answer, what), what).get("version")
    try:
        return ServerVersion.parse(text(value, what, "version"))
    except ValueError:
        raise bad(what, f"has no VALT version (version = {_shown(value)})") from None
