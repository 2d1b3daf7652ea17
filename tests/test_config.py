"""Tests for ivs_accessory.config: field types, layered loading, errors, save."""

from __future__ import annotations

import configparser
import os
import shutil
import stat
from pathlib import Path as FilePath

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from public_install import AS_NOBODY

from ivs_accessory.config import (
    DEFAULTS_PATH,
    SCHEMA,
    SOURCE_SCHEMAS,
    Boolean,
    Choice,
    Config,
    DeviceSelector,
    Float,
    Integer,
    KeyName,
    Path,
    Secret,
    String,
    check_file,
    load,
    save,
    validate_section,
)
from ivs_accessory.errors import ConfigError

TEMPLATE = FilePath(__file__).resolve().parent.parent / "config" / "accessory.conf"
PASSWORD = "Zq7-unique-Pw!42"


def write(path: FilePath, text: str, mode: int = 0o600) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return str(path)


def errors_of(path: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.errors


# -- field types -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, text, expected",
    [
        (String(), " hello ", "hello"),
        (String(optional=True), "", ""),
        (String(choices=["a", "b"]), "b", "b"),
        (Secret(), "p@ss word", "p@ss word"),
        (Secret(), "", ""),
        (Integer(1, 10), "10", 10),
        (Integer(1, 10), "+3", 3),
        (Integer(-5, 5), "-5", -5),
        (Integer(1, 10, optional=True), "", None),
        (Float(0.5, 60), "0.5", 0.5),
        (Float(0.5, 60), "60", 60.0),
        (Float(0.5, 60), "1e1", 10.0),
        (Float(0.5, 60), ".75", 0.75),
        (Boolean(), "true", True),
        (Boolean(), "Yes", True),
        (Boolean(), "on", True),
        (Boolean(), "1", True),
        (Boolean(), "FALSE", False),
        (Boolean(), "no", False),
        (Boolean(), "off", False),
        (Boolean(), "0", False),
        (Choice(["debug", "info"]), "INFO", "info"),
        (Path(), "/var/lib/x.log", "/var/lib/x.log"),
        (Path(optional=True), "", ""),
        (KeyName(), "KEY_KPPLUS", "KEY_KPPLUS"),
        (KeyName(), "BTN_0", "BTN_0"),
        (DeviceSelector(), "", ""),
        (
            DeviceSelector(),
            "/dev/input/by-id/usb-Keypad-event-kbd",
            "/dev/input/by-id/usb-Keypad-event-kbd",
        ),
        (DeviceSelector(), "usb:ffff:0035", "usb:ffff:0035"),
        (DeviceSelector(), "/dev/input/event3", "/dev/input/event3"),
        (DeviceSelector(), "name:HID 04d9:1203", "name:HID 04d9:1203"),
        (
            DeviceSelector(),
            "phys:usb-0000:00:14.0-1/input0",
            "phys:usb-0000:00:14.0-1/input0",
        ),
    ],
)
def test_type_deserializes_good_values(field, text, expected):
    assert field.deserialize(text) == expected


