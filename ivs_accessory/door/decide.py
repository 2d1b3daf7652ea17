"""Pure decisions: a press resolves to one intent; a room status says how it stands.

No I/O. ``resolve`` turns what was pressed (a toggle, a bound action) and the status
known when the person acted into one intent: start, stop, pause, resume, lock,
unlock or marker. ``judge`` says where that intent stands in a status VALT reported:
already achieved, possible (not done yet), or blocked. An intent is never turned
into its opposite: after a refusal the door reports the truth against it.
"""

from __future__ import annotations

from collections.abc import Callable

from ivs_accessory.valt.models import RoomStatus

INTENTS = ("start", "stop", "pause", "resume", "lock", "unlock", "marker")

# What each intent needs the room to be ...
_POSSIBLE: dict[str, Callable[[RoomStatus], bool]] = {
    "start": lambda s: s.can_start,
    "stop": lambda s: s.has_recording,
    "pause": lambda s: s is RoomStatus.RECORDING,
    "resume": lambda s: s is RoomStatus.PAUSED,
    "lock": lambda s: s.can_start,
    "unlock": lambda s: s is RoomStatus.LOCKED,
    "marker": lambda s: s.has_recording,
}
# ... and when the room already is what the person wanted (a marker never is).
_ACHIEVED: dict[str, Callable[[RoomStatus], bool]] = {
    "start": lambda s: s.has_recording,
    "stop": lambda s: not s.has_recording,
    "pause": lambda s: s is RoomStatus.PAUSED,
    "resume": lambda s: s is RoomStatus.RECORDING,
    "lock": lambda s: s is RoomStatus.LOCKED,
    "unlock": lambda s: s is not RoomStatus.LOCKED,
    "marker": lambda s: False,
}

ACHIEVED, POSSIBLE, BLOCKED = "achieved", "possible", "blocked"
# privacy_on / privacy_off are, for the room itself, its lock and unlock.
_ROOM_PRIVACY = {"privacy_on": "lock", "privacy_off": "unlock"}


def resolve(action: str, status: RoomStatus, busy_action: str = "busy") -> str | None:
    """The intent of ``action`` pressed while the room was ``status``, or None.

    ``toggle`` starts an available room and stops a recording one; in a paused room
    it does ``busy_action`` (resume or stop), or nothing with ``busy``. A locked
    room gives None: the person is told it is locked. ``privacy_toggle`` locks an
    available room and unlocks a locked one; ``privacy_on`` is lock, ``privacy_off``
    unlock. Other actions are their own intent.
    """
    if action == "toggle":
        if status.can_start:
            return "start"
        if status is RoomStatus.RECORDING:
            return "stop"
        if status is RoomStatus.PAUSED and busy_action != "busy":
            return busy_action
        return None
    if action == "privacy_toggle":
        if status is RoomStatus.LOCKED:
            return "unlock"
        return "lock" if status.can_start else None
    action = _ROOM_PRIVACY.get(action, action)
    if action not in _POSSIBLE:
        raise ValueError(f"unknown action '{action}'")
    return action


def judge(intent: str, status: RoomStatus) -> str:
    """ACHIEVED, POSSIBLE or BLOCKED: where ``intent`` stands in a ``status`` room."""
    if _ACHIEVED[intent](status):
        return ACHIEVED
    return POSSIBLE if _POSSIBLE[intent](status) else BLOCKED


def already_words(intent: str, status: RoomStatus, started_by: str | None) -> str:
    """What to tell a person whose intent the room already fulfils."""
    if intent == "start":
        who = f"started by {started_by}" if started_by else "started in VALT"
        paused = ", paused" if status is RoomStatus.PAUSED else ""
        return f"Already recording ({who}{paused})"
    if intent == "stop":
        return "Already stopped" + (
            " (room locked)" if status is RoomStatus.LOCKED else ""
        )
    return {
        "pause": "Already paused",
        "resume": "Already recording",
        "lock": "Room already locked",
        "unlock": "Room already unlocked",
    }[intent]


def state_words(intent: str) -> str:
    """The room as the intent left it, for when VALT's answer left unclear who did
    it (a 5xx or an unusable answer, and a read showing the intent fulfilled)."""
    return {
        "start": "Recording is running",
        "stop": "Recording is stopped",
        "pause": "Recording is paused",
        "resume": "Recording is running",
        "lock": "Room is locked",
        "unlock": "Room is unlocked",
    }[intent]


def blocked_words(intent: str | None, status: RoomStatus) -> str:
    """What to tell a person whose intent the room's status does not allow."""
    if status is RoomStatus.LOCKED:
        return "Room is locked in VALT"
    if status is RoomStatus.PAUSED:
        return "Recording is paused in VALT"
    if status is RoomStatus.RECORDING:
        return "Room is recording"
    if intent in ("pause", "resume", "marker"):
        return "Room is not recording"
    return f"Room is busy ({status.value})"
