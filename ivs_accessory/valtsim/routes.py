"""The API's endpoints for login, rooms and recording control, markers and comments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Imported for its side effect: its @route decorators add the admin endpoints
# (users, cameras, schedules, groups, templates) to ROUTES, so that whoever imports
# this module gets the whole API.
from ivs_accessory.valtsim import admin_routes  # noqa: F401
from ivs_accessory.valtsim.routing import (
    ROUTES,
    ApiRequest,
    Route,
    find,
    is_action,
    route,
    wrap,
)
from ivs_accessory.valtsim.state import ForbiddenTransition, SimError, SimState

# The route table is part of this module's face: the server calls routes.find().
__all__ = ["ROUTES", "ApiRequest", "Route", "find", "is_action", "route"]


def _v5(state: SimState) -> bool:
    return not state.at_least(6)


def _v6(state: SimState) -> bool:
    return state.at_least(6)


# -- login ----------------------------------------------------------------------------
@route("POST", "login", auth=False)
def login(state: SimState, req: ApiRequest) -> Any:
    token = state.login(req.get("username"), req.get("password"))
    return wrap({"access_token": token})


# -- rooms and recording control ------------------------------------------------------
@route("GET", "rooms/info")
def rooms_list(state: SimState, req: ApiRequest) -> Any:
    with state.lock:
        rooms = [{"id": r.id, "name": r.name} for r in state.rooms.values()]
    return wrap({"rooms": rooms})


@route("GET", "rooms/info/{room}")
def room_info(state: SimState, req: ApiRequest, room: int) -> Any:
    info = state.room_info(room)
    info.pop("status")
    return wrap(info)


@route("GET", "rooms/{room}/status")
def room_status(state: SimState, req: ApiRequest, room: int) -> Any:
    with state.lock:
        return wrap({"status": state.room(room).status})


@route("POST", "rooms/{room}/record/start", action=True)
def start(state: SimState, req: ApiRequest, room: int) -> Any:
    return wrap({"id": state.start(room, req.get("name"), req.get("author"))})


def _control(action: str, do: Callable[[SimState, int], int]) -> None:
    def handler(state: SimState, req: ApiRequest, room: int) -> Any:
        return wrap({"id": do(state, room)})

    handler.__name__ = action.replace("/", "_")
    route("POST", "rooms/{room}/" + action, action=True)(handler)


_control("record/stop", SimState.stop)
_control("record/pause", SimState.pause)
_control("record/resume", SimState.resume)
_control("lock", SimState.lock_room)
_control("unlock", SimState.unlock_room)


# -- markers (5.x) and comments (6.x) -------------------------------------------------
@route("POST", "rooms/{room}/record/markers", available=_v5, action=True)
def markers(state: SimState, req: ApiRequest, room: int) -> Any:
    colour = state.check_colour(req.get("color", "red"))
    rec = state.live_recording(room)
    comment = state.add_comment(rec.id, req.get("time"), req.get("event"), colour)
    return wrap({"id": comment.id})


@route("POST", "rooms/{room}/record/comments", available=_v6, action=True)
def room_comments(state: SimState, req: ApiRequest, room: int) -> Any:
    # The 2024 client's 6.x path: the marker body on a comments URL (reference §1.4).
    colour = state.check_colour(req.get("color", "red"))
    rec = state.live_recording(room)
    comment = state.add_comment(rec.id, req.get("time"), req.get("event"), colour)
    return wrap({"id": comment.id})


@route("POST", "comment", available=_v6, action=True)
def comment(state: SimState, req: ApiRequest) -> Any:
    text, kind = _comment_text(state, req), str(req.get("type") or "simple")
    try:
        made = state.add_comment(
            req.get("recordId"), req.get("recordTime"), text, None, kind
        )
    except ForbiddenTransition as exc:
        # What a server that answers 200 to refusals would send: a comment that
        # looks made but has no id.
        exc.success_answer = {
            "id": None,
            "recordId": req.get("recordId"),
            "recordTime": int(req.get("recordTime")),
            "type": kind,
            "message": text,
        }
        raise
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