@pytest.mark.parametrize(
    "field, text, message",
    [
        (String(), "", "must not be empty"),
        (String(example="/dev/ttyUSB0"), "  ", "must not be empty, e.g. /dev/ttyUSB0"),
        (String(choices=["a", "b"]), "c", "must be one of a, b"),
        (String(optional=True), "two\nlines", "single line"),
        (String(optional=True), "tab\there", "without control characters"),
        (String(optional=True), "sep\u2028arator", "single line"),
        (Integer(1, 10), "0", "must be a whole number between 1 and 10"),
        (Integer(1, 10), "11", "between 1 and 10"),
        (Integer(1, 10), "1.5", "whole number"),
        (Integer(1, 10), "", "whole number"),
        (Integer(1, 10), "1_0", "whole number"),
        (
            Integer(1, 10),
            "\u0663",
            "whole number",
        ),  # an Arabic-Indic 3: int() would take it
        (
            Integer(0, 9, unit="seconds", optional=True),
            "x",
            "of seconds between 0 and 9, or empty",
        ),
        (
            Float(0.5, 60, unit="seconds"),
            "abc",
            "must be a number of seconds between 0.5 and 60",
        ),
        (Float(0.5, 60), "0.4", "between 0.5 and 60"),
        (Float(0.5, 60), "nan", "between 0.5 and 60"),
        (Float(0.5, 60), "inf", "between 0.5 and 60"),
        (Float(0.5, 60), "", "between 0.5 and 60"),
        (Boolean(), "maybe", "must be true or false"),
        (Choice(["debug", "info"]), "loud", "must be one of debug, info"),
        (Path(), "", "absolute path"),
        (Path(), "relative/audit.log", "absolute path"),
        (KeyName(), "KEY_KPPLSU", "did you mean 'KEY_KPPLUS'?"),
        (KeyName(), "key_kpplus", "did you mean 'KEY_KPPLUS'?"),
        (KeyName(), "EV_KEY", "must be an evdev key name such as KEY_KPPLUS"),
        (KeyName(), "KEY_MAX", "evdev key name"),
        (DeviceSelector(), "keypad", "unknown device selector 'keypad'"),
        (DeviceSelector(), "usb:ffff", "usb:VVVV:PPPP"),
        (
            DeviceSelector(),
            "/dev/ttyUSB0",
            "use kind = card_serial with port = /dev/ttyUSB0",
        ),
        (
            DeviceSelector(optional=False, empty_message="say which reader"),
            "",
            "say which reader",
        ),
    ],
)
def test_type_rejects_bad_values_and_names_the_fix(field, text, message):
    with pytest.raises(ValueError, match=None) as info:
        field.deserialize(text)
    assert message in str(info.value)
    assert str(info.value)[0].islower()


@pytest.mark.parametrize(
    "field, value, text",
    [
        (String(), "abc", "abc"),
        (Integer(1, 10), 7, "7"),
        (Integer(1, 10, optional=True), None, ""),
        (Float(0.5, 60), 5.0, "5"),
        (Float(0.5, 60), 0.5, "0.5"),
        (Float(0, 100), 12.345678901, "12.345678901"),
        (Boolean(), True, "true"),
        (Boolean(), False, "false"),
        (Choice(["a"]), "a", "a"),
        (Path(), "/x", "/x"),
        (KeyName(), "KEY_A", "KEY_A"),
        (Secret(), PASSWORD, PASSWORD),
    ],
)
def test_type_serializes_to_text_that_deserializes_back(field, value, text):
    assert field.serialize(value) == text
    assert field.deserialize(text) == value


def test_secret_displays_masked_and_empty_as_empty():
    assert Secret().display(PASSWORD) == "********"
    assert Secret().display("") == ""
    assert String().display("visible") == "visible"


# -- loading ---------------------------------------------------------------------------


def test_load_defaults_only():
    cfg = load(None)
    assert cfg.path is None
    assert set(cfg) == {
        "valt",
        "mapping",
        "feedback",
        "lockout",
        "logging",
        "web",
        "system",
        "helper",
    }
    assert cfg["valt"]["timeout_s"] == 5.0
    assert cfg["valt"]["room"] is None
    assert cfg["valt"]["server"] == ""
    assert cfg["mapping"]["mode"] == "both"
    assert cfg["logging"]["audit_file"] == "/var/lib/ivs-accessory/audit.log"
    assert cfg["web"]["port"] == 80
    assert cfg.sources == {}
    assert cfg.bindings == {
        ("KEY_KPPLUS", "tap"): "marker",
        ("KEY_KPASTERISK", "hold"): "privacy_toggle",
    }


def test_bindings_are_not_reachable_by_subscript():
    cfg = load(None)
    assert "bindings" not in cfg
    with pytest.raises(KeyError, match="Config.bindings"):
        cfg["bindings"]


