"""Fault injection: which requests fail, how, and for how many requests or how long."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ivs_accessory.valtsim.chunks import (
    JSON,
    Answer,
    json_answer,
    padded_answer,
    raw_answer,
)

_HTTP_STATUSES = range(400, 600)
_MALFORMED = b'{"data": {"status": "avail'


FORBIDDEN_MODES = ("409", "400", "500", "200")


def check_forbidden(mode: Any) -> str:
    """The answer mode for forbidden room transitions, as one of FORBIDDEN_MODES."""
    text = None if isinstance(mode, bool) else str(mode)
    if not isinstance(mode, (str, int)) or text not in FORBIDDEN_MODES:
        raise ValueError(
            f"forbidden mode {mode!r} is not one of {', '.join(FORBIDDEN_MODES)}; "
            "use for example forbidden='200'"
        )
    return text


@dataclass
class Fault:
    """One injected fault.

    ``path`` is a shell pattern on the API path relative to ``/api/v3/`` (``rooms/*``
    matches ``rooms/1/status``); ``method`` limits it to GET/POST/DELETE. It applies
    to ``count`` matching requests (None: no limit) and/or until ``duration_s`` has
    passed.

    Effects, at most one of: ``drop``, ``malformed``, ``body`` (raw answer text,
    ``content_type`` optional), ``body_bytes`` (a valid JSON answer that large,
    streamed), ``revoke_token``; ``status`` alone answers an error, with ``body`` or
    ``body_bytes`` it is their status. ``delay_ms`` waits first and can stand alone;
    ``trickle_bps`` sends the answer at that pace, ``endless`` never finishes it.

    Without ``after`` the effect replaces the request (nothing is carried out; a
    delay alone only delays it). With ``after`` the request is carried out first and
    the effect applies to its answer.
    """

    path: str = "*"
    method: str | None = None
    status: int | None = None
    delay_ms: int = 0
    drop: bool = False
    malformed: bool = False
    revoke_token: bool = False
    body: str | None = None
    content_type: str | None = None
    body_bytes: int | None = None
    trickle_bps: float | None = None
    endless: bool = False
    after: bool = False
    count: int | None = 1
    duration_s: float | None = None
    id: int = 0
    expires: float | None = field(default=None, repr=False)

    def matches(self, method: str, path: str, now: float) -> bool:
        if self.expires is not None and now >= self.expires:
            return False
        if self.count is not None and self.count <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return fnmatch.fnmatchcase(path, self.path)

    def own_answer(self) -> Answer | None:
        """The answer it brings of its own, or None if it leaves the request's."""
        if self.malformed:
            return raw_answer(200, _MALFORMED)
        if self.body is not None:
            return raw_answer(
                self.status or 200, self.body.encode(), self.content_type or JSON
            )
        if self.body_bytes is not None:
            return padded_answer(self.status or 200, self.body_bytes)
        if self.status is not None:
            return json_answer(self.status, {"error": f"injected fault {self.status}"})
        return None

    def as_json(self) -> dict[str, Any]:
        shown = asdict(self)
        shown.pop("expires")
        return shown


def check_fault(options: dict[str, Any]) -> Fault:
    """Build a Fault from keyword options, raising ValueError with the fix for bad
    ones."""
    allowed = set(Fault.__dataclass_fields__) - {"id", "expires"}
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValueError(f"unknown fault option(s) {unknown}; use {sorted(allowed)}")
    fault = Fault(**options)
    _check_target(fault)
    _check_values(fault)
    _check_answer(fault)
    _check_pace(fault)
    _check_lifetime(fault, options)
    return fault


def _check_target(fault: Fault) -> None:
    if not isinstance(fault.path, str) or not fault.path:
        raise ValueError("fault 'path' must be a pattern such as 'rooms/*/status'")
    fault.path = fault.path.lstrip("/")
    if fault.method is not None and str(fault.method).upper() not in (
        "GET",
        "POST",
        "DELETE",
    ):
        raise ValueError("fault 'method' must be GET, POST or DELETE")


def _check_values(fault: Fault) -> None:
    """Each option's own type and range."""
    if fault.status is not None and (
        not isinstance(fault.status, int) or fault.status not in _HTTP_STATUSES
    ):
        raise ValueError("fault 'status' must be an HTTP error code 400-599")
    if not _is_number(fault.delay_ms) or fault.delay_ms < 0:
        raise ValueError("fault 'delay_ms' must be a number >= 0")
    for name in ("drop", "malformed", "revoke_token", "endless", "after"):
        if not isinstance(getattr(fault, name), bool):
            raise ValueError(f"fault '{name}' must be true or false")
    if fault.body is not None and not isinstance(fault.body, str):
        raise ValueError(
            "fault 'body' must be a string, the raw answer, e.g. '<html></html>' "
            "or '{\"data\": null}'"
        )
    if fault.content_type is not None and (
        not isinstance(fault.content_type, str)
        or not fault.content_type.strip()
        or any(c in fault.content_type for c in "\r\n")
    ):
        raise ValueError("fault 'content_type' must be a header value like 'text/html'")
    if fault.body_bytes is not None and (
        not isinstance(fault.body_bytes, int)
        or isinstance(fault.body_bytes, bool)
        or fault.body_bytes < 1
    ):
        raise ValueError(
            "fault 'body_bytes' must be a whole number of bytes >= 1, e.g. 50000000"
        )
    if fault.trickle_bps is not None and (
        not _is_number(fault.trickle_bps) or not 0 < fault.trickle_bps < float("inf")
    ):
        raise ValueError(
            "fault 'trickle_bps' must be a number of bytes per second > 0, e.g. 20"
        )


def _check_answer(fault: Fault) -> None:
    """Which effects go together."""
    own = [
        name
        for name in ("drop", "malformed", "body", "body_bytes", "revoke_token")
        if getattr(fault, name) not in (None, False)
    ]
    if len(own) > 1:
        raise ValueError(
            f"a fault has one effect of drop, malformed, body, body_bytes and "
            f"revoke_token, not {own}; inject one fault for each"
        )
    if fault.status is not None and own and own[0] not in ("body", "body_bytes"):
        raise ValueError(
            f"fault 'status' goes with 'body' or 'body_bytes' (their status), not "
            f"with '{own[0]}'; leave one out"
        )
    if fault.content_type is not None and fault.body is None:
        raise ValueError("fault 'content_type' goes with 'body'; add the body")
    if not own and fault.status is None and not (fault.delay_ms or fault.trickle_bps):
        raise ValueError(
            "a fault needs an effect: status, drop, malformed, body, body_bytes, "
            "revoke_token, trickle_bps or delay_ms"
        )


def _check_pace(fault: Fault) -> None:
    """``trickle_bps`` and ``endless`` need an answer to pace."""
    if fault.trickle_bps is not None and (fault.drop or fault.revoke_token):
        raise ValueError(
            "fault 'trickle_bps' paces an answer; 'drop' and 'revoke_token' send "
            "none, so leave one out"
        )
    if fault.endless and fault.trickle_bps is None:
        raise ValueError("fault 'endless' needs 'trickle_bps', the pace of its bytes")
    if fault.endless and (fault.malformed or fault.body or fault.body_bytes):
        raise ValueError(
            "an 'endless' answer never reaches its body; leave out malformed, body "
            "and body_bytes"
        )
    if (
        fault.trickle_bps is not None
        and not (fault.after or fault.endless)
        and fault.own_answer() is None
    ):
        raise ValueError(
            "a trickle without 'after' replaces the request, so it needs an answer "
            "to send: add 'after': true (carry the request out, then trickle its "
            "answer), or 'status', 'body', 'body_bytes' or 'malformed'"
        )


def _check_lifetime(fault: Fault, options: dict[str, Any]) -> None:
    if fault.count is not None and (
        not isinstance(fault.count, int) or fault.count < 1
    ):
        raise ValueError("fault 'count' must be a positive integer or null (no limit)")
    if fault.duration_s is not None and (
        not _is_number(fault.duration_s) or fault.duration_s <= 0
    ):
        raise ValueError("fault 'duration_s' must be a number of seconds > 0")
    if fault.duration_s is not None and "count" not in options:
        fault.count = None  # a duration alone means every request in that time


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class FaultTable:
    """The active faults, consulted once per API request."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._next_id = 0

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._next_id += 1
            fault.id = self._next_id
            if fault.duration_s is not None:
                fault.expires = self._clock() + fault.duration_s
            self._faults.append(fault)
            return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault for this request, with its count used up by one."""
        now = self._clock()
        with self._lock:
            self._faults = [f for f in self._faults if _alive(f, now)]
            for fault in self._faults:
                if fault.matches(method, path, now):
                    if fault.count is not None:
                        fault.count -= 1
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        now = self._clock()
        with self._lock:
            return [f.as_json() for f in self._faults if _alive(f, now)]


def _alive(fault: Fault, now: float) -> bool:
    if fault.count is not None and fault.count <= 0:
        return False
    return fault.expires is None or now < fault.expires
