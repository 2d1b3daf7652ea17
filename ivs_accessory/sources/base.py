"""The InputSource protocol, a reconnecting reader thread, and the source registry."""

from __future__ import annotations

import importlib
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from ivs_accessory.errors import ConfigError
from ivs_accessory.events import (
    ButtonPressed,
    CardRead,
    CodeEntered,
    InputEvent,
    KeyHeld,
    KeyPressed,
)
from ivs_accessory.spelling import closest
from ivs_accessory.threads import Worker

logger = logging.getLogger(__name__)

Emit = Callable[[InputEvent], object]
Factory = Callable[..., "InputSource"]

JOIN_TIMEOUT_S = 0.9  # close() must return within about a second
_DIGIT_KEYS = frozenset(
    {f"KEY_{d}" for d in range(10)} | {f"KEY_KP{d}" for d in range(10)}
)

# Built-in kinds register themselves when their module is imported; importing lazily
# keeps evdev and pyserial out of processes that never use them.
_BUILTIN_MODULES = {
    "keypad": "ivs_accessory.sources.keypad",
    "card_hid": "ivs_accessory.sources.card_hid",
    "card_serial": "ivs_accessory.sources.card_serial",
    "card_pcsc": "ivs_accessory.sources.card_pcsc",
    "console": "ivs_accessory.sources.console",
}
_REGISTRY: dict[str, Factory] = {}


class FrameDrops:
    """Counts a reader's dropped frames and logs each reason, warning at most once a
    second (a noisy line can drop hundreds a second; the rest go to DEBUG).

    The reason never holds the frame's bytes: they may be most of a card number.
    """

    interval_s = 1.0

    def __init__(
        self, source: str, clock: Callable[[], float], log: logging.Logger
    ) -> None:
        self.source = source
        self.count = 0
        self._clock = clock
        self._log = log
        self._last_warning: float | None = None

    def __call__(self, reason: str) -> None:
        self.count += 1
        now = self._clock()
        level = logging.WARNING
        if self._last_warning is not None and now - self._last_warning < (
            self.interval_s
        ):
            level = logging.DEBUG
        else:
            self._last_warning = now
        self._log.log(level, "card reader %s dropped %s", self.source, reason)


@runtime_checkable
class InputSource(Protocol):
    """A device that turns input into events on a reader thread of its own.

    ``status()`` returns at least ``connected`` (bool), ``device`` (str or None),
    ``last_error`` (str or None) and ``reconnects`` (int); evdev sources add
    ``grabbed`` (bool).
    """

    name: str

    def start(self, emit: Emit) -> None:
        """Start reading; ``emit`` is called on the reader thread with each event."""

    def close(self) -> None:
        """Stop within about a second; ThreadStuckError (a RuntimeError) if the thread
        outlives the join."""

    def status(self) -> dict[str, Any]:
        """A snapshot for the status page and logs (no card numbers or PINs)."""


class Backoff:
    """Delays between reconnect attempts: ``min_s``, doubling up to ``max_s``."""

    def __init__(
        self, min_s: float = 0.1, max_s: float = 2.0, factor: float = 2.0
    ) -> None:
        if min_s <= 0 or max_s < min_s or factor < 1:
            raise ValueError(f"bad backoff {min_s}..{max_s} x{factor}")
        self.min_s = min_s
        self.max_s = max_s
        self.factor = factor
        self._next = min_s

    def next_delay(self) -> float:
        """The delay to wait now; the one after it is ``factor`` times longer."""
        delay = self._next
        self._next = min(self._next * self.factor, self.max_s)
        return delay

    def reset(self) -> None:
        """Start again from ``min_s`` (after a successful connect)."""
        self._next = self.min_s