def test_defaults_conf_sets_every_key_to_the_schema_default():
    parser = configparser.ConfigParser(interpolation=None, default_section="\0")
    parser.optionxform = str
    parser.read(DEFAULTS_PATH, encoding="utf-8")
    assert parser.sections() == list(SCHEMA)
    for name, section in SCHEMA.items():
        assert dict(parser[name]) == section.defaults(), name
    assert check_file(DEFAULTS_PATH) == []


def test_template_loads_cleanly_as_shipped_and_with_a_server(tmp_path):
    assert check_file(str(TEMPLATE)) == []
    path = tmp_path / "accessory.conf"
    shutil.copy(TEMPLATE, path)
    save(path, {"valt": {"server": "https://valt.example.com", "room": "3"}})
    cfg = load(str(path))
    assert cfg["valt"]["server"] == "https://valt.example.com"
    assert cfg["valt"]["room"] == 3
    assert cfg.sources == {
        "keypad": {"kind": "keypad", "device": "", "grab": True, "leds": True}
    }
    assert cfg.bindings == load(None).bindings  # the template keeps the default keys


def test_load_reads_typed_values_and_sources(tmp_path):
    path = write(
        tmp_path / "a.conf",
        (
            "[valt]\nserver = valt.local:8080\ntimeout_s = 2.5\nverify_tls = no\nroom "
            "= 12\n"
            "[source:door]\nkind = card_serial\nport = /dev/ttyUSB0\nbaud = 19200\n"
            "[source:hid]\nkind = CARD_HID\ndevice = usb:ffff:0035\n"
            "[source:con]\nkind = console\n"
        ),
    )
    cfg = load(path)
    assert cfg.path == path
    # Without a scheme, https:// is assumed (and said so: see test_url.py).
    assert (cfg["valt"]["server"], cfg["valt"]["timeout_s"]) == (
        "https://valt.local:8080",
        2.5,
    )
    assert (cfg["valt"]["verify_tls"], cfg["valt"]["room"]) == (False, 12)
    assert cfg.sources == {
        "door": {
            "kind": "card_serial",
            "port": "/dev/ttyUSB0",
            "baud": 19200,
            "framing": "auto",
        },
        "hid": {"kind": "card_hid", "device": "usb:ffff:0035", "grab": True},
        "con": {"kind": "console"},
    }


def test_load_missing_file_says_what_to_do(tmp_path):
    path = str(tmp_path / "nope.conf")
    assert errors_of(path) == [
        f"config file {path} does not exist; copy config/accessory.conf there"
    ]


