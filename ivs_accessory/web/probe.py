"""VALT page *Test connection*: try maybe-unsaved settings, say exactly what's wrong."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from ivs_accessory.errors import (
    ValtAuthError,
    ValtBadResponse,
    ValtError,
    ValtRejected,
    ValtTLSError,
    ValtUnavailable,
)
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import ServerVersion
from ivs_accessory.valt.transport import base_url

logger = logging.getLogger(__name__)

OLDEST_SUPPORTED = ServerVersion(5, 0, 0)
NEWEST_TESTED = ServerVersion(6, 6, 0)
PASSWORD_AGAIN = (
    "enter the password again: the server changed, and the saved password is sent "
    "only to the saved server"
)


def endpoint(server: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) the client would connect to for ``server``; None if bad."""
    try:
        parts = urlsplit(base_url(server))
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, (parts.hostname or "").lower(), port


def saved_password_problem(
    saved: Mapping[str, Any], form: Mapping[str, str]
) -> dict[str, str]:
    """``{"password": why}`` when the VALT form may not use the saved password.

    The saved password belongs to the saved server. A form naming another server
    (scheme, host or port) must bring its own, or Test connection and Save would
    hand the saved one to whatever server was typed: anyone with a session, or a
    typo, could collect it with a listener.
    """
    if form.get("password") or "clear_password" in form or not saved.get("password"):
        return {}
    mine = endpoint(saved.get("server") or "")
    if mine is not None and mine == endpoint(form.get("server", "")):
        return {}
    return {"password": PASSWORD_AGAIN}


def _reason(exc: ValtError) -> tuple[str, str]:
    """(reason code, a sentence for the installer) for a failed test."""
    if isinstance(exc, ValtTLSError):
        return "tls", f"TLS problem: {exc}"
    if isinstance(exc, ValtUnavailable):
        if exc.reason == "no_response":
            return "unreachable", f"VALT did not answer: {exc}"
        return "unreachable", f"VALT cannot be reached: {exc}"
    if isinstance(exc, ValtAuthError):
        return "credentials", f"VALT refused the user name or password: {exc}"
    if isinstance(exc, ValtBadResponse):
        return "version", f"The server does not answer like VALT: {exc}"
    if isinstance(exc, ValtRejected) and exc.status == 403:
        return "credentials", (
            "The account may log in but not read the VALT version; "
            f"give it administrator rights ({exc})"
        )
    return "error", f"VALT answered with an error: {exc}"


def test_connection(
    values: dict[str, Any], factory: Callable[..., ValtClient] = ValtClient
) -> dict[str, Any]:
    """Log in with validated ``[valt]`` values, read the version and the room list.

    Returns:
        ``{"ok", "reason", "message", "version", "rooms": [{"id", "name"}]}``;
        ``reason`` is ``ok``, ``unreachable``, ``credentials``, ``tls``, ``version``
        or ``error``.
    """
    client = factory(
        values["server"],
        values["username"],
        values["password"],
        timeout=values["timeout_s"],
        verify_tls=values["verify_tls"],
        ca_file=values["ca_file"] or None,
        auto_reauth=False,
    )
    try:
        version = client.test_connection()
        if version < OLDEST_SUPPORTED:
            return _result(
                False,
                "version",
                f"VALT {version} is older than "
                f"{OLDEST_SUPPORTED}, which this accessory needs",
                version,
            )
        rooms = [{"id": r.id, "name": r.name} for r in client.rooms()]
    except ValtError as exc:
        reason, message = _reason(exc)
        logger.info("page: VALT test failed (%s): %s", reason, exc)
        return _result(False, reason, message)
    finally:
        client.close()
    message = (
        f"Connected to VALT {version} as {values['username']}; {len(rooms)} rooms."
    )
    if version > NEWEST_TESTED:
        message += f" (Newer than {NEWEST_TESTED}, the newest version tested.)"
    return _result(True, "ok", message, version, rooms)


def _result(
    ok: bool,
    reason: str,
    message: str,
    version: ServerVersion | None = None,
    rooms: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "ok": ok,
        "reason": reason,
        "message": message,
        "version": str(version) if version else None,
        "rooms": rooms or [],
    }
