"""One deadline per VALT call: a watchdog cuts the connection of a call past due."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from ivs_accessory.threads import Worker

# The call in progress on this thread; the pools below attach their connection to it.
_current = threading.local()

# How often the watchdog retries a cut: a due call may still be connecting, and its
# socket appears only once the connection is made.
_RETRY_S = 0.05
# The thread only waits on a condition and shuts sockets down: it ends at once.
_STOP_S = 1.0


class Call:
    """One request under a deadline: the connection it uses and whether it was cut."""

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self._connection: Any = None
        self._lock = threading.Lock()

    def attach(self, connection: Any) -> None:
        with self._lock:
            self._connection = connection
        if self.expired:
            self.cut()

    def cut(self) -> None:
        """Shut the connection's socket down, so a blocked read returns at once."""
        self.expired = True
        with self._lock:
            sock = getattr(self._connection, "sock", None)
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """A thread that cuts the connection of every call past its deadline.

    Socket timeouts bound each read, not a call: an answer trickled a byte at a time
    never trips them. This thread does, for the status line, the headers and the
    body alike. It starts with the first call and :meth:`close` ends it.
    """

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, name: str = "valt-deadline"
    ) -> None:
        self._clock = clock
        self._name = name
        self._calls: set[Call] = set()
        self._wake = threading.Condition()
        self._worker: Worker | None = None
        self._closed = False

    @contextlib.contextmanager
    def watch(self, seconds: float) -> Iterator[Call]:
        """Run the body as one call that is cut ``seconds`` from now."""
        call = Call(self._clock() + seconds)
        with self._wake:
            self._calls.add(call)
            self._ensure_thread()
            self._wake.notify()
        _current.call = call
        try:
            yield call
        finally:
            _current.call = None
            with self._wake:
                self._calls.discard(call)

    def cut_all(self) -> None:
        """Cut every call in progress now (the client is closing)."""
        with self._wake:
            calls = list(self._calls)
        for call in calls:
            call.cut()

    def close(self) -> None:
        """Stop the thread (calls still running are no longer watched).

        Raises:
            ThreadStuckError: the thread did not end within a second.
        """
        with self._wake:
            self._closed = True
            worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(_STOP_S)

    def _ensure_thread(self) -> None:
        if self._worker is None and not self._closed:
            self._worker = Worker(self._run, self._name, on_stop=self._wake_up)
            self._worker.start()

    def _wake_up(self) -> None:
        with self._wake:
            self._wake.notify()

    def _run(self) -> None:
        with self._wake:
            while not self._closed:
                now = self._clock()
                due = [c for c in self._calls if c.deadline <= now]
                for call in due:
                    call.cut()
                waiting = [c.deadline - now for c in self._calls if c.deadline > now]
                if due:
                    waiting.append(_RETRY_S)
                self._wake.wait(min(waiting) if waiting else None)


def _attach(connection: Any) -> Any:
    call = getattr(_current, "call", None)
    if call is not None:
        call.attach(connection)
    return connection


class _WatchedPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _attach(super()._get_conn(timeout))


class _WatchedTLSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _attach(super()._get_conn(timeout))


class WatchedAdapter(HTTPAdapter):
    """requests' adapter with pools whose connections a :class:`Watchdog` can cut."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _WatchedPool,
            "https": _WatchedTLSPool,
        }