def test_load_reports_every_error_at_once(tmp_path):
    path = write(
        tmp_path / "a.conf",
        (
            "[valt]\ntiemout_s = 5\nroom = abc\n"
            "[mapp]\nmode = pin\n"
            "[source:door]\nkind = keyboard\n"
        ),
    )
    with pytest.raises(ConfigError) as info:
        load(path)
    assert sorted(info.value.errors) == sorted(
        [
            "unknown key 'tiemout_s' in [valt]; did you mean 'timeout_s'?",
            "[valt] room = 'abc': must be a whole number between 1 and 1000000, or "
            "empty for none",
            "unknown section [mapp]; did you mean [mapping]?",
            "[source:door] kind = 'keyboard': must be one of keypad, card_hid, "
            "card_serial, console",
        ]
    )
    assert str(info.value).startswith("4 problems")
    assert check_file(path) == info.value.errors


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "[valt]\ntiemout_s = 5\n",
            "unknown key 'tiemout_s' in [valt]; did you mean 'timeout_s'?",
        ),
        ("[web]\nprot = 80\n", "unknown key 'prot' in [web]; did you mean 'port'?"),
        ("[web]\nzzz = 1\n", "unknown key 'zzz' in [web]"),
        ("[mapp]\n", "unknown section [mapp]; did you mean [mapping]?"),
        ("[Valt]\n", "unknown section [Valt]; did you mean [valt]?"),
        (
            "[sources:door]\nkind = console\n",
            "unknown section [sources:door]; did you mean [source:door]?",
        ),
        ("[DEFAULT]\na = b\n", "unknown section [DEFAULT]"),
        (
            "[source:d]\nkind = console\nknd = x\n",
            "unknown key 'knd' in [source:d]; did you mean 'kind'?",
        ),
        (
            "[source:d]\nkind = keypad\ndevcie = x\n",
            "unknown key 'devcie' in [source:d]; did you mean 'device'?",
        ),
        (
            "[source:d]\nkind = keypad\nport = /dev/ttyS0\n",
            "key 'port' is not used by kind 'keypad' in [source:d]",
        ),
        (
            "[source:d]\nkind = console\ngrab = true\n",
            "key 'grab' is not used by kind 'console' in [source:d]",
        ),
        (
            "[source:d]\ngrab = true\n",
            "[source:d] kind is missing; add a line `kind = <one of keypad, card_hid, "
            "card_serial, console>`",
        ),
        (
            "[source:d]\nkind = card_serial\n",
            "[source:d] port is missing; add a line `port = /dev/ttyUSB0`",
        ),
        (
            "[source:d]\nkind = card_hid\n",
            "[source:d] device: say which reader, e.g. usb:ffff:0035; run "
            "`ivs-accessory list-devices`",
        ),
        (
            "[source:my door]\nkind = console\n",
            "section [source:my door]: a source name may only use letters, digits, - "
            "and _, e.g. [source:door]",
        ),
        (
            "[lockout]\nbase_s = 60\nmax_s = 10\n",
            "[lockout] max_s = '10': must be at least base_s (60)",
        ),
        (
            "[bindings]\nKEY_KPPLSU = marker\n",
            "unknown key name 'KEY_KPPLSU' in [bindings]: must be an evdev key name "
            "such as KEY_KPPLUS; did you mean 'KEY_KPPLUS'?",
        ),
        (
            "[bindings]\nKEY_A.press = start\n",
            "unknown key 'KEY_A.press' in [bindings]; write KEY_NAME for a tap or "
            "KEY_NAME.hold for a hold",
        ),
        (
            "[bindings]\nKEY_A = go\n",
            "[bindings] KEY_A = 'go': must be one of toggle, start, stop, pause, "
            "resume, marker, lock, unlock, privacy_toggle",
        ),
        (
            "[valt]\nroom = 1\nroom = 2\n",
            "line 3: key 'room' in [valt] appears again (first on line 2); keep only "
            "one",
        ),
        (
            "[web]\n[web]\n",
            "line 2: section [web] appears again (first on line 1); keep only one",
        ),
        (
            "[valt]\njust words\n",
            "line 2: cannot read this line; write key = value, or start it with # to "
            "make it a comment",
        ),
        (
            "room = 1\n",
            "line 1: a key comes before any [section] header; put a header such as "
            "[valt] above it",
        ),
        (
            "[valt]\nserver = a\n  continued\n",
            "[valt] server = 'a\\ncontinued': must be a single line of text without "
            "control characters",
        ),
    ],
)
def test_load_error_messages(tmp_path, text, expected):
    path = write(tmp_path / "a.conf", text)
    errors = errors_of(path)
    assert len(errors) == 1
    assert errors[0].replace(f"{path} ", "") == expected


def test_error_in_a_drop_in_names_that_file(tmp_path):
    path = write(tmp_path / "a.conf", "")
    dropin = write(tmp_path / "a.conf.d" / "10-web.conf", "[web]\nport = http\n")
    assert errors_of(path) == [
        f"[web] port = 'http': must be a whole number between 0 and 65535 (in {dropin})"
    ]


