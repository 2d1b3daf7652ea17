"""Wiegand frames passed through by serial converters: keys (4, 8 bits) and cards.

A Wiegand-to-USB converter in pass-through mode sends each frame it receives as one
line of ASCII ``0`` and ``1``, one character per bit, most significant first, ended
by CR, LF or CRLF. The frame's length says what it is:

- 4 bits: one key of a keypad, the key's value (0-9, 10 = ``*``, 11 = ``#``);
- 8 bits: one key, the value in the low nibble and its complement in the high one,
  which checks the frame (``1110 0001`` is ``1``);
- 26, 34 or 37 bits: a card, decoded with its parity by ``door.credentials``.

On such keypads ``*`` is printed ESC and ``#`` ENT, so ``*`` clears the PIN being
typed and ``#`` submits it, as Esc and Enter do on a USB keypad.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from ivs_accessory.events import CardRead, InputEvent, KeyPressed
from ivs_accessory.sources.base import FrameDrops

logger = logging.getLogger(__name__)

CR, LF = 0x0D, 0x0A
CARD_BITS = frozenset({26, 34, 37})
KEY_BITS = frozenset({4, 8})
_LONGEST = max(CARD_BITS)

# A key's value -> the evdev key name a USB keypad gives for the same key, so the
# mapping (PIN entry, bindings) treats both keypads alike.
KEYS = {value: f"KEY_KP{value}" for value in range(10)} | {
    10: "KEY_ESC",  # "*": clears the PIN being typed
    11: "KEY_KPENTER",  # "#": submits it
}


class WiegandFramer:
    """Split a converter's byte stream into key presses and card reads.

    Pure apart from the clock: ``feed`` returns the events that the bytes completed
    and never raises. A line that is not a frame of a known length, a key frame
    whose check nibble is wrong, or a key value with no key (12-15) is dropped,
    counted in ``dropped`` and logged without its bits (they may hold most of a
    card number). A card's parity is checked later, with its other readings.

    Args:
        source: put in every event's ``source``.
        clock: gives each event's ``timestamp``.
    """

    def __init__(
        self, source: str = "serial", clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.source = source
        self.frames = 0
        self._drops = FrameDrops(source, clock, logger)
        self._clock = clock
        self._line = bytearray()
        self._overlong = False

    @property
    def dropped(self) -> int:
        """Bad frames dropped so far."""
        return self._drops.count

    def feed(self, data: bytes) -> list[InputEvent]:
        """Consume ``data`` and return the events it completed, in order."""
        out: list[InputEvent] = []
        for byte in data:
            if byte in (CR, LF):
                event = self._end_line()
                if event is not None:
                    out.append(event)
            elif len(self._line) < _LONGEST:
                self._line.append(byte)
            else:
                self._overlong = True
        return out

    def reset(self) -> None:
        """Forget a partly received line, e.g. after the port was reopened."""
        if self._line:
            self._drop("frame cut short by a reconnect")
        self._line.clear()
        self._overlong = False

    def _end_line(self) -> InputEvent | None:
        line, overlong = bytes(self._line), self._overlong
        self._line.clear()
        self._overlong = False
        if not line:
            return None  # the LF of a CRLF, or an empty line between frames
        if overlong or len(line) not in KEY_BITS | CARD_BITS:
            return self._drop(
                f"a line of {'more than ' if overlong else ''}{len(line)} characters "
                f"(Wiegand frames have 4, 8, 26, 34 or 37 bits)"
            )
        if not set(line) <= {ord("0"), ord("1")}:
            return self._drop("a line with characters other than 0 and 1")
        bits = line.decode("ascii")
        if len(bits) in CARD_BITS:
            return self._emit(CardRead(self.source, bits, "wiegand", self._clock()))
        return self._key(bits)

    def _key(self, bits: str) -> InputEvent | None:
        value = int(bits, 2)
        if len(bits) == 8:
            check, value = value >> 4, value & 0x0F
            if check != value ^ 0x0F:
                return self._drop("an 8-bit key frame whose check nibble is wrong")
        key = KEYS.get(value)
        if key is None:
            return self._drop(f"a key frame with no key (value {value})")
        return self._emit(KeyPressed(self.source, key, self._clock()))

    def _emit(self, event: InputEvent) -> InputEvent:
        self.frames += 1
        return event

    def _drop(self, reason: str) -> InputEvent | None:
        """Count and log a bad frame; returns None, the event it did not make."""
        self._drops(reason)
        return None
