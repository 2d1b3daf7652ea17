"""evdev keypads: the pure key decoder, and the reconnecting evdev reader thread."""

from __future__ import annotations

import errno
import logging
import math
import select
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import evdev
from evdev import ecodes

from ivs_accessory.events import InputEvent, KeyHeld
from ivs_accessory.sources import devices
from ivs_accessory.sources.base import (
    Emit,
    ReconnectingReader,
    check_options,
    key_release,
    option_flag,
    register,
)
from ivs_accessory.sources.selector import DeviceInfo, Selector, parse_selector

logger = logging.getLogger(__name__)

_POLL_S = 0.2  # select timeout: how often the reader notices close() and timeouts
_PERMISSION_GRACE_S = 2.0  # udev sets the node's group shortly after it appears
LEDS = {
    "LED_NUML": ecodes.LED_NUML,
    "LED_CAPSL": ecodes.LED_CAPSL,
    "LED_SCROLLL": ecodes.LED_SCROLLL,
}


def key_name(code: int) -> str:
    """The evdev name of a key code, as ``mapping`` spells it (``KEY_KPENTER``)."""
    names = ecodes.KEY.get(code) or ecodes.BTN.get(code)
    if names is None:
        return f"KEY_{code}"
    if isinstance(names, str):
        return names
    # Aliases: skip range markers such as KEY_MIN_INTERESTING (an alias of KEY_MUTE).
    plain = [n for n in names if n.startswith(("KEY_", "BTN_")) and "_MIN_" not in n]
    return (plain or list(names))[0]


