"""What the person at the door is told: the outcome of an intent, in words.

Pure functions over what the door knows (no VALT calls): done, already or blocked,
not done, unknown, too late, failed; and how a VALT error reads to a person.
"""

from __future__ import annotations

import logging
from typing import Any

from ivs_accessory.door import decide
from ivs_accessory.door.outcome import RESULT_OF, RESULT_WORDS, Outcome
from ivs_accessory.errors import (
    ValtAuthError,
    ValtBadResponse,
    ValtError,
    ValtNotFound,
    ValtRefused,
    ValtRejected,
    ValtUnavailable,
)
from ivs_accessory.valt.models import RoomStatus, User

logger = logging.getLogger(__name__)


def display(user: User | None) -> str:
    """The name a person is shown for ``user`` ("" for none)."""
    return (user.display_name or user.name) if user else ""


def _who(user: User | None) -> dict[str, Any]:
    return {"user_id": user.id if user else None, "user_name": display(user) or None}


def done(
    intent: str,
    user: User | None,
    base: dict[str, Any],
    recording_id: int | None,
    room_status: RoomStatus | None,
) -> Outcome:
    """VALT did what the person wanted ("Recording started for Alice Smith")."""
    result = RESULT_OF[intent]
    who = ""
    if user:
        who = f" for {display(user)}" if intent == "start" else f" by {display(user)}"
    return Outcome(
        result,
        message=RESULT_WORDS[result] + who,
        recording_id=recording_id if intent not in ("lock", "unlock") else None,
        room_status=room_status,
        intent=intent,
        **_who(user),
        **base,
    )


def truth(
    intent: str | None,
    status: RoomStatus,
    started_by: str | None,
    user: User | None,
    base: dict[str, Any],
) -> Outcome:
    """The room already is what the person wanted, or does not allow it."""
    where = decide.judge(intent, status) if intent else decide.BLOCKED
    if intent is not None and where == decide.ACHIEVED:
        result, words = "already", decide.already_words(intent, status, started_by)
    else:
        result, words = "busy", decide.blocked_words(intent, status)
    return Outcome(
        result, message=words, room_status=status, intent=intent, **_who(user), **base
    )


def not_done(
    intent: str,
    exc: ValtError,
    base: dict[str, Any],
    user: User | None,
    refused: bool = True,
) -> Outcome:
    """The room shows the intent was not carried out (nothing is sent again)."""
    logger.error("%s from %s was not done: %s", intent, base["source"], exc)
    words = f"Not done: VALT {verb(exc)} ({exc}); please try again"
    if intent == "marker" and not refused:
        # A marker leaves no trace in the room's status: after a failure or
        # silence VALT may have added it, and nothing cheap can tell.
        words = f"Marker not confirmed: VALT {verb(exc)} ({exc})"
    return Outcome("error", message=words, intent=intent, **_who(user), **base)


def unknown(
    intent: str, exc: ValtError, read_error: ValtError, base: dict[str, Any]
) -> Outcome:
    """VALT's answer was no use, and the room could not be read to learn more."""
    result = "offline" if isinstance(read_error, ValtUnavailable) else "error"
    logger.error(
        "%s: VALT %s and the room cannot be read: %s", intent, verb(exc), read_error
    )
    words = "Unknown" if intent != "marker" else "Marker not confirmed"
    return Outcome(
        result,
        message=f"{words}: VALT {verb(exc)} and the room cannot be read ({read_error})",
        intent=intent,
        **base,
    )


def too_late(base: dict[str, Any], max_wait_s: float) -> Outcome:
    """An input waited longer than ``max_wait_s`` behind a slow VALT call."""
    logger.warning(
        "%s from %s waited over %.0f s behind a slow VALT; not run",
        base["action"],
        base["source"],
        max_wait_s,
    )
    return Outcome(
        "expired", message="VALT was too slow; not done, please try again", **base
    )


def failed(exc: ValtError, base: dict[str, Any]) -> Outcome:
    """VALT could not be asked at all (offline, the account, the room)."""
    if isinstance(exc, ValtUnavailable):
        result, words = "offline", "VALT is offline"
    elif isinstance(exc, ValtAuthError):
        result, words = "error", "VALT refused the accessory's account"
    elif isinstance(exc, ValtNotFound):
        result, words = "error", "VALT does not know this room"
    else:
        result, words = "error", "VALT error"
    logger.error("%s failed: %s", base["action"], exc)
    return Outcome(result, message=f"{words}: {exc}", **base)


def maybe_seen_by_valt(exc: ValtError) -> bool:
    """True when VALT may have received the action: it refused it, failed while
    doing it, answered unusably, or went silent after it was sent. A connection
    that never opened, a 401 that survived a re-login, or an unknown room are not."""
    if isinstance(exc, ValtUnavailable):
        return exc.reason == "no_response"
    if isinstance(exc, (ValtNotFound, ValtAuthError)):
        return False
    return isinstance(exc, (ValtRejected, ValtRefused, ValtBadResponse))


def refused(exc: ValtError) -> bool:
    """True when VALT said no (a 4xx, or refused locally): it did not act."""
    return isinstance(exc, (ValtRejected, ValtRefused)) and not _server_failed(exc)


def _server_failed(exc: ValtError) -> bool:
    return isinstance(exc, ValtRejected) and exc.status >= 500


def verb(exc: ValtError) -> str:
    """What VALT did, in a word or three: refused, failed, did not answer ..."""
    if isinstance(exc, ValtUnavailable):
        return "did not answer"
    if isinstance(exc, ValtBadResponse):
        return "answered something unusable"
    if _server_failed(exc):
        return "failed"
    return "refused"
