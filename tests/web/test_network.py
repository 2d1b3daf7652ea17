"""The network (netplan) and time files the page writes, and reading them back."""

from __future__ import annotations

import pytest

from ivs_accessory.system.timeconfig import TimeSettings, parse_time_settings
from ivs_accessory.web.network import (
    NETWORK_FORM,
    TIME_FORM,
    netplan_yaml,
    read_netplan,
    read_time_conf,
    time_conf,
)

DHCP_YAML = """\
# Written by the ivs-accessory configuration page; installed by its helper.
network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      dhcp4: true
"""
STATIC_YAML = """\
# Written by the ivs-accessory configuration page; installed by its helper.
network:
  version: 2
  renderer: networkd
  ethernets:
    end0:
      addresses:
        - 10.1.2.3/16
      routes:
        - to: default
          via: 10.1.0.1
      nameservers:
        addresses:
          - 10.1.0.53
          - 2001:db8::53
"""


def values(**raw):
    checked, errors = NETWORK_FORM.validate("network", raw)
    assert errors == {}
    return checked


def test_netplan_for_dhcp_and_static():
    assert netplan_yaml("eth0", values(mode="dhcp")) == DHCP_YAML
    static = values(
        mode="static",
        address="10.1.2.3/16",
        gateway="10.1.0.1",
        dns="10.1.0.53, 2001:db8::53",
    )
    assert netplan_yaml("end0", static) == STATIC_YAML


def test_netplan_without_gateway_or_dns_has_only_the_address():
    text = netplan_yaml("eth0", values(mode="static", address="192.0.2.7/24"))
    assert "routes" not in text and "nameservers" not in text
    assert text.endswith("      addresses:\n        - 192.0.2.7/24\n")


@pytest.mark.parametrize(
    "text, shown",
    [
        (None, {"mode": "dhcp", "address": "", "gateway": "", "dns": ""}),
        (DHCP_YAML, {"mode": "dhcp", "address": "", "gateway": "", "dns": ""}),
        (
            STATIC_YAML,
            {
                "mode": "static",
                "address": "10.1.2.3/16",
                "gateway": "10.1.0.1",
                "dns": "10.1.0.53 2001:db8::53",
            },
        ),
        (
            "network: {version: 2, renderer: networkd, ethernets: {eth0: {addresses: "
            "[192.0.2.5/24], routes: [{to: default, via: 192.0.2.1}], nameservers: "
            "{addresses: [192.0.2.53]}}}}",
            {
                "mode": "static",
                "address": "192.0.2.5/24",
                "gateway": "192.0.2.1",
                "dns": "192.0.2.53",
            },
        ),
        (
            "network: {version: 2, ethernets: {eth0: {dhcp4: true}}}",
            {"mode": "dhcp", "address": "", "gateway": "", "dns": ""},
        ),
    ],
)
def test_read_netplan_shows_what_the_file_says(text, shown):
    assert read_netplan(text) == shown


def test_time_conf_round_trip():
    checked, errors = TIME_FORM.validate(
        "time", {"timezone": "America/New_York", "ntp_servers": "a.example b.example"}
    )
    assert errors == {}
    text = time_conf(checked)
    assert "\ntimezone = America/New_York\n" in text
    assert "\nntp_servers = a.example b.example\n" in text
    # the root helper reads what the page writes
    assert parse_time_settings(text) == TimeSettings(
        "America/New_York", ("a.example", "b.example")
    )
    assert read_time_conf(text) == {
        "timezone": "America/New_York",
        "ntp_servers": "a.example b.example",
    }
    assert read_time_conf("junk") == {"timezone": "Etc/UTC", "ntp_servers": ""}
