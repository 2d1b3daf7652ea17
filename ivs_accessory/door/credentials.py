"""Pure decoding of keypad PINs and card reads into Credentials with named readings."""

from __future__ import annotations

import logging
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from ivs_accessory.errors import AccessoryError, ConfigError
from ivs_accessory.events import CardRead

logger = logging.getLogger(__name__)

KINDS = ("pin", "decimal", "em4100", "wiegand", "uid")
"""Every value of ``Credential.kind``."""

READINGS = (
    "decimal",
    "em4100_hex",
    "em4100_10",
    "em4100_8",
    "wiegand_facility",
    "wiegand_card",
    "wiegand26",
    "uid_hex",
    "uid_decimal",
    "uid_decimal_reversed",
)
"""Every reading name a configuration may choose to match against VALT."""

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
_MASK = "****"
_UID_MAX_HEX = 20  # ISO 14443 UIDs are 4, 7 or 10 bytes; ISO 15693 and FeliCa 8


class CredentialError(AccessoryError, ValueError):
    """A PIN or card value cannot be decoded (bad length, characters or parity)."""


def mask(value: str) -> str:
    """Return ``value`` hidden except for its last 4 characters, and only if long.

    Values shorter than 8 characters are hidden completely, since showing 4 of them
    would give away too much of the number.
    """
    if len(value) >= 8:
        return _MASK + value[-4:]
    return _MASK


@dataclass(frozen=True, repr=False)
class Credential:
    """A PIN or a card, with every reading of it that could be derived.

    Attributes:
        raw: the value as typed or as the reader sent it.
        kind: one of ``KINDS``.
        readings: reading name (see ``READINGS``) -> decimal or hex string.
        source: the name of the input source that produced it.
    """

    raw: str
    kind: str
    # Readings derive from raw and kind, so leaving them out of the hash is consistent
    # with equality and keeps the (unhashable) mapping out of it.
    readings: Mapping[str, str] = field(hash=False)
    source: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CredentialError(
                f"unknown credential kind {self.kind!r}; expected one of {KINDS}"
            )
        frozen = types.MappingProxyType(dict(self.readings))
        object.__setattr__(self, "readings", frozen)

    def reading(self, name: str) -> str | None:
        """Return the named reading, or None when this kind cannot provide it."""
        return self.readings.get(name)

    def masked(self) -> str:
        """Return a form safe to log or show: never the whole number.

        A PIN is always ``****``. A card is masked from its ``decimal`` reading,
        which is the number people see in VALT and printed on most cards.
        """
        if self.kind == "pin":
            return _MASK
        return mask(self.readings.get("decimal", self.raw))

    def __repr__(self) -> str:
        return (
            f"Credential(kind={self.kind!r}, masked={self.masked()!r}, "
            f"source={self.source!r})"
        )

    def __str__(self) -> str:
        return self.masked()


def from_pin(digits: str, source: str) -> Credential:
    """Build a credential from a keypad entry; leading zeros are kept.

    Raises:
        CredentialError: ``digits`` is empty or holds anything but ASCII digits.
    """
    _require_digits(digits, "PIN")
    return Credential(digits, "pin", {"decimal": digits}, source)


def from_card(event: CardRead) -> Credential:
    """Build a credential from a card read, deriving every reading its kind allows.

    Raises:
        CredentialError: the kind is unknown or the value is malformed for its kind.
    """
    decode = _CARD_DECODERS.get(event.kind)
    if decode is None:
        raise CredentialError(
            f"unknown card kind {event.kind!r} from {event.source!r}; "
            f"expected decimal, em4100, wiegand or uid"
        )
    return Credential(event.raw, event.kind, decode(event.raw), event.source)


def matching_value(credential: Credential, reading: str) -> str | None:
    """Return the value to compare with a VALT user's ``card_number``.

    A PIN always matches by its digits, whatever reading is configured for cards,
    because the keypad PIN is the user's card number.

    Raises:
        ConfigError: ``reading`` is not one of ``READINGS``.
    """
    if reading not in READINGS:
        raise ConfigError(
            f"unknown card reading {reading!r}; choose one of {', '.join(READINGS)}"
        )
    return credential.reading(matching_reading(credential, reading))


def matching_reading(credential: Credential, reading: str) -> str:
    """The name of the reading :func:`matching_value` compares with VALT: the
    configured ``reading`` for a card, ``decimal`` (the digits) for a PIN."""
    return "decimal" if credential.kind == "pin" else reading


