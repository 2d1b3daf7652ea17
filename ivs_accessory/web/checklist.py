"""First-run checklist: VALT login, room, input device, a PIN; each ticks itself."""

from __future__ import annotations

import datetime
import os
from typing import Any


def _step(key: str, label: str, done: bool, detail: str, href: str) -> dict[str, Any]:
    return {"id": key, "label": label, "done": done, "detail": detail, "href": href}


def _valt_step(state: str, words: str, valt: dict[str, Any]) -> dict[str, Any]:
    if state == "connected":
        detail = f"Logged in to VALT {valt.get('version') or ''}".rstrip()
    else:
        detail = words  # the error itself is in the VALT card below
    return _step(
        "valt",
        "VALT: enter the server and an account that can log in",
        state == "connected",
        detail,
        "/valt",
    )


def _room_step(state: str, room: dict[str, Any]) -> dict[str, Any]:
    chosen = room.get("id") is not None
    read = bool(room.get("status") or room.get("name"))
    done = chosen and state == "connected" and read
    if not chosen:
        detail = "No room chosen yet"
    elif done:
        name = room.get("name")
        detail = f"{name} (room {room['id']})" if name else f"Room {room['id']}"
    else:
        detail = f"Room {room['id']}: not read from VALT yet"
    return _step(
        "room", "Room: choose the room this door controls", done, detail, "/valt"
    )


def _source_step(sources: dict[str, dict[str, Any]]) -> dict[str, Any]:
    connected = sorted(n for n, s in sources.items() if s.get("connected"))
    if connected:
        detail = ", ".join(connected) + " connected"
    elif sources:
        name, s = sorted(sources.items())[0]
        detail = f"{name} is not connected" + (
            f": {s['last_error']}" if s.get("last_error") else ""
        )
    else:
        detail = "No input source configured"
    return _step(
        "source",
        "Input device: plug in the keypad or card reader",
        bool(connected),
        detail,
        "/inputs",
    )


def _input_step(entries: list[dict[str, Any]], used: bool) -> dict[str, Any]:
    if entries:
        last = entries[0]
        detail = f"{last.get('message') or last.get('result')} ({last.get('source')}, "
        detail += f"{_clock(last.get('time'))})"
    elif used:
        detail = "Inputs were handled before this start (see the audit log)"
    else:
        detail = "Waiting for a PIN or a card…"
    return _step(
        "input",
        "Type a PIN now (or show a card) and watch the result",
        bool(entries) or used,
        detail,
        "/inputs",
    )


def _clock(text: Any) -> str:
    try:
        moment = datetime.datetime.fromisoformat(str(text))
    except ValueError:
        return str(text or "")
    return moment.astimezone().strftime("%H:%M:%S")


def setup_steps(
    status: dict[str, Any],
    state: str,
    words: str,
    entries: list[dict[str, Any]],
    used: bool = False,
) -> dict[str, Any]:
    """The checklist from a ``Service.status()`` snapshot and the audit's entries.

    Args:
        status: the daemon's status.
        state, words: the VALT connection state and its words (see ``live``).
        entries: the newest audit entries, newest first.
        used: the audit log file has entries: the box has handled inputs before.

    Returns:
        ``{"done": all ticked, "show": not done on a box that has not been used
        yet, "steps": [{"id", "label", "done", "detail", "href"}]}``. A box in use
        that loses VALT shows the red banners, not the first steps again.
    """
    steps = [
        _valt_step(state, words, status["valt"]),
        _room_step(state, status["room"]),
        _source_step(status.get("sources") or {}),
        _input_step(entries, used),
    ]
    done = all(s["done"] for s in steps)
    return {"done": done, "show": not done and not used, "steps": steps}


def audit_file_used(path: str | None) -> bool:
    """True when the audit log file exists and holds something."""
    if not path:
        return False
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False
