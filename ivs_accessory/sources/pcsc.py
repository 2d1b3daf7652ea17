"""PC/SC through pyscard: one pcscd context, its result codes turned into errors."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ivs_accessory.errors import ConfigError, InputSourceError

logger = logging.getLogger(__name__)

GET_UID = (0xFF, 0xCA, 0x00, 0x00, 0x00)
"""The PC/SC pseudo-APDU GET DATA with P1=00: the card's UID (PC/SC part 3)."""

# SCard result codes, as pcsc-lite and winscard define them. Kept here (not read from
# pyscard) so that the reasons below can be named without importing pyscard.
# No service, service stopped, and the RPC transport error a client gets when pcscd
# dies while it waits.
_NO_SERVICE = {0x8010001D, 0x8010001E, 0x80100013}
_NO_READER = {0x8010002E, 0x80100009, 0x80100017}  # none, unknown, unavailable
# A card that left (or was swapped) between the insert event and the command: removed,
# no card, reset, communication lost. (A mute card, 0x80100066, is another matter.)
_CARD_GONE = {0x80100069, 0x8010000C, 0x80100068, 0x8010002F}
_TIMEOUT = 0x8010000A
_CANCELLED = 0x80100002

STATE_UNAWARE = 0x0
STATE_CHANGED = 0x2
STATE_GONE = 0x1 | 0x4 | 0x8  # ignore, unknown, unavailable: the reader went
STATE_PRESENT = 0x20


class PcscError(InputSourceError):
    """A PC/SC call failed; ``reason`` is one of ``no_service``, ``no_reader``,
    ``card_gone``, ``cancelled`` or ``other``."""

    def __init__(self, message: str, reason: str, code: int = 0) -> None:
        super().__init__(message)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class CardAnswer:
    """A card's answer to GET DATA: the data bytes and the status word (SW1 SW2)."""

    data: bytes
    sw: int

    @property
    def ok(self) -> bool:
        """True when the status word is 90 00 and there is a UID."""
        return self.sw == 0x9000 and len(self.data) > 0


def load_scard() -> Any:
    """Import pyscard's low-level module.

    Raises:
        ConfigError: pyscard is not installed (the ``pcsc`` extra).
    """
    try:
        from smartcard import scard
    except ImportError as exc:
        raise ConfigError(
            "kind = card_pcsc needs pyscard: pip install 'ivs-accessory[pcsc]' "
            "(and apt install pcscd)"
        ) from exc
    return scard


def _reason(code: int) -> str:
    if code in _NO_SERVICE:
        return "no_service"
    if code in _NO_READER:
        return "no_reader"
    if code in _CARD_GONE:
        return "card_gone"
    return "cancelled" if code == _CANCELLED else "other"


class PcscContext:
    """One PC/SC context in pcscd: list readers, wait for cards, read a UID.

    Every failure is a ``PcscError``; pyscard's result codes go no further. A
    context is used by one thread, except ``cancel()``, which any thread may call to
    wake a ``wait()``.

    Args:
        scard: pyscard's ``smartcard.scard`` module (or an object like it).

    Raises:
        PcscError: pcscd cannot be reached (reason ``no_service``).
    """

    def __init__(self, scard: Any = None) -> None:
        self._scard = scard if scard is not None else load_scard()
        result, self._handle = self._scard.SCardEstablishContext(
            self._scard.SCARD_SCOPE_USER
        )
        self._check(result, "connect to pcscd")

    def readers(self) -> list[str]:
        """The names of the readers pcscd has now (none is an empty list)."""
        result, names = self._scard.SCardListReaders(self._handle, [])
        if _code(result) == 0x8010002E:
            return []
        self._check(result, "list readers")
        return list(names)

    def wait(self, reader: str, known: int, timeout_ms: int) -> int | None:
        """Wait for the state of ``reader`` to differ from ``known``.

        Returns:
            the new event state (with its event counter in the upper 16 bits), or
            None when ``timeout_ms`` passed without a change.
        """
        result, states = self._scard.SCardGetStatusChange(
            self._handle, timeout_ms, [(reader, known)]
        )
        if _code(result) == _TIMEOUT:
            return None
        self._check(result, f"watch reader {reader!r}")
        return int(states[0][1])

    def read_uid(self, reader: str) -> CardAnswer:
        """Connect to the card on ``reader``, send GET DATA (UID), and let it go."""
        s = self._scard
        protocols = s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1
        result, card, protocol = s.SCardConnect(
            self._handle, reader, s.SCARD_SHARE_SHARED, protocols
        )
        self._check(result, "connect to the card")
        try:
            result, answer = s.SCardTransmit(card, protocol, list(GET_UID))
            self._check(result, "send GET DATA (UID)")
        finally:
            s.SCardDisconnect(card, s.SCARD_LEAVE_CARD)
        if len(answer) < 2:
            # What a reader gives when the card went in the middle of the command
            # (vpcd does so; real readers mostly fail with SCARD_W_REMOVED_CARD).
            raise PcscError("the answer to GET DATA was cut short", "card_gone")
        return CardAnswer(bytes(answer[:-2]), answer[-2] << 8 | answer[-1])

    def cancel(self) -> None:
        """Wake a ``wait()`` on another thread (it raises reason ``cancelled``)."""
        self._scard.SCardCancel(self._handle)

    def close(self) -> None:
        """Release the context; errors (pcscd already gone) are ignored."""
        result = self._scard.SCardReleaseContext(self._handle)
        if _code(result):
            logger.debug("releasing the PC/SC context: %s", self._message(result))

    def _check(self, result: int, doing: str) -> None:
        code = _code(result)
        if code:
            reason = _reason(code)
            raise PcscError(f"cannot {doing}: {self._message(result)}", reason, code)

    def _message(self, result: int) -> str:
        return f"{self._scard.SCardGetErrorMessage(result)} (0x{_code(result):08X})"


def _code(result: int) -> int:
    # pyscard hands back the result as a signed or unsigned 32-bit value by platform.
    return int(result) & 0xFFFFFFFF
