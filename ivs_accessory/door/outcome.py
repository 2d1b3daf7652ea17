"""What Actions are given (ActionSettings) and what they report (Outcome)."""

from __future__ import annotations

from dataclasses import dataclass

from ivs_accessory.valt.models import RoomStatus

# The result each action reports once VALT accepted it, and the words for each.
RESULT_OF = {
    "start": "started",
    "stop": "stopped",
    "pause": "paused",
    "resume": "resumed",
    "lock": "locked",
    "unlock": "unlocked",
    "marker": "marked",
}
RESULT_WORDS = {
    "started": "Recording started",
    "stopped": "Recording stopped",
    "paused": "Recording paused",
    "resumed": "Recording resumed",
    "locked": "Room locked",
    "unlocked": "Room unlocked",
    "marked": "Marker added",
    "privacy_on": "Privacy on",
    "privacy_off": "Privacy off",
    "moved": "Cameras moved to the preset",
}
OK_RESULTS = frozenset(RESULT_WORDS)
# The room already was what the person wanted: nothing done, nothing to retry.
SETTLED_RESULTS = OK_RESULTS | {"already"}


@dataclass(frozen=True)
class ActionSettings:
    """The ``[valt]`` and ``[mapping]`` values actions need."""

    room: int | None
    recording_name: str = "Accessory Recording"
    marker_name: str = "Accessory Comment"
    marker_colour: str = "red"
    busy_action: str = "busy"  # what toggle does in a paused room: busy, resume or stop
    match_reading: str = "decimal"
    # The same credential (or guarded key) again within this many seconds of the
    # first, or while the first is still pending, is one input: "still working".
    repeat_window_s: float = 2.0
    # An input that waited longer than this behind a slow VALT call is reported, not
    # run: the person has likely tried again, and a late toggle would undo the retry.
    max_wait_s: float = 8.0
    # Fetch the user list when the first digit of a PIN is typed (see UserDirectory).
    prefetch_users: bool = True


@dataclass(frozen=True)
class Outcome:
    """What happened to one input, for feedback and the audit log (no secrets in it).

    ``result`` is one of the keys of ``RESULT_WORDS`` (success), ``already`` (the
    room already was what the person wanted), ``partial`` (some cameras did it,
    some did not: each is named), or busy, repeat, denied, locked_out, offline,
    error, unreadable, not_configured, expired. ``intent`` is what the input
    resolved to (start, stop, ...), when it got that far. ``cameras`` says how
    each camera took a privacy or preset action: (name, "ok" or the problem).
    """

    result: str
    action: str
    message: str
    source: str
    credential: str | None = None  # masked
    user_id: int | None = None
    user_name: str | None = None
    recording_id: int | None = None
    requests: int = 0
    latency_s: float = 0.0
    room_status: RoomStatus | None = None
    intent: str | None = None
    cameras: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        return self.result in OK_RESULTS
