"""The lamp's own thread: opens the light, writes the latest colour, reopens it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ivs_accessory.door.feedback import FeedbackSink
from ivs_accessory.door.lamp import (
    OFF,
    LampError,
    LampFeedback,
    LampSettings,
    Light,
    Rgb,
)
from ivs_accessory.threads import Worker

logger = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 2.0  # a USB write in hand gets this long when the daemon stops
OpenLight = Callable[[str], Light]


class LampDriver:
    """Owns one light on a thread of its own, so a slow or vanished USB device never
    holds up the door.

    :meth:`want` only records the colour and wakes the thread, which writes the
    latest one (frames of a blink it could not keep up with are skipped). While
    connected, the colour is written again every ``refresh_s``: that finds an
    unplugged light even when nothing changes, and restores one that reset
    itself. A light that is absent, cannot be opened or fails a write is looked
    for again with back-off from ``retry_min_s`` to ``retry_max_s``; each outage
    logs one WARNING, each connect one INFO line, and :meth:`status` tells the page.

    Args:
        open_light: ``selector -> Light``; raises :class:`LampError` saying why not.
        selector: ``[lamp] device``.
    """

    def __init__(
        self,
        open_light: OpenLight,
        selector: str = "first",
        *,
        refresh_s: float = 5.0,
        retry_min_s: float = 0.5,
        retry_max_s: float = 10.0,
    ) -> None:
        self.selector = selector
        self.refresh_s = refresh_s
        self._open_light = open_light
        self._retry = (retry_min_s, retry_max_s)
        self._wake = threading.Condition()
        self._stopping = threading.Event()
        self._wanted: tuple[Rgb, str] = (OFF, "starting")
        self._shown: Rgb | None = None  # on the device; None: unknown (just opened)
        self._light: Light | None = None
        self._state, self._problem = "starting", ""
        self._in_outage = False
        self._ever_connected = False
        self.writes = 0
        self.reconnects = 0
        self._worker = Worker(
            self._run, "lamp", on_stop=self._stop, hint="a USB write to the lamp hangs"
        )

    # -- the door's side (any thread) --------------------------------------------------
    def want(self, rgb: Rgb, meaning: str) -> None:
        """Show ``rgb`` (meaning ``meaning``) as soon as the lamp's thread can."""
        with self._wake:
            self._wanted = (rgb, meaning)
            self._wake.notify()

    def start(self) -> None:
        self._worker.start()

    def close(self) -> None:
        """Turn the light off (the door will no longer know the room), release it and
        end the thread.

        Raises:
            ThreadStuckError: a write still hangs after JOIN_TIMEOUT_S.
        """
        self._worker.stop(JOIN_TIMEOUT_S)

    @property
    def connected(self) -> bool:
        return self._light is not None

    def status(self) -> dict[str, Any]:
        """A snapshot for the page: state, the light's name, what it shows, problem."""
        light, (rgb, meaning) = self._light, self._wanted
        return {
            "state": self._state,
            "connected": light is not None,
            "device": light.name if light is not None else None,
            "selector": self.selector,
            "showing": meaning,
            "colour": "#" + "".join(f"{c:02x}" for c in rgb),
            "problem": self._problem or None,
            "writes": self.writes,
            "reconnects": self.reconnects,
        }

    # -- the lamp's thread -------------------------------------------------------------
    def _stop(self) -> None:
        self._stopping.set()
        with self._wake:
            self._wake.notify()

    def _run(self) -> None:
        delay = self._retry[0]
        try:
            while not self._stopping.is_set():
                if self._light is None and not self._connect():
                    self._stopping.wait(delay)
                    delay = min(delay * 2, self._retry[1])
                    continue
                delay = self._retry[0]
                self._write_next()
        except Exception as exc:
            # Device failures are LampErrors and retried; this is a bug. Say so.
            self._state, self._problem = "stopped", f"stopped by an error: {exc}"
            logger.exception("lamp: stopped by an unexpected error")
        finally:
            self._shut()

    def _connect(self) -> bool:
        try:
            light = self._open_light(self.selector)
        except LampError as exc:
            self._trouble("absent", str(exc))
            return False
        if self._ever_connected:
            self.reconnects += 1
        self._ever_connected = True
        self._light, self._shown = light, None
        self._state, self._problem, self._in_outage = "connected", "", False
        logger.info("lamp: %s connected", light.name)
        return True

    def _write_next(self) -> None:
        with self._wake:
            self._wake.wait_for(
                lambda: self._stopping.is_set() or self._wanted[0] != self._shown,
                timeout=self.refresh_s,
            )
            rgb = self._wanted[0]
        if not self._stopping.is_set():
            self._write(rgb)

    def _write(self, rgb: Rgb) -> None:
        light = self._light
        assert light is not None
        try:
            if rgb == OFF:
                light.off()
            else:
                light.on(rgb)
        except (LampError, OSError) as exc:
            self._release()
            self._trouble("lost", f"{light.name} stopped answering ({exc}); "
                          "looking for it again")  # fmt: skip
            return
        self._shown = rgb
        self.writes += 1

    def _trouble(self, state: str, problem: str) -> None:
        """Record a failure; only the first of an outage is a WARNING."""
        self._state, self._problem = state, problem
        level = logging.DEBUG if self._in_outage else logging.WARNING
        logger.log(level, "lamp: %s", problem)
        self._in_outage = True

    def _release(self) -> None:
        light, self._light, self._shown = self._light, None, None
        if light is None:
            return
        try:
            light.close()
        except (LampError, OSError) as exc:
            logger.debug("lamp: closing %s: %s", light.name, exc)

    def _shut(self) -> None:
        light = self._light
        if light is not None:
            try:
                light.off()
            except (LampError, OSError) as exc:
                logger.debug("lamp: cannot turn %s off: %s", light.name, exc)
        self._release()
        if self._state != "stopped":
            self._state, self._problem = "closed", ""


class LampSlot:
    """The service's lamp: one driver kept across reloads while ``device`` stays,
    a new sink for each configuration.

    Args:
        open_light: the light factory (default: busylight-core over hidraw).
    """

    def __init__(self, open_light: OpenLight | None = None) -> None:
        self._open_light = open_light or _open_busylight
        self._driver: LampDriver | None = None

    def sinks(
        self, settings: LampSettings | None, clock: Callable[[], float] = time.monotonic
    ) -> list[FeedbackSink]:
        """``[LampFeedback]`` for ``settings``, or [] (and the lamp closed) when
        the lamp is off."""
        driver = self._driver
        if driver is not None and (
            settings is None or driver.selector != settings.device
        ):
            self.close()
            driver = None
        if settings is None:
            return []
        if driver is None:
            driver = self._driver = LampDriver(self._open_light, settings.device)
            driver.start()
        return [LampFeedback(settings, driver, clock)]

    def status(self) -> dict[str, Any] | None:
        """The driver's status, or None while no lamp is configured."""
        return self._driver.status() if self._driver is not None else None

    def close(self) -> None:
        """Turn the lamp off and stop its thread (ThreadStuckError if a write hangs)."""
        driver, self._driver = self._driver, None
        if driver is not None:
            driver.close()


def _open_busylight(selector: str) -> Light:
    # Imported when first used: busylight-core is an optional extra, and it is
    # loaded only once a light it knows is plugged in (door/lamp_ids.py).
    from ivs_accessory.door.busylight import open_plugged_in

    return open_plugged_in(selector)
