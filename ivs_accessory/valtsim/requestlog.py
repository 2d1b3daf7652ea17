"""The simulator's request log: one entry per API request, secrets masked."""

from __future__ import annotations

import fnmatch
import threading
import time
from typing import Any

from ivs_accessory.valtsim import routes
from ivs_accessory.valtsim.handler import parse_body
from ivs_accessory.valtsim.state import SimError, SimState

_MASK = "***"
_SECRET_FIELDS = ("password",)


def _masked(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: (_MASK if k in _SECRET_FIELDS else v) for k, v in body.items()}
    return body


class RequestLog:
    """The API requests in arrival order; the server fills in each entry as the
    request is served (see :meth:`ValtSimulator.requests` for the fields)."""

    def __init__(self) -> None:
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(
        self,
        state: SimState,
        method: str,
        path: str,
        query: dict[str, str],
        raw: bytes,
        token: str | None,
    ) -> tuple[dict[str, Any], dict[str, Any] | SimError, dict[str, Any] | None]:
        """Log a request as it comes in; returns its entry, its parsed body (or the
        error a bad body gets) and the user its token belongs to."""
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "body": None,
            "status": None,
            "time": time.time(),
            "user": None,
            "answered": None,
            "changed": False if routes.is_action(method, path) else None,
            "acted": None,
        }
        body: dict[str, Any] | SimError
        try:
            body = parse_body(raw)
            entry["body"] = _masked(body) if raw.strip() else None
        except SimError as exc:
            entry["body"] = raw[:200].decode("utf-8", "replace")
            body = exc
        user = state.peek_user(token)
        if user is not None:
            entry["user"] = user["name"]
        elif path == "login" and isinstance(body, dict):
            entry["user"] = body.get("username")
        with self._lock:
            self._entries.append(entry)
        return entry, body, user

    def entries(self, path: str | None = None) -> list[dict[str, Any]]:
        """Copies of the entries, optionally those whose path matches a pattern."""
        with self._lock:
            entries = [dict(e) for e in self._entries]
        if path is not None:
            entries = [e for e in entries if fnmatch.fnmatchcase(e["path"], path)]
        return entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
