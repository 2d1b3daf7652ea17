"""A server-sent events reader for tests: one real HTTP connection, events as dicts."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit


class EventStream:
    """``GET path`` on the served page, read as server-sent events.

    Each read waits at most ``timeout`` seconds (the socket's), so a test that
    waits for an event that never comes fails instead of hanging.
    """

    def __init__(
        self,
        url: str,
        path: str = "/door/events",
        timeout: float = 20,
        source: str | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(
            parts.hostname,
            parts.port,
            timeout=timeout,
            source_address=(source, 0) if source else None,
        )
        self.connection.request("GET", path)
        self.response = self.connection.getresponse()
        self.retry_ms: int | None = None

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.connection.close()

    def next(self) -> dict[str, Any] | None:
        """The next event's data (JSON), or None at the end of the stream."""
        data: list[str] = []
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode().rstrip("\n")
            if text.startswith("retry: "):
                self.retry_ms = int(text[7:])
            elif text.startswith("data: "):
                data.append(text[6:])
            elif text == "" and data:
                return json.loads("\n".join(data))

    def ended(self, within_s: float = 30) -> int:
        """Read until the stream ends; the number of events read before that.

        Events the server sent before it ended the stream (a change that raced the
        stop) are still in the socket and come first; AssertionError if the end
        does not come within ``within_s``.
        """
        deadline = time.monotonic() + within_s
        count = 0
        while time.monotonic() < deadline:
            if self.next() is None:
                return count
            count += 1
        raise AssertionError(f"the stream did not end within {within_s} s")

    def until(
        self, wanted: Callable[[dict[str, Any]], bool], within_s: float = 30
    ) -> dict[str, Any]:
        """Read events until one satisfies ``wanted``; AssertionError otherwise."""
        deadline = time.monotonic() + within_s
        while time.monotonic() < deadline:
            event = self.next()
            assert event is not None, "the stream ended"
            if wanted(event):
                return event
        raise AssertionError(f"no wanted event within {within_s} s")
