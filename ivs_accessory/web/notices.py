"""Banners on every page: safe mode, VALT not working, a network change rolled back."""

from __future__ import annotations

import datetime
import re
from typing import Any

from ivs_accessory.web.live import valt_alert

# Which page fixes the settings of a config section (the text in "[section] ...").
_SECTION_PAGES = {
    "valt": ("/valt", "VALT"),
    "mapping": ("/inputs", "Inputs"),
    "lockout": ("/inputs", "Inputs"),
    "bindings": ("/inputs", "Inputs"),
    "feedback": ("/inputs", "Inputs"),
    "source": ("/inputs", "Inputs"),
    "network": ("/network", "Network"),
    "time": ("/time", "Time"),
}
_SYSTEM_PAGE = ("/system", "System")
_SECTION = re.compile(r"\[([A-Za-z0-9_-]+)(?::[^\]]*)?\]")


def page_for_error(text: str) -> tuple[str, str]:
    """(path, page name) of the form that fixes a config error such as
    ``[valt] room = 'x': ...``; the System page when no section is named."""
    match = _SECTION.search(text)
    section = match.group(1).lower() if match else ""
    return _SECTION_PAGES.get(section, _SYSTEM_PAGE)


def safe_mode(status: dict[str, Any]) -> dict[str, Any] | None:
    """``{"errors": [{"text", "href", "page"}], "last_good"}`` while the daemon runs in
    safe mode (``status["safe_mode"]``), else None."""
    safe = status.get("safe_mode")
    if not isinstance(safe, dict):
        return None
    errors = []
    for error in safe.get("errors") or ["the configuration is not valid"]:
        href, name = page_for_error(str(error))
        errors.append({"text": str(error), "href": href, "page": name})
    return {"errors": errors, "last_good": bool(safe.get("last_good"))}


def rollback_words(rollback: dict[str, Any] | None) -> str:
    """What the trial's last roll-back was, in a sentence (or "")."""
    if not rollback:
        return ""
    at = rollback.get("at")
    when = (
        " at " + datetime.datetime.fromtimestamp(at).strftime("%H:%M:%S") if at else ""
    )
    return (
        f"The network change ({rollback['summary']}) was not confirmed in time and "
        f"was rolled back{when}; the previous settings are in use."
    )


def notices(
    status: dict[str, Any],
    rollback: dict[str, Any] | None,
    seen: dict[str, Any],
    path: str,
) -> dict[str, Any]:
    """The banners for one page view of a logged-in session.

    Args:
        status: ``Service.status()``.
        rollback: ``NetworkTrial.last_rollback()``.
        seen: the session's data; a roll-back is told once per session (the
            Network page always says it, in its own words).
        path: the page shown.
    """
    fresh = False
    if rollback and seen.get("rollback_told") != rollback["number"]:
        seen["rollback_told"] = rollback["number"]
        fresh = True
    return {
        "safe_mode": safe_mode(status),
        "valt": valt_alert(status["valt"]) if "valt" in status else "",
        "rollback": rollback_words(rollback) if fresh and path != "/network" else "",
    }
