"""As root: rebuild the staged netplan settings as the live file; keep the old one."""

from __future__ import annotations

import contextlib
import ipaddress
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_copy, atomic_write
from ivs_accessory.system.commands import CommandRunner, read_untrusted

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 65_536
MAX_DNS, MAX_SEARCH = 8, 6
_INTERFACE = re.compile(r"[A-Za-z0-9_.-]{1,15}")
_DOMAIN = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*"
)
_VALUE = r"([0-9A-Za-z.:/_-]+)"  # a plain YAML scalar: no quotes, flow, comments
HEADER = "# Written by the ivs-accessory configuration page; installed by its helper."
ALLOWED = (
    "the helper installs only DHCP or a static address, gateway, DNS servers and "
    "search domains for one wired interface, in the form the page writes"
)


@dataclass(frozen=True)
class NetworkSettings:
    """Everything apply-network may configure, for one wired interface.

    Attributes:
        interface: e.g. ``eth0``.
        mode: ``dhcp`` or ``static``.
        address: ``address/prefix`` (static only).
        gateway: the default route's next hop (static only; may be empty).
        dns, search: DNS servers and search domains.
    """

    interface: str
    mode: str
    address: str = ""
    gateway: str = ""
    dns: tuple[str, ...] = ()
    search: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        """Every reason these settings cannot be installed; [] when they can."""
        errors = []
        if not _INTERFACE.fullmatch(self.interface):
            errors.append(f"interface {self.interface!r} is not an interface name")
        if self.mode == "static":
            errors += _static_problems(self.address, self.gateway)
        elif self.mode != "dhcp" or self.address or self.gateway:
            errors.append("mode must be dhcp (nothing else) or static")
        if len(self.dns) > MAX_DNS or len(self.search) > MAX_SEARCH:
            errors.append(f"at most {MAX_DNS} DNS servers and {MAX_SEARCH} domains")
        errors += [
            f"DNS server {s!r} is not an address" for s in self.dns if not _ip(s)
        ]
        errors += [
            f"search domain {d!r} is not a domain name"
            for d in self.search
            if not _DOMAIN.fullmatch(d)
        ]
        return errors

    def canonical(self) -> NetworkSettings:
        """The same settings with addresses written the one standard way."""
        return NetworkSettings(
            self.interface,
            self.mode,
            str(ipaddress.ip_interface(self.address)) if self.address else "",
            str(ipaddress.ip_address(self.gateway)) if self.gateway else "",
            tuple(str(ipaddress.ip_address(s)) for s in self.dns),
            tuple(d.lower() for d in self.search),
        )


def _ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return "%" not in text


def _static_problems(address: str, gateway: str) -> list[str]:
    try:
        interface = ipaddress.ip_interface(address)
    except ValueError:
        return [f"address {address!r} is not an address with its prefix length"]
    network = interface.network
    if (
        "/" not in address
        or "%" in address
        or (
            network.prefixlen < interface.max_prefixlen - 1
            and interface.ip in (network.network_address, network.broadcast_address)
        )
    ):
        return [f"address {address!r} is not a host address with its prefix length"]
    if gateway and (not _ip(gateway) or ipaddress.ip_address(gateway) not in network):
        return [f"gateway {gateway!r} is not an address in {network}"]
    return []


def render_netplan(settings: NetworkSettings, header: str = HEADER) -> str:
    """The netplan file for ``settings``: the one shape :func:`parse_netplan` reads."""
    lines = [header, "network:", "  version: 2", "  renderer: networkd"]
    lines += ["  ethernets:", f"    {settings.interface}:"]
    if settings.mode == "dhcp":
        lines.append("      dhcp4: true")
    else:
        lines += ["      addresses:", f"        - {settings.address}"]
        if settings.gateway:
            lines += ["      routes:", "        - to: default"]
            lines.append(f"          via: {settings.gateway}")
    if settings.dns or settings.search:
        lines.append("      nameservers:")
        if settings.dns:
            lines += ["        addresses:", *(f"          - {s}" for s in settings.dns)]
        if settings.search:
            lines += ["        search:", *(f"          - {d}" for d in settings.search)]
    return "\n".join(lines) + "\n"


class _Lines:
    """A file's lines less comments and blanks, taken one expected line at a time."""

    def __init__(self, text: str, origin: str) -> None:
        self.origin = origin
        self.lines = [
            (number, line.rstrip())
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip() and not line.lstrip().startswith("#")
        ]
        self.at = 0

    def take(self, pattern: str) -> str | None:
        """The next line's group (or "") if it matches ``pattern``; else None."""
        if self.at < len(self.lines):
            found = re.fullmatch(pattern, self.lines[self.at][1])
            if found:
                self.at += 1
                return found.group(1) if found.groups() else ""
        return None

    def need(self, pattern: str) -> str:
        value = self.take(pattern)
        if value is None:
            raise self.refused()
        return value

    def items(self, pattern: str) -> tuple[str, ...]:
        found = []
        while (value := self.take(pattern)) is not None:
            found.append(value)
        return tuple(found)

    def refused(self) -> SystemActionError:
        if self.at >= len(self.lines):
            return SystemActionError(f"{self.origin} ends too early; {ALLOWED}")
        number, line = self.lines[self.at]
        return SystemActionError(
            f"{self.origin} line {number}: {line.strip()[:80]!r} is not allowed; "
            f"{ALLOWED}"
        )


