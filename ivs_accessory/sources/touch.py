"""TouchSource: the door page's on-screen pad and preset buttons become input events."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from ivs_accessory.events import ButtonPressed, CodeEntered
from ivs_accessory.sources.base import Emit, deliver

logger = logging.getLogger(__name__)

NAME = "touch"
_PIN = re.compile(r"[0-9]{1,32}")  # [mapping] pin_length allows up to 32 digits


class TouchSource:
    """The door page's on-screen PIN pad, as one more input source.

    A page request hands over a whole PIN (:meth:`submit`); it goes to the
    dispatcher as the :class:`~ivs_accessory.events.CodeEntered` a keypad's
    completed PIN becomes, so mapping, lockout, repeat window and audit treat it
    like any other keypad, under this source's name. An on-screen button hands
    over one of the ``actions`` it was given (:meth:`press`) as a
    :class:`~ivs_accessory.events.ButtonPressed`. There is no reader thread:
    ``emit`` (the dispatcher's queue) never blocks the request.

    Args:
        name: the source name, in every event (and so in the lockout and audit).
        clock: gives each event's timestamp (the dispatcher's clock).
        keypad: PINs are accepted (``[door] keypad``); the source may exist for
            its buttons alone.
        actions: the only actions :meth:`press` accepts (e.g. ``preset:Wide``).

    ``keypad`` and ``actions`` are attributes the panel changes at a reload.
    """

    def __init__(
        self,
        name: str = NAME,
        clock: Callable[[], float] = time.monotonic,
        *,
        keypad: bool = True,
        actions: Iterable[str] = (),
    ) -> None:
        self.name = name
        self.pins = 0
        self.presses = 0
        self.keypad = keypad
        self.actions: tuple[str, ...] = tuple(actions)
        self._clock = clock
        self._emit: Emit | None = None

    def start(self, emit: Emit) -> None:
        """Accept PINs from now on; each goes to ``emit``.

        Raises:
            RuntimeError: already started.
        """
        if self._emit is not None:
            raise RuntimeError(f"touch source {self.name!r} already started")
        self._emit = emit

    def close(self) -> None:
        """Accept no more PINs."""
        self._emit = None

    @property
    def is_open(self) -> bool:
        return self._emit is not None

    def status(self) -> dict[str, Any]:
        """For the status page: open while the pad is on (no digits, ever)."""
        return {
            "connected": self.is_open,
            "device": self._device() if self.is_open else None,
            "last_error": None,
            "reconnects": 0,
            "pins": self.pins,
            "presses": self.presses,
        }

    def _device(self) -> str:
        if not self.actions:
            return "door page keypad"
        return "door page keypad and buttons" if self.keypad else "door page buttons"

    def submit(self, digits: str) -> bool:
        """Hand a PIN typed on the pad to the dispatcher; False when closed.

        Raises:
            ValueError: the pad is off, or ``digits`` is not 1 to 32 ASCII
                digits (the message never repeats what was sent).
        """
        if not self.keypad:
            raise ValueError("the on-screen keypad is off ([door] keypad = false)")
        if not isinstance(digits, str) or not _PIN.fullmatch(digits):
            raise ValueError("a PIN is 1 to 32 digits (0-9)")
        emit = self._emit
        if emit is None:
            return False
        self.pins += 1
        event = CodeEntered(self.name, digits, self._clock())
        deliver(emit, [event], f"touch {self.name}", logger)
        return True

    def press(self, action: str) -> bool:
        """Hand an on-screen button's action to the dispatcher; False when closed.

        Raises:
            ValueError: ``action`` is not one of this source's ``actions`` (a
                page may offer only what the configuration names).
        """
        if action not in self.actions:
            raise ValueError(
                "no such button here; the buttons are named in [door] presets"
            )
        emit = self._emit
        if emit is None:
            return False
        self.presses += 1
        event = ButtonPressed(self.name, action, self._clock())
        deliver(emit, [event], f"touch {self.name}", logger)
        return True
