"""Network (netplan) and time settings: form fields, files the helper installs."""

from __future__ import annotations

import ipaddress
import logging
import re
import zoneinfo
from typing import Any

from ivs_accessory.config import Choice, ConfigValue
from ivs_accessory.config.schema import Section
from ivs_accessory.errors import ConfigError
from ivs_accessory.netconfig import NetworkSettings, render_netplan
from ivs_accessory.system import SystemControl
from ivs_accessory.timeconfig import (
    TimeSettings,
    format_time_settings,
    parse_time_settings,
)
from ivs_accessory.web.files import write_private

logger = logging.getLogger(__name__)

_HOSTNAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?"
)
_TIMEZONE = re.compile(r"[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,2}")
_FILE_HEADER = (
    "# Written by the ivs-accessory configuration page; installed by its helper.\n"
)


def _words(text: str) -> list[str]:
    return [w for w in re.split(r"[\s,;]+", text.strip()) if w]


class IpInterface(ConfigValue):
    """An address with its prefix length, e.g. ``192.168.1.50/24``."""

    def deserialize(self, text: str) -> str:
        value = text.strip()
        if not value:
            return ""
        try:
            interface = ipaddress.ip_interface(value)
        except ValueError:
            raise ValueError(
                "must be an address with its prefix length, e.g. 192.168.1.50/24"
            ) from None
        network = interface.network
        edges = (network.network_address, network.broadcast_address)
        if "/" not in value or (
            network.prefixlen < interface.max_prefixlen - 1 and interface.ip in edges
        ):
            raise ValueError(
                "must be a host address with its prefix length, e.g. 192.168.1.50/24"
            )
        return str(interface)


class IpAddress(ConfigValue):
    """One IPv4 or IPv6 address, or empty."""

    def deserialize(self, text: str) -> str:
        value = text.strip()
        if not value:
            return ""
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError("must be an address such as 192.168.1.1") from None


class HostList(ConfigValue):
    """Host names or addresses, separated by spaces or commas (DNS: addresses_only)."""

    def __init__(
        self, addresses_only: bool = False, *, default: str | None = None
    ) -> None:
        super().__init__(default=default)
        self.addresses_only = addresses_only

    def deserialize(self, text: str) -> list[str]:
        items = _words(text)
        if len(items) > 8:
            raise ValueError("at most 8, separated by spaces")
        for item in items:
            if not self._valid(item):
                what = "an address" if self.addresses_only else "a host name or address"
                raise ValueError(f"{item[:60]!r} is not {what}")
        return items

    def _valid(self, item: str) -> bool:
        try:
            ipaddress.ip_address(item)
            return True
        except ValueError:
            return not self.addresses_only and bool(_HOSTNAME.fullmatch(item))

    def serialize(self, value: Any) -> str:
        return " ".join(value or [])


class Timezone(ConfigValue):
    """An IANA time zone name such as ``Europe/Berlin`` known to this system."""

    def deserialize(self, text: str) -> str:
        value = text.strip()
        if not _TIMEZONE.fullmatch(value) or value not in timezones():
            raise ValueError("must be a time zone such as Europe/Berlin or Etc/UTC")
        return value


def timezones() -> frozenset[str]:
    """The zone names this system's tz database has (Etc/UTC at least)."""
    return frozenset(zoneinfo.available_timezones()) | {"Etc/UTC", "UTC"}


def _static_needs_address(values: dict[str, Any], label: str) -> dict[str, str]:
    if values.get("mode") != "static":
        return {}
    address, gateway = values.get("address"), values.get("gateway")
    if address is None or (gateway is None and "gateway" not in values):
        return {}  # the field itself is wrong; its own error says why
    if not address:
        return {
            "address": f"[{label}] address: a static address needs one, e.g. "
            "192.168.1.50/24"
        }
    if (
        gateway
        and ipaddress.ip_address(gateway) not in ipaddress.ip_interface(address).network
    ):
        return {
            "gateway": f"[{label}] gateway = {gateway!r}: must be in the address's "
            f"network {ipaddress.ip_interface(address).network}"
        }
    return {}


NETWORK_FORM = Section(
    {
        "mode": Choice(("dhcp", "static"), default="dhcp"),
        "address": IpInterface(default=""),
        "gateway": IpAddress(default=""),
        "dns": HostList(addresses_only=True, default=""),
    },
    checks=[_static_needs_address],
)
"""The network page's fields (validated like a config section)."""

TIME_FORM = Section(
    {
        "timezone": Timezone(default="Etc/UTC"),
        "ntp_servers": HostList(default=""),
    }
)
"""The time page's fields."""


# -- the files -------------------------------------------------------------------------


def netplan_yaml(interface: str, settings: dict[str, Any]) -> str:
    """The netplan file for validated NETWORK_FORM values.

    Written by the helper's own :func:`~ivs_accessory.netconfig.render_netplan`,
    so the page stages exactly the shape the helper accepts.
    """
    static = settings["mode"] == "static"
    return render_netplan(
        NetworkSettings(
            interface,
            settings["mode"],
            settings["address"] if static else "",
            (settings.get("gateway") or "") if static else "",
            tuple(settings.get("dns") or ()) if static else (),
        ),
        _FILE_HEADER.rstrip("\n"),
    )


def read_netplan(text: str | None) -> dict[str, str]:
    """The form text of a netplan file of the shape :func:`netplan_yaml` writes.

    Only for showing the current settings: block or flow style both work, anything
    unrecognised shows as DHCP.
    """
    shown = {"mode": "dhcp", "address": "", "gateway": "", "dns": ""}
    if not text or re.search(r"dhcp4:\s*(true|yes)\b", text):
        return shown
    before, _, after = text.partition("nameservers")
    address = re.search(r"([0-9A-Fa-f.:]+/[0-9]{1,3})", before)
    if address is None:
        return shown
    gateway = re.search(r"via:\s*([0-9A-Fa-f.:]+)", before)
    dns = re.findall(
        r"(?<![0-9A-Fa-f.:/])([0-9]+(?:\.[0-9]+){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:]+)"
        r"(?![0-9A-Fa-f.:/])",
        after,
    )
    return {
        "mode": "static",
        "address": address.group(1),
        "gateway": gateway.group(1) if gateway else "",
        "dns": " ".join(dns),
    }


def time_conf(settings: dict[str, Any]) -> str:
    """The time file for validated TIME_FORM values, in the helper's own format."""
    return format_time_settings(
        TimeSettings(settings["timezone"], tuple(settings["ntp_servers"]))
    )


def read_time_conf(text: str | None) -> dict[str, str]:
    """The form text of a time file; Etc/UTC and no servers when missing or bad."""
    try:
        settings = parse_time_settings(text or "")
    except ConfigError:
        settings = TimeSettings()
    return {
        "timezone": settings.timezone,
        "ntp_servers": " ".join(settings.ntp_servers),
    }


def apply_time(system: SystemControl, path: str, settings: dict[str, Any]) -> None:
    """Write the time file and run ``apply_time_command``.

    Raises:
        OSError: the file cannot be written. SystemActionError: the command failed.
    """
    write_private(path, time_conf(settings))
    system.apply_time()
