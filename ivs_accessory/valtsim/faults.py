"""Fault injection: which requests fail, how, and for how many requests or how long."""

from __future__ import annotations

import fnmatch
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

_HTTP_STATUSES = range(400, 600)


@dataclass
class Fault:
    """One injected fault.

    ``path`` is a shell pattern on the API path relative to ``/api/v3/`` (``rooms/*``
    matches ``rooms/1/status``); ``method`` limits it to GET/POST/DELETE. It applies
    to ``count`` matching requests (None: no limit) and/or until ``duration_s`` has
    passed. Exactly one effect: ``status``, ``drop``, ``malformed`` or
    ``revoke_token``; ``delay_ms`` can add to any of them or stand alone.
    """

    path: str = "*"
    method: str | None = None
    status: int | None = None
    delay_ms: int = 0
    drop: bool = False
    malformed: bool = False
    revoke_token: bool = False
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
    if not isinstance(fault.path, str) or not fault.path:
        raise ValueError("fault 'path' must be a pattern such as 'rooms/*/status'")
    fault.path = fault.path.lstrip("/")
    if fault.method is not None and str(fault.method).upper() not in (
        "GET",
        "POST",
        "DELETE",
    ):
        raise ValueError("fault 'method' must be GET, POST or DELETE")
    if fault.status is not None and (
        not isinstance(fault.status, int) or fault.status not in _HTTP_STATUSES
    ):
        raise ValueError("fault 'status' must be an HTTP error code 400-599")
    if not isinstance(fault.delay_ms, (int, float)) or fault.delay_ms < 0:
        raise ValueError("fault 'delay_ms' must be a number >= 0")
    effects = [
        fault.status is not None,
        fault.drop,
        fault.malformed,
        fault.revoke_token,
    ]
    if sum(bool(e) for e in effects) > 1:
        raise ValueError(
            "a fault has one effect: status, drop, malformed or revoke_token"
        )
    if not any(effects) and not fault.delay_ms:
        raise ValueError(
            "a fault needs an effect: status, drop, malformed, revoke_token or delay_ms"
        )
    if fault.count is not None and (
        not isinstance(fault.count, int) or fault.count < 1
    ):
        raise ValueError("fault 'count' must be a positive integer or null (no limit)")
    if fault.duration_s is not None and (
        not isinstance(fault.duration_s, (int, float)) or fault.duration_s <= 0
    ):
        raise ValueError("fault 'duration_s' must be a number of seconds > 0")
    if fault.duration_s is not None and "count" not in options:
        fault.count = None  # a duration alone means every request in that time
    return fault


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
