"""Whether the daemon came up after an update: its unit READY, /healthz answering."""

from __future__ import annotations

import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.commands import CommandRunner

UNIT = "ivs-accessory.service"
STEADY_S = 5.0  # READY must hold this long: a daemon that dies at once is not up
POLL_S = 0.5


def fetch_health(url: str, timeout_s: float = 3.0) -> str | None:
    """None when ``url`` answers as our /healthz does (ok, or degraded because of
    VALT or an input: that is the site's state, not the update's); else why not."""
    # The box's own page, maybe with its own self-signed certificate.
    context = ssl._create_unverified_context() if url.startswith("https:") else None
    try:
        with urllib.request.urlopen(url, timeout=timeout_s, context=context) as answer:  # noqa: S310
            body = answer.read(65_536)
    except urllib.error.HTTPError as exc:  # 503: degraded, still a running daemon
        body = exc.read(65_536)
    except (OSError, ValueError) as exc:
        return f"{url} did not answer ({exc})"
    try:
        status = json.loads(body).get("status")
    except (ValueError, AttributeError):
        status = None
    return None if status in ("ok", "degraded") else f"{url} answered {body[:80]!r}"


class Readiness:
    """Waits for the daemon after a restart (the update helper's ``healthy``).

    Args:
        runner: runs ``systemctl show`` (a Type=notify unit is ``active`` only
            after READY=1).
        fetch: checks the /healthz URL (``fetch_health``).
        clock, pause: time and waiting (tests pass their own).
    """

    def __init__(
        self,
        runner: CommandRunner,
        fetch: Callable[[str], str | None] = fetch_health,
        unit: str = UNIT,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], object] | None = None,
    ) -> None:
        self.runner = runner
        self.fetch = fetch
        self.unit = unit
        self.clock = clock
        self.pause = pause or threading.Event().wait

    def __call__(self, health_url: str, within_s: float) -> str | None:
        """None once the unit has stayed active ``STEADY_S`` with the same main
        process and /healthz answers (when a URL is given); else the last problem."""
        deadline = self.clock() + within_s
        problem: str | None = "not checked"
        steady_since: tuple[float, str] | None = None
        while self.clock() < deadline:
            state, pid = self._state()
            if state != "active":
                problem, steady_since = f"{self.unit} is {state}", None
            elif steady_since is None or steady_since[1] != pid:
                steady_since = (self.clock(), pid)
                problem = f"{self.unit} did not stay up for {STEADY_S:g} s"
            elif self.clock() - steady_since[0] >= STEADY_S:
                problem = self.fetch(health_url) if health_url else None
                if problem is None:
                    return None
            self.pause(POLL_S)
        return problem

    def _state(self) -> tuple[str, str]:
        try:
            text = self.runner.run(
                ["systemctl", "show", "--property", "ActiveState,MainPID", self.unit]
            )
        except SystemActionError as exc:
            return f"unknown ({exc})", ""
        fields = dict(line.partition("=")[::2] for line in text.splitlines())
        return fields.get("ActiveState", "unknown"), fields.get("MainPID", "")
