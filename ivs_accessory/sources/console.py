"""ConsoleSource: lines typed on stdin (or any stream) become input events."""

from __future__ import annotations

import logging
import math
import os
import re
import select
import sys
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from ivs_accessory.events import CardRead, CodeEntered, InputEvent
from ivs_accessory.sources.base import (
    JOIN_TIMEOUT_S,
    Emit,
    check_options,
    deliver,
    key_release,
    register,
)
from ivs_accessory.sources.keynames import KEY_NAMES
from ivs_accessory.threads import Worker

# The kernel's key names, from a leaf list: the demo needs no evdev.
_KEY_NAMES = frozenset(n for n in KEY_NAMES if n.startswith("KEY_"))

logger = logging.getLogger(__name__)

_POLL_S = 0.2  # select timeout: how often the reader notices close()
USAGE = "type digits, 'card N', 'key NAME' or 'hold NAME SECONDS'"
SHORT_KEYS = {
    "plus": "KEY_KPPLUS",
    "minus": "KEY_KPMINUS",
    "asterisk": "KEY_KPASTERISK",
    "star": "KEY_KPASTERISK",
    "slash": "KEY_KPSLASH",
    "enter": "KEY_KPENTER",
    "dot": "KEY_KPDOT",
} | {str(d): f"KEY_KP{d}" for d in range(10)}
"""Short names accepted by ``key`` and ``hold``; any evdev KEY_* name works too."""
_DIGITS = re.compile(r"[0-9]+")  # str.isdigit() would also accept "²" and "٣"
_HEX10 = re.compile(r"[0-9a-fA-F]{10}")


class ConsoleError(ValueError):
    """A console line that is not a command; the message is shown to the person."""


def parse_line(line: str, source: str, timestamp: float) -> list[InputEvent]:
    """Turn one typed line into events (none for a blank line).

    ``1234`` -> CodeEntered (leading zeros kept); ``card N`` -> CardRead (decimal,
    or em4100 for 10 hex characters); ``key NAME`` and ``hold NAME SECONDS`` -> the
    events a real keypad sends for a quick press or a hold (see ``key_release``).

    Raises:
        ConsoleError: the line is none of these.
    """
    words = line.split()
    if not words:
        return []
    if len(words) == 1 and _DIGITS.fullmatch(words[0]):
        return [CodeEntered(source, words[0], timestamp)]
    command, args = words[0].lower(), words[1:]
    if command == "card" and len(args) == 1:
        return [_card(source, args[0], timestamp)]
    if command == "key" and len(args) == 1:
        return key_release(source, _key(args[0]), 0.0, timestamp)
    if command == "hold" and len(args) == 2:
        return key_release(source, _key(args[0]), _seconds(args[1]), timestamp)
    # Do not echo what looks like a PIN or card number back into a log.
    shown = "that line" if sum(c.isdigit() for c in line) >= 4 else repr(line.strip())
    raise ConsoleError(f"cannot read {shown}; {USAGE}")


def _card(source: str, number: str, timestamp: float) -> CardRead:
    if _DIGITS.fullmatch(number):
        return CardRead(source, number, "decimal", timestamp)
    if _HEX10.fullmatch(number):
        return CardRead(source, number.upper(), "em4100", timestamp)
    raise ConsoleError(
        "a card number is digits, or 10 hex characters for EM4100; e.g. card 0004921746"
    )


def _key(name: str) -> str:
    if name.lower() in SHORT_KEYS:
        return SHORT_KEYS[name.lower()]
    key = name.upper() if name.upper().startswith("KEY_") else f"KEY_{name.upper()}"
    if key not in _KEY_NAMES:
        raise ConsoleError(
            f"unknown key {name!r}; use an evdev name such as KEY_KPPLUS "
            f"or one of {', '.join(sorted(k for k in SHORT_KEYS if not k.isdigit()))}"
        )
    return key


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not math.isfinite(seconds) or seconds < 0:
        raise ConsoleError(f"cannot read {text!r} as seconds; e.g. hold star 2")
    return seconds


