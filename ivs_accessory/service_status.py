"""The daemon's state in words for the page, /healthz and tests: room and VALT."""

from __future__ import annotations

from typing import Any

from ivs_accessory.door.room import RoomState
from ivs_accessory.errors import ValtAuthError, ValtRejected, ValtUnavailable
from ivs_accessory.valt.client import ValtClient


def room_status(
    number: int | None, room: RoomState | None, now: float
) -> dict[str, Any]:
    """The room for the page: the last known status (kept after a failure, with
    its age), its name, and who started the recording how long ago."""
    rec = room.recording if room is not None else None
    return {
        "id": number,
        "status": room.status.value if room and room.status else None,
        "status_age_s": room.age() if room is not None else None,
        "name": room.name if room is not None else None,
        "started_by": rec.started_by if rec is not None else None,
        "elapsed_s": rec.elapsed(now) if rec is not None else None,
    }


def valt_state(client: ValtClient | None, room: RoomState | None) -> str:
    """The connection to VALT in one word, for the page (``Service.status()``).

    ``not_configured`` (no server), ``connecting`` (no login has finished yet),
    ``login_refused``, ``unreachable``, ``error`` (the last login or request failed
    so), or ``connected``: the last login worked and no request has failed since.
    """
    if client is None:
        return "not_configured"
    auth = client.auth
    if auth.login_error is not None:
        return _failure_kind(auth.login_error)
    if not auth.logged_in:
        return "connecting"
    if room is not None and room.online is False:
        return "unreachable"
    if (room is not None and room.last_error) or client.last_error:
        return "error"
    return "connected"


def _failure_kind(error: Exception) -> str:
    if isinstance(error, ValtUnavailable):
        return "unreachable"
    if isinstance(error, ValtAuthError) or (
        isinstance(error, ValtRejected) and error.status in (401, 403)
    ):
        return "login_refused"
    return "error"


def source_status(source: Any) -> dict[str, Any]:
    try:
        return dict(source.status())
    except Exception as exc:
        return {"connected": False, "last_error": f"status unavailable: {exc}"}
