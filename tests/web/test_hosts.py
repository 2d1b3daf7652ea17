"""Host header names, local addresses, loopback/link-local peers, throttle keys."""

from __future__ import annotations

import socket

import pytest

from ivs_accessory.web.hosts import (
    host_allowed,
    host_name,
    is_local_peer,
    is_own_address,
    network_key,
    own_names,
)


@pytest.mark.parametrize(
    "header, name",
    [
        ("Box-7.local:8080", "box-7.local"),
        ("[::1]:80", "::1"),
        ("192.0.2.5", "192.0.2.5"),
        ("example.org.", "example.org"),
        ("", None),
        (None, None),
        ("[::1", None),
        ("a b", None),
        ("host:notaport", None),
        ("user@host", None),
        ("host/path", None),
        ("host\r\nX: y", None),
    ],
)
def test_host_name(header, name):
    assert host_name(header) == name


def test_own_names_include_the_hostname_and_mdns():
    names = own_names(lambda: "Door-7.rooms.example")
    assert {"door-7.rooms.example", "door-7", "door-7.local", "localhost"} <= names


def test_own_addresses_are_those_this_machine_can_bind():
    assert is_own_address("127.0.0.1") and is_own_address("127.8.9.10")
    assert not is_own_address("192.0.2.1")  # TEST-NET-1: nobody's
    assert not is_own_address("0.0.0.0") and not is_own_address("::")
    assert not is_own_address("224.0.0.1") and not is_own_address("a.example")


def test_host_allowed_with_extra_names_and_the_connections_address():
    assert host_allowed("localhost:8080")
    assert host_allowed(socket.gethostname())
    assert not host_allowed("evil.example")
    assert host_allowed("door.example.org", "other.example, door.example.org")
    assert host_allowed("192.0.2.80", also=["192.0.2.80"])
    assert host_allowed("192.0.2.80", also=["::ffff:192.0.2.80"])  # dual-stack peer
    assert host_allowed("[0:0:0:0:0:0:0:1]")
    assert not host_allowed("0.0.0.0", also=["0.0.0.0"])  # [web] address
    assert not host_allowed("[::]:80", also=["::"])


@pytest.mark.parametrize(
    "address, local",
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("169.254.3.4", True),
        ("fe80::1", True),
        ("192.168.1.2", False),
        ("2001:db8::1", False),
        ("unknown", False),
        ("", False),
    ],
)
def test_is_local_peer(address, local):
    assert is_local_peer(address) is local


def test_network_key_groups_ipv6_by_64():
    assert network_key("2001:db8:1:2::5") == network_key("2001:db8:1:2:ff::9")
    assert network_key("2001:db8:1:2::5") != network_key("2001:db8:1:3::5")
    assert network_key("10.0.0.1") != network_key("10.0.0.2")
    assert network_key("::ffff:10.0.0.1") == "10.0.0.1"
    assert network_key("unknown") == "unknown"