def test_drop_ins_apply_in_name_order_after_the_file(tmp_path):
    path = write(
        tmp_path / "a.conf",
        "[web]\nport = 8000\naddress = 127.0.0.1\n[source:door]\nkind = keypad\n",
    )
    folder = tmp_path / "a.conf.d"
    write(folder / "20-b.conf", "[web]\nport = 8020\n")
    write(
        folder / "10-a.conf",
        "[web]\nport = 8010\nenabled = false\n[source:door]\ngrab = false\n",
    )
    write(folder / "30-ignored.txt", "[web]\nport = 9999\n")
    cfg = load(path)
    web = {key: cfg["web"][key] for key in ("enabled", "address", "port")}
    assert web == {"enabled": False, "address": "127.0.0.1", "port": 8020}
    assert cfg.sources["door"]["grab"] is False


@pytest.mark.parametrize(
    "file, dropin, expected",
    [
        (
            "",
            None,
            {
                ("KEY_KPPLUS", "tap"): "marker",
                ("KEY_KPASTERISK", "hold"): "privacy_toggle",
            },
        ),
        ("[bindings]\n", None, {}),
        ("[bindings]\nKEY_KPMINUS = stop\n", None, {("KEY_KPMINUS", "tap"): "stop"}),
        (
            "[bindings]\nKEY_KPMINUS = stop\n",
            "[bindings]\nKEY_KPMINUS.hold = lock\n",
            {("KEY_KPMINUS", "tap"): "stop", ("KEY_KPMINUS", "hold"): "lock"},
        ),
        (
            "",
            "[bindings]\nKEY_KPMINUS = stop\n",
            {
                ("KEY_KPPLUS", "tap"): "marker",
                ("KEY_KPASTERISK", "hold"): "privacy_toggle",
                ("KEY_KPMINUS", "tap"): "stop",
            },
        ),
        (
            "",
            "[bindings]\nKEY_KPPLUS =\n",
            {("KEY_KPASTERISK", "hold"): "privacy_toggle"},
        ),
    ],
)
def test_bindings_file_replaces_defaults_and_drop_ins_merge(
    tmp_path, file, dropin, expected
):
    path = write(tmp_path / "a.conf", file)
    if dropin is not None:
        write(tmp_path / "a.conf.d" / "50-keys.conf", dropin)
    assert load(path).bindings == expected


def test_secrets_never_appear_in_errors_or_redacted(tmp_path):
    path = write(
        tmp_path / "a.conf",
        (
            f"[valt]\npassword = {PASSWORD}\npasword = {PASSWORD}\nroom = x\n"
            f"{PASSWORD}\n"
            f"[vlat]\npassword = {PASSWORD}\n"
        ),
    )
    with pytest.raises(ConfigError) as info:
        load(path)
    assert len(info.value.errors) == 4
    assert PASSWORD not in str(info.value)
    assert all(PASSWORD not in error for error in info.value.errors)

    _, errors = validate_section("valt", {"password": PASSWORD + "\x00"})
    assert errors["password"] == (
        "[valt] password: must be a single line of text without control characters"
    )


def test_redacted_masks_secrets_and_shows_everything_else(tmp_path):
    path = write(
        tmp_path / "a.conf",
        f"[valt]\nusername = admin\npassword = {PASSWORD}\n"
        "[source:door]\nkind = keypad\n",
    )
    cfg = load(path)
    assert cfg["valt"]["password"] == PASSWORD
    shown = cfg.redacted()
    assert PASSWORD not in repr(shown) and PASSWORD not in repr(cfg)
    assert shown["valt"]["password"] == "********"
    assert shown["valt"]["username"] == "admin"
    assert shown["valt"]["room"] == ""
    assert shown["valt"]["timeout_s"] == "5"
    assert shown["bindings"] == {
        "KEY_KPPLUS": "marker",
        "KEY_KPASTERISK.hold": "privacy_toggle",
    }
    assert shown["source:door"] == {
        "kind": "keypad",
        "device": "",
        "grab": "true",
        "leds": "true",
    }


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
                "card_hid, card_serial, console",
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


# -- save ------------------------------------------------------------------------------

