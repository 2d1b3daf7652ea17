"""The VALT REST API v3 endpoints the simulator serves, one small function per endpoint.

Each handler takes the state, the request and the path's numeric groups, and returns
the JSON payload (already wrapped in ``data`` where VALT wraps it) or raises SimError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivs_accessory.valtsim.state import SimError, SimState


@dataclass
class ApiRequest:
    """One API request as the handlers see it."""

    method: str
    path: str  # relative to /api/v3/
    query: dict[str, str]
    body: dict[str, Any]
    user: dict[str, Any] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        """A field of the JSON body (always an object, possibly empty)."""
        return self.body.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.body


Handler = Callable[..., Any]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool
    admin: bool
    available: Callable[[SimState], bool]


ROUTES: list[Route] = []


def _any_version(state: SimState) -> bool:
    return True


def route(
    method: str,
    path: str,
    *,
    auth: bool = True,
    admin: bool = False,
    available: Callable[[SimState], bool] = _any_version,
) -> Callable[[Handler], Handler]:
    """Register a handler; ``{id}`` in ``path`` matches a number passed as an int."""
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[0-9]+)", path) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, regex, handler, auth, admin, available))
        return handler

    return register


def find(state: SimState, method: str, path: str) -> tuple[Route, dict[str, int]]:
    """The route for a request; 404 for unknown paths and for the other version's endpoints."""
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found and candidate.method == method and candidate.available(state):
            return candidate, {k: int(v) for k, v in found.groupdict().items()}
    known = [r for r in ROUTES if r.pattern.match(path) and r.method == method]
    if known:
        raise SimError(
            404, f"{method} {path} does not exist on VALT {state.version_text}"
        )
    raise SimError(404, f"no endpoint {method} {path}")


def _v5(state: SimState) -> bool:
    return not state.at_least(6)


def _v6(state: SimState) -> bool:
    return state.at_least(6)


def _data(value: Any) -> dict[str, Any]:
    return {"data": value}


# -- login and general --------------------------------------------------------------
@route("POST", "login", auth=False)
def login(state: SimState, req: ApiRequest) -> Any:
    token = state.login(req.get("username"), req.get("password"))
    return _data({"access_token": token})


@route("GET", "admin/general", admin=True)
def general(state: SimState, req: ApiRequest) -> Any:
    return _data({"version": state.version_text, "name": "VALT simulator"})


