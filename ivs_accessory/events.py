"""Input events: the only things input sources emit, as frozen value objects."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class KeyPressed:
    """A key was pressed and released quickly; ``key`` is the evdev name, e.g.
    ``KEY_KP1``."""

    source: str
    key: str
    timestamp: float


@dataclass(frozen=True)
class KeyHeld:
    """A key was held down for ``seconds`` (emitted on release, or when a threshold
    passes)."""

    source: str
    key: str
    seconds: float
    timestamp: float
    released: bool = True


@dataclass(frozen=True)
class CodeEntered:
    """A complete keypad entry (digits typed then submitted); ``digits`` keeps leading
    zeros."""

    source: str
    digits: str
    timestamp: float


@dataclass(frozen=True)
class CardRead:
    """A card was read; ``raw`` is what the reader sent, ``kind`` says how to interpret
    it.

    ``kind`` is one of ``decimal`` (digits as typed by a HID reader or a line reader),
    ``em4100`` (10 hex characters), ``wiegand`` (a bit string of 26, 34 or 37 bits) or
    ``uid`` (a contactless card's UID in hex, as a PC/SC reader returned it).
    """

    source: str
    raw: str
    kind: str
    timestamp: float


@dataclass(frozen=True)
class ButtonPressed:
    """An on-screen button asked for a bound action (e.g. ``preset:Wide``); only a
    source that was configured to offer that action emits it."""

    source: str
    action: str
    timestamp: float


InputEvent = KeyPressed | KeyHeld | CodeEntered | CardRead | ButtonPressed
