"""validate_section: one section of text at a time, as the page posts it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivs_accessory.config import (
    SCHEMA,
    SOURCE_SCHEMAS,
    validate_section,
)

# -- validate_section ------------------------------------------------------------------


@pytest.mark.parametrize(
    "section, raw, values, errors",
    [
        (
            "web",
            {"port": "8080"},
            {
                "enabled": True,
                "address": "0.0.0.0",
                "port": 8080,
                "tls_cert": "",
                "tls_key": "",
                "password_file": "/etc/ivs-accessory/web-password",
                "session_idle_s": 900,
                "session_max_s": 43200,
                "status_poll_s": 5,
                "network_interface": "eth0",
                "network_confirm_s": 120,
                "allowed_hosts": "",
                "metrics_access": "local",
            },
            {},
        ),
        (
            "feedback",
            {"leds": "x"},
            {"result_ms": 2000},
            {"leds": "[feedback] leds = 'x': must be true or false"},
        ),
        ("source:door", {"kind": "console"}, {"kind": "console"}, {}),
        (
            "source:door",
            {"kind": "card_serial", "port": "/dev/ttyS0", "baud": "115200"},
            {
                "kind": "card_serial",
                "port": "/dev/ttyS0",
                "baud": 115200,
                "framing": "auto",
            },
            {},
        ),
        (
            "source:door",
            {"kind": "nope", "bogus": "1"},
            {},
            {
                "kind": "[source:door] kind = 'nope': must be one of keypad, "
                "card_hid, card_serial, card_pcsc, console",
                "bogus": "unknown key 'bogus' in [source:door]",
            },
        ),
        (
            "bindings",
            {"KEY_A.hold": "lock", "KEY_B": ""},
            {"KEY_A.hold": "lock", "KEY_B": None},
            {},
        ),
        ("nowhere", {}, {}, {"": "unknown section [nowhere]"}),
    ],
)
def test_validate_section(section, raw, values, errors):
    assert validate_section(section, raw) == (values, errors)


FIELDS = [(name, key) for name, section in SCHEMA.items() for key in section]
SOURCE_FIELDS = [
    (kind, key) for kind, schema in SOURCE_SCHEMAS.items() for key in schema
]


@pytest.mark.parametrize("section, key", FIELDS)
@settings(max_examples=40, deadline=None)
@given(text=st.text())
def test_validate_section_takes_any_text_for_every_key(section, key, text):
    values, errors = validate_section(section, {key: text})
    assert (key in values) != (key in errors)


@pytest.mark.parametrize("kind, key", SOURCE_FIELDS + [("console", "kind")])
@settings(max_examples=40, deadline=None)
@given(text=st.text())
def test_validate_section_takes_any_text_for_every_source_key(kind, key, text):
    values, errors = validate_section("source:door", {"kind": kind, key: text})
    assert isinstance(values, dict) and isinstance(errors, dict)


@settings(max_examples=200, deadline=None)
@given(section=st.text(), raw=st.dictionaries(st.text(), st.text(), max_size=4))
def test_validate_section_takes_any_names_and_text(section, raw):
    for name in (section, "bindings", "source:" + section):
        values, errors = validate_section(name, raw)
        assert isinstance(values, dict) and isinstance(errors, dict)
