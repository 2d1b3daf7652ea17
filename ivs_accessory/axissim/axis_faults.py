"""Faults the Axis simulator can inject: which requests, how they fail, how often."""

from __future__ import annotations

import fnmatch
import threading
from dataclasses import asdict, dataclass, fields
from typing import Any

EFFECTS = (
    "refuse_credentials",
    "hang",
    "delay_ms",
    "status",
    "error",
    "drop",
    "not_applied",
)


@dataclass
class AxisFault:
    """One injected fault.

    ``path`` is a shell pattern on the path without its leading slash
    (``axis-cgi/privacymask.cgi``, ``axis-cgi/*``); it hits ``count`` matching
    requests (None: every one until cleared), before their login is checked (a
    client's first request carries none), except ``refuse_credentials`` and
    ``not_applied``, which hit logged-in requests. One effect each:

    - ``refuse_credentials``: 401 even to the right user and password (the password
      was changed on the camera);
    - ``hang``: never answer; the connection stays open until the client gives up
      or the simulator stops;
    - ``delay_ms``: answer this late (then normally);
    - ``status``: answer with this HTTP status (404: as a model without the CGI);
    - ``error``: ``200 OK`` with ``Error:<text>`` (``# Error: <text>`` on param.cgi);
    - ``drop``: close the connection without an answer;
    - ``not_applied``: answer as if done, change nothing (read-back catches it).
    """

    path: str = "*"
    count: int | None = None
    refuse_credentials: bool = False
    hang: bool = False
    delay_ms: float | None = None
    status: int | None = None
    error: str | None = None
    drop: bool = False
    not_applied: bool = False
    id: int = 0

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.path)

    def as_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, False)}


def check_fault(options: dict[str, Any]) -> AxisFault:
    """An AxisFault from keyword options, or ValueError saying what is wrong."""
    known = {f.name for f in fields(AxisFault)} - {"id"}
    unknown = sorted(set(options) - known)
    if unknown:
        raise ValueError(f"unknown fault option(s) {unknown}; use {sorted(known)}")
    fault = AxisFault(**options)
    chosen = [e for e in EFFECTS if getattr(fault, e) not in (None, False)]
    if len(chosen) != 1:
        raise ValueError(
            f"a fault has exactly one effect of {', '.join(EFFECTS)}; got {chosen}"
        )
    if not isinstance(fault.path, str) or not fault.path:
        raise ValueError("fault 'path' must be a pattern such as axis-cgi/*")
    if fault.count is not None and (
        isinstance(fault.count, bool) or not isinstance(fault.count, int)
    ):
        raise ValueError("fault 'count' must be a whole number or null (no limit)")
    if fault.count is not None and fault.count < 1:
        raise ValueError("fault 'count' must be at least 1")
    _check_values(fault)
    return fault


def _check_values(fault: AxisFault) -> None:
    if fault.delay_ms is not None and (
        isinstance(fault.delay_ms, bool)
        or not isinstance(fault.delay_ms, (int, float))
        or not 0 < fault.delay_ms <= 600_000
    ):
        raise ValueError("fault 'delay_ms' must be a number of milliseconds > 0")
    if fault.status is not None and (
        isinstance(fault.status, bool)
        or not isinstance(fault.status, int)
        or not 100 <= fault.status <= 599
    ):
        raise ValueError("fault 'status' must be an HTTP status such as 404 or 500")
    if fault.error is not None and not isinstance(fault.error, str):
        raise ValueError("fault 'error' must be the text after 'Error:'")


class FaultTable:
    """The active faults, consulted once per VAPIX request."""

    def __init__(self) -> None:
        self._faults: list[AxisFault] = []
        self._lock = threading.Lock()
        self._next_id = 0

    def add(self, fault: AxisFault) -> AxisFault:
        with self._lock:
            self._next_id += 1
            fault.id = self._next_id
            self._faults.append(fault)
            return fault

    def take(self, path: str, logged_in: bool) -> AxisFault | None:
        """The first fault for this path, its count used up by one; faults on
        logged-in requests only (refused credentials, not applied) pass over
        requests that carry no valid login."""
        with self._lock:
            for fault in self._faults:
                if not logged_in and (fault.refuse_credentials or fault.not_applied):
                    continue
                if fault.matches(path):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.as_json() for f in self._faults]
