"""[door] (the door page and its pad) and the automatic status refresh interval."""

from __future__ import annotations

import ipaddress

import pytest

from ivs_accessory.config import IpNetworks, load, validate_section
from ivs_accessory.config.bindings import PresetNames

from .helpers import errors_of, write


def test_door_defaults_are_off_and_the_box_itself():
    door = load(None)["door"]
    assert door == {
        "keypad": False,
        "allowed_clients": (
            ipaddress.ip_network("127.0.0.1"),
            ipaddress.ip_network("::1"),
        ),
        "screen": False,
        "presets": (),
    }


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("127.0.0.1 ::1", "127.0.0.1 ::1"),
        ("192.168.10.0/24, 10.0.0.7", "192.168.10.0/24 10.0.0.7"),
        ("192.168.10.7/24", "192.168.10.0/24"),  # the network it names
        ("fe80::/64   ::ffff:0:0/96", "fe80::/64 ::ffff:0:0/96"),
        ("", ""),
    ],
)
def test_allowed_clients_are_addresses_or_networks(text, written):
    field = IpNetworks()
    value = field.deserialize(text)
    assert all(
        isinstance(n, ipaddress.IPv4Network | ipaddress.IPv6Network) for n in value
    )
    assert field.serialize(value) == written
    assert field.deserialize(field.serialize(value)) == value


@pytest.mark.parametrize(
    "bad", ["localhost", "10.0.0.300", "10.0.0.0/33", "*", "1.2.3"]
)
def test_a_bad_client_is_named_with_the_fix(bad):
    _, errors = validate_section("door", {"allowed_clients": f"127.0.0.1 {bad}"})
    message = errors["allowed_clients"]
    assert f"{bad!r} is not an IP address or network" in message
    assert "e.g. 127.0.0.1 ::1 192.168.10.0/24" in message


def test_a_bad_door_file_names_section_and_key(tmp_path):
    path = write(
        tmp_path / "accessory.conf",
        "[door]\nkeypad = maybe\nallowed_clients = box\n",
    )
    errors = errors_of(path)
    assert any(e.startswith("[door] keypad = 'maybe'") for e in errors)
    assert any(e.startswith("[door] allowed_clients") for e in errors)


def test_status_refresh_is_automatic_unless_set(tmp_path):
    assert load(None)["mapping"]["status_refresh_s"] is None
    path = write(tmp_path / "accessory.conf", "[mapping]\nstatus_refresh_s = 30\n")
    assert load(path)["mapping"]["status_refresh_s"] == 30
    _, errors = validate_section("mapping", {"status_refresh_s": "5"})
    assert "status_refresh_s" in errors


@pytest.mark.parametrize(
    ("text", "names", "written"),
    [
        ("Wide", ("Wide",), "Wide"),
        ("Wide, Board  Table", ("Wide", "Board", "Table"), "Wide Board Table"),
        ("preset:Wide,Wide", ("Wide",), "Wide"),  # the action's form; no repeats
        ("", (), ""),
    ],
)
def test_presets_are_names_separated_by_spaces_or_commas(text, names, written):
    field = PresetNames()
    assert field.deserialize(text) == names
    assert field.serialize(names) == written
    assert field.deserialize(written) == names


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("Wide <b>", "may not contain '<' '>'"),
        ("Wide x" + "y" * 31, "at most 31 characters"),
        ('Say"hi"', "may not contain '\"'"),
    ],
)
def test_a_bad_preset_name_is_named_with_the_fix(bad, says):
    _, errors = validate_section("door", {"presets": bad})
    message = errors["presets"]
    assert says in message
    assert "separated by spaces or commas, e.g. Wide Board" in message


def test_presets_in_a_file(tmp_path):
    path = write(tmp_path / "accessory.conf", "[door]\npresets = Wide, Board\n")
    assert load(path)["door"]["presets"] == ("Wide", "Board")
    bad = write(tmp_path / "bad.conf", "[door]\npresets = Wide:1\n")
    assert any(e.startswith("[door] presets") for e in errors_of(bad))