def key_release(
    source: str, key: str, seconds: float, timestamp: float
) -> list[InputEvent]:
    """The events for a key released after ``seconds``: KeyHeld, then KeyPressed.

    Every release gets both, in this order, because ``mapping.Mapper`` needs both:
    a key bound to tap *and* hold fires its tap from the released ``KeyHeld`` when it
    is shorter than ``hold_s``, and only a ``KeyPressed`` clears the "hold already
    fired" mark, so without it a second long hold of the same key would be ignored.
    ``KeyPressed`` last means it cannot clear the mark before the released
    ``KeyHeld`` of a hold that already fired, which would fire it twice. Keys with
    no hold binding ignore ``KeyHeld``; keys with one ignore ``KeyPressed``.
    """
    return [
        KeyHeld(source, key, seconds, timestamp, released=True),
        KeyPressed(source, key, timestamp),
    ]


def describe_event(event: InputEvent) -> str:
    """A form of ``event`` safe to log: no PIN digits, no card numbers."""
    if isinstance(event, CardRead):
        return f"card read ({event.kind}, {len(event.raw)} characters)"
    if isinstance(event, CodeEntered):
        return f"code entered ({len(event.digits)} digits)"
    if isinstance(event, ButtonPressed):
        return f"button {event.action} pressed"
    key = "a digit key" if event.key in _DIGIT_KEYS else event.key
    if isinstance(event, KeyHeld):
        state = "released" if event.released else "still down"
        return f"{key} held {event.seconds:.1f} s ({state})"
    return f"{key} pressed"


def deliver(
    emit: Emit, events: Sequence[InputEvent], label: str, log: logging.Logger = logger
) -> int:
    """Call ``emit`` with each event, logging (not raising) handler errors.

    Returns how many events were delivered; ``label`` names the source in logs.
    """
    for event in events:
        log.debug("%s: %s", label, describe_event(event))
        try:
            emit(event)
        except Exception:
            # The event itself is not logged: it may hold a card number or PIN digit.
            log.exception("%s: event handler failed", label)
    return len(events)


class ReconnectingReader:
    """A daemon reader thread that opens a device, reads it, and reopens it when lost.

    Subclasses provide ``_connect()`` (an open handle, or None after calling
    ``_failed``), ``_pump(handle, emit)`` (read until stopping -> False, or until the
    device is lost -> True, after calling ``_lost``) and ``_release(handle)``.
    Retries back off from ``reconnect_min_s`` to ``reconnect_max_s``; each outage,
    from the first failure or loss to the next connect, logs one WARNING.
    """

    role = "input source"
    log = logger  # subclasses log under their own module's name

    def __init__(
        self,
        name: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
    ) -> None:
        self.name = name
        self.reconnects = 0
        self.events = 0
        self.last_error: str | None = None
        self._clock = clock
        self._backoff = Backoff(reconnect_min_s, reconnect_max_s)
        self._stopping = threading.Event()
        self._lock = (
            threading.Lock()
        )  # guards _handle against close() and other threads
        self._handle: Any = None
        self._worker: Worker | None = None
        self._warned = False  # this outage has had its WARNING

    @property
    def label(self) -> str:
        return f"{self.role} {self.name}"

    def start(self, emit: Emit) -> None:
        """Start the reader thread; ``emit`` gets each event on that thread.

        Raises:
            RuntimeError: already started.
        """
        if self._worker is not None:
            raise RuntimeError(f"{self.role} {self.name!r} already started")
        self._worker = Worker(
            self._run,
            f"source-{self.name}",
            args=(emit,),
            on_stop=self._stopping.set,
        )
        self._worker.start()

    def close(self) -> None:
        """Stop the thread and close the device; returns within about a second.

        Raises:
            ThreadStuckError: the reader thread did not stop in time (the device
                stays open until it does).
        """
        self._stopping.set()
        if self._worker is not None:
            self._worker.stop(JOIN_TIMEOUT_S)
        self._disconnect()

    @property
    def is_alive(self) -> bool:
        """True while the reader thread runs."""
        return self._worker is not None and self._worker.alive

    def _run(self, emit: Emit) -> None:
        try:
            self._serve(emit)
        except Exception as exc:
            # Device errors are retried; this is a bug or a broken seam. Stop.
            self.last_error = str(exc)
            self.log.exception("%s stopped by an unexpected error", self.label)
        finally:
            self._disconnect()

    def _serve(self, emit: Emit) -> None:
        ever_connected = False
        while not self._stopping.is_set():
            handle = self._connect()
            if handle is not None:
                with self._lock:
                    self._handle = handle
                self._connected(ever_connected)
                ever_connected = True
                if not self._pump(handle, emit):
                    return
                self._disconnect()
            self._stopping.wait(self._retry_delay())

    def _connected(self, ever_connected: bool) -> None:
        """Called on the thread after each successful connect."""
        self._warned = False
        self._backoff.reset()
        if ever_connected:
            self.reconnects += 1

    def _retry_delay(self) -> float:
        return self._backoff.next_delay()

    def _failed(self, message: str) -> None:
        """Record a failed connect; WARNING only for the first one of an outage."""
        self.last_error = message
        self.log.log(
            logging.DEBUG if self._warned else logging.WARNING,
            "%s: %s",
            self.label,
            message,
        )
        self._warned = True

    def _lost(self, message: str) -> None:
        """Record the loss of a connected device (a WARNING: an outage starts)."""
        self.last_error = message
        self.log.warning("%s: %s; reopening", self.label, message)
        self._warned = True

    def _deliver(self, emit: Emit, events: Sequence[InputEvent]) -> None:
        self.events += deliver(emit, events, self.label, self.log)

    def _disconnect(self) -> None:
        with self._lock:
            handle, self._handle = self._handle, None
        if handle is not None:
            self._release(handle)

    def _connect(self) -> Any:
        raise NotImplementedError

    def _pump(self, handle: Any, emit: Emit) -> bool:
        raise NotImplementedError

    def _release(self, handle: Any) -> None:
        raise NotImplementedError


