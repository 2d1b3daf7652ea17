"""Keeps the page's DNS-SD name on the room: stages it and asks the root helper."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.avahi import Advertisement, staged_text
from ivs_accessory.system.commands import CommandRunner
from ivs_accessory.threads import Worker

logger = logging.getLogger(__name__)

# The room's name comes from VALT and rarely changes: a look twice a minute is soon
# enough, and costs nothing when nothing changed.
EVERY_S = 30.0


def page_advertisement(service: Any) -> Advertisement | None:
    """What the running daemon's page should be advertised as; None without a page."""
    web = getattr(service, "web", None)
    if web is None:
        return None
    room = service.status()["room"].get("name") or ""
    # The server's own answers: TLS and the port change only when it restarts.
    return Advertisement(str(room), int(web.address[1]), bool(web.https))


class Advertiser:
    """Writes ``[system] advertise_file`` and runs ``advertise_command`` whenever the
    room's name or the page's port changes, from a thread of its own (the helper's
    start must never hold up an input). A failed command is tried again next time.

    Args:
        current: what should be advertised now (None: nothing, no page).
        settings: the ``[system]`` section in use (a callable: reloads change it).
        runner: runs the command.
        every_s: how often to look.
    """

    def __init__(
        self,
        current: Callable[[], Advertisement | None],
        settings: Callable[[], Mapping[str, Any]],
        runner: CommandRunner | None = None,
        every_s: float = EVERY_S,
    ) -> None:
        self._current = current
        self._settings = settings
        self._runner = runner
        self._every_s = every_s
        self._stopping = threading.Event()
        self._done: tuple[str, str, tuple[str, ...]] | None = None
        self._problem = ""
        self._worker = Worker(
            self._run, "advertise", on_stop=self._stopping.set, daemon=True
        )

    def start(self) -> None:
        self._worker.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._worker.stop(timeout_s)

    def _run(self) -> None:
        while True:
            try:
                self.update()
            except Exception:  # the top of a thread: log it, look again next time
                logger.exception("advertise: unexpected failure")
            if self._stopping.wait(self._every_s):
                return

    def update(self) -> bool:
        """Stage and ask the helper if anything changed; True when it asked."""
        settings = self._settings()
        path, command = settings["advertise_file"], settings["advertise_command"]
        ad = self._current()
        if ad is None or not path or not command:
            return False
        text = staged_text(ad)
        wanted = (path, text, tuple(command))
        if wanted == self._done:
            return False
        runner = self._runner or CommandRunner(settings["command_timeout_s"])
        try:
            atomic_write(path, text.encode("utf-8"), 0o600, make_folder=True)
            runner.run(command)
        except (OSError, SystemActionError) as exc:
            self._report(f"{exc}")
            return True
        self._done, self._problem = wanted, ""
        logger.info("advertise: the page as %r", ad.instance_name())
        return True

    def _report(self, problem: str) -> None:
        # Once per new problem: a helper that keeps failing must not fill the log.
        if problem != self._problem:
            logger.warning(
                "advertise: cannot update the page's DNS-SD name: %s", problem
            )
        self._problem = problem