def _require_digits(value: str, what: str) -> None:
    # isdigit() alone accepts other scripts' digits, such as Arabic-Indic ones.
    if not value or not (value.isascii() and value.isdigit()):
        raise CredentialError(
            f"{what} must be ASCII digits; got {len(value)} characters that are not"
        )


def _decimal_readings(raw: str) -> dict[str, str]:
    _require_digits(raw, "decimal card value")
    return {"decimal": raw}


def _em4100_readings(raw: str) -> dict[str, str]:
    """Readings of an EM4100 tag: one version/customer byte, then a 32-bit id."""
    if len(raw) != 10 or not _HEX_DIGITS.issuperset(raw):
        raise CredentialError(
            f"em4100 card value must be 10 hex characters; got {len(raw)} characters"
        )
    tag_id = int(raw[2:], 16)
    # The 8-digit form printed on fobs as "WWW,CCCCC": bits 16-23, then bits 0-15.
    eight = f"{(tag_id >> 16) & 0xFF:03d}{tag_id & 0xFFFF:05d}"
    ten = f"{tag_id:010d}"
    return {
        "em4100_hex": raw.upper(),
        "em4100_10": ten,
        "em4100_8": eight,
        "decimal": ten,
    }


@dataclass(frozen=True)
class _WiegandFormat:
    """Field widths and parity spans of one Wiegand frame length."""

    facility_bits: int
    card_bits: int
    even_span: int  # data bits after the leading even-parity bit that it covers
    odd_span: int  # data bits before the trailing odd-parity bit that it covers


# H10301 (26), the common 34-bit format, and H10304 (37), whose two parity spans
# overlap on the middle data bit.
_WIEGAND_FORMATS = {
    26: _WiegandFormat(8, 16, 12, 12),
    34: _WiegandFormat(16, 16, 16, 16),
    37: _WiegandFormat(16, 19, 18, 18),
}


def _wiegand_readings(bits: str) -> dict[str, str]:
    """Readings of a Wiegand frame given as a string of '0' and '1'."""
    fmt = _WIEGAND_FORMATS.get(len(bits))
    if fmt is None:
        raise CredentialError(
            f"wiegand frame has {len(bits)} bits; expected 26, 34 or 37"
        )
    if not set(bits) <= {"0", "1"}:
        raise CredentialError("wiegand frame must contain only '0' and '1'")
    _check_wiegand_parity(bits, fmt)
    data = bits[1:-1]
    facility = int(data[: fmt.facility_bits], 2)
    card = int(data[fmt.facility_bits :], 2)
    readings = {
        "wiegand_facility": str(facility),
        "wiegand_card": str(card),
        "decimal": str(card),
    }
    if len(bits) == 26:
        readings["wiegand26"] = str(facility * 65536 + card)
    return readings


def _check_wiegand_parity(bits: str, fmt: _WiegandFormat) -> None:
    leading = bits[: 1 + fmt.even_span]
    trailing = bits[len(bits) - 1 - fmt.odd_span :]
    if leading.count("1") % 2 != 0:
        raise CredentialError(f"wiegand {len(bits)}-bit frame fails its even parity")
    if trailing.count("1") % 2 != 1:
        raise CredentialError(f"wiegand {len(bits)}-bit frame fails its odd parity")


def _uid_readings(raw: str) -> dict[str, str]:
    """Readings of a contactless card's UID (hex, in the order the reader sent it).

    Desktop readers that type a UID disagree on byte order, so both decimal forms
    are offered; each is zero-padded to the width of the largest UID of that length
    (10 digits for the common 4-byte UID), as those readers print it.
    """
    if (
        not 2 <= len(raw) <= _UID_MAX_HEX
        or len(raw) % 2
        or not _HEX_DIGITS.issuperset(raw)
    ):
        raise CredentialError(
            f"uid card value must be 1 to {_UID_MAX_HEX // 2} bytes in hex; "
            f"got {len(raw)} characters"
        )
    data = bytes.fromhex(raw)
    width = len(str(256 ** len(data) - 1))
    as_read = f"{int.from_bytes(data, 'big'):0{width}d}"
    return {
        "uid_hex": raw.upper(),
        "uid_decimal": as_read,
        "uid_decimal_reversed": f"{int.from_bytes(data, 'little'):0{width}d}",
        "decimal": as_read,
    }


_CARD_DECODERS: dict[str, Callable[[str], dict[str, str]]] = {
    "decimal": _decimal_readings,
    "em4100": _em4100_readings,
    "wiegand": _wiegand_readings,
    "uid": _uid_readings,
}
