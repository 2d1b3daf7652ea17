"""The ``[source:NAME]`` sections: their keys by kind, and their validation."""

from __future__ import annotations

import re
from collections.abc import Mapping

from ivs_accessory.config.section import (
    Errors,
    Section,
    Values,
    field_error,
    missing_key,
    unknown_key,
)
from ivs_accessory.config.types import (
    Boolean,
    Choice,
    DeviceSelector,
    Integer,
    String,
)

SOURCE_PREFIX = "source:"
SOURCE_KINDS = ("keypad", "card_hid", "card_serial", "card_pcsc", "console")
_SOURCE_NAME = re.compile(r"[A-Za-z0-9_-]+")

KIND = Choice(SOURCE_KINDS)
_HID_EMPTY = "say which reader, e.g. usb:ffff:0035; run `ivs-accessory list-devices`"

SOURCE_SCHEMAS: dict[str, Section] = {
    "keypad": Section(
        {
            "device": DeviceSelector(optional=True, default=""),
            "grab": Boolean(default="true"),
            "leds": Boolean(default="true"),
        }
    ),
    "card_hid": Section(
        {
            "device": DeviceSelector(
                optional=False, empty_message=_HID_EMPTY, default=""
            ),
            "grab": Boolean(default="true"),
        }
    ),
    "card_serial": Section(
        {
            "port": String(example="/dev/ttyUSB0"),
            "baud": Integer(300, 115_200, unit="bits per second", default="9600"),
            "framing": Choice(("auto", "line", "em4100", "wiegand"), default="auto"),
        }
    ),
    "card_pcsc": Section(
        {
            # ``first``, or a part of the PC/SC reader's name (any case).
            "reader": String(
                example="first, or a part of the reader's name such as ACR122",
                default="first",
            ),
        }
    ),
    "console": Section({}),
}
"""``[source:NAME]`` keys by kind (``kind`` itself is checked by ``KIND``)."""


def validate_source(label: str, raw: Mapping[str, str]) -> tuple[Values, Errors]:
    """Check one ``[source:NAME]`` section (``label``): its name, kind and keys.

    Returns:
        (typed values with ``kind``, error message by key); a bad name is under
        the key ``""``.
    """
    if not _SOURCE_NAME.fullmatch(label[len(SOURCE_PREFIX) :]):
        return {}, {
            "": f"section [{label}]: a source name may only use letters, digits, "
            f"- and _, e.g. [source:door]"
        }
    kind, errors = _source_kind(label, raw)
    rest = {k: v for k, v in raw.items() if k != "kind"}
    if kind is None:
        every = {key for schema in SOURCE_SCHEMAS.values() for key in schema} | {"kind"}
        errors.update({k: unknown_key(label, k, every) for k in rest if k not in every})
        return {}, errors
    schema = SOURCE_SCHEMAS[kind]
    for key in [k for k in rest if k not in schema and _used_by_other_kind(k)]:
        errors[key] = f"key {key!r} is not used by kind {kind!r} in [{label}]"
        del rest[key]
    values, field_errors = schema.validate(label, rest, also_known=["kind"])
    errors.update(field_errors)
    return {"kind": kind, **values}, errors


def _source_kind(label: str, raw: Mapping[str, str]) -> tuple[str | None, Errors]:
    if "kind" not in raw:
        return None, {"kind": missing_key(label, "kind", KIND)}
    try:
        return KIND.deserialize(raw["kind"]), {}
    except ValueError as exc:
        return None, {"kind": field_error(label, "kind", raw["kind"], KIND, exc)}


def _used_by_other_kind(key: str) -> bool:
    return any(key in schema for schema in SOURCE_SCHEMAS.values())
