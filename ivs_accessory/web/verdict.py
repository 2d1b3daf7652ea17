"""After a VALT save: one login with the saved settings, and how to say it went."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ivs_accessory.web import probe

Verdict = tuple[str, str, dict[str, str]]  # message, level (ok/warn/bad), warnings

_LOGIN_WORDS = {
    "credentials": "refused (check the user name and the password)",
    "unreachable": "unreachable (check the server address and the network)",
    "tls": "TLS problem (check the CA file and the certificate)",
    "version": "the server does not answer like VALT",
}
_WARNED_FIELD = {
    "credentials": "password",
    "unreachable": "server",
    "tls": "ca_file",
    "version": "server",
}


def login_verdict(result: dict[str, Any], room: int | None) -> Verdict:
    """What a saved VALT form leads to, from a connection test with the saved values.

    Each thing is said once: the details of a failure go next to the field to fix.

    Returns:
        (the message, its level ``ok``/``warn``/``bad``, warnings by field).
    """
    if not result["ok"]:
        reason = result["reason"]
        words = _LOGIN_WORDS.get(reason, "failed")
        field = _WARNED_FIELD.get(reason)
        if field is None:  # no field to put the details by: the message says them
            return f"Saved. VALT login: {words}. {result['message']}", "bad", {}
        return f"Saved. VALT login: {words}.", "bad", {field: result["message"]}
    known = {r["id"] for r in result["rooms"]}
    if room is None:
        return (
            "Saved. VALT login works; now choose the room this door controls.",
            "warn",
            {"room": "choose the room this door controls"},
        )
    if room not in known:
        return (
            f"Saved. VALT login works, but VALT has no room {room}.",
            "warn",
            {"room": f"VALT has no room {room}; pick one from the list"},
        )
    version = f" (VALT {result['version']})" if result.get("version") else ""
    return f"VALT settings saved and applied; the login works{version}.", "ok", {}


def check_saved_login(
    valt: dict[str, Any],
    old_server: str,
    typed_password: bool,
    test: Callable[[dict[str, Any]], dict[str, Any]] = probe.test_connection,
) -> Verdict:
    """Log in once with the saved ``[valt]`` values and say how it went: never
    "applied" in green unless it worked.

    The saved password is tried only on the server it was saved for: after a change
    of server without a new password, the page does not send it there.

    Args:
        valt: the ``[valt]`` section as saved.
        old_server: the server before this save.
        typed_password: the form carried a new password.
        test: the connection test (``probe.test_connection``).
    """
    if not valt["server"]:
        return (
            "Saved. No VALT server is set, so the door cannot record yet.",
            "warn",
            {},
        )
    if valt["server"] != old_server and not typed_password and valt["password"]:
        return (
            "Saved. VALT login not tested: the server changed and the saved "
            "password belongs to the old one. Type the password for the new server "
            "and use Test connection.",
            "warn",
            {"password": "type the password for the new server"},
        )
    return login_verdict(test(dict(valt)), valt["room"])