ORIGINAL = """\
# Door 3, first floor.
[valt]
# the lab server
server = valt.local
password = {password}
room = 3

[source:door]
kind = keypad  ; not a comment: no inline comments
"""


@pytest.fixture
def conf(tmp_path) -> str:
    return write(tmp_path / "accessory.conf", ORIGINAL.format(password=PASSWORD))


def test_save_round_trip_keeps_comments_and_other_sections(conf):
    with pytest.raises(ConfigError):
        load(conf)  # "keypad  ; not..." is not a kind: inline comments are off
    save(conf, {"source:door": {"kind": "keypad"}})
    save(conf, {"valt": {"room": "7", "timeout_s": "2"}, "web": {"port": "8080"}})
    cfg = load(conf)
    assert (cfg["valt"]["room"], cfg["valt"]["timeout_s"]) == (7, 2.0)
    assert cfg["valt"]["server"] == "https://valt.local"
    assert cfg["valt"]["password"] == PASSWORD
    assert cfg["web"]["port"] == 8080
    assert FilePath(conf).read_text() == (
        "# Door 3, first floor.\n[valt]\n# the lab server\nserver = valt.local\n"
        f"password = {PASSWORD}\nroom = 7\ntimeout_s = 2\n\n"
        "[source:door]\nkind = keypad\n\n[web]\nport = 8080\n"
    )


def test_save_deletes_keys_and_sections(conf):
    save(
        conf,
        {
            "source:door": None,
            "valt": {"room": None},
            "source:card": {"kind": "card_serial", "port": "/dev/ttyUSB0"},
        },
    )
    cfg = load(conf)
    assert cfg["valt"]["room"] is None
    assert cfg.sources == {
        "card": {
            "kind": "card_serial",
            "port": "/dev/ttyUSB0",
            "baud": 9600,
            "framing": "auto",
        }
    }
    assert "door" not in FilePath(conf).read_text()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"valt": {"timeout_s": "abc"}}, "[valt] timeout_s = 'abc'"),
        ({"valt": {"tiemout_s": "5"}}, "did you mean 'timeout_s'?"),
        ({"mapp": {"mode": "pin"}}, "unknown section [mapp]"),
        (
            {"valt": {"server": "x\n[web]\nport = 1"}},
            "[valt] server: must be a single line",
        ),
        ({"valt": {"password": "a\rb"}}, "[valt] password: must be a single line"),
        ({"valt": {"room = 1\n#": "1"}}, "cannot save key"),
        ({"web]\n[valt": {"room": "1"}}, "cannot save section"),
        ({"source:card": {"kind": "card_hid"}}, "say which reader"),
        ({"lockout": {"max_s": "1"}}, "must be at least base_s"),
    ],
)
def test_save_rejects_invalid_results_and_leaves_the_file_byte_identical(
    conf, changes, message
):
    before = FilePath(conf).read_bytes()
    with pytest.raises(ConfigError) as info:
        save(conf, {"source:door": {"kind": "keypad"}, **changes})
    assert any(message in error for error in info.value.errors)
    assert PASSWORD not in str(info.value)
    assert FilePath(conf).read_bytes() == before
    assert os.listdir(FilePath(conf).parent) == ["accessory.conf"]


