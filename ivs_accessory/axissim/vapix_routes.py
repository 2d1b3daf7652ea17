"""The VAPIX endpoints the simulator serves: param.cgi, privacymask.cgi and ptz.cgi,
each a function from the query to an answer, as a camera words it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from ivs_accessory.axissim.axis_state import (
    MAX_PRESET_NAME,
    AxisState,
    VapixError,
)

TEXT = "text/plain"


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, content type and body."""

    status: int
    body: bytes = b""
    content_type: str = TEXT


NO_CONTENT = Reply(204)
NOT_FOUND = Reply(404, b"Not Found\n")


def text(lines: list[str] | str) -> Reply:
    """A ``200 OK`` text answer, one line each."""
    body = lines if isinstance(lines, str) else "\n".join(lines)
    return Reply(200, (body + "\n").encode())


def vapix_error(message: str) -> Reply:
    """How privacymask.cgi and ptz.cgi refuse: ``200 OK`` and ``Error:<message>``."""
    return text(f"Error:{message}")


Route = Callable[[AxisState, dict[str, str], bool], Reply]


def param_cgi(state: AxisState, query: dict[str, str], applied: bool) -> Reply:
    """``action=list[&group=A,B]`` and ``action=update&Name=value...``."""
    action = query.get("action", "")
    if action == "list":
        groups = [g for g in query.get("group", "").split(",") if g]
        try:
            return text(state.list_params(groups))
        except VapixError as exc:
            return text(f"# Error: {exc}")
    if action == "update":
        changes = {k: v for k, v in query.items() if k != "action"}
        if not changes:
            return text("# Error: update needs at least one parameter")
        try:
            if applied:
                state.update_params(changes)
        except VapixError as exc:
            return text(f"# Error: {exc}")
        return text("OK")
    return text(f"# Error: unknown action '{action}'; use list or update")


def privacymask_cgi(state: AxisState, query: dict[str, str], applied: bool) -> Reply:
    """``action=add|update|remove|enable_all|disable_all`` and ``query=listpxjson``."""
    if not state.features.privacy_masks:
        return NOT_FOUND  # the model has no privacymask.cgi at all
    if query.get("query") == "listpxjson":
        body = json.dumps(state.list_masks()).encode()
        return Reply(200, body, "application/json")
    if "query" in query:
        return vapix_error(f"query: unknown value: {query['query']}")
    action = query.get("action", "")
    try:
        if action in ("add", "update"):
            _add_or_update(state, query, action, applied)
        elif action == "remove":
            if applied:
                state.remove_mask(_mask_name(query))
        elif action in ("enable_all", "disable_all"):
            if applied:
                state.enable_masks(action == "enable_all")
        else:
            return vapix_error(f"action: unknown value: {action}")
    except VapixError as exc:
        return vapix_error(str(exc))
    return NO_CONTENT


def _add_or_update(
    state: AxisState, query: dict[str, str], action: str, applied: bool
) -> None:
    name = _mask_name(query)
    width, height = _percent(query, "width"), _percent(query, "height")
    center = (50.0, 50.0)
    if "center" in query:
        x, _, y = query["center"].partition(",")
        center = (_percent({"x": x}, "x"), _percent({"y": y}, "y"))
    if not applied:
        return
    if action == "update":
        state.remove_mask(name)
    state.add_mask(name, width, height, center)


def _mask_name(query: dict[str, str]) -> str:
    name = query.get("name", "")
    if not name:
        raise VapixError("name: a mask name is required")
    return name


def _percent(query: dict[str, str], key: str) -> float:
    try:
        value = float(query[key])
    except KeyError:
        raise VapixError(f"{key}: required (0.0 ... 100.0)") from None
    except ValueError:
        raise VapixError(f"{key}: not a number: {query[key]}") from None
    if not 0.0 <= value <= 100.0:
        raise VapixError(f"{key}: out of range (0.0 ... 100.0): {value:g}")
    return value


def ptz_cgi(state: AxisState, query: dict[str, str], applied: bool) -> Reply:
    """``query=presetposall`` and ``gotoserverpresetname=NAME`` (``camera=1``)."""
    if not state.features.ptz:
        return NOT_FOUND  # a fixed camera: no PTZ driver, no ptz.cgi
    if query.get("camera", "1") != "1":
        return vapix_error(f"camera: unknown value: {query['camera']}")
    if "query" in query:
        if query["query"] != "presetposall":
            return vapix_error(f"query: unknown value: {query['query']}")
        return text(state.preset_lines())
    name = query.get("gotoserverpresetname")
    if name is None:
        return vapix_error("no command given; try gotoserverpresetname or query")
    if not name or len(name) > MAX_PRESET_NAME:
        return vapix_error(f"gotoserverpresetname: invalid value: {name}")
    try:
        if applied:
            state.goto_preset(name)
    except VapixError as exc:
        return vapix_error(str(exc))
    return NO_CONTENT


ROUTES: dict[str, Route] = {
    "axis-cgi/param.cgi": param_cgi,
    "axis-cgi/privacymask.cgi": privacymask_cgi,
    "axis-cgi/com/ptz.cgi": ptz_cgi,
}
"""Path (without the leading slash) -> the endpoint."""
