"""Serial card readers: a pure CardFramer and the SerialCardReader thread around it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import serial

from ivs_accessory.errors import ConfigError
from ivs_accessory.events import CardRead, InputEvent
from ivs_accessory.sources.base import (
    Emit,
    FrameDrops,
    InputSource,
    ReconnectingReader,
    check_options,
    register,
)
from ivs_accessory.sources.wiegand import WiegandFramer

logger = logging.getLogger(__name__)

FRAMINGS = ("auto", "line", "em4100")  # CardFramer's
READER_FRAMINGS = (*FRAMINGS, "wiegand")  # wiegand: WiegandFramer, keys and cards

STX, ETX, LF, CR = 0x02, 0x03, 0x0A, 0x0D
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_EM4100_LEN = 12  # 10 hex data characters + 2 hex checksum characters
_JOIN_TIMEOUT_S = 0.9
_READ_TIMEOUT_S = 0.2

# Framer states.
_IDLE, _LINE, _FRAME, _GARBAGE = "idle", "line", "frame", "garbage"


class CardFramer:
    """Split a serial byte stream into card reads; pure apart from the clock.

    Two framings are understood: lines of ASCII digits ended by CR, LF or CRLF
    (``kind="decimal"``), and EM4100 frames as RDM6300-style readers send them,
    STX + 10 hex data + 2 hex checksum (XOR of the 5 data bytes) + ETX
    (``kind="em4100"``). ``auto`` accepts both. Everything else is dropped and
    counted in ``dropped``; a run of garbage counts once and ends at CR, LF, or
    (when EM4100 frames are accepted) ETX or STX. ``feed`` never raises.

    Args:
        framing: ``auto``, ``line`` or ``em4100``.
        max_line: longest accepted line of digits.
        source: put in every CardRead's ``source``.
        clock: gives each CardRead's ``timestamp``.

    Raises:
        ConfigError: ``framing`` is unknown.
    """

    def __init__(
        self,
        framing: str = "auto",
        max_line: int = 64,
        source: str = "serial",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if framing not in FRAMINGS:
            raise ConfigError(
                f"unknown card framing {framing!r}; choose one of {', '.join(FRAMINGS)}"
            )
        self.framing = framing
        self.max_line = max_line
        self.source = source
        self.frames = 0
        self._drops = FrameDrops(source, clock, logger)
        self._clock = clock
        self._lines = framing in ("auto", "line")
        self._em4100 = framing in ("auto", "em4100")
        self._ends = {CR, LF, ETX} if self._em4100 else {CR, LF}
        self._state = _IDLE
        self._buf = bytearray()
        self._out: list[CardRead] = []
        self._handlers = {
            _IDLE: self._on_idle,
            _LINE: self._on_line,
            _FRAME: self._on_frame,
            _GARBAGE: self._on_garbage,
        }

    @property
    def dropped(self) -> int:
        """Bad frames dropped so far."""
        return self._drops.count

    def feed(self, data: bytes) -> list[CardRead]:
        """Consume ``data`` and return the card reads it completed, in order."""
        for byte in data:
            self._handlers[self._state](byte)
        out, self._out = self._out, []
        return out

    def reset(self) -> None:
        """Forget a partly received frame, e.g. after the port was reopened."""
        if self._state in (_LINE, _FRAME):
            self._drop("frame cut short by a reconnect")
        self._state = _IDLE

    def _on_idle(self, byte: int) -> None:
        if byte in self._ends:
            return  # empty lines and stray terminators between frames are normal
        if byte == STX and self._em4100:
            self._start_frame()
        elif byte in _DIGITS and self._lines:
            self._state = _LINE
            self._buf[:] = bytes((byte,))
        else:
            self._drop("bytes outside a frame")

    def _on_line(self, byte: int) -> None:
        if byte in _DIGITS:
            self._buf.append(byte)
            if len(self._buf) > self.max_line:
                self._drop(f"line longer than {self.max_line} characters")
        elif byte in self._ends:
            self._emit("decimal", self._buf.decode("ascii"))
        elif byte == STX and self._em4100:
            self._drop("line interrupted by STX")
            self._start_frame()
        else:
            self._drop("line with non-digit characters")

    def _on_frame(self, byte: int) -> None:
        if byte == ETX:
            self._end_frame()
        elif byte == STX:
            self._drop("EM4100 frame interrupted by a new STX")
            self._start_frame()
        elif byte in (CR, LF):
            self._drop("EM4100 frame cut short by a line end")
            self._state = _IDLE
        else:
            self._buf.append(byte)
            if len(self._buf) > _EM4100_LEN:
                self._drop("EM4100 frame too long")

    def _on_garbage(self, byte: int) -> None:
        if byte in self._ends:
            self._state = _IDLE
        elif byte == STX and self._em4100:
            self._start_frame()

    def _start_frame(self) -> None:
        self._state = _FRAME
        self._buf.clear()

    def _end_frame(self) -> None:
        if len(self._buf) != _EM4100_LEN or not _HEX.issuperset(self._buf):
            self._drop("EM4100 frame of the wrong length or with non-hex characters")
        elif not _checksum_ok(bytes.fromhex(self._buf.decode("ascii"))):
            self._drop("EM4100 frame with a bad checksum")
        else:
            self._emit("em4100", self._buf[:10].decode("ascii").upper())
        self._state = _IDLE  # the ETX ends the frame, good or bad

    def _emit(self, kind: str, raw: str) -> None:
        self._state = _IDLE
        self.frames += 1
        self._out.append(CardRead(self.source, raw, kind, self._clock()))

    def _drop(self, reason: str) -> None:
        """Count a bad frame and skip everything up to the next frame boundary."""
        self._state = _GARBAGE
        self._buf.clear()
        self._drops(reason)


def _checksum_ok(values: bytes) -> bool:
    """Check an EM4100 frame: the sixth byte is the XOR of the five data bytes."""
    checksum = 0
    for value in values[:5]:
        checksum ^= value
    return checksum == values[5]


class Framer(Protocol):
    """What the reader thread needs of a framer: bytes in, events out."""

    frames: int

    @property
    def dropped(self) -> int: ...

    def feed(self, data: bytes) -> Sequence[InputEvent]: ...

    def reset(self) -> None: ...


def make_framer(framing: str, source: str, clock: Callable[[], float]) -> Framer:
    """The framer for ``framing`` (see ``READER_FRAMINGS``).

    Raises:
        ConfigError: ``framing`` is unknown.
    """
    if framing == "wiegand":
        return WiegandFramer(source, clock)
    if framing not in FRAMINGS:
        raise ConfigError(
            f"unknown card framing {framing!r}; choose one of "
            f"{', '.join(READER_FRAMINGS)}"
        )
    return CardFramer(framing, source=source, clock=clock)


def open_serial(port: str, **settings: Any) -> serial.Serial:
    """Open ``port`` with pyserial and a short read timeout, so readers can stop."""
    return serial.Serial(port, timeout=_READ_TIMEOUT_S, **settings)


class SerialCardReader(ReconnectingReader):
    """Read card frames from a serial port on a daemon thread, reopening it if lost.

    The port may be absent at start (a USB adapter not yet plugged in): the reader
    retries with exponential backoff from ``reconnect_min_s`` up to
    ``reconnect_max_s``, warning once per outage (see ``ReconnectingReader``).

    Args:
        name: the source name, used in logs and in every CardRead.
        port: the device path, e.g. ``/dev/ttyUSB0``.
        framing: see ``CardFramer``; ``wiegand`` reads a Wiegand converter's
            frames (``sources.wiegand``): keypad keys as well as cards.
        open_port: ``open_port(port, **settings)`` returns an open pyserial-like
            object; defaults to ``open_serial``.
        clock: passed to the framer for timestamps.
    """

    role = "card reader"
    log = logger

    def __init__(
        self,
        name: str,
        port: str,
        *,
        baudrate: int = 9600,
        bytesize: int = 8,
        parity: str = "N",
        stopbits: float = 1,
        framing: str = "auto",
        open_port: Callable[..., Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
    ) -> None:
        super().__init__(name, clock=clock, reconnect_min_s=reconnect_min_s,
                         reconnect_max_s=reconnect_max_s)  # fmt: skip
        self.port = port
        self._settings = {
            "baudrate": baudrate,
            "bytesize": bytesize,
            "parity": parity,
            "stopbits": stopbits,
        }
        self._framer = make_framer(framing, name, clock)
        self._open_port = open_port or open_serial

    def close(self) -> None:
        """Stop the thread and close the port; returns within about a second.

        Raises:
            ThreadStuckError: the reader thread did not stop in time.
        """
        self._stopping.set()
        with self._lock:
            port = self._handle
            if port is not None and hasattr(port, "cancel_read"):
                port.cancel_read()  # wakes a read blocked in select() at once
        super().close()

    def status(self) -> dict[str, Any]:
        """Return a snapshot for the status page and logs."""
        connected = self._handle is not None
        return {
            "connected": connected,
            "device": self.port if connected else None,
            "port": self.port,
            "frames": self._framer.frames,
            "dropped": self._framer.dropped,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }

    def _connected(self, ever_connected: bool) -> None:
        super()._connected(ever_connected)
        # Bytes of a frame cut by the loss must not join the first bytes after it.
        self._framer.reset()
        verb = "reconnected to" if ever_connected else "reading"
        logger.info("%s %s %s", self.label, verb, self.port)

    def _connect(self) -> Any:
        """Open the port, or return None after logging why it failed."""
        try:
            return self._open_port(self.port, **self._settings)
        except (serial.SerialException, OSError) as exc:
            return self._failed(f"cannot open {self.port} ({exc}); retrying")

    def _pump(self, port: Any, emit: Emit) -> bool:
        """Read until stopping (return False) or until the port is lost (True)."""
        while not self._stopping.is_set():
            try:
                data = port.read(port.in_waiting or 1)
            except (serial.SerialException, OSError) as exc:
                if self._stopping.is_set():
                    return False
                self._lost(f"lost {self.port} ({exc})")
                return True
            self._deliver(emit, self._framer.feed(data))
        return False

    def _release(self, port: Any) -> None:
        try:
            port.close()
        except (serial.SerialException, OSError) as exc:
            logger.debug("%s: closing failed: %s", self.label, exc)


@register("card_serial")
def _serial_card_reader(
    name: str, options: Mapping[str, Any], **seams: Any
) -> InputSource:
    """``port``, ``baud`` (9600) and ``framing`` (auto) -> a SerialCardReader."""
    check_options("card_serial", name, options, ("port", "baud", "framing"))
    if not options.get("port"):
        raise ConfigError(
            f"[source:{name}] kind = card_serial needs a port, e.g. port = /dev/ttyUSB0"
        )
    return SerialCardReader(
        name,
        str(options["port"]),
        baudrate=int(options.get("baud", 9600)),
        framing=str(options.get("framing", "auto")),
        **seams,
    )