def test_save_makes_the_file_0600_even_if_it_was_0644(tmp_path):
    path = write(tmp_path / "a.conf", "[valt]\nroom = 1\n", mode=0o644)
    save(path, {"valt": {"password": PASSWORD}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load(path)["valt"]["password"] == PASSWORD


def test_save_creates_a_new_file_0600(tmp_path):
    path = tmp_path / "new.conf"
    save(path, {"valt": {"server": "valt.local"}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text() == "[valt]\nserver = valt.local\n"


def test_save_writes_a_temp_file_in_the_same_directory_then_replaces(conf):
    seen = []

    def replace(source: str, target: str) -> None:
        seen.append(
            (
                os.path.dirname(source),
                stat.S_IMODE(os.stat(source).st_mode),
                FilePath(source).read_text(),
            )
        )
        os.replace(source, target)

    save(conf, {"source:door": {"kind": "console"}}, replace=replace)
    assert seen == [(os.path.dirname(conf), 0o600, FilePath(conf).read_text())]
    assert os.listdir(os.path.dirname(conf)) == ["accessory.conf"]


def test_save_failure_leaves_no_temp_file_and_the_old_file(conf):
    before = FilePath(conf).read_bytes()

    def replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        save(conf, {"source:door": {"kind": "console"}}, replace=replace)
    assert FilePath(conf).read_bytes() == before
    assert os.listdir(os.path.dirname(conf)) == ["accessory.conf"]


def test_save_through_a_symlink_keeps_the_link(tmp_path):
    real = write(tmp_path / "real.conf", "[valt]\nroom = 1\n")
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    save(link, {"valt": {"room": "2"}})
    assert link.is_symlink()
    assert load(real)["valt"]["room"] == 2


def test_save_new_bindings_section_starts_from_the_defaults(tmp_path):
    path = write(tmp_path / "a.conf", "[valt]\n")
    save(path, {"bindings": {"KEY_KPMINUS": "stop", "KEY_KPPLUS": None}})
    assert load(path).bindings == {
        ("KEY_KPASTERISK", "hold"): "privacy_toggle",
        ("KEY_KPMINUS", "tap"): "stop",
    }
    save(path, {"bindings": {"KEY_KPASTERISK.hold": None}})
    assert load(path).bindings == {("KEY_KPMINUS", "tap"): "stop"}


def test_save_validates_together_with_drop_ins(tmp_path):
    path = write(tmp_path / "a.conf", "[lockout]\nbase_s = 10\n")
    write(tmp_path / "a.conf.d" / "10.conf", "[lockout]\nmax_s = 20\n")
    with pytest.raises(ConfigError, match="must be at least base_s"):
        save(path, {"lockout": {"base_s": "30"}})


def test_config_is_a_mapping_of_sections():
    cfg = load(None)
    assert isinstance(cfg, Config)
    assert len(cfg) == len(SCHEMA) - 1
    assert dict(cfg)["web"]["port"] == 80


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root to run the check as an unprivileged user",
)
def test_config_in_a_folder_the_user_cannot_enter_is_an_error_not_a_crash(
    public_tmp_path, nobody_python
):
    import subprocess

    # Only this folder is closed to nobody: its parent is open to everyone, and the
    # Python and package that nobody runs are copies outside the checkout.
    folder = public_tmp_path / "private"
    folder.mkdir(mode=0o700)
    (folder / "accessory.conf").write_text("[valt]\n")
    result = subprocess.run(
        [
            *AS_NOBODY,
            str(nobody_python),
            "-m",
            "ivs_accessory",
            "config",
            "check",
            str(folder / "accessory.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"cannot read {folder / 'accessory.conf'}: Permission denied" in result.stderr
    )
    assert "does not exist" not in result.stderr


def test_save_removes_temp_files_left_by_a_killed_save_but_not_fresh_ones(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text("[valt]\nroom = 1\n")
    old_leftover = tmp_path / ".accessory.conf.abc123.tmp"
    fresh = tmp_path / ".accessory.conf.def456.tmp"  # a save in progress elsewhere
    other = tmp_path / ".other.conf.abc123.tmp"
    for leftover in (old_leftover, fresh, other):
        leftover.write_text("[valt]\npassword = secret\n")
    two_minutes_ago = os.path.getmtime(fresh) - 120
    os.utime(old_leftover, (two_minutes_ago, two_minutes_ago))
    os.utime(other, (two_minutes_ago, two_minutes_ago))
    save(path, {"valt": {"room": "2"}})
    assert load(str(path))["valt"]["room"] == 2
    assert not old_leftover.exists()
    assert fresh.exists() and other.exists()
