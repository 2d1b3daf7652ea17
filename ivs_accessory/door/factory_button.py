"""Factory-default button: a key held long enough, then released (OpenWrt style)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ivs_accessory.door.feedback import LED_OFFLINE, LED_RECORDING, LED_REFUSED
from ivs_accessory.errors import SystemActionError
from ivs_accessory.events import InputEvent, KeyHeld, KeyPressed
from ivs_accessory.system.commands import SystemControl

logger = logging.getLogger(__name__)

ALL_LEDS = frozenset({LED_RECORDING, LED_REFUSED, LED_OFFLINE})
BLINK_S = 0.5  # half a period of the "let go now" blinking


class FactoryButton:
    """Watch one key; held ``hold_s`` it arms, and releasing it then resets the box.

    The keypad decoders report a key still held every whole second
    (``KeyHeld(released=False)``), and its length on release. When the held time
    reaches ``hold_s`` the button is *armed*: every keypad LED blinks, telling the
    person to let go. Releasing an armed key runs ``trigger`` (the same
    factory-default request as the CLI and the page) and all LEDs stay on until the
    box reboots. A release before ``hold_s`` does nothing but a log line, and its
    events go on to the mapper like any other key's.

    The dispatcher calls :meth:`handle` with every event before mapping it; events
    of an armed or triggered press are consumed (``True``), so they cannot also act
    as a PIN key or a binding.

    Only events from ``sources`` count: the key from any other source (a USB
    keyboard, or a device posing as one on the keypad's cable) goes on to the mapper
    like any other key and resets nothing.

    Args:
        key: the evdev key name; ``""`` disables the button.
        hold_s: how long the key must be held.
        trigger: asks for the factory default; raises SystemActionError on failure.
        clock: for the blinking only (hold times come from the events).
        sources: the names of the sources whose key counts (``[system]
            factory_sources``); empty: none.
    """

    def __init__(
        self,
        key: str,
        hold_s: float,
        trigger: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
        sources: Iterable[str] = ("button",),
    ) -> None:
        self.key = key
        self.sources = frozenset(sources)
        self.hold_s = hold_s
        self.trigger = trigger
        self._clock = clock
        self.armed_at: float | None = None
        self.triggered = False
        self._swallow: tuple[str, str] | None = None  # the KeyPressed after a release

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any], clock: Callable[[], float] = time.monotonic
    ) -> FactoryButton:
        """A button for ``[system]`` whose trigger runs ``factory_default_command``."""
        button = cls("", 1.0, lambda: None, clock)
        button.configure(settings)
        return button

    def configure(self, settings: Mapping[str, Any]) -> None:
        """Take new ``[system]`` settings (a reload); a press in progress is dropped."""
        self.key = settings["factory_key"]
        self.sources = frozenset(settings["factory_sources"].replace(",", " ").split())
        self.hold_s = settings["factory_hold_ms"] / 1000
        self.trigger = SystemControl(settings).factory_default
        self.armed_at = None

    def handle(self, event: InputEvent) -> bool:
        """Look at one event; True when it belongs to a factory press (consume it)."""
        if (
            not self.key
            or getattr(event, "key", None) != self.key
            or event.source not in self.sources
        ):
            return False
        if isinstance(event, KeyPressed):
            if self._swallow == (event.source, event.key):
                self._swallow = None
                return True
            return False
        if not isinstance(event, KeyHeld):
            return False
        if not event.released:
            return self._held(event)
        return self._released(event)

    def leds(self) -> frozenset[str] | None:
        """The LEDs to show instead of the normal ones, or None for the normal ones."""
        if self.triggered:
            return ALL_LEDS
        if self.armed_at is None:
            return None
        phase = int((self._clock() - self.armed_at) / BLINK_S) % 2
        return ALL_LEDS if phase == 0 else frozenset()

    def _held(self, event: KeyHeld) -> bool:
        if self.armed_at is not None or self.triggered:
            return True
        if event.seconds < self.hold_s:
            return False
        self.armed_at = self._clock()
        logger.warning(
            "factory button %s held %.0f s: release it now to restore the "
            "factory settings",
            event.key,
            event.seconds,
        )
        return True

    def _released(self, event: KeyHeld) -> bool:
        armed = self.armed_at is not None
        self.armed_at = None
        if self.triggered:
            self._swallow = (event.source, event.key)
            return True
        if not armed and event.seconds < self.hold_s:
            logger.info(
                "factory button %s released after %.1f s; hold it %.0f s to "
                "restore the factory settings",
                event.key,
                event.seconds,
                self.hold_s,
            )
            return False
        self._swallow = (event.source, event.key)
        logger.warning(
            "factory button %s released after %.1f s: restoring the factory settings",
            event.key,
            event.seconds,
        )
        self.triggered = True
        try:
            self.trigger()
        except SystemActionError as exc:
            self.triggered = False
            logger.error("factory default could not be started: %s", exc)
        return True
