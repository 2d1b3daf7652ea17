"""Contactless card readers through pcscd: each card's UID as a CardRead."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ivs_accessory.errors import ConfigError
from ivs_accessory.events import CardRead
from ivs_accessory.sources.base import (
    Emit,
    InputSource,
    ReconnectingReader,
    check_options,
    register,
)
from ivs_accessory.sources.pcsc import (
    STATE_CHANGED,
    STATE_GONE,
    STATE_PRESENT,
    STATE_UNAWARE,
    CardAnswer,
    PcscContext,
    PcscError,
    load_scard,
)

logger = logging.getLogger(__name__)

FIRST = "first"
# pcsc-lite lists this pseudo reader to announce readers coming and going; it never
# holds a card.
_PNP = "\\\\?PnP?\\Notification"
# Short enough that the thread sees a stop within JOIN_TIMEOUT_S even if SCardCancel
# did not wake it; one GetStatusChange every half second costs pcscd nothing.
_WAIT_MS = 500
_NO_SERVICE = "pcscd not running (start it: systemctl enable --now pcscd.socket)"
_STATUS_WORDS = {
    0x6A81: "function not supported",
    0x6A82: "no UID on this card",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6300: "the reader could not read the card",
}


@dataclass
class _Session:
    """An open context and the reader it watches."""

    context: PcscContext
    reader: str


def choose_reader(wanted: str, names: Sequence[str]) -> str | None:
    """The reader ``wanted`` names: ``first``, or a part of its name (any case)."""
    readers = [name for name in names if name != _PNP]
    if wanted.strip().lower() == FIRST:
        return readers[0] if readers else None
    needle = wanted.strip().lower()
    return next((name for name in readers if needle in name.lower()), None)


def describe_answer(answer: CardAnswer) -> str:
    """Why a GET DATA answer gives no UID, in words (the status word is no secret)."""
    if answer.sw == 0x9000:
        return "the reader answered 90 00 to GET DATA (UID) but sent no UID"
    word = f"{answer.sw >> 8:02X} {answer.sw & 0xFF:02X}"
    meaning = _STATUS_WORDS.get(answer.sw, "an error")
    return (
        f"the reader answered {word} ({meaning}) to GET DATA (UID), not 90 00; "
        f"this card or reader cannot give its UID"
    )


class PcscCardReader(ReconnectingReader):
    """Read the UID of each card presented to a PC/SC reader, on a daemon thread.

    When a card arrives it sends GET DATA (``FF CA 00 00 00``) and emits a
    ``CardRead`` of kind ``uid`` with the UID in hex. A card already on the reader
    when it connects is not read: it must be presented again, so that a restart
    never opens a door by itself. pcscd not running, no matching reader, and a
    reader unplugged are status lines (``last_error``) retried with back-off; a card
    that left too early or an error status word is a dropped read, logged once.

    Args:
        name: the source name, used in logs and in every CardRead.
        reader: ``first``, or a part of the reader's name, e.g. ``ACR122``.
        open_context: returns a new ``PcscContext``-like object (pcscd's seam).
        clock: gives each CardRead's ``timestamp``.
    """

    role = "card reader"
    log = logger

    def __init__(
        self,
        name: str,
        reader: str = FIRST,
        *,
        open_context: Callable[[], Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
        reconnect_min_s: float = 0.1,
        reconnect_max_s: float = 2.0,
    ) -> None:
        super().__init__(name, clock=clock, reconnect_min_s=reconnect_min_s,
                         reconnect_max_s=reconnect_max_s)  # fmt: skip
        self.reader = reader
        self.reads = 0
        self.dropped = 0
        self.card_present = False  # as pcscd last told; False while disconnected
        # Connected as status() says it: set once a connect is fully recorded (its
        # count, its cleared error), cleared before a loss is, so one snapshot never
        # mixes the two.
        self._online = False
        self._open_context = open_context or PcscContext
        self._changed = threading.Condition()

    def close(self) -> None:
        """Stop the thread and release the context; returns within about a second.

        Raises:
            ThreadStuckError: the reader thread did not stop in time.
        """
        self._stopping.set()
        with self._lock:
            session = self._handle
        if session is not None:
            try:
                session.context.cancel()  # wakes a GetStatusChange at once
            except PcscError as exc:
                logger.debug("%s: cancel failed: %s", self.label, exc)
        super().close()

    def status(self) -> dict[str, Any]:
        """Return a snapshot for the status page and logs."""
        session = self._handle if self._online else None
        return {
            "connected": session is not None,
            "device": session.reader if session is not None else None,
            "reader": self.reader,
            "card_present": self.card_present and session is not None,
            "reads": self.reads,
            "dropped": self.dropped,
            "reconnects": self.reconnects,
            "last_error": self.last_error,
        }

    def wait_status(
        self, check: Callable[[dict[str, Any]], bool], timeout: float
    ) -> bool:
        """Block until ``check(status())`` is true; False after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: check(self.status()), timeout)

    def _noted(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def _connect(self) -> _Session | None:
        """Open a context and find the reader, or return None after saying why."""
        context = None
        try:
            context = self._open_context()
            names = context.readers()
        except PcscError as exc:
            problem = _NO_SERVICE if exc.reason == "no_service" else str(exc)
        else:
            chosen = choose_reader(self.reader, names)
            if chosen is not None:
                return _Session(context, chosen)
            problem = self._no_reader(names)
        if context is not None:
            context.close()
        self._failed(f"{problem}; retrying")
        self._noted()
        return None

    def _no_reader(self, names: Sequence[str]) -> str:
        present = [name for name in names if name != _PNP]
        if not present:
            return "no reader: pcscd sees none (plug one in; `pcsc_scan` lists them)"
        return (
            f"no reader matching {self.reader!r}; pcscd has: {', '.join(present)} "
            f"(set reader = first or a part of one of these names)"
        )

    def _connected(self, ever_connected: bool) -> None:
        super()._connected(ever_connected)
        session = self._handle
        verb = "reconnected to" if ever_connected else "reading"
        logger.info("%s %s %s", self.label, verb, session.reader if session else "?")
        self.last_error = None
        self._online = True
        self._noted()

    def _pump(self, session: _Session, emit: Emit) -> bool:
        """Watch the reader until stopping (return False) or until it is lost (True)."""
        known = STATE_UNAWARE
        while not self._stopping.is_set():
            try:
                state = session.context.wait(session.reader, known, _WAIT_MS)
                if state is None:
                    continue
                if state & STATE_GONE:
                    return self._gone(f"reader {session.reader!r} is gone (unplugged?)")
                if known != STATE_UNAWARE and _is_new_card(known, state):
                    self._read_card(session, emit)
                known = state & ~STATE_CHANGED
                self.card_present = bool(state & STATE_PRESENT)
                self._noted()
            except PcscError as exc:
                if self._stopping.is_set() or exc.reason == "cancelled":
                    return False
                return self._gone(self._describe_loss(exc, session.reader))
        return False

    def _describe_loss(self, exc: PcscError, reader: str) -> str:
        if exc.reason == "no_service":
            return _NO_SERVICE
        if exc.reason == "no_reader":
            return f"reader {reader!r} is gone (unplugged?)"
        # A pcscd that is shutting down answers its waiting clients with odd codes
        # (access denied, among others): ask it afresh before blaming the reader.
        try:
            self._open_context().close()
        except PcscError as probe:
            if probe.reason == "no_service":
                return _NO_SERVICE
        return f"lost reader {reader!r} ({exc})"

    def _gone(self, message: str) -> bool:
        self._online = False  # first: no status may show the loss and "connected"
        self._lost(message)
        self._noted()
        return True

    def _read_card(self, session: _Session, emit: Emit) -> None:
        """Read the new card's UID and emit it, or count and log why not."""
        try:
            answer = session.context.read_uid(session.reader)
        except PcscError as exc:
            if exc.reason in ("no_service", "no_reader"):
                raise  # the reader or pcscd went: the pump reports it and reconnects
            if exc.reason == "card_gone":
                return self._drop(
                    "the card left before its UID was read; hold it on the reader "
                    "a moment longer"
                )
            return self._drop(f"reading the UID failed: {exc}")
        if not answer.ok:
            return self._drop(describe_answer(answer))
        self.reads += 1
        self.last_error = None
        uid = answer.data.hex().upper()
        self._deliver(emit, [CardRead(self.name, uid, "uid", self._clock())])
        self._noted()

    def _drop(self, reason: str) -> None:
        # The reason never holds the UID: it is the card number.
        self.dropped += 1
        self.last_error = reason
        logger.warning("%s dropped a read: %s", self.label, reason)
        self._noted()

    def _release(self, session: _Session) -> None:
        self._online = self.card_present = False
        session.context.close()


def _is_new_card(known: int, state: int) -> bool:
    """True when ``state`` shows a card that ``known`` did not (pcsc-lite counts
    insertions and removals in the upper 16 bits, so a swap between two waits shows
    as a changed count)."""
    if not state & STATE_PRESENT:
        return False
    return not known & STATE_PRESENT or (state >> 16) != (known >> 16)


@register("card_pcsc")
def _card_pcsc(name: str, options: Mapping[str, Any], **seams: Any) -> InputSource:
    """``reader`` (``first``, or a part of the reader's name) -> a PcscCardReader."""
    check_options("card_pcsc", name, options, ("reader",))
    reader = str(options.get("reader") or FIRST).strip()
    if not reader:
        raise ConfigError(
            f"[source:{name}] kind = card_pcsc needs reader = first or a part of "
            f"the reader's name, e.g. reader = ACR122"
        )
    if "open_context" not in seams:
        scard = load_scard()  # a missing pyscard is a configuration error, said now
        seams["open_context"] = lambda: PcscContext(scard)
    return PcscCardReader(name, reader, **seams)
