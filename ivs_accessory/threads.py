"""Long-lived threads: start, stop within a timeout, or name the one that is stuck."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ivs_accessory.errors import AccessoryError


class ThreadStuckError(AccessoryError, RuntimeError):
    """A thread still runs ``timeout_s`` after it was told to stop.

    A RuntimeError too, so code that caught a stop's RuntimeError still catches it.

    Attributes:
        name: the thread's name.
        timeout_s: how long :meth:`Worker.stop` waited.
    """

    def __init__(self, name: str, timeout_s: float, hint: str = "") -> None:
        because = f" ({hint})" if hint else ""
        message = f"thread {name!r} did not stop within {timeout_s:g} s{because}"
        super().__init__(message)
        self.name = name
        self.timeout_s = timeout_s


class Worker:
    """One daemon thread running ``target(*args)`` until :meth:`stop`.

    The target loops until ``on_stop`` tells it to end: the hook sets an event the
    loop watches, shuts a server down or wakes a condition. Like a
    :class:`threading.Thread`, a Worker runs once; an owner that starts again makes
    a new one.

    Args:
        target, args: what runs on the thread.
        name: the thread's name, in logs and in :class:`ThreadStuckError`.
        on_stop: tells the thread to end; :meth:`stop` calls it even before
            :meth:`start`, so it may also undo what the owner prepared.
        hint: a likely cause, added to the ThreadStuckError message.
        daemon: a stuck daemon thread cannot keep the process from exiting.
    """

    def __init__(
        self,
        target: Callable[..., object],
        name: str,
        *,
        args: tuple[Any, ...] = (),
        on_stop: Callable[[], object] | None = None,
        hint: str = "",
        daemon: bool = True,
    ) -> None:
        self.name = name
        self._on_stop = on_stop
        self._hint = hint
        self._thread = threading.Thread(
            target=target, args=args, name=name, daemon=daemon
        )

    @property
    def alive(self) -> bool:
        """True from :meth:`start` until the target returns."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread.

        Raises:
            RuntimeError: started already.
        """
        self._thread.start()

    def stop(self, timeout: float) -> None:
        """Tell the thread to end, then wait up to ``timeout`` seconds for it.

        Raises:
            ThreadStuckError: the thread still runs; it goes on running, and being
                a daemon thread it ends with the process.
        """
        try:
            if self._on_stop is not None:
                self._on_stop()
        finally:
            self._join(timeout)

    def _join(self, timeout: float) -> None:
        # Called on the thread itself (an owner stopped from its own callback), it
        # can only tell: a thread cannot wait for itself to end.
        if self._thread.ident is None or self._thread is threading.current_thread():
            return
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise ThreadStuckError(self.name, timeout, self._hint)
