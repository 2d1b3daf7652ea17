"""Tests for credentials: PIN and card values -> Credential readings and masking."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ivs_accessory.door.credentials import (
    READINGS,
    Credential,
    CredentialError,
    from_card,
    from_pin,
    mask,
    matching_value,
)
from ivs_accessory.errors import AccessoryError, ConfigError
from ivs_accessory.events import CardRead

# name: (total bits, facility bits, card bits, even-parity span, odd-parity span)
FORMATS = {
    "H10301": (26, 8, 16, 12, 12),
    "34-bit": (34, 16, 16, 16, 16),
    "H10304": (37, 16, 19, 18, 18),
}


def encode_wiegand(fmt: str, facility: int, card: int) -> str:
    """Build a frame with correct parity, independently of the code under test."""
    total, f_bits, c_bits, even_span, odd_span = FORMATS[fmt]
    data = format(facility, f"0{f_bits}b") + format(card, f"0{c_bits}b")
    assert len(data) == total - 2
    leading = data[:even_span].count("1") % 2  # makes the count of ones even
    trailing = 1 - data[-odd_span:].count("1") % 2  # makes the count of ones odd
    return f"{leading}{data}{trailing}"


def card(raw: str, kind: str, source: str = "reader") -> Credential:
    return from_card(CardRead(source, raw, kind, 0.0))


def flip(bits: str, index: int) -> str:
    return bits[:index] + ("1" if bits[index] == "0" else "0") + bits[index + 1 :]


# --- PINs -----------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["1234", "0042", "0", "000000", "9" * 20])
def test_from_pin_keeps_digits_and_leading_zeros(digits):
    cred = from_pin(digits, "keypad")
    assert cred.kind == "pin"
    assert cred.raw == digits
    assert dict(cred.readings) == {"decimal": digits}
    assert cred.source == "keypad"


@pytest.mark.parametrize("digits", ["", "12a4", " 1234", "12.5", "\u0661\u0662\u0663"])
def test_from_pin_rejects_non_digits(digits):
    with pytest.raises(CredentialError):
        from_pin(digits, "keypad")


@pytest.mark.parametrize("digits", ["1", "1234", "12345678", "0123456789012"])
def test_pin_masked_is_always_stars(digits):
    assert from_pin(digits, "keypad").masked() == "****"


# --- decimal cards --------------------------------------------------------------


@pytest.mark.parametrize("raw", ["0004512345", "1", "00"])
def test_decimal_card_has_only_the_decimal_reading(raw):
    cred = card(raw, "decimal")
    assert dict(cred.readings) == {"decimal": raw}
    assert cred.reading("em4100_10") is None
    assert cred.reading("wiegand26") is None


@pytest.mark.parametrize("raw", ["", "12 34", "abc", "-123"])
def test_decimal_card_rejects_non_digits(raw):
    with pytest.raises(CredentialError):
        card(raw, "decimal")


# --- EM4100 ---------------------------------------------------------------------

EM4100_VECTORS = [
    # raw, hex, 10-digit id, 8-digit "WWW,CCCCC" form (worked out by hand)
    ("0F00A1B2C3", "0F00A1B2C3", "0010597059", "16145763"),
    ("0f00a1b2c3", "0F00A1B2C3", "0010597059", "16145763"),
    ("1A2B3C4D5E", "1A2B3C4D5E", "0725372254", "06019806"),
    ("FFFFFFFFFF", "FFFFFFFFFF", "4294967295", "25565535"),
    ("0000000001", "0000000001", "0000000001", "00000001"),
    ("7E00000000", "7E00000000", "0000000000", "00000000"),
]


@pytest.mark.parametrize("raw, hex_, ten, eight", EM4100_VECTORS)
def test_em4100_readings(raw, hex_, ten, eight):
    cred = card(raw, "em4100")
    assert dict(cred.readings) == {
        "em4100_hex": hex_,
        "em4100_10": ten,
        "em4100_8": eight,
        "decimal": ten,
    }
    assert cred.raw == raw


@pytest.mark.parametrize(
    "raw", ["0F00A1B2C", "0F00A1B2C3D", "0F00A1B2CG", "", "0x00A1B2C3"]
)
def test_em4100_rejects_malformed_values(raw):
    with pytest.raises(CredentialError):
        card(raw, "em4100")


@given(version=st.integers(0, 255), tag_id=st.integers(0, 2**32 - 1))
def test_em4100_forms_agree_with_the_tag_id(version, tag_id):
    raw = f"{version:02x}{tag_id:08x}"
    readings = card(raw, "em4100").readings
    assert int(readings["em4100_10"]) == tag_id
    assert len(readings["em4100_10"]) == 10
    eight = readings["em4100_8"]
    assert len(eight) == 8
    assert int(eight[:3]) * 65536 + int(eight[3:]) == tag_id & 0xFFFFFF
    assert readings["em4100_hex"] == raw.upper()


# --- Wiegand --------------------------------------------------------------------


def test_wiegand26_known_frame_decodes():
    # Facility 123 = 01111011, card 45678 = 1011001001101110. The first 12 data bits
    # hold 9 ones, so the even-parity bit is 1; the last 12 hold 6, so the odd one is 1.
    bits = "1" + "01111011" + "1011001001101110" + "1"
    assert bits == encode_wiegand("H10301", 123, 45678)
    cred = card(bits, "wiegand")
    assert dict(cred.readings) == {
        "wiegand_facility": "123",
        "wiegand_card": "45678",
        "wiegand26": str(123 * 65536 + 45678),
        "decimal": "45678",
    }


@pytest.mark.parametrize(
    "fmt, facility, number",
    [
        ("H10301", 123, 45678),
        ("H10301", 0, 0),
        ("H10301", 255, 65535),
        ("H10301", 1, 1),
        ("34-bit", 4660, 22136),
        ("34-bit", 65535, 65535),
        ("34-bit", 0, 1),
        ("H10304", 1000, 500000),
        ("H10304", 65535, 2**19 - 1),
        ("H10304", 0, 0),
    ],
)
def test_wiegand_decodes_facility_and_card(fmt, facility, number):
    cred = card(encode_wiegand(fmt, facility, number), "wiegand")
    assert cred.reading("wiegand_facility") == str(facility)
    assert cred.reading("wiegand_card") == str(number)
    assert cred.reading("decimal") == str(number)


@pytest.mark.parametrize("fmt", ["34-bit", "H10304"])
def test_wiegand26_reading_only_for_26_bits(fmt):
    assert card(encode_wiegand(fmt, 1, 2), "wiegand").reading("wiegand26") is None


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_wiegand_any_single_flipped_bit_fails_parity(fmt):
    bits = encode_wiegand(fmt, 0x5A, 0x1234)
    for index in range(len(bits)):
        with pytest.raises(CredentialError, match="parity"):
            card(flip(bits, index), "wiegand")


@pytest.mark.parametrize("length", [0, 1, 25, 27, 32, 33, 35, 36, 38, 64])
def test_wiegand_rejects_other_lengths(length):
    with pytest.raises(CredentialError, match=f"{length} bits"):
        card("0" * length, "wiegand")


@pytest.mark.parametrize("bits", ["2" + "0" * 25, "0" * 25 + "x", " " * 26])
def test_wiegand_rejects_non_binary(bits):
    with pytest.raises(CredentialError, match="only '0' and '1'"):
        card(bits, "wiegand")


@given(
    fmt=st.sampled_from(list(FORMATS)),
    facility=st.integers(0, 65535),
    number=st.integers(0, 2**19 - 1),
)
def test_wiegand_round_trips_through_an_encoder(fmt, facility, number):
    _, f_bits, c_bits, _, _ = FORMATS[fmt]
    facility %= 2**f_bits
    number %= 2**c_bits
    cred = card(encode_wiegand(fmt, facility, number), "wiegand")
    assert cred.reading("wiegand_facility") == str(facility)
    assert cred.reading("wiegand_card") == str(number)


# --- errors, masking, repr ------------------------------------------------------


def test_credential_error_is_accessory_and_value_error():
    assert issubclass(CredentialError, AccessoryError)
    assert issubclass(CredentialError, ValueError)


@pytest.mark.parametrize(
    "raw, hex_, as_read, reversed_",
    [
        ("a1b2c3d4", "A1B2C3D4", "2712847316", "3569595041"),
        ("00000001", "00000001", "0000000001", "0016777216"),
        ("04A1B2C3D4E5F6", "04A1B2C3D4E5F6", "01303689068602870", "69495546249912580"),
        ("0102030405060708090A", "0102030405060708090A", "0004759477275222530853130",
         "0047390263963055590408705"),
    ],
)  # fmt: skip
def test_uid_readings_in_both_byte_orders(raw, hex_, as_read, reversed_):
    assert card(raw, "uid").readings == {
        "uid_hex": hex_,
        "uid_decimal": as_read,
        "uid_decimal_reversed": reversed_,
        "decimal": as_read,
    }


@given(st.binary(min_size=1, max_size=10))
def test_uid_decimal_forms_agree_with_the_bytes(uid):
    readings = card(uid.hex(), "uid").readings
    assert int(readings["uid_decimal"]) == int.from_bytes(uid, "big")
    assert int(readings["uid_decimal_reversed"]) == int.from_bytes(uid, "little")
    assert len(readings["uid_decimal"]) == len(str(256 ** len(uid) - 1))


@pytest.mark.parametrize("raw", ["", "A", "A1B2C3D", "A1B2C3DX", "00" * 11])
def test_uid_rejects_malformed_values(raw):
    with pytest.raises(CredentialError, match="uid card value must be 1 to 10 bytes"):
        card(raw, "uid")


def test_matching_value_of_a_uid_by_each_reading():
    uid = card("A1B2C3D4", "uid")
    assert matching_value(uid, "uid_decimal_reversed") == "3569595041"
    assert matching_value(uid, "uid_hex") == "A1B2C3D4"
    assert matching_value(uid, "em4100_10") is None


def test_unknown_card_kind_is_rejected():
    with pytest.raises(CredentialError, match="unknown card kind"):
        card("1234", "magstripe")


@pytest.mark.parametrize(
    "raw, kind",
    [
        ("0F00A1B2C3D", "em4100"),
        ("12345678x", "decimal"),
        (flip(encode_wiegand("H10301", 123, 45678), 5), "wiegand"),
        (encode_wiegand("H10301", 123, 45678) + "1", "wiegand"),
    ],
)
def test_error_messages_hide_the_number(raw, kind):
    with pytest.raises(CredentialError) as info:
        card(raw, kind)
    message = str(info.value)
    assert raw not in message
    assert "45678" not in message
    assert "A1B2C3" not in message


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", "****"),
        ("1234", "****"),
        ("1234567", "****"),
        ("12345678", "****5678"),
        ("0010597059", "****7059"),
    ],
)
def test_mask(value, expected):
    assert mask(value) == expected


@pytest.mark.parametrize(
    "cred, expected",
    [
        (card("0F00A1B2C3", "em4100"), "****7059"),
        (card("0004512345", "decimal"), "****2345"),
        (card("1234567", "decimal"), "****"),
        (card(encode_wiegand("H10301", 123, 45678), "wiegand"), "****"),
        (from_pin("12345678", "keypad"), "****"),
    ],
)
def test_credential_masked(cred, expected):
    assert cred.masked() == expected


@pytest.mark.parametrize(
    "cred, secrets",
    [
        (card("0F00A1B2C3", "em4100"), ["0F00A1B2C3", "0010597059", "16145763"]),
        (card("0004512345", "decimal"), ["0004512345", "45123"]),
        (card(encode_wiegand("H10304", 1000, 500000), "wiegand"), ["500000"]),
        (from_pin("135792", "keypad"), ["135792"]),
        (card("A1B2C3D4", "uid"), ["A1B2C3D4", "2712847316", "3569595041"]),
    ],
)
def test_repr_and_str_never_show_the_number(cred, secrets, caplog):
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("test").info("got %s / %r", cred, cred)
    for text in (repr(cred), str(cred), f"{cred}", caplog.text, repr([cred])):
        for secret in secrets:
            assert secret not in text
    assert cred.masked() in repr(cred)
    assert str(cred) == cred.masked()


def test_credential_is_frozen_hashable_and_compares_by_value():
    first = card("0F00A1B2C3", "em4100")
    second = card("0F00A1B2C3", "em4100")
    assert first == second
    assert hash(first) == hash(second)
    assert first != card("0F00A1B2C4", "em4100")
    with pytest.raises(AttributeError):
        first.raw = "x"
    with pytest.raises(TypeError):
        first.readings["decimal"] = "1"


def test_credential_copies_the_readings_it_is_given():
    readings = {"decimal": "1234"}
    cred = Credential("1234", "decimal", readings, "x")
    readings["decimal"] = "9999"
    assert cred.reading("decimal") == "1234"


def test_credential_rejects_unknown_kind():
    with pytest.raises(CredentialError):
        Credential("1", "barcode", {}, "x")


# --- readings and matching ------------------------------------------------------

SAMPLES = [
    from_pin("0042", "keypad"),
    card("0004512345", "decimal"),
    card("0F00A1B2C3", "em4100"),
    card(encode_wiegand("H10301", 123, 45678), "wiegand"),
    card(encode_wiegand("34-bit", 1, 2), "wiegand"),
    card(encode_wiegand("H10304", 3, 4), "wiegand"),
    card("04A1B2C3D4E5F6", "uid"),
]


def test_readings_lists_every_name_any_kind_produces():
    produced = {name for cred in SAMPLES for name in cred.readings}
    assert produced == set(READINGS)
    assert len(READINGS) == len(set(READINGS))


@pytest.mark.parametrize(
    "reading, expected",
    [
        ("decimal", "0010597059"),
        ("em4100_hex", "0F00A1B2C3"),
        ("em4100_10", "0010597059"),
        ("em4100_8", "16145763"),
        ("wiegand26", None),
    ],
)
def test_matching_value_uses_the_configured_reading(reading, expected):
    assert matching_value(card("0F00A1B2C3", "em4100"), reading) == expected


@pytest.mark.parametrize("reading", READINGS)
def test_matching_value_of_a_pin_is_its_digits_whatever_the_reading(reading):
    assert matching_value(from_pin("0042", "keypad"), reading) == "0042"


def test_matching_value_wiegand26():
    cred = card(encode_wiegand("H10301", 123, 45678), "wiegand")
    assert matching_value(cred, "wiegand26") == "8106606"
    assert matching_value(cred, "wiegand_facility") == "123"
    assert matching_value(cred, "em4100_10") is None


def test_matching_value_rejects_unknown_reading():
    with pytest.raises(ConfigError, match="choose one of"):
        matching_value(from_pin("1", "keypad"), "em4100_9")
