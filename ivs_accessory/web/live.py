"""Live data status/inputs pages show and poll: room, VALT, devices, audit, recent."""

from __future__ import annotations

import datetime
from typing import Any

from ivs_accessory.web.backend import PageService
from ivs_accessory.web.checklist import audit_file_used, setup_steps

_ROOM_WORDS = {
    "available": "Available",
    "recording": "Recording",
    "paused": "Paused",
    "locked": "Locked (privacy)",
    "prepared": "Prepared",
}
STATE_WORDS = {
    "not_configured": "Not configured",
    "connecting": "Connecting…",
    "connected": "Connected",
    "login_refused": "Login refused",
    "unreachable": "Unreachable",
    "error": "Error",
}
# What each bad state asks the installer to do, on the banner every page shows.
_STATE_FIX = {
    "not_configured": "VALT is not configured: enter the server, the account and the "
    "room.",
    "login_refused": "VALT refused the login: check the user name and the password.",
    "unreachable": "VALT is unreachable: check the server address, the network and "
    "the TLS settings.",
    "error": "VALT answered with an error: see the status page.",
}
BAD_STATES = frozenset(_STATE_FIX)


def duration(seconds: float) -> str:
    """``3 d 4 h``, ``2 h 5 min``, ``42 s``: how long, for people."""
    seconds = int(max(0, seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {secs} s"
    return f"{secs} s"


def valt_state(valt: dict[str, Any]) -> str:
    """The daemon's ``valt.state``; guessed from ``online`` for a daemon without it."""
    state = valt.get("state")
    if isinstance(state, str) and state in STATE_WORDS:
        return state
    if not valt.get("configured"):
        return "not_configured"
    return {None: "connecting", True: "connected"}.get(
        valt.get("online"), "unreachable"
    )


def valt_words(valt: dict[str, Any]) -> str:
    """The connection to VALT in one short phrase ("Connected" only after a login)."""
    return STATE_WORDS[valt_state(valt)]


def valt_alert(valt: dict[str, Any]) -> str:
    """The red banner's words when VALT does not work, else ``""`` (the error itself
    is on the status page, once)."""
    return _STATE_FIX.get(valt_state(valt), "")


# Why the room's status may be out of date, after its words.
_WHY_STALE = {
    "not_configured": "VALT not configured",
    "login_refused": "VALT login refused",
    "unreachable": "VALT unreachable",
    "error": "VALT answered with an error",
}


def room_words(room: dict[str, Any], valt: dict[str, Any]) -> str:
    """The room's state in words; the last known one, with its age, when VALT fails."""
    if room.get("id") is None:
        return "No room chosen: pick one on the VALT page"
    state = valt_state(valt)
    if state not in BAD_STATES and valt.get("online") is False:
        state = "unreachable"  # the last request failed although the login worked
    known = _ROOM_WORDS.get(room.get("status") or "")
    if state not in BAD_STATES:
        return known or "Unknown (not read yet)"
    if known is None:
        return f"Unknown ({_WHY_STALE[state]})"
    age = room.get("status_age_s")
    when = f"last confirmed {duration(age)} ago; " if age is not None else ""
    return f"{known} — {when}{_WHY_STALE[state]}"


def room_details(room: dict[str, Any]) -> str:
    """Who started the recording and how long it has run, in one line (or "")."""
    parts = []
    if room.get("started_by"):
        parts.append(f"started by {room['started_by']}")
    elapsed = room.get("elapsed_s")
    if elapsed is not None:
        if room.get("status") == "recording":
            elapsed += room.get("status_age_s") or 0
        parts.append(f"{duration(elapsed)} recorded")
    text = ", ".join(parts)
    return text[:1].upper() + text[1:]


def room_title(room: dict[str, Any]) -> str:
    """``Interview Room 1 (room 1)``, or ``Room 1`` while the name is not known."""
    if room.get("id") is None:
        return "(none)"
    name = room.get("name")
    return f"{name} (room {room['id']})" if name else f"Room {room['id']}"


def source_rows(sources: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per input source for the table."""
    rows = []
    for name, s in sorted(sources.items()):
        grabbed = s.get("grabbed")
        rows.append(
            {
                "name": name,
                "device": s.get("device_name")
                or s.get("device")
                or s.get("port")
                or "",
                "connected": "yes" if s.get("connected") else "no",
                "grabbed": "n/a" if grabbed is None else "yes" if grabbed else "no",
                "problem": s.get("last_error") or "",
                "reconnects": s.get("reconnects", 0) or 0,
            }
        )
    return rows


def lamp_words(lamp: dict[str, Any] | None) -> str:
    """The recording lamp in one line ("" when no lamp is configured)."""
    if not lamp:
        return ""
    if lamp.get("connected"):
        return f"{lamp['device']}: showing {lamp['showing']}"
    if lamp.get("problem"):
        return f"not connected: {lamp['problem']}"
    return "looking for the light"


_PRIVACY_STATE = {
    "on": "privacy on",
    "off": "privacy off",
    "partial": "privacy partly on",
    "unknown": "privacy not known",
}


def camera_words(privacy: dict[str, Any] | None) -> str:
    """The room's cameras in one line: their privacy as last read back, and each
    camera's problem by name ("" when the door looks after no cameras)."""
    if not privacy or privacy.get("source") == "none":
        return ""
    cameras = privacy.get("cameras") or []
    if not cameras:
        problem = privacy.get("list_error")
        return f"none known: {problem}" if problem else "none in this room"
    parts = []
    for camera in cameras:
        if camera.get("problem"):
            said = camera["problem"]
        elif camera.get("private") is None:
            said = "not read yet"
        else:
            said = "private" if camera["private"] else "not private"
            if camera.get("age_s") is not None:
                said += f", read {duration(camera['age_s'])} ago"
        parts.append(f"{camera['name']}: {said}")
    state = _PRIVACY_STATE.get(privacy.get("state") or "", "privacy not known")
    return f"{state} ({'; '.join(parts)})"


def audit_rows(entries: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Audit entries (already masked by the audit log) as text cells, newest first."""
    rows = []
    for e in entries:
        rows.append(
            {
                "time": _local_time(e.get("time")),
                "source": str(e.get("source") or ""),
                "credential": str(e.get("credential") or ""),
                "result": str(e.get("result") or ""),
                "message": str(e.get("message") or ""),
            }
        )
    return rows


def _local_time(text: Any) -> str:
    try:
        moment = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text or "")
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _used_before(service: PageService) -> bool:
    """The audit log file holds entries (of this run or an earlier one)."""
    return audit_file_used(service.config["logging"]["audit_file"])


def status_view(service: PageService) -> dict[str, Any]:
    """Everything the status page shows, JSON-ready (for the page and its poll)."""
    status = service.status()
    valt, room = status["valt"], status["room"]
    entries = service.audit.recent(50)
    return {
        "valt": {
            "server": valt["server"] or "(none)",
            "state": valt_words(valt),
            "code": valt_state(valt),
            "alert": valt_alert(valt),
            "online": valt["online"],
            "version": valt["version"] or "unknown",
            "last_error": valt["last_error"] or "",
        },
        "room": {
            "id": room["id"],
            "title": room_title(room),
            "status": room["status"] or "",
            "words": room_words(room, valt),
            "details": room_details(room),
        },
        "sources": source_rows(status["sources"]),
        "lamp": lamp_words(status.get("lamp")),
        "cameras": camera_words(status.get("privacy")),
        "audit": audit_rows(entries[:20]),
        "setup": setup_steps(
            status, valt_state(valt), valt_words(valt), entries, _used_before(service)
        ),
        "uptime": duration(status["uptime_s"]),
        "events": status["dispatcher"]["events"],
        "events_words": _count(status["dispatcher"]["events"], "input event"),
    }


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def recent_events(
    service: PageService, after: int = 0, outcomes: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The newest masked input events after sequence number ``after`` (newest first),
    each with the outcome it led to (``result``, ``message``; "" while none).

    ``outcomes`` come from :class:`~.outcomes.OutcomeWatch` (newest first).
    """
    dispatcher = service.dispatcher
    if dispatcher is None:
        return []
    rows = dispatcher.recent.latest(20, after)
    results = match_outcomes(rows, outcomes or [])
    for row in rows:
        row["clock"] = datetime.datetime.fromtimestamp(row["time"]).strftime("%H:%M:%S")
        outcome = results.get(row["seq"], {})
        row["result"] = str(outcome.get("result") or "")
        row["message"] = str(outcome.get("message") or "")
    return rows


_NEAR_S = 0.25  # the input's time and the outcome's start, read on two threads


def match_outcomes(
    events: list[dict[str, Any]], outcomes: list[dict[str, Any]]
) -> dict[int, dict[str, Any]]:
    """Which outcome each input event led to: event ``seq`` -> outcome.

    Each outcome, oldest first, goes to the event of its source read nearest its
    ``began`` time (never one read later than that, nor one taken already): the
    digit that completed a PIN, not one typed while VALT was still answering.

    Args:
        events: ``RecentEvents`` entries (``seq``, ``time``, ``source``).
        outcomes: newest first, each with ``began``, ``source``, ``result``.
    """
    matched: dict[int, dict[str, Any]] = {}
    last: dict[str | None, int] = {}
    for outcome in reversed(outcomes):
        source, began = outcome.get("source"), outcome["began"]
        fitting = [
            e
            for e in events
            if e["source"] == source
            and e["seq"] > last.get(source, 0)
            and e["time"] <= began + _NEAR_S
        ]
        if fitting:
            event = min(fitting, key=lambda e: abs(e["time"] - began))
            matched[event["seq"]] = outcome
            last[source] = event["seq"]
    return matched
