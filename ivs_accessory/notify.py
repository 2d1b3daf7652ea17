"""sd_notify messages (READY, STATUS, RELOADING, STOPPING) and the watchdog thread."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping

from ivs_accessory.threads import Worker

logger = logging.getLogger(__name__)

_STOP_S = 1.0  # the loop waits on the stop event: it ends at once unless a ping hangs


def _sd_notify(message: str) -> bool:
    from systemd import daemon  # imported late: only the service needs the C extension

    return bool(daemon.notify(message))


class Notifier:
    """Send sd_notify messages; without ``NOTIFY_SOCKET`` (not under systemd) nothing is
    sent.

    Args:
        send: the function that delivers a message (systemd-python's ``notify``).
        environ: where ``NOTIFY_SOCKET`` and ``WATCHDOG_USEC`` are read.
    """

    def __init__(
        self,
        send: Callable[[str], bool] = _sd_notify,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._send = send
        self._environ = environ
        self.sent: list[str] = []  # the last messages, for the status page and tests
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self._environ.get("NOTIFY_SOCKET"))

    def __call__(self, message: str) -> bool:
        with self._lock:
            self.sent = (self.sent + [message])[-20:]
        if not self.enabled:
            return False
        try:
            return self._send(message)
        except OSError as exc:
            logger.warning("sd_notify failed: %s", exc)
            return False

    def watchdog_interval_s(self) -> float | None:
        """Half the watchdog timeout systemd asked for, or None when it asked for
        none."""
        usec = self._environ.get("WATCHDOG_USEC")
        pid = self._environ.get("WATCHDOG_PID")
        if not usec or (pid and pid != str(os.getpid())):
            return None
        try:
            return int(usec) / 2_000_000
        except ValueError:
            return None


class Watchdog:
    """Ping systemd's watchdog while ``alive()`` says the daemon works.

    When ``alive()`` turns False (a hung dispatcher) the pings stop and systemd
    restarts the service after WatchdogSec, which is the point.
    """

    def __init__(
        self,
        notify: Callable[[str], object],
        interval_s: float,
        alive: Callable[[], bool],
    ) -> None:
        self._notify = notify
        self.interval_s = interval_s
        self._alive = alive
        self._stopping = threading.Event()
        self._worker = Worker(self._run, "watchdog", on_stop=self._stopping.set)
        self.missed = 0

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        """Stop pinging.

        Raises:
            ThreadStuckError: the thread did not end within a second.
        """
        self._worker.stop(_STOP_S)

    def _run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            if self._alive():
                self._notify("WATCHDOG=1")
            else:
                self.missed += 1
                logger.error(
                    "the dispatcher is not responding; withholding the watchdog ping"
                )
