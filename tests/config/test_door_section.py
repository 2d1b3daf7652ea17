"""[door] (the door page and its pad) and the automatic status refresh interval."""

from __future__ import annotations

import ipaddress

import pytest

from ivs_accessory.config import IpNetworks, load, validate_section

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