def parse_netplan(text: str, origin: str) -> NetworkSettings:
    """Read a netplan file of exactly the shape :func:`render_netplan` writes.

    Comments and blank lines are skipped; any other line that is not where that
    shape has it (another key, another interface, flow style, quotes) is refused.

    Raises:
        SystemActionError: naming the first line that is not allowed, or the values
            that are not valid.
    """
    lines = _Lines(text, origin)
    if not lines.lines:
        raise SystemActionError(f"{origin} is empty; {ALLOWED}")
    lines.need(r"network:")
    lines.need(r"  version: 2")
    lines.take(r"  renderer: networkd")
    lines.need(r"  ethernets:")
    interface = lines.need(r"    ([A-Za-z0-9_.-]{1,15}):")
    address = gateway = ""
    mode = "dhcp" if lines.take(r"      dhcp4: true") is not None else "static"
    if mode == "static":
        lines.need(r"      addresses:")
        address = lines.need(rf"        - {_VALUE}")
        if lines.take(r"      routes:") is not None:
            lines.need(r"        - to: default")
            gateway = lines.need(rf"          via: {_VALUE}")
    dns: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    if lines.take(r"      nameservers:") is not None:
        if lines.take(r"        addresses:") is not None:
            dns = lines.items(rf"          - {_VALUE}")
        if lines.take(r"        search:") is not None:
            search = lines.items(rf"          - {_VALUE}")
    if lines.at < len(lines.lines):
        raise lines.refused()
    settings = NetworkSettings(interface, mode, address, gateway, dns, search)
    problems = settings.problems()
    if problems:
        raise SystemActionError(f"{origin}: " + "; ".join(problems))
    return settings.canonical()


@dataclass(frozen=True)
class NetworkFiles:
    """The staged, live and previous netplan files and the apply command.

    Attributes:
        staged: the file the page writes (daemon-owned).
        live: the file netplan reads, e.g. /etc/netplan/90-ivs-accessory.yaml.
        apply_command: e.g. ``netplan apply``.
        uid, gid: owner of the staged file when a rollback rewrites it.
        interface: the one interface the staged file may configure.
    """

    staged: str
    live: str
    apply_command: Sequence[str]
    uid: int = -1
    gid: int = -1
    interface: str = "eth0"

    @property
    def previous(self) -> str:
        """Where the file that an apply replaced is kept (netplan reads only *.yaml)."""
        return self.live + ".previous"

    def apply(self, runner: CommandRunner) -> None:
        """Rebuild the staged file's settings as the live one, keeping the old; apply.

        The daemon could write anything there, so only what :func:`parse_netplan`
        reads back is installed, rebuilt by :func:`render_netplan`: nothing else
        of the staged bytes reaches /etc/netplan. If the apply command fails, the
        previous file is put back and applied again.

        Raises:
            SystemActionError: the staged file is unusable or the apply failed.
        """
        data = self.rebuilt()
        had_live = os.path.exists(self.live)
        if had_live:
            atomic_copy(self.live, self.previous, 0o600)
        atomic_write(self.live, data, 0o600, make_folder=True)
        logger.info("network: installed %s as %s", self.staged, self.live)
        try:
            runner.run(self.apply_command)
        except SystemActionError as exc:
            logger.error(
                "network: apply failed (%s); restoring the previous settings", exc
            )
            self._restore(had_live, runner)
            raise SystemActionError(
                f"the network settings were not applied ({exc}); "
                "the previous ones are back"
            ) from None
        logger.info("network: applied")

    def rebuilt(self) -> bytes:
        """The staged file's settings, checked and written anew.

        Raises:
            SystemActionError: unreadable, not the allowed shape, bad values, or
                another interface than :attr:`interface`.
        """
        try:
            text = read_untrusted(self.staged, MAX_FILE_BYTES).decode("utf-8")
        except UnicodeDecodeError:
            raise SystemActionError(f"{self.staged} is not UTF-8 text") from None
        settings = parse_netplan(text, self.staged)
        if settings.interface != self.interface:
            raise SystemActionError(
                f"{self.staged} configures interface {settings.interface!r}; the "
                f"helper configures only {self.interface!r} ([web] network_interface "
                "in its own configuration)"
            )
        return render_netplan(settings).encode()

    def rollback(self, runner: CommandRunner) -> None:
        """Put the previous file back (live and staged) and apply it.

        Raises:
            SystemActionError: there is no previous file or the apply failed.
        """
        if not os.path.isfile(self.previous):
            raise SystemActionError("no previous network settings to roll back to")
        atomic_copy(self.previous, self.live, 0o600)
        # The page shows the staged file: make it what is live again.
        atomic_copy(self.previous, self.staged, 0o600, uid=self.uid, gid=self.gid)
        logger.info("network: rolled back to %s", self.previous)
        runner.run(self.apply_command)
        logger.info("network: applied")

    def _restore(self, had_live: bool, runner: CommandRunner) -> None:
        if had_live:
            atomic_copy(self.previous, self.live, 0o600)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.live)
        try:
            runner.run(self.apply_command)
        except SystemActionError as exc:
            logger.error("network: applying the previous settings failed too: %s", exc)