# -- rooms and recording control ----------------------------------------------------------
@route("GET", "rooms/info")
def rooms_list(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        rooms = [{"id": r.id, "name": r.name} for r in state.rooms.values()]
    return _data({"rooms": rooms})


@route("GET", "rooms/info/{room}")
def room_info(state: SimState, req: ApiRequest, room: int) -> Any:
    info = state.room_info(room)
    info.pop("status")
    return _data(info)


@route("GET", "rooms/{room}/status")
def room_status(state: SimState, req: ApiRequest, room: int) -> Any:
    with state.lock:
        return _data({"status": state.room(room).status})


@route("POST", "rooms/{room}/record/start")
def start(state: SimState, req: ApiRequest, room: int) -> Any:
    return _data({"id": state.start(room, req.get("name"), req.get("author"))})


def _control(action: str, do: Callable[[SimState, int], int]) -> None:
    def handler(state: SimState, req: ApiRequest, room: int) -> Any:
        return _data({"id": do(state, room)})

    handler.__name__ = action.replace("/", "_")
    route("POST", "rooms/{room}/" + action)(handler)


_control("record/stop", SimState.stop)
_control("record/pause", SimState.pause)
_control("record/resume", SimState.resume)
_control("lock", SimState.lock_room)
_control("unlock", SimState.unlock_room)


# -- markers (5.x) and comments (6.x) -----------------------------------------------------
@route("POST", "rooms/{room}/record/markers", available=_v5)
def markers(state: SimState, req: ApiRequest, room: int) -> Any:
    colour = state.check_colour(req.get("color", "red"))
    rec = state.live_recording(room)
    comment = state.add_comment(rec.id, req.get("time"), req.get("event"), colour)
    return _data({"id": comment.id})


@route("POST", "rooms/{room}/record/comments", available=_v6)
def room_comments(state: SimState, req: ApiRequest, room: int) -> Any:
    # The 2024 client's 6.x path: the marker body on a comments URL (reference §1.4).
    colour = state.check_colour(req.get("color", "red"))
    rec = state.live_recording(room)
    comment = state.add_comment(rec.id, req.get("time"), req.get("event"), colour)
    return _data({"id": comment.id})


@route("POST", "comment", available=_v6)
def comment(state: SimState, req: ApiRequest) -> Any:
    text = _comment_text(state, req)
    made = state.add_comment(
        req.get("recordId"),
        req.get("recordTime"),
        text,
        None,
        str(req.get("type") or "simple"),
    )
    return made.as_json()  # top level, no "data" (reference §2.6)


def _comment_text(state: SimState, req: ApiRequest) -> Any:
    """The text in the body form this version expects; other forms are a 400.

    6.6 takes ``message`` with ``type: simple``; 6.5 the template object plus
    ``type``; 6.0-6.4 the template object alone (reference §1.4).
    """
    template = req.get("template")
    if state.at_least(6, 6):
        if req.get("type") != "simple" or not req.has("message"):
            raise SimError(
                400, "comment on VALT 6.6 needs type 'simple' and a 'message'"
            )
        return req.get("message")
    if not isinstance(template, dict) or "name" not in template:
        raise SimError(
            400,
            f"comment on VALT {state.version_text} needs a 'template' "
            "object with 'id', 'data' and 'name'",
        )
    if state.at_least(6, 5) and req.get("type") != "simple":
        raise SimError(400, "comment on VALT 6.5 needs type 'simple'")
    return template["name"]


@route("GET", "comment/record/{record}", available=_v6)
def comments_of(state: SimState, req: ApiRequest, record: int) -> Any:
    state.recording(record)
    with state.lock:
        found = [c.as_json() for c in state.comments.values() if c.record_id == record]
    return sorted(found, key=lambda c: (c["recordTime"], c["id"]))


@route("POST", "comment/update/{comment_id}", available=_v6)
def comment_update(state: SimState, req: ApiRequest, comment_id: int) -> Any:
    with state.lock:
        found = state.comments.get(comment_id)
        if found is None:
            raise SimError(404, f"comment {comment_id} not found")
        if not all(req.has(k) for k in ("recordId", "recordTime", "type")):
            # What the vendor saw when leaving these out (reference §2.6).
            raise SimError(
                500, "comment discriminator: recordId, recordTime and type are required"
            )
        found.time = int(req.get("recordTime"))
        found.text = str(req.get("message", found.text))
        return found.as_json()


@route("DELETE", "comment/{comment_id}", available=_v6)
def comment_delete(state: SimState, req: ApiRequest, comment_id: int) -> Any:
    with state.lock:
        if state.comments.pop(comment_id, None) is None:
            raise SimError(404, f"comment {comment_id} not found")
    return {"id": comment_id}


# -- users --------------------------------------------------------------------------
@route("GET", "admin/users", admin=True)
def users(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        listed = list(state.users.values())
    card = req.query.get("cardNumber")
    if card is not None and state.at_least(6, 5):
        # Exact string match: leading zeros count. Older servers ignore the query.
        listed = [u for u in listed if u["card_number"] and u["card_number"] == card]
    return _data([state.user_json(u) for u in listed])


@route("GET", "admin/users/{user}", admin=True)
def user(state: SimState, req: ApiRequest, user: int) -> Any:
    return _data(state.user_json(state.user(user)))


@route("POST", "admin/users", admin=True)
def user_create(state: SimState, req: ApiRequest) -> Any:
    name, password = req.get("name"), req.get("password")
    if (
        not isinstance(name, str)
        or not name
        or not isinstance(password, str)
        or not password
    ):
        raise SimError(400, "a new user needs 'name' and 'password'")
    with state.lock:
        if any(u["name"] == name for u in state.users.values()):
            raise SimError(409, f"user name '{name}' is taken")
        new_id = state.next_id("user")
        state.users[new_id] = {
            "id": new_id,
            "name": name,
            "password": password,
            "displayName": str(req.get("display_name") or name),
            "admin": False,
            "card_number": str(req.get("card_number") or ""),
        }
    return _data({"id": new_id})


@route("POST", "admin/users/{user}/edit", admin=True)
def user_edit(state: SimState, req: ApiRequest, user: int) -> Any:
    with state.lock:
        found = state.user(user)
        for key in ("name", "password", "displayName", "card_number"):
            if isinstance(req.get(key), (str, int)):
                found[key] = str(req.get(key))
        return _data(state.user_json(found))


@route("POST", "admin/users/{user}/delete", admin=True)
def user_delete(state: SimState, req: ApiRequest, user: int) -> Any:
    with state.lock:
        state.user(user)
        del state.users[user]
        state.revoke_tokens(user)
    return _data({"id": user})


# -- cameras ------------------------------------------------------------------------
@route("GET", "admin/rooms/{room}/cameras", admin=True)
def room_cameras(state: SimState, req: ApiRequest, room: int) -> Any:
    state.room(room)
    with state.lock:
        found = [
            _camera(c) for c in state.cameras.values() if room in c.get("rooms", [])
        ]
    return _data({"cameras": found})


@route("GET", "admin/cameras", admin=True)
def cameras(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        return _data({"cameras": [_camera(c) for c in state.cameras.values()]})


@route("GET", "admin/cameras/{camera}", admin=True)
def camera(state: SimState, req: ApiRequest, camera: int) -> Any:
    found = state.cameras.get(camera)
    if found is None:
        raise SimError(404, f"camera {camera} not found")
    return _data(_camera(found))


def _camera(item: dict[str, Any]) -> dict[str, Any]:
    # VALT hands camera credentials to admin tokens (reference §2.3); so do we.
    return {
        "id": item["id"],
        "name": item.get("name", ""),
        "ip": item.get("ip", ""),
        "username": item.get("username", ""),
        "password": item.get("password", ""),
        "type": "camera",
        "rooms": list(item.get("rooms", [])),
    }


# -- schedules ----------------------------------------------------------------------
@route("GET", "schedule")
def schedules(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        items = [state.schedule_json(s) for s in state.schedule_items.values()]
    return _data({"schedules": items})


@route("GET", "schedule/{schedule}")
def schedule(state: SimState, req: ApiRequest, schedule: int) -> Any:
    found = state.schedule_items.get(schedule)
    if found is None:
        raise SimError(404, f"schedule {schedule} not found")
    return _data(state.schedule_json(found))


@route("POST", "schedule")
def schedule_create(state: SimState, req: ApiRequest) -> Any:
    name, room, start_at, duration = (
        req.get(k) for k in ("name", "room", "start_at", "duration")
    )
    if not isinstance(name, str) or not name:
        raise SimError(400, "a schedule needs a 'name'")
    if not all(isinstance(v, int) and v >= 0 for v in (room, start_at, duration)):
        raise SimError(
            400, "a schedule needs integer 'room', 'start_at' and 'duration'"
        )
    state.room(room)
    with state.lock:
        new_id = state.next_id("schedule")
        state.schedule_items[new_id] = {
            "id": new_id,
            "name": name,
            "start_at": start_at,
            "stop_at": start_at + duration,
            "rooms": [room],
        }
    return _data({"id": new_id})


@route("POST", "schedule/{schedule}/delete")
def schedule_delete(state: SimState, req: ApiRequest, schedule: int) -> Any:
    with state.lock:
        if state.schedule_items.pop(schedule, None) is None:
            raise SimError(404, f"schedule {schedule} not found")
    return _data({"id": schedule})


# -- user groups and templates ------------------------------------------------------
_GROUP_KEYS = (
    "template",
    "rights",
    "max_record_duration",
    "rooms",
    "video_access",
    "retention",
)


@route("GET", "admin/user_groups", admin=True)
def groups(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        return _data({"userGroups": list(state.groups.values())})


@route("GET", "admin/user_groups/{group}", admin=True)
def group(state: SimState, req: ApiRequest, group: int) -> Any:
    found = state.groups.get(group)
    if found is None:
        raise SimError(404, f"user group {group} not found")
    return _data(found)


@route("POST", "admin/user_groups", admin=True)
def group_create(state: SimState, req: ApiRequest) -> Any:
    name = req.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SimError(400, "a user group needs a 'name'")
    template = req.get("template")
    if template is not None and not (
        isinstance(template, dict) and {"information", "comment"} <= set(template)
    ):
        raise SimError(400, "'template' must be {information: id, comment: id}")
    with state.lock:
        if any(g.get("name") == name for g in state.groups.values()):
            raise SimError(409, f"user group '{name}' exists")
        new_id = state.next_id("group")
        # The other fields are passed through unchanged (reference §2.5).
        state.groups[new_id] = {"id": new_id, "name": name} | {
            k: req.get(k) for k in _GROUP_KEYS if req.has(k)
        }
    return _data({"id": new_id})


@route("POST", "admin/user_groups/{group}/delete", admin=True)
def group_delete(state: SimState, req: ApiRequest, group: int) -> Any:
    with state.lock:
        if state.groups.pop(group, None) is None:
            raise SimError(404, f"user group {group} not found")
    return _data({"id": group})


@route("GET", "admin/templates", admin=True)
def admin_templates(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        return _data(list(state.templates.values()))


@route("GET", "template")
def templates(state: SimState, req: ApiRequest) -> Any:
    wanted = req.query.get("type")
    with state.lock:
        found = [t for t in state.templates.values() if wanted in (None, t.get("type"))]
    return {"templates": found, "default": found[0]["id"] if found else None}