class ConsoleSource:
    """Read commands from a stream on a daemon thread (the demo and benchmarks).

    Args:
        name: the source name, in every event.
        stream: where lines come from; ``None`` means ``sys.stdin``. A stream with a
            file descriptor is read with ``select``, so ``close()`` returns even
            while nobody types; others (``io.StringIO``) with ``readline``.
        errors: where a one-line complaint about an unreadable line goes;
            ``None`` means ``sys.stderr``.
        clock: gives each event's timestamp.
        on_eof: called on the reader thread at end of input (Ctrl-D), not on close().
    """

    def __init__(
        self,
        name: str = "console",
        stream: TextIO | None = None,
        errors: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        on_eof: Callable[[], object] | None = None,
    ) -> None:
        self.name = name
        self.lines = 0
        self.rejected = 0
        self.last_error: str | None = None
        self.at_eof = False
        self._stream = stream if stream is not None else sys.stdin
        self._errors = errors if errors is not None else sys.stderr
        self._clock = clock
        self._on_eof = on_eof
        self._stopping = threading.Event()
        self._worker: Worker | None = None

    def start(self, emit: Emit) -> None:
        """Start the reader thread; ``emit`` gets each event on that thread.

        Raises:
            RuntimeError: already started.
        """
        if self._worker is not None:
            raise RuntimeError(f"console {self.name!r} already started")
        self._worker = Worker(
            self._run,
            f"source-{self.name}",
            args=(emit,),
            on_stop=self._stopping.set,
        )
        self._worker.start()

    def close(self) -> None:
        """Stop reading (the stream stays open: it belongs to the caller).

        Raises:
            ThreadStuckError: the reader thread did not stop in time, e.g. blocked
                in ``readline`` on a stream without a file descriptor.
        """
        self._stopping.set()
        if self._worker is not None:
            self._worker.stop(JOIN_TIMEOUT_S)

    def status(self) -> dict[str, Any]:
        """A snapshot for the status page: connected until end of input or close()."""
        running = self._worker is not None and self._worker.alive
        return {
            "connected": running,
            "device": str(getattr(self._stream, "name", "stream")) if running else None,
            "last_error": self.last_error,
            "reconnects": 0,
            "lines": self.lines,
            "rejected": self.rejected,
            "at_eof": self.at_eof,
        }

    def _run(self, emit: Emit) -> None:
        try:
            fd = _fileno(self._stream)
            ended = (
                self._read_fd(fd, emit) if fd is not None else self._read_lines(emit)
            )
        except Exception as exc:
            self.last_error = str(exc)
            logger.exception("console %s stopped by an unexpected error", self.name)
            return
        if ended:
            self._end_of_input()

    def _read_fd(self, fd: int, emit: Emit) -> bool:
        """Read lines from ``fd`` until EOF (True) or close() (False)."""
        # os.read, not the stream: a TextIO buffers lines that select cannot see.
        encoding = getattr(self._stream, "encoding", None) or "utf-8"
        pending = b""
        while not self._stopping.is_set():
            ready, _, _ = select.select([fd], [], [], _POLL_S)
            if not ready:
                continue
            chunk = os.read(fd, 4096)
            if not chunk:
                self._handle(pending.decode(encoding, "replace"), emit)
                return True
            *complete, pending = (pending + chunk).split(b"\n")
            for line in complete:
                self._handle(line.decode(encoding, "replace"), emit)
        return False

    def _read_lines(self, emit: Emit) -> bool:
        while not self._stopping.is_set():
            line = self._stream.readline()
            if not line:
                return True
            self._handle(line, emit)
        return False

    def _handle(self, line: str, emit: Emit) -> None:
        if not line.strip():
            return
        self.lines += 1
        try:
            events = parse_line(line, self.name, self._clock())
        except ConsoleError as exc:
            self.rejected += 1
            self._complain(f"{self.name}: {exc}")
            return
        deliver(emit, events, f"console {self.name}", logger)

    def _complain(self, message: str) -> None:
        try:
            print(message, file=self._errors, flush=True)
        except (OSError, ValueError) as exc:  # a closed terminal: nobody to tell
            logger.debug("console %s: cannot show an error: %s", self.name, exc)

    def _end_of_input(self) -> None:
        self.at_eof = True
        logger.info("console %s: end of input", self.name)
        if self._on_eof is None:
            return
        try:
            self._on_eof()
        except Exception:
            logger.exception("console %s: end-of-input handler failed", self.name)


def _fileno(stream: Any) -> int | None:
    try:
        return int(stream.fileno())
    except (AttributeError, OSError, ValueError):  # io.UnsupportedOperation is both
        return None


@register("console")
def _console(name: str, options: Mapping[str, Any], **seams: Any) -> ConsoleSource:
    """No options; seams: ``stream``, ``errors``, ``clock``, ``on_eof``."""
    check_options("console", name, options, ())
    return ConsoleSource(name, **seams)
