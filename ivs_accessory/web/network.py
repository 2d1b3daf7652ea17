"""Network (netplan) and time settings: form fields, files the helper installs."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import logging
import os
import re
import subprocess
import zoneinfo
from collections.abc import Callable
from typing import Any

from ivs_accessory.config import Choice, ConfigValue
from ivs_accessory.config.schema import Section
from ivs_accessory.errors import ConfigError
from ivs_accessory.system.atomic import write_private
from ivs_accessory.system.commands import SystemControl
from ivs_accessory.system.netconfig import NetworkSettings, render_netplan
from ivs_accessory.system.timeconfig import (
    TimeSettings,
    format_time_settings,
    parse_time_settings,
)
from ivs_accessory.web.files import read_text

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

    Written by the helper's own :func:`~ivs_accessory.system.netconfig.render_netplan`,
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


# -- what the box uses now (read without root) -----------------------------------------


# A missing tool, a failing or slow command, output of another shape.
_READ_ERRORS = (OSError, ValueError, LookupError, TypeError, subprocess.SubprocessError)


def _run_quietly(argv: list[str]) -> str:
    """A read-only command's output (``ip``, ``resolvectl``); raises when it fails."""
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=3, check=True
    ).stdout


def read_current_network(
    interface: str,
    *,
    run: Callable[[list[str]], str] = _run_quietly,
    resolv_conf: str = "/etc/resolv.conf",
) -> dict[str, Any]:
    """The addresses, default gateway and DNS servers ``interface`` uses now.

    Args:
        interface: e.g. ``eth0``.
        run: runs a command (an argument list) and returns its output.
        resolv_conf: the resolver file; when it names only systemd-resolved's stub,
            ``resolvectl dns <interface>`` says which servers it uses.

    Returns:
        ``{"addresses": ["192.0.2.2/24"], "gateway": "192.0.2.1", "dns": [...],
        "problem": ""}``; ``problem`` says what could not be read.
    """
    found: dict[str, Any] = {"addresses": [], "gateway": "", "dns": [], "problem": ""}
    problems = []
    for key, what, read in (
        ("addresses", "address", lambda: _addresses(run, interface)),
        ("gateway", "gateway", lambda: _gateway(run, interface)),
        ("dns", "DNS servers", lambda: _dns(run, interface, resolv_conf)),
    ):
        try:
            found[key] = read()
        except _READ_ERRORS as exc:
            problems.append(f"cannot read the {what}: {_why(exc)}")
    found["problem"] = "; ".join(problems)
    return found


def _why(exc: Exception) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        return (exc.stderr or "").strip()[:200] or f"exit code {exc.returncode}"
    return str(exc)[:200]


def _addresses(run: Callable[[list[str]], str], interface: str) -> list[str]:
    links = json.loads(run(["ip", "-j", "addr", "show", "dev", interface]) or "[]")
    return [
        f"{info['local']}/{info['prefixlen']}"
        for link in links
        for info in link.get("addr_info", [])
        if info.get("scope") != "link"  # fe80:: is on every link; not an address to use
    ]


def _gateway(run: Callable[[list[str]], str], interface: str) -> str:
    for family in ("-4", "-6"):
        routes = json.loads(
            run(["ip", "-j", family, "route", "show", "default"]) or "[]"
        )
        gateways: list[str] = [
            r["gateway"] for r in routes if r.get("dev") == interface
        ]
        if gateways:
            return gateways[0]
    return ""


def _dns(
    run: Callable[[list[str]], str], interface: str, resolv_conf: str
) -> list[str]:
    servers = []
    for line in (read_text(resolv_conf, 100_000) or "").splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            servers.append(words[1])
    if servers and all(s.startswith("127.0.0.53") for s in servers):
        # systemd-resolved's stub: ask it which servers it really uses on this link.
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            said = run(["resolvectl", "dns", interface]).partition(":")[2].split()
            servers = said or servers
    return servers


def local_zone(localtime: str = "/etc/localtime") -> str:
    """The box's time zone name (from the ``/etc/localtime`` link), or ""."""
    with contextlib.suppress(OSError):
        target = os.readlink(localtime)
        if "zoneinfo/" in target:
            return target.split("zoneinfo/", 1)[1]
    with contextlib.suppress(OSError, UnicodeDecodeError):
        return (read_text("/etc/timezone", 200) or "").strip()
    return ""


def box_clock(
    now: datetime.datetime | None = None, localtime: str = "/etc/localtime"
) -> dict[str, Any]:
    """The box's clock for the Time page: ``{"time", "abbreviation", "zone",
    "epoch"}``."""
    moment = (now or datetime.datetime.now()).astimezone()
    return {
        "time": moment.strftime("%Y-%m-%d %H:%M:%S"),
        "abbreviation": moment.tzname() or "",
        "zone": local_zone(localtime),
        "epoch": moment.timestamp(),
    }
