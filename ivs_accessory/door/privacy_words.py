"""What the person is told about privacy and presets: the room's part, the cameras'
part ("2 of 3 cameras; Hall cam: refused the credentials"), and the result."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from ivs_accessory.cameras.fanout import CameraResult
from ivs_accessory.door.outcome import Outcome

# The VALT side's results that leave the room as privacy wants it.
_ROOM_DONE = frozenset({"locked", "unlocked", "already"})


def cameras_of(results: Sequence[CameraResult]) -> tuple[tuple[str, str], ...]:
    """For the outcome and the audit log: (name, "ok" or what went wrong)."""
    return tuple(
        (r.name, "ok" if r.ok and not r.skipped else r.detail or "skipped")
        for r in results
    )


def counted(results: Sequence[CameraResult]) -> tuple[str, list[str]]:
    """("2 of 3 cameras", ["Hall cam: refused the credentials"]); cameras an
    operation does not concern (a fixed camera and a preset) are not counted."""
    concerned = [r for r in results if not r.skipped]
    done = sum(1 for r in concerned if r.ok)
    noun = "camera" if len(concerned) == 1 else "cameras"
    failed = [f"{r.name}: {r.detail}" for r in concerned if not r.ok]
    return f"{done} of {len(concerned)} {noun}", failed


def privacy_outcome(
    on: bool,
    room: Outcome,
    results: Sequence[CameraResult],
    base: dict[str, Any],
) -> Outcome:
    """Privacy on (off) as the room's lock (``room``, the VALT side's outcome) and
    the cameras took it: ``privacy_on``/``privacy_off`` when all did,
    ``partial`` when some did (each failure named), else the room's failure."""
    cams, failures = counted(results)
    room_ok = room.result in _ROOM_DONE
    cams_ok = all(r.ok for r in results)
    parts = [p for p in (_room_words(on, room), cams) if p]
    head = "Privacy on" if on else "Privacy off"
    if room_ok and cams_ok:
        result = "privacy_on" if on else "privacy_off"
    elif room_ok or any(r.ok and not r.skipped for r in results):
        result = "partial"
    else:
        result = room.result if room.result != "busy" else "error"
        head = "Privacy not on" if on else "Privacy not off"
    return Outcome(
        result,
        message=f"{head}: " + ", ".join(parts) + "".join(f"; {f}" for f in failures),
        room_status=room.room_status,
        intent="privacy_on" if on else "privacy_off",
        cameras=cameras_of(results),
        **base,
    )


def _room_words(on: bool, room: Outcome) -> str:
    if room.result in ("locked", "already") and on:
        return "room locked"
    if room.result == "unlocked":
        return "room unlocked"
    if room.result in _ROOM_DONE:
        return ""  # privacy off in a room that was not locked: nothing to say
    return f"room not {'locked' if on else 'unlocked'} ({_short(room.message)})"


def with_room_note(room: Outcome, note: str) -> Outcome:
    """The room's own outcome with a note on the cameras ("no cameras listed")."""
    return replace(room, message=f"{room.message} ({note})")


def refused_start(
    locked: bool, private: Sequence[str], base: dict[str, Any]
) -> Outcome:
    """A recording start refused while privacy is on (``[privacy] on_start``)."""
    reasons = ["room locked"] if locked else []
    if private:
        reasons.append(", ".join(private) + " in privacy")
    words = f"Privacy is on ({'; '.join(reasons)}); turn privacy off first"
    return Outcome("busy", message=words, intent="start", **base)


def not_cleared(room: Outcome, base: dict[str, Any]) -> Outcome:
    """The room stayed locked when privacy was to be taken off for a start."""
    words = f"Not started: privacy could not be taken off ({_short(room.message)})"
    result = room.result if room.result not in _ROOM_DONE else "error"
    return Outcome(
        result, message=words, intent="start", room_status=room.room_status, **base
    )


def after_clear(
    outcome: Outcome, room: Outcome | None, results: Sequence[CameraResult]
) -> Outcome:
    """The start's outcome, saying privacy was taken off first and how."""
    parts = []
    if room is not None and room.result == "unlocked":
        parts.append("room unlocked")
    failures: list[str] = []
    if results:
        cams, failures = counted(results)
        parts.append(cams)
    note = "privacy off first: " + ", ".join(parts) if parts else ""
    note += "".join(f"; {f}" for f in failures)
    if not note:
        return outcome
    return replace(
        outcome,
        message=f"{outcome.message}; {note}",
        cameras=outcome.cameras + cameras_of(results),
    )


def preset_outcome(
    name: str, results: Sequence[CameraResult], base: dict[str, Any]
) -> Outcome:
    """``moved`` when every PTZ camera went to the preset; ``partial`` when some
    did; ``error`` when none did or none is a PTZ camera."""
    cams, failures = counted(results)
    concerned = [r for r in results if not r.skipped]
    moved = [r for r in concerned if r.ok]
    if not concerned:
        result, words = "error", f"Preset {name}: no PTZ camera in the room"
    elif len(moved) == len(concerned):
        result, words = "moved", f"Cameras to preset {name}: {cams}"
    else:
        result = "partial" if moved else "error"
        words = f"Preset {name}: {cams}" + "".join(f"; {f}" for f in failures)
    return Outcome(
        result,
        message=words,
        intent="preset",
        cameras=cameras_of(results),
        **base,
    )


def _short(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
