"""Pure mapping from input events to intents: PIN entry, card debounce, key bindings.

No I/O and no VALT: the dispatcher turns the intents this module returns into VALT
actions. Time comes from the events' timestamps, so tables of events test it exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ivs_accessory.events import (
    ButtonPressed,
    CardRead,
    CodeEntered,
    InputEvent,
    KeyHeld,
    KeyPressed,
)

DIGIT_KEYS = {f"KEY_{d}": str(d) for d in range(10)} | {
    f"KEY_KP{d}": str(d) for d in range(10)
}
SUBMIT_KEYS = frozenset({"KEY_ENTER", "KEY_KPENTER"})
DELETE_KEYS = frozenset({"KEY_BACKSPACE", "KEY_KPDOT", "KEY_DELETE"})
CLEAR_KEYS = frozenset({"KEY_ESC", "KEY_CLEAR"})
SCREEN_KEY = "screen"  # a Trigger's key when an on-screen button fired it


@dataclass(frozen=True)
class Presented:
    """Someone presented a PIN (``kind="pin"``) or a card: check it against VALT."""

    source: str
    kind: str  # "pin" or a CardRead kind
    value: str
    timestamp: float

    def __repr__(self) -> str:
        # The value is a PIN or card number: never in a repr that may reach a log.
        return f"Presented(source={self.source!r}, kind={self.kind!r}, value=<hidden>)"


@dataclass(frozen=True)
class Trigger:
    """A key binding (or an on-screen button, ``key`` = ``screen``) fired: run
    ``action`` (no user attached)."""

    source: str
    action: str
    key: str
    timestamp: float


@dataclass(frozen=True)
class EntryChanged:
    """The PIN being typed changed (for feedback); ``length`` digits are buffered."""

    source: str
    length: int
    timestamp: float


Intent = Presented | Trigger | EntryChanged


@dataclass(frozen=True)
class MappingSettings:
    """What the ``[mapping]`` and ``[bindings]`` config sections say.

    ``bindings`` maps ``(KEY_NAME, "tap" | "hold")`` to an action name.
    """

    mode: str = "pin"
    pin_length: int = 6
    entry_timeout_s: float = 10.0
    repeat_window_s: float = 2.0
    hold_s: float = 1.5
    bindings: Mapping[tuple[str, str], str] = field(default_factory=dict)


class PinEntry:
    """The digits typed so far on one keypad, with the inter-key timeout."""

    def __init__(self, length: int, timeout_s: float) -> None:
        self.length = length
        self.timeout_s = timeout_s
        self.digits = ""
        self._last = 0.0

    def key(self, key: str, timestamp: float) -> tuple[str | None, bool]:
        """Feed one key press; return (submitted digits or None, whether it changed)."""
        if self.digits and timestamp - self._last > self.timeout_s:
            self.digits = ""
        self._last = timestamp
        before = self.digits
        if key in DIGIT_KEYS:
            self.digits += DIGIT_KEYS[key]
            if self.length and len(self.digits) >= self.length:
                return self._take(), True
        elif key in SUBMIT_KEYS:
            return (self._take() or None), bool(before)
        elif key in DELETE_KEYS:
            self.digits = self.digits[:-1]
        elif key in CLEAR_KEYS:
            self.digits = ""
        return None, self.digits != before

    def expired(self, now: float) -> bool:
        """True when digits are buffered but the person stopped typing."""
        return bool(self.digits) and now - self._last > self.timeout_s

    def _take(self) -> str:
        digits, self.digits = self.digits, ""
        return digits


class Mapper:
    """Turns input events into intents, one Mapper for all sources."""

    def __init__(self, settings: MappingSettings) -> None:
        self.settings = settings
        self._entries: dict[str, PinEntry] = {}
        self._last_card: dict[str, tuple[str, float]] = {}
        self._held_fired: set[tuple[str, str]] = set()

    def handle(self, event: InputEvent) -> list[Intent]:
        """Map one event; most events give zero or one intent."""
        if isinstance(event, CardRead):
            return self._card(event)
        if isinstance(event, CodeEntered):
            return self._code(event)
        if isinstance(event, KeyPressed):
            return self._press(event)
        if isinstance(event, KeyHeld):
            return self._hold(event)
        if isinstance(event, ButtonPressed):
            # The source offered only actions it was configured with: no binding,
            # mode or PIN entry applies.
            return [Trigger(event.source, event.action, SCREEN_KEY, event.timestamp)]
        return []

    def expire(self, now: float) -> list[EntryChanged]:
        """Clear PIN entries whose person walked away; call periodically."""
        out: list[EntryChanged] = []
        for source, entry in self._entries.items():
            if entry.expired(now):
                entry.digits = ""
                out.append(EntryChanged(source, 0, now))
        return out

    def _accepts(self, what: str) -> bool:
        return self.settings.mode in (what, "both")

    def _card(self, event: CardRead) -> list[Intent]:
        if not self._accepts("card"):
            return []
        last = self._last_card.get(event.source)
        self._last_card[event.source] = (event.raw, event.timestamp)
        # Readers repeat a card held in the field; one swipe is one action.
        if (
            last
            and last[0] == event.raw
            and event.timestamp - last[1] < self.settings.repeat_window_s
        ):
            return []
        return [Presented(event.source, event.kind, event.raw, event.timestamp)]

    def _code(self, event: CodeEntered) -> list[Intent]:
        if not self._accepts("pin") or not event.digits:
            return []
        return [Presented(event.source, "pin", event.digits, event.timestamp)]

    def _press(self, event: KeyPressed) -> list[Intent]:
        key, bindings = event.key, self.settings.bindings
        self._held_fired.discard((event.source, key))
        if (key, "tap") in bindings and (key, "hold") not in bindings:
            return [Trigger(event.source, bindings[(key, "tap")], key, event.timestamp)]
        if (key, "hold") in bindings or not self._accepts("pin"):
            return []
        return self._pin_key(event)

    def _pin_key(self, event: KeyPressed) -> list[Intent]:
        entry = self._entries.get(event.source)
        if entry is None:
            entry = self._entries[event.source] = PinEntry(
                self.settings.pin_length, self.settings.entry_timeout_s
            )
        digits, changed = entry.key(event.key, event.timestamp)
        out: list[Intent] = []
        if changed:
            out.append(EntryChanged(event.source, len(entry.digits), event.timestamp))
        if digits:
            out.append(Presented(event.source, "pin", digits, event.timestamp))
        return out

    def _hold(self, event: KeyHeld) -> list[Intent]:
        key, bindings, mark = (
            event.key,
            self.settings.bindings,
            (event.source, event.key),
        )
        hold = bindings.get((key, "hold"))
        if hold is None:
            return []
        if event.seconds >= self.settings.hold_s and mark not in self._held_fired:
            self._held_fired.add(mark)
            return [Trigger(event.source, hold, key, event.timestamp)]
        # A key with both bindings: a release before the threshold is a tap.
        tap = bindings.get((key, "tap"))
        if event.released and tap and mark not in self._held_fired:
            return [Trigger(event.source, tap, key, event.timestamp)]
        return []
