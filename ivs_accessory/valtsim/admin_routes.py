"""The API's admin endpoints: general, users, cameras, schedules, groups, templates."""

from __future__ import annotations

from typing import Any

from ivs_accessory.valtsim.routing import ApiRequest, route, wrap
from ivs_accessory.valtsim.state import SimError, SimState


# -- general --------------------------------------------------------------------------
@route("GET", "admin/general", admin=True)
def general(state: SimState, req: ApiRequest) -> Any:
    return wrap({"version": state.version_text, "name": "VALT simulator"})


# -- users ----------------------------------------------------------------------------
@route("GET", "admin/users", admin=True)
def users(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        listed = list(state.users.values())
    card = req.query.get("cardNumber")
    if card is not None and state.at_least(6, 5):
        # Exact string match: leading zeros count. Older servers ignore the query.
        listed = [u for u in listed if u["card_number"] and u["card_number"] == card]
    return wrap([state.user_json(u) for u in listed])


@route("GET", "admin/users/{user}", admin=True)
def user(state: SimState, req: ApiRequest, user: int) -> Any:
    return wrap(state.user_json(state.user(user)))


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
        _refuse_taken_card(state, 0, req.get("card_number"))
        new_id = state.next_id("user")
        state.users[new_id] = {
            "id": new_id,
            "name": name,
            "password": password,
            "displayName": str(req.get("display_name") or name),
            "admin": False,
            "card_number": str(req.get("card_number") or ""),
        }
    return wrap({"id": new_id})


@route("POST", "admin/users/{user}/edit", admin=True)
def user_edit(state: SimState, req: ApiRequest, user: int) -> Any:
    with state.lock:
        found = state.user(user)
        _refuse_taken_card(state, user, req.get("card_number"))
        for key in ("name", "password", "displayName", "card_number"):
            if isinstance(req.get(key), (str, int)):
                found[key] = str(req.get(key))
        return wrap(state.user_json(found))


def _refuse_taken_card(state: SimState, user: int, card: Any) -> None:
    """409 when another user already has ``card`` as card number: two users with
    one number would make a PIN or card match whichever is listed last."""
    if not isinstance(card, (str, int)) or str(card) == "":
        return
    holder = next(
        (
            u
            for u in state.users.values()
            if u["id"] != user and u["card_number"] == str(card)
        ),
        None,
    )
    if holder is not None:
        raise SimError(
            409, f"the card number is already assigned to user '{holder['name']}'"
        )


@route("POST", "admin/users/{user}/delete", admin=True)
def user_delete(state: SimState, req: ApiRequest, user: int) -> Any:
    with state.lock:
        state.user(user)
        del state.users[user]
        state.revoke_tokens(user)
    return wrap({"id": user})


# -- cameras --------------------------------------------------------------------------
@route("GET", "admin/rooms/{room}/cameras", admin=True)
def room_cameras(state: SimState, req: ApiRequest, room: int) -> Any:
    state.room(room)
    with state.lock:
        found = [
            _camera(c) for c in state.cameras.values() if room in c.get("rooms", [])
        ]
    return wrap({"cameras": found})


@route("GET", "admin/cameras", admin=True)
def cameras(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        return wrap({"cameras": [_camera(c) for c in state.cameras.values()]})


@route("GET", "admin/cameras/{camera}", admin=True)
def camera(state: SimState, req: ApiRequest, camera: int) -> Any:
    found = state.cameras.get(camera)
    if found is None:
        raise SimError(404, f"camera {camera} not found")
    return wrap(_camera(found))


def _camera(item: dict[str, Any]) -> dict[str, Any]:
    # VALT hands camera credentials to admin tokens (reference §2.3); so do we.
    # http_port only when the data has one (whether VALT lists it is unknown).
    port = {"http_port": item["http_port"]} if "http_port" in item else {}
    return {
        **port,
        "id": item["id"],
        "name": item.get("name", ""),
        "ip": item.get("ip", ""),
        "username": item.get("username", ""),
        "password": item.get("password", ""),
        "type": "camera",
        "rooms": list(item.get("rooms", [])),
    }


# -- schedules ------------------------------------------------------------------------
@route("GET", "schedule")
def schedules(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        items = [state.schedule_json(s) for s in state.schedule_items.values()]
    return wrap({"schedules": items})


@route("GET", "schedule/{schedule}")
def schedule(state: SimState, req: ApiRequest, schedule: int) -> Any:
    found = state.schedule_items.get(schedule)
    if found is None:
        raise SimError(404, f"schedule {schedule} not found")
    return wrap(state.schedule_json(found))


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
    return wrap({"id": new_id})


@route("POST", "schedule/{schedule}/delete")
def schedule_delete(state: SimState, req: ApiRequest, schedule: int) -> Any:
    with state.lock:
        if state.schedule_items.pop(schedule, None) is None:
            raise SimError(404, f"schedule {schedule} not found")
    return wrap({"id": schedule})


# -- user groups and templates --------------------------------------------------------
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
        return wrap({"userGroups": list(state.groups.values())})


@route("GET", "admin/user_groups/{group}", admin=True)
def group(state: SimState, req: ApiRequest, group: int) -> Any:
    found = state.groups.get(group)
    if found is None:
        raise SimError(404, f"user group {group} not found")
    return wrap(found)


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
    return wrap({"id": new_id})


@route("POST", "admin/user_groups/{group}/delete", admin=True)
def group_delete(state: SimState, req: ApiRequest, group: int) -> Any:
    with state.lock:
        if state.groups.pop(group, None) is None:
            raise SimError(404, f"user group {group} not found")
    return wrap({"id": group})


@route("GET", "admin/templates", admin=True)
def admin_templates(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        return wrap(list(state.templates.values()))


@route("GET", "template")
def templates(state: SimState, req: ApiRequest) -> Any:
    wanted = req.query.get("type")
    with state.lock:
        found = [t for t in state.templates.values() if wanted in (None, t.get("type"))]
    return {"templates": found, "default": found[0]["id"] if found else None}