def option_flag(options: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean option that may also arrive as text (``true``/``false``)."""
    value = options.get(key, default)
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def register(kind: str) -> Callable[[Factory], Factory]:
    """Decorator: ``factory(name, options, **seams)`` builds sources of ``kind``."""

    def decorate(factory: Factory) -> Factory:
        _REGISTRY[kind] = factory
        return factory

    return decorate


def kinds() -> list[str]:
    """Every kind ``create_source`` knows."""
    return sorted(set(_REGISTRY) | set(_BUILTIN_MODULES))


def create_source(name: str, options: Mapping[str, Any], **seams: Any) -> InputSource:
    """Build (not start) the source configured as ``[source:NAME]``.

    Args:
        name: the source name, used in events and logs.
        options: the section's values; ``kind`` picks the factory.
        seams: passed to the constructor, e.g. ``open_device=`` or ``clock=``.

    Raises:
        ConfigError: the kind is unknown, an option is unknown, or a value is bad.
    """
    kind = options.get("kind")
    if not kind:
        raise ConfigError(
            f"[source:{name}] has no kind; add `kind = <one of {', '.join(kinds())}>`"
        )
    factory = _factory(str(kind), name)
    rest = {key: value for key, value in options.items() if key != "kind"}
    return factory(name, rest, **seams)


def _factory(kind: str, name: str) -> Factory:
    if kind not in _REGISTRY and kind in _BUILTIN_MODULES:
        importlib.import_module(_BUILTIN_MODULES[kind])
    if kind in _REGISTRY:
        return _REGISTRY[kind]
    guess = closest(kind, kinds())
    hint = f"did you mean {guess!r}?" if guess else f"use one of {', '.join(kinds())}"
    raise ConfigError(f"unknown source kind {kind!r} in [source:{name}]; {hint}")


def check_options(
    kind: str, name: str, options: Mapping[str, Any], known: tuple[str, ...]
) -> None:
    """Raise ConfigError naming every option that ``kind`` does not take."""
    errors = []
    for key in options:
        if key not in known:
            guess = closest(key, known)
            hint = f"; did you mean {guess!r}?" if guess else ""
            errors.append(
                f"unknown key {key!r} for kind {kind!r} in [source:{name}]{hint}"
            )
    if errors:
        raise ConfigError("; ".join(errors), errors)
