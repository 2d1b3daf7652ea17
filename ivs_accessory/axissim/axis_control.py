"""The Axis simulator's /_sim/ control API: request log, state, faults, config."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from ivs_accessory.axissim.vapix_routes import Reply

if TYPE_CHECKING:
    from ivs_accessory.axissim.axis_server import AxisSimulator


def json_reply(status: int, payload: Any) -> Reply:
    """A JSON answer."""
    return Reply(status, json.dumps(payload).encode(), "application/json")


def control_answer(
    sim: AxisSimulator, method: str, path: str, query_text: str, raw: bytes
) -> Reply:
    """Answer one request under /_sim/ (``path`` is what follows it), in JSON.

    ``GET requests[?path=P]``, ``DELETE requests``, ``GET state``, ``GET faults``,
    ``POST faults`` (an :class:`AxisFault` as JSON), ``DELETE faults``,
    ``POST config`` (``password``, ``privacy_masks``, ``ptz``, ``audio``; a feature
    change resets the camera), ``POST reset``. No authentication.
    """
    try:
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise ValueError("the body must be a JSON object")
        return json_reply(200, _answer(sim, method, path.rstrip("/"), query_text, body))
    except LookupError as exc:
        return json_reply(404, {"error": str(exc.args[0])})
    except (ValueError, TypeError) as exc:
        return json_reply(400, {"error": str(exc)})


def _answer(
    sim: AxisSimulator, method: str, path: str, query_text: str, body: dict[str, Any]
) -> Any:
    query = dict(parse_qsl(query_text))
    if (method, path) == ("GET", "requests"):
        return {"requests": sim.requests(query.get("path"))}
    if (method, path) == ("DELETE", "requests"):
        sim.clear_requests()
        return {"cleared": True}
    if (method, path) == ("GET", "state"):
        return sim.snapshot()
    if (method, path) == ("GET", "faults"):
        return {"faults": sim.faults.active()}
    if (method, path) == ("POST", "faults"):
        return {"id": sim.inject(**body)}
    if (method, path) == ("DELETE", "faults"):
        sim.clear_faults()
        return {"cleared": True}
    if (method, path) == ("POST", "config"):
        return _config(sim, body)
    if (method, path) == ("POST", "reset"):
        sim.reset()
        return {"reset": True}
    raise LookupError(
        f"no control endpoint {method} /_sim/{path}; see GET /_sim/requests, "
        "/_sim/state, /_sim/faults; POST /_sim/config, /_sim/reset"
    )


def _config(sim: AxisSimulator, body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - {"password", "privacy_masks", "ptz", "audio"})
    if unknown:
        raise ValueError(
            f"unknown config key(s) {unknown}; use password, privacy_masks, ptz, audio"
        )
    if "password" in body:
        if not isinstance(body["password"], str):
            raise ValueError("'password' must be a string")
        sim.set_password(body.pop("password"))
    if body:
        sim.set_features(**body)
    return {"features": sim.snapshot()["features"]}