class KeypadDecoder:
    """Turn evdev key events into KeyPressed / KeyHeld; pure apart from the clock.

    Every release gives ``KeyHeld(released=True, seconds)`` followed by
    ``KeyPressed`` (see ``base.key_release`` for why the mapper needs both, in that
    order, whatever the duration). While a key is down, ``KeyHeld(released=False)``
    reports progress: first when it has been held ``hold_min_s`` (or 1 s when that is
    0), then each time the held time crosses another whole second, so a 10 s
    factory-reset hold can change LEDs as it goes. Progress comes from autorepeat
    events and from ``tick()``, so it also works on keypads without autorepeat.

    Durations use ``clock`` rather than the events' kernel timestamps: those follow
    the wall clock, which jumps when a Pi without an RTC first syncs its time.
    KEY_NUMLOCK and non-key events are ignored.
    """

    def __init__(
        self,
        source: str,
        hold_min_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if hold_min_s < 0:
            raise ValueError(f"hold_min_s must be >= 0, not {hold_min_s}")
        self.source = source
        self.hold_min_s = hold_min_s
        self._clock = clock
        self._down: dict[str, list[float]] = {}  # key -> [pressed at, next report at]

    def feed(self, event: Any) -> list[InputEvent]:
        """Consume one evdev InputEvent; return the events it completes."""
        if event.type != ecodes.EV_KEY or event.code == ecodes.KEY_NUMLOCK:
            return []
        key, now = key_name(event.code), self._clock()
        if event.value == 1:
            self._down.setdefault(key, [now, self.hold_min_s or 1.0])
            return []
        if event.value == 2:
            # A repeat without a press: the key was down before we opened the device.
            self._down.setdefault(key, [now, self.hold_min_s or 1.0])
            return self._progress(key, now)
        if event.value == 0:
            return self._release(key, now)
        return []

    def tick(self) -> list[InputEvent]:
        """Report progress of held keys whose next threshold has passed."""
        now = self._clock()
        return [e for key in list(self._down) for e in self._progress(key, now)]

    def reset(self) -> None:
        """Forget keys held down, e.g. after the device was lost."""
        self._down.clear()

    def _progress(self, key: str, now: float) -> list[InputEvent]:
        pressed_at, next_at = self._down[key]
        held = now - pressed_at
        if held < next_at:
            return []
        self._down[key][1] = math.floor(held) + 1.0
        return [KeyHeld(self.source, key, held, now, released=False)]

    def _release(self, key: str, now: float) -> list[InputEvent]:
        down = self._down.pop(key, None)
        if down is None:
            return []  # pressed before we opened the device: its length is unknown
        return key_release(self.source, key, now - down[0], now)


class EvdevSource(ReconnectingReader):
    """Read one evdev device on a daemon thread through a decoder, reopening it if lost.

    The device may be absent at start or unplugged later: the reader retries with
    exponential backoff from ``reconnect_min_s`` to ``reconnect_max_s``, warning once
    per outage. Permission errors in the first seconds after the node appears are
    retried at the shortest delay, not warned about: udev sets the node's group a
    moment after creating it. The device is grabbed by default, so its keys do not
    also reach a console login; if another program holds it (EBUSY) the reader warns
    and continues ungrabbed.

    Args:
        name: the source name, in logs and in every event.
        selector: a ``device =`` value or a Selector; see ``parse_selector``.
        decoder: has ``feed(evdev event)``, ``tick()`` and ``reset()``.
        open_device: ``open_device(path)`` returns an evdev-like device.
        list_devices: returns the DeviceInfo of every device present.

    Raises:
        ConfigError: the selector text is malformed.
    """

    role = "input device"
    log = logger

    def __init__(
        self,
        name: str,
        selector: str | Selector,
        decoder: Any,
        *,
        grab: bool = True,
        open_device: Callable[[str], Any] = evdev.InputDevice,
        list_devices: Callable[[], Iterable[DeviceInfo]] = devices.list_devices,
        clock: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
    ) -> None:
        super().__init__(
            name,
            clock=clock,
            reconnect_min_s=reconnect_min_s,
            reconnect_max_s=reconnect_max_s,
        )
        self.selector = (
            selector if isinstance(selector, Selector) else parse_selector(selector)
        )
        self.grab = grab
        self.grabbed = False
        self._decoder = decoder
        self._open_device = open_device
        self._list_devices = list_devices
        self._info: DeviceInfo | None = None
        self._denied_since: float | None = None
        self._denied_warned = False

    def status(self) -> dict[str, Any]:
        """A snapshot for the status page and logs."""
        info = self._info
        return {
            "connected": info is not None,
            "device": info.path if info else None,
            "device_name": info.name if info else None,
            "selector": str(self.selector),
            "grabbed": self.grabbed,
            "last_error": self.last_error,
            "reconnects": self.reconnects,
            "events": self.events,
        }

    def _connect(self) -> Any:
        """Find and open the device, or return None after logging why not."""
        try:
            info = self.selector.pick(self._list_devices())
        except OSError as exc:
            return self._failed(f"cannot list input devices ({exc})")
        if info is None:
            return self._failed(
                f"no input device matches {self.selector}; waiting for it"
            )
        try:
            device = self._open_device(info.path)
        except PermissionError as exc:
            return self._denied(info.path, exc)
        except OSError as exc:
            return self._failed(f"cannot open {info.path} ({exc})")
        if not self._grab(device, info):
            return None
        self._info = info
        return device

    def _grab(self, device: Any, info: DeviceInfo) -> bool:
        self.grabbed = False
        if not self.grab:
            return True
        try:
            device.grab()
            self.grabbed = True
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                self._release(device)
                self._failed(f"cannot grab {info.path} ({exc})")
                return False
            logger.warning(
                "%s: %s is grabbed by another program; reading it without a grab",
                self.label,
                info.path,
            )
        return True

    def _failed(self, message: str) -> None:
        self._denied_since = None
        super()._failed(message)

    def _denied(self, path: str, exc: OSError) -> None:
        now = self._clock()
        if self._denied_since is None:
            self._denied_since = now
        self.last_error = f"cannot open {path} ({exc})"
        if now - self._denied_since < _PERMISSION_GRACE_S:
            logger.debug("%s: %s; retrying", self.label, self.last_error)
        elif not self._denied_warned:
            # Past udev's moment: a setup problem, worth its own warning.
            self._denied_warned = True
            logger.warning(
                "%s: permission denied on %s; is the service user in group "
                "'input' and the udev rule installed?",
                self.label,
                path,
            )

    def _retry_delay(self) -> float:
        if (
            self._denied_since is not None
            and self._clock() - self._denied_since < _PERMISSION_GRACE_S
        ):
            return self._backoff.min_s
        return super()._retry_delay()

    def _connected(self, ever_connected: bool) -> None:
        super()._connected(ever_connected)
        self._decoder.reset()  # keys held across a loss must not join the new session
        self._denied_since, self._denied_warned = None, False
        info = self._info
        verb = "reconnected to" if ever_connected else "reading"
        logger.info(
            "%s %s %s (%s)",
            self.label,
            verb,
            info.path if info else "?",
            info.name if info else "?",
        )

    def _pump(self, device: Any, emit: Emit) -> bool:
        """Read until stopping (return False) or until the device is lost (True)."""
        while not self._stopping.is_set():
            try:
                ready, _, _ = select.select([device.fd], [], [], _POLL_S)
                raw = list(device.read()) if ready else []
            except BlockingIOError:
                raw = []
            except (OSError, ValueError) as exc:  # ENODEV on unplug; a closed fd
                if self._stopping.is_set():
                    return False
                self._lost(f"lost {self._info.path if self._info else '?'} ({exc})")
                return True
            for event in raw:
                self._deliver(emit, self._decoder.feed(event))
            self._deliver(emit, self._decoder.tick())
        return False

    def _disconnect(self) -> None:
        super()._disconnect()
        self._info, self.grabbed = None, False

    def _release(self, device: Any) -> None:
        try:
            device.close()
        except OSError as exc:
            logger.debug("%s: closing failed: %s", self.label, exc)


class EvdevKeypad(EvdevSource):
    """A USB keypad: KeyPressed/KeyHeld events, and its LEDs for feedback.

    Args:
        selector: which device (see ``parse_selector``); ``""`` is any keypad.
        grab: take the device for ourselves (EVIOCGRAB).
        leds: let ``set_leds`` drive the keypad's LEDs.
        hold_min_s: see ``KeypadDecoder``.
        open_device, list_devices, clock, reconnect_min_s, reconnect_max_s: see
            ``EvdevSource``.
    """

    role = "keypad"

    def __init__(
        self,
        name: str,
        selector: str | Selector = "",
        *,
        grab: bool = True,
        leds: bool = True,
        hold_min_s: float = 1.0,
        open_device: Callable[[str], Any] = evdev.InputDevice,
        list_devices: Callable[[], Iterable[DeviceInfo]] = devices.list_devices,
        clock: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
    ) -> None:
        decoder = KeypadDecoder(name, hold_min_s, clock)
        super().__init__(
            name, selector, decoder, grab=grab, open_device=open_device,
            list_devices=list_devices, clock=clock, reconnect_min_s=reconnect_min_s,
            reconnect_max_s=reconnect_max_s,
        )  # fmt: skip
        self.leds = leds
        self._leds_on: frozenset[str] = frozenset()

    def set_leds(self, on: set[str]) -> None:
        """Light exactly the LEDs named in ``on`` (LED_NUML, LED_CAPSL, LED_SCROLLL).

        Remembered and re-applied after a reconnect; a no-op while disconnected, on
        keypads without LEDs, or with ``leds=False``.
        """
        self._leds_on = frozenset(on)
        with self._lock:
            self._write_leds(self._handle, self._info)

    def status(self) -> dict[str, Any]:
        info = self._info
        return super().status() | {"leds": bool(self.leds and info and info.has_leds)}

    def _connected(self, ever_connected: bool) -> None:
        super()._connected(ever_connected)
        with self._lock:
            self._write_leds(self._handle, self._info)

    def _write_leds(self, device: Any, info: DeviceInfo | None) -> None:
        if device is None or not (self.leds and info and info.has_leds):
            return
        try:
            for name, code in LEDS.items():
                device.set_led(code, int(name in self._leds_on))
        except OSError as exc:
            # The device is going away; the reader notices and reopens it.
            logger.debug("%s: cannot set LEDs: %s", self.label, exc)


@register("keypad")
def _keypad(name: str, options: Mapping[str, Any], **seams: Any) -> EvdevKeypad:
    """``device`` (any keypad), ``grab`` (true), ``leds`` (true) -> EvdevKeypad."""
    check_options("keypad", name, options, ("device", "grab", "leds"))
    return EvdevKeypad(
        name,
        str(options.get("device") or ""),
        grab=option_flag(options, "grab", True),
        leds=option_flag(options, "leds", True),
        **seams,
    )
