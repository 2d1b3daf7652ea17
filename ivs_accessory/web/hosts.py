"""Whom the page trusts by address: its own Host names, loopback, link-local peers."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
# ``[web] allowed_hosts``: names or addresses, separated by spaces or commas.
_SPLIT = re.compile(r"[\s,]+")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def host_name(header: str | None) -> str | None:
    """The host part of a Host header, lower case, without port or brackets.

    None for a missing, empty or malformed header (``[::1``, ``a b``, ``x:y:z``).
    """
    if not header or any(c.isspace() or ord(c) < 32 for c in header):
        return None
    try:
        parts = urlsplit("//" + header)
        parts.port  # noqa: B018 (raises ValueError for a bad port)
    except ValueError:
        return None
    if parts.username is not None or parts.path or not parts.hostname:
        return None
    return parts.hostname.rstrip(".").lower()


def own_names(gethostname: Callable[[], str] = socket.gethostname) -> set[str]:
    """The box's names: localhost, loopback, its host name and ``<name>.local``."""
    name = gethostname().strip().rstrip(".").lower()
    names = set(LOCAL_NAMES)
    if name:
        short = name.split(".")[0]
        names |= {name, short, f"{short}.local"}
    return names


def is_own_address(text: str) -> bool:
    """True when ``text`` is an IP address of this machine (it can be bound to).

    Binding to port 0 asks the kernel itself, so every interface's addresses count,
    whichever interfaces exist now, without listing them.
    """
    address = parse_address(text)
    # 0.0.0.0 and :: can be bound but name no interface; some browsers send
    # requests for 0.0.0.0 to this machine, from any web site.
    if address is None or address.is_unspecified or address.is_multicast:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((str(address), 0))
    except OSError:
        return False
    return True


def parse_address(text: str | None) -> Address | None:
    """An IP address (IPv4-mapped IPv6 as IPv4); None for names or garbage."""
    if not text or "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def host_allowed(header: str | None, extra: str = "", also: Iterable[str] = ()) -> bool:
    """True when a Host header names this box.

    Allowed: :func:`own_names`, the addresses of this machine, the names and
    addresses in ``extra`` (``[web] allowed_hosts``, space or comma separated) and
    ``also`` (e.g. the address the connection came in on). Addresses compare in
    their standard form; 0.0.0.0 and ``::`` never match (some browsers send what a
    web site asks for at 0.0.0.0 to this machine).
    """
    name = _standard(host_name(header))
    if name is None or name in ("0.0.0.0", "::"):
        return False
    allowed = own_names() | {_standard(n) for n in _SPLIT.split(extra) if n}
    allowed |= {_standard(a) for a in also if a}
    return name in allowed or is_own_address(name)


def _standard(name: str | None) -> str | None:
    """A lower-case name without a final dot, or an address in its standard form."""
    if name is None:
        return None
    address = parse_address(name)
    return str(address) if address is not None else name.strip(".").lower()


def is_local_peer(text: str | None) -> bool:
    """True for a loopback or link-local peer address (this box or its own cable)."""
    address = parse_address(text)
    return address is not None and (address.is_loopback or address.is_link_local)


def address_in(text: str | None, networks: Iterable[Network]) -> bool:
    """True when the peer address ``text`` lies in one of ``networks``
    (an IPv4-mapped IPv6 peer counts as its IPv4 address)."""
    address = parse_address(text)
    if address is None:
        return False
    return any(
        address.version == network.version and address in network
        for network in networks
    )


def network_key(text: str) -> str:
    """What the login throttle counts per: the address, or its /64 for IPv6.

    One IPv6 host usually holds a whole /64, so counting single addresses would
    give it endless tries.
    """
    address = parse_address(text)
    if address is None:
        return text
    if address.version == 4:
        return str(address)
    return str(ipaddress.ip_network((address, 64), strict=False))
