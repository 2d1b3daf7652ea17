"""The /_sim/ control API: request log, faults, config, reset and rooms over HTTP."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ivs_accessory.valtsim.handler import SimHandler, parse_body
from ivs_accessory.valtsim.state import STATUSES, SimError

if TYPE_CHECKING:
    from ivs_accessory.valtsim.simulator import ValtSimulator


def serve_control(
    sim: ValtSimulator, handler: SimHandler, path: str, query_text: str, raw: bytes
) -> None:
    """Answer one request under /_sim/ (``path`` is what follows it) in JSON."""
    try:
        body = parse_body(raw)
        status, payload = (
            200,
            _answer(sim, handler, path.rstrip("/"), query_text, body),
        )
    except SimError as exc:
        status, payload = exc.status, {"error": exc.message}
    except (ValueError, TypeError) as exc:
        status, payload = 400, {"error": str(exc)}
    handler._send_json(status, payload)


def _answer(
    sim: ValtSimulator,
    handler: SimHandler,
    path: str,
    query_text: str,
    body: dict[str, Any],
) -> Any:
    """The payload for one control request; raises SimError for bad ones."""
    method = handler.command
    query = dict(parse_qsl(query_text))
    if (method, path) == ("GET", "requests"):
        return {"requests": sim.requests(query.get("path"))}
    if (method, path) == ("DELETE", "requests"):
        sim.clear_requests()
        return {"cleared": True}
    if (method, path) == ("POST", "reset"):
        sim.reset()
        return {"reset": True}
    if path == "config" and method in ("GET", "POST"):
        return _config(sim, body)
    if (method, path) == ("GET", "state"):
        return sim.state.snapshot()
    if (method, path) == ("GET", "faults"):
        return {"faults": sim.faults.active()}
    if (method, path) == ("DELETE", "faults"):
        sim.clear_faults()
        return {"cleared": True}
    if (method, path) == ("POST", "faults"):
        if body.get("down") and body.get("duration_s") is None:
            raise SimError(
                400,
                "'down' over HTTP needs 'duration_s', or nothing "
                "could bring the server back",
            )
        if body.get("down"):
            handler.close_connection = True
            return {"id": sim.inject(_keep=handler.request, **body)}
        return {"id": sim.inject(**body)}
    room_status = re.fullmatch(r"rooms/([0-9]+)/status", path)
    if room_status and method == "POST":
        status = body.get("status")
        if not isinstance(status, str) or not status:
            raise SimError(400, f"'status' must be a string such as {list(STATUSES)}")
        sim.set_room_status(int(room_status.group(1)), status)
        return sim.state.room_info(int(room_status.group(1)))
    raise SimError(
        404,
        f"no control endpoint {method} /_sim/{path}; see "
        "GET /_sim/requests, /_sim/state, /_sim/faults, /_sim/config",
    )


_CONFIG_KEYS = ("forbidden",)


def _config(sim: ValtSimulator, body: dict[str, Any]) -> dict[str, Any]:
    """Change the run-time settings in ``body`` (all or none); the settings now."""
    unknown = sorted(set(body) - set(_CONFIG_KEYS))
    if unknown:
        raise SimError(
            400, f"unknown config key(s) {unknown}; use {list(_CONFIG_KEYS)}"
        )
    if "forbidden" in body:
        sim.set_forbidden(body["forbidden"])
    return {"forbidden": sim.forbidden}
