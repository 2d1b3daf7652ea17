"""Loading the config: defaults, the file, drop-ins, every error at once, secrets."""

from __future__ import annotations

import configparser
import shutil

import pytest

from ivs_accessory.config import (
    DEFAULTS_PATH,
    SCHEMA,
    check_file,
    load,
    save,
    validate_section,
)
from ivs_accessory.errors import ConfigError

from .helpers import PASSWORD, TEMPLATE, errors_of, write

# -- loading ---------------------------------------------------------------------------


def test_load_defaults_only():
    cfg = load(None)
    assert cfg.path is None
    assert set(cfg) == {
        "valt",
        "mapping",
        "privacy",
        "feedback",
        "lamp",
        "lockout",
        "logging",
        "web",
        "door",
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
            "card_serial, card_pcsc, console",
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
            "card_serial, card_pcsc, console>`",
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
            "resume, marker, lock, unlock, privacy_toggle, privacy_on, privacy_off, "
            "or preset:NAME",
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
