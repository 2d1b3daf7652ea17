"""Stand-ins for what a page test cannot make the real daemon do on demand."""

from __future__ import annotations

import queue
from typing import Any

from ivs_accessory.door.outcome import Outcome


class StatusOverlay:
    """The real Service, with parts of ``status()`` replaced and the safe-mode call.

    The real daemon still runs behind it (config, saving, reload, dispatcher), so
    only what the test names is pretended: keys of ``status()["valt"]`` and
    ``status()["room"]``, a ``safe_mode`` entry, and ``restore_last_good()``.

    Args:
        service: the running Service.
        valt, room: keys laid over the real status's sections.
        safe_mode: the ``status()["safe_mode"]`` to report (None: none).
        restore_error: ``restore_last_good()`` raises this (None: it works).
    """

    def __init__(
        self,
        service: Any,
        *,
        valt: dict[str, Any] | None = None,
        room: dict[str, Any] | None = None,
        safe_mode: dict[str, Any] | None = None,
        restore_error: Exception | None = None,
    ) -> None:
        self._service = service
        self.valt = dict(valt or {})
        self.room = dict(room or {})
        self.safe_mode = safe_mode
        self.restore_error = restore_error
        self.restored = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    def status(self) -> dict[str, Any]:
        status = self._service.status()
        status["valt"] = status["valt"] | self.valt
        status["room"] = status["room"] | self.room
        if self.safe_mode is not None:
            status["safe_mode"] = self.safe_mode
        return status

    def restore_last_good(self) -> None:
        self.restored += 1
        if self.restore_error is not None:
            raise self.restore_error


class BrokenStatus(StatusOverlay):
    """A daemon whose ``status()`` fails: a bug the page must survive."""

    def status(self) -> dict[str, Any]:
        raise RuntimeError("status exploded (a test's bug)")


class FailingReload(StatusOverlay):
    """A daemon that cannot apply the next ``failures`` configurations it is given."""

    def __init__(self, service: Any, failures: int = 1) -> None:
        super().__init__(service)
        self.failures = failures
        self.reloads = 0

    def reload(self, config: Any) -> None:
        self.reloads += 1
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("cannot open the card reader (a test's fault)")
        self._service.reload(config)


class RoomWatch:
    """A feedback sink: lets a test wait for the daemon's next report on the room."""

    def __init__(self) -> None:
        self.reports: queue.Queue = queue.Queue()

    def show(self, outcome: Outcome) -> None:
        pass

    def entry(self, source: str, length: int) -> None:
        pass

    def tick(self, now: float) -> None:
        pass

    def room(self, status: Any, online: bool | None) -> None:
        self.reports.put((status, online))

    def wait(self, wanted, timeout: float = 10) -> None:
        """Until ``wanted(status, online)`` holds for a report (queue.Empty after
        ``timeout`` without one)."""
        while True:
            status, online = self.reports.get(timeout=timeout)
            if wanted(status, online):
                return


def fake_network(addresses=("192.0.2.50/24",), gateway="192.0.2.1", problem=""):
    """A ``network=`` reader for create_app: the same answer for any interface."""
    asked: list[str] = []

    def read(interface: str) -> dict[str, Any]:
        asked.append(interface)
        return {
            "addresses": list(addresses),
            "gateway": gateway,
            "dns": ["192.0.2.53"],
            "problem": problem,
        }

    read.asked = asked
    return read
