"""Keyboard-emulating (HID) card readers over evdev: the pure decoder and its reader."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import evdev
from evdev import ecodes

from ivs_accessory.events import CardRead, InputEvent
from ivs_accessory.sources import devices
from ivs_accessory.sources.base import check_options, option_flag, register
from ivs_accessory.sources.keypad import EvdevSource
from ivs_accessory.sources.selector import DeviceInfo, Selector

logger = logging.getLogger(__name__)

_WARNING_INTERVAL_S = 1.0
# Some USB keypads wrap every digit in NumLock presses to force the host's NumLock
# state; readers press Shift for upper-case hex. Neither carries information.
_NOISE = frozenset(
    getattr(ecodes, f"KEY_{name}")
    for name in ("NUMLOCK", "CAPSLOCK", "LEFTSHIFT", "RIGHTSHIFT", "LEFTCTRL")
    + ("RIGHTCTRL", "LEFTALT", "RIGHTALT")
)
_CARD_CHARS = (
    {getattr(ecodes, f"KEY_{d}"): str(d) for d in range(10)}
    | {getattr(ecodes, f"KEY_KP{d}"): str(d) for d in range(10)}
    | {getattr(ecodes, f"KEY_{c}"): c for c in "ABCDEF"}
)
_ENTERS = frozenset({ecodes.KEY_ENTER, ecodes.KEY_KPENTER})


class HidCardDecoder:
    """Turn the keystrokes of a keyboard-emulating card reader into CardRead events.

    The reader types digits (top row or keypad), sometimes hex letters A-F, then
    Enter. All digits give ``kind="decimal"``; exactly 10 hex characters with a
    letter give ``kind="em4100"``. Shift, NumLock and other modifiers are ignored.
    Reads with other keys, longer than ``max_length``, with letters but not 10 long,
    or abandoned for more than ``idle_s`` are dropped and counted in ``dropped``;
    the log says why, never which digits.
    """

    def __init__(
        self,
        source: str,
        clock: Callable[[], float] = time.monotonic,
        max_length: int = 64,
        idle_s: float = 1.0,
    ) -> None:
        self.source = source
        self.max_length = max_length
        self.idle_s = idle_s
        self.reads = 0
        self.dropped = 0
        self._clock = clock
        self._chars: list[str] = []
        self._bad: str | None = None  # why the read in progress will be dropped
        self._active = False
        self._last_key = 0.0
        self._last_warning: float | None = None

    def feed(self, event: Any) -> list[InputEvent]:
        """Consume one evdev InputEvent; return the card read it completes, if any."""
        if event.type != ecodes.EV_KEY or event.value != 1 or event.code in _NOISE:
            return []  # a reader's character is its key-down; releases add nothing
        now = self._clock()
        self._expire(now)
        if event.code in _ENTERS:
            return self._finish(now)
        self._active, self._last_key = True, now
        char = _CARD_CHARS.get(event.code)
        if self._bad is None and char is None:
            self._bad = "a key that is not a digit or A-F"
        elif self._bad is None and char is not None:
            self._chars.append(char)
            if len(self._chars) > self.max_length:
                self._bad = f"a read longer than {self.max_length} characters"
        return []

    def tick(self) -> list[InputEvent]:
        """Drop a read abandoned for more than ``idle_s``."""
        self._expire(self._clock())
        return []

    def reset(self) -> None:
        """Drop a read cut short, e.g. when the device was lost."""
        if self._active:
            self._drop("a read cut short by a reconnect")

    def _expire(self, now: float) -> None:
        if self._active and now - self._last_key > self.idle_s:
            self._drop(f"a partial read abandoned for more than {self.idle_s:g} s")

    def _finish(self, now: float) -> list[InputEvent]:
        if not self._active:
            return []  # a lone Enter: nothing was read
        if self._bad is not None:
            self._drop(self._bad)
            return []
        raw = "".join(self._chars)
        kind = "decimal" if raw.isdigit() else "em4100" if len(raw) == 10 else None
        if kind is None:
            self._drop(f"{len(raw)} hex characters (EM4100 has 10)")
            return []
        self._clear()
        self.reads += 1
        return [CardRead(self.source, raw, kind, now)]

    def _drop(self, reason: str) -> None:
        self._clear()
        self.dropped += 1
        # A noisy reader could drop many reads a second: warn at most once a second.
        now = self._clock()
        quiet = (
            self._last_warning is not None
            and now - self._last_warning < _WARNING_INTERVAL_S
        )
        if not quiet:
            self._last_warning = now
        logger.log(
            logging.DEBUG if quiet else logging.WARNING,
            "card reader %s dropped %s",
            self.source,
            reason,
        )

    def _clear(self) -> None:
        self._chars.clear()
        self._bad, self._active = None, False


class EvdevCardReader(EvdevSource):
    """A keyboard-emulating (HID) card reader: CardRead events.

    It deliberately has no ``set_leds``: many such readers honour Caps Lock and
    would then type shifted characters.
    """

    role = "card reader"

    def __init__(
        self,
        name: str,
        selector: str | Selector,
        *,
        grab: bool = True,
        open_device: Callable[[str], Any] = evdev.InputDevice,
        list_devices: Callable[[], Iterable[DeviceInfo]] = devices.list_devices,
        clock: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
    ) -> None:
        super().__init__(
            name, selector, HidCardDecoder(name, clock), grab=grab,
            open_device=open_device, list_devices=list_devices, clock=clock,
            reconnect_min_s=reconnect_min_s, reconnect_max_s=reconnect_max_s,
        )  # fmt: skip

    def status(self) -> dict[str, Any]:
        return super().status() | {
            "reads": self._decoder.reads,
            "dropped": self._decoder.dropped,
        }


@register("card_hid")
def _card_hid(name: str, options: Mapping[str, Any], **seams: Any) -> EvdevCardReader:
    """``device`` and ``grab`` (true) -> EvdevCardReader."""
    check_options("card_hid", name, options, ("device", "grab"))
    return EvdevCardReader(
        name,
        str(options.get("device") or ""),
        grab=option_flag(options, "grab", True),
        **seams,
    )
