"""Live data status/inputs pages show and poll: room, VALT, devices, audit, recent."""

from __future__ import annotations

import datetime
from typing import Any

_ROOM_WORDS = {
    "available": "Available",
    "recording": "Recording",
    "paused": "Paused",
    "locked": "Locked (privacy)",
    "prepared": "Prepared",
}


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


def valt_words(valt: dict[str, Any]) -> str:
    """The connection to VALT in one short phrase."""
    if not valt["configured"]:
        return "Not configured: enter the server on the VALT page"
    if valt["online"] is None:
        return "Not contacted yet"
    if valt["online"]:
        return "Connected"
    return "Offline"


def room_words(room: dict[str, Any], valt: dict[str, Any]) -> str:
    """The room's state in words."""
    if room["id"] is None:
        return "No room chosen: pick one on the VALT page"
    if valt["online"] is False:
        return "Unknown (VALT offline)"
    return _ROOM_WORDS.get(room["status"] or "", "Unknown (not read yet)")


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


def status_view(service: Any) -> dict[str, Any]:
    """Everything the status page shows, JSON-ready (for the page and its poll)."""
    status = service.status()
    valt, room = status["valt"], status["room"]
    audit = getattr(service, "audit", None)
    return {
        "valt": {
            "server": valt["server"] or "(none)",
            "state": valt_words(valt),
            "online": valt["online"],
            "version": valt["version"] or "unknown",
            "last_error": valt["last_error"] or "",
        },
        "room": {
            "id": room["id"],
            "status": room["status"] or "",
            "words": room_words(room, valt),
        },
        "sources": source_rows(status["sources"]),
        "audit": audit_rows(audit.recent(20) if audit is not None else []),
        "uptime": duration(status["uptime_s"]),
        "events": status["dispatcher"]["events"],
    }


def recent_events(service: Any, after: int = 0) -> list[dict[str, Any]]:
    """The newest masked input events after sequence number ``after`` (newest first)."""
    dispatcher = getattr(service, "dispatcher", None)
    if dispatcher is None:
        return []
    rows = dispatcher.recent.latest(20, after)
    for row in rows:
        row["clock"] = datetime.datetime.fromtimestamp(row["time"]).strftime("%H:%M:%S")
    return rows
