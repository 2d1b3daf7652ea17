"""Audit log: a JSON line per input outcome (masked credentials only), size-rotated."""

from __future__ import annotations

import collections
import contextlib
import datetime
import json
import logging
import os
import threading
from typing import Any

from ivs_accessory.door.outcome import Outcome

logger = logging.getLogger(__name__)


class AuditLog:
    """Append outcomes to ``path`` as JSON lines; keep the last ones in memory for the
    page.

    The file is created 0600 (it names users). When it passes ``max_bytes`` it is
    renamed to ``path.1`` (``path.1`` to ``path.2`` ..., up to ``keep`` files). A
    write failure is logged once and never stops the daemon. ``path=None`` keeps
    only the in-memory entries.
    """

    def __init__(
        self,
        path: str | None,
        max_bytes: int = 1_000_000,
        keep: int = 3,
        recent: int = 50,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.keep = keep
        self._recent: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=recent
        )
        self._lock = threading.Lock()
        self._failing = False

    def record(self, outcome: Outcome, room: int | None = None) -> dict[str, Any]:
        """Write one entry and return it."""
        return self._add(entry_for(outcome, room))

    def note(self, **fields: Any) -> dict[str, Any]:
        """Write an entry that is no input's outcome (the page's enrolment mode and
        its writes to VALT): ``time`` and ``fields``, which must hold no secret and
        no whole card number."""
        return self._add({"time": _now(), **fields})

    def _add(self, entry: dict[str, Any]) -> dict[str, Any]:
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self._lock:
            self._recent.append(entry)
            if self.path:
                self._write(self.path, line)
        return entry

    def recent(self, count: int = 20) -> list[dict[str, Any]]:
        """The newest entries, newest first."""
        with self._lock:
            return list(self._recent)[::-1][:count]

    def _write(self, path: str, line: str) -> None:
        data = line.encode("utf-8")
        try:
            self._rotate_if_full(path, len(data))
            _append_whole(path, data)
            self._failing = False
        except OSError as exc:
            if not self._failing:
                logger.error("cannot write the audit log %s: %s", path, exc.strerror)
            self._failing = True

    def _rotate_if_full(self, path: str, adding: int) -> None:
        try:
            size = os.path.getsize(path)
        except FileNotFoundError:
            return
        if size + adding <= self.max_bytes:
            return
        if self.keep <= 0:
            os.truncate(path, 0)
            return
        for number in range(self.keep - 1, 0, -1):
            older = f"{path}.{number}"
            if os.path.exists(older):
                os.replace(older, f"{path}.{number + 1}")
        os.replace(path, f"{path}.1")


def _append_whole(path: str, data: bytes) -> None:
    """Append ``data`` whole or not at all.

    A full disk can take part of a record; the next one would then be glued to
    that half line, and both lost to any reader. So the file is cut back to its
    size before the write when the write does not complete.
    """
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(descriptor).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(descriptor, size)
            raise
    finally:
        os.close(descriptor)


def entry_for(outcome: Outcome, room: int | None) -> dict[str, Any]:
    """The audit fields of an outcome; the credential is already masked. Privacy
    and preset actions add ``cameras``: name -> "ok" or what went wrong."""
    cameras = {"cameras": dict(outcome.cameras)} if outcome.cameras else {}
    return {
        "time": _now(),
        "source": outcome.source,
        "credential": outcome.credential,
        "user": outcome.user_id,
        "room": room,
        "action": outcome.action,
        "result": outcome.result,
        "recording": outcome.recording_id,
        "latency_ms": round(outcome.latency_s * 1000, 1),
        "requests": outcome.requests,
        "message": outcome.message,
        "intent": outcome.intent,
        **cameras,
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
