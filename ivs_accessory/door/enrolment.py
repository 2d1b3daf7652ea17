"""Enrolment mode: for 60 s each PIN or card read is shown whole and does nothing."""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ivs_accessory.door import credentials
from ivs_accessory.door.mapping import Presented
from ivs_accessory.door.outcome import Outcome
from ivs_accessory.errors import ValtError
from ivs_accessory.events import CardRead
from ivs_accessory.valt.models import User

logger = logging.getLogger(__name__)

DURATION_S = 60.0
"""How long enrolment mode lasts once started; it then ends by itself."""
RESULT = "enrolment"
"""The outcome of a read during enrolment mode: shown on the page, nothing done."""
SHOWN_WORDS = "Enrolment: shown"
_KEPT = 50  # reads kept while the mode lasts; older ones drop off the page


class Enrolment:
    """The enrolment mode's state: whether it is on, until when, and its reads.

    The page starts and stops it (after the admin typed the password again); the
    dispatcher hands it every PIN and card while it is on (:meth:`present`),
    instead of running them. The reads, with every reading whole, live only in
    memory and only while the mode lasts: they are dropped when it ends, by
    :meth:`stop` or by itself after ``duration_s``, which the first caller to
    ask after that moment notices (any thread). Start, stop and end go to the
    audit log through ``record`` (a callable taking keyword fields).

    Args:
        clock: monotonic seconds for the mode's end (tests step a fake one).
        wall: epoch seconds, for each read's time on the page.
        record: writes an audit entry (``AuditLog.note``); None: not audited.
        duration_s: how long the mode lasts.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        record: Callable[..., object] | None = None,
        duration_s: float = DURATION_S,
    ) -> None:
        self.clock = clock
        self._wall = wall
        self.record = record
        self.duration_s = duration_s
        self._lock = threading.Lock()
        self._ends_at: float | None = None
        self._by = ""
        self._reads: collections.deque[dict[str, Any]] = collections.deque(maxlen=_KEPT)
        self._numbers = itertools.count(1)

    # -- the page ----------------------------------------------------------------------
    def start(self, by: str) -> None:
        """Start the mode now for ``duration_s`` (again from now, when it is on);
        ``by`` says who asked (the page's client address), for the audit log."""
        with self._lock:
            self._ends_at = self.clock() + self.duration_s
            self._by = by
            self._reads.clear()
        logger.warning(
            "enrolment mode on for %.0f s (from %s): reads are shown on the page "
            "and do nothing",
            self.duration_s,
            by,
        )
        self._audit("enrolment_start", "on", f"started from {by}")

    def stop(self, by: str) -> bool:
        """End the mode now; False when it was not on."""
        if not self.active():
            return False
        with self._lock:
            self._ends_at = None
            self._reads.clear()
        logger.info("enrolment mode stopped from %s", by)
        self._audit("enrolment_stop", "off", f"stopped from {by}")
        return True

    def active(self) -> bool:
        """True while the mode is on; the first call after its end closes it."""
        with self._lock:
            ends_at = self._ends_at
            if ends_at is None:
                return False
            if self.clock() < ends_at:
                return True
            self._ends_at = None
            self._reads.clear()
        logger.info("enrolment mode ended after %.0f s", self.duration_s)
        self._audit("enrolment_end", "off", "ended by itself")
        return False

    def led_pattern(self) -> str | None:
        """The keypad LEDs' looped pattern while the mode is on (``LedFeedback``)."""
        return "enrolment" if self.active() else None

    def left_s(self) -> float:
        """Seconds until the mode ends (0 when it is off)."""
        with self._lock:
            ends_at = self._ends_at
        return 0.0 if ends_at is None else max(0.0, ends_at - self.clock())

    def reads(self, after: int = 0) -> list[dict[str, Any]]:
        """The reads since the mode started with a number above ``after``, oldest
        first; [] while the mode is off. Each holds whole numbers: for the
        enrolment page only."""
        if not self.active():
            return []
        with self._lock:
            return [_copy(r) for r in self._reads if r["seq"] > after]

    def value(self, seq: int, reading: str) -> str | None:
        """Reading ``reading`` of read ``seq``, while the mode is on and still
        shows it; else None."""
        if not self.active():
            return None
        with self._lock:
            for read in self._reads:
                if read["seq"] == seq:
                    found = [r for r in read["readings"] if r["name"] == reading]
                    return found[0]["value"] if found else None
        return None

    def written(self, seq: int, reading: str, user: User) -> None:
        """Read ``seq``'s ``reading`` is now ``user``'s card number in VALT."""
        with self._lock:
            for read in self._reads:
                if read["seq"] == seq:
                    read["written"] = {"reading": reading, **_who(user)}

    # -- the dispatcher thread ---------------------------------------------------------
    def present(self, intent: Presented, actions: Any) -> Outcome:
        """Show a PIN or card read on the page instead of running it.

        The reading that ``match_reading`` uses is marked, and the VALT user it
        matches is looked up through the door's own user directory (the one
        request a read costs anyway, or none when cached). ``actions`` is the
        dispatcher's (``Actions``; safe mode's has no VALT and no settings).
        """
        base: dict[str, Any] = {"action": "enrol", "source": intent.source}
        try:
            credential = credential_of(intent)
        except credentials.CredentialError as exc:
            self._add(_unreadable(intent, str(exc), self._wall()))
            return Outcome("unreadable", message="Card not readable", **base)
        settings = getattr(actions, "settings", None)
        match = getattr(settings, "match_reading", "decimal")
        marked = credentials.matching_reading(credential, match)
        client = getattr(actions, "client", None)
        before = client.request_count if client is not None else 0
        user, problem = _owner(credential.reading(marked), actions)
        if credential.reading(marked) is None:
            problem = f"no {marked} reading: match_reading = {match} cannot match it"
        self._add(_shown(intent, credential, marked, user, problem, self._wall()))
        return Outcome(
            RESULT,
            message=SHOWN_WORDS,
            credential=credential.masked(),
            user_id=user.id if user else None,
            user_name=user.name if user else None,
            requests=(client.request_count - before) if client is not None else 0,
            # Sources stamp inputs with time.monotonic (the latency since the input).
            latency_s=max(0.0, time.monotonic() - intent.timestamp),
            **base,
        )

    # -- inside ------------------------------------------------------------------------
    def _add(self, read: dict[str, Any]) -> None:
        with self._lock:
            if self._ends_at is None:  # ended while this read was looked up
                return
            read["seq"] = next(self._numbers)
            self._reads.append(read)

    def _audit(self, action: str, result: str, message: str) -> None:
        if self.record is not None:
            self.record(
                source="page",
                action=action,
                result=result,
                message=f"enrolment mode {message}",
            )


def credential_of(intent: Presented) -> credentials.Credential:
    """The credential of a presented PIN or card, whatever source read it.

    Raises:
        CredentialError: the value is malformed for its kind.
    """
    if intent.kind == "pin":
        return credentials.from_pin(intent.value, intent.source)
    return credentials.from_card(
        CardRead(intent.source, intent.value, intent.kind, intent.timestamp)
    )


def _owner(value: str | None, actions: Any) -> tuple[User | None, str]:
    """(the VALT user whose card number is ``value``, why not known)."""
    directory = getattr(actions, "directory", None)
    if directory is None:
        return None, "no VALT lookup: VALT is not configured"
    if not value:
        return None, ""
    try:
        return directory.find(value), ""
    except ValtError as exc:
        # The message names the server and what failed, never the number.
        return None, f"VALT lookup failed: {exc}"


def _shown(
    intent: Presented,
    credential: credentials.Credential,
    marked: str,
    user: User | None,
    problem: str,
    wall: float,
) -> dict[str, Any]:
    readings = [
        {"name": name, "value": value, "marked": name == marked}
        for name, value in credential.readings.items()
    ]
    return {
        "time": wall,
        "source": intent.source,
        "kind": credential.kind,
        "readings": readings,
        "marked": marked,
        "user": _who(user) if user is not None else None,
        "problem": problem,
        "written": None,
    }


def _unreadable(intent: Presented, why: str, wall: float) -> dict[str, Any]:
    return {
        "time": wall,
        "source": intent.source,
        "kind": intent.kind,
        "readings": [],
        "marked": "",
        "user": None,
        "problem": f"not readable: {why}",
        "written": None,
    }


def _who(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.name, "display": user.display_name}


def _copy(read: dict[str, Any]) -> dict[str, Any]:
    copied = dict(read)
    copied["readings"] = [dict(r) for r in read["readings"]]
    return copied
