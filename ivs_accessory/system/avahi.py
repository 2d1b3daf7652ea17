"""DNS-SD advertisement of the page: the avahi service file the root helper writes."""

from __future__ import annotations

import json
import logging
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.commands import read_untrusted

logger = logging.getLogger(__name__)

PREFIX = "IVS keypad \u2013 "  # an en dash, as the integrators' lists show it
MAX_NAME_BYTES = 63  # a DNS-SD instance name is one DNS label: at most 63 octets
MAX_STAGED_BYTES = 4096
# Without a room name yet (VALT not reached): avahi puts in the host name.
FALLBACK = PREFIX + "%h"


@dataclass(frozen=True)
class Advertisement:
    """What the page's service record says.

    Attributes:
        room: the room's name from VALT; "" when not known (the host name is used).
        port: the page's TCP port.
        tls: the page is served over HTTPS (``_https._tcp``).
    """

    room: str
    port: int
    tls: bool

    def problems(self) -> list[str]:
        """Why the advertisement cannot be written; [] when it can."""
        errors = []
        if not 1 <= self.port <= 65535:
            errors.append(f"port {self.port} is not a TCP port (1-65535)")
        if len(self.room) > 1000:
            errors.append("the room name is over 1000 characters")
        return errors

    @property
    def service_type(self) -> str:
        return "_https._tcp" if self.tls else "_http._tcp"

    def instance_name(self) -> str:
        """``IVS keypad – <room>``, cut to 63 bytes of UTF-8 on a character."""
        room = "".join(
            " " if unicodedata.category(c)[0] in "CZ" else c for c in self.room
        )
        room = " ".join(room.split())  # controls and runs of spaces: one space
        if not room:
            return FALLBACK
        name = PREFIX + room
        while len(name.encode("utf-8")) > MAX_NAME_BYTES:
            name = name[:-1]
        return name.rstrip()


def render_service(ad: Advertisement) -> str:
    """The avahi service file (avahi.service(5)) for ``ad``.

    Only the fallback name asks avahi to replace wildcards: a room named with
    ``%h`` in it must be shown as written.
    """
    name = ad.instance_name()
    wildcards = ' replace-wildcards="yes"' if name == FALLBACK else ""
    return (
        '<?xml version="1.0" standalone="no"?>\n'
        '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">\n'
        "<!-- Written by ivs-accessory (system advertise); replaced when the room "
        "name or the page's port changes. -->\n"
        "<service-group>\n"
        f"  <name{wildcards}>{escape(name, quote=False)}</name>\n"
        "  <service>\n"
        f"    <type>{ad.service_type}</type>\n"
        f"    <port>{ad.port}</port>\n"
        "    <txt-record>path=/</txt-record>\n"
        "  </service>\n"
        "</service-group>\n"
    )


def staged_text(ad: Advertisement) -> str:
    """What the daemon leaves for the helper: JSON with room, port and tls."""
    return json.dumps({"room": ad.room, "port": ad.port, "tls": ad.tls}) + "\n"


def read_staged(path: str, fallback: Advertisement) -> Advertisement:
    """The daemon's staged advertisement, read as root reads untrusted files;
    ``fallback`` when the daemon has not written one.

    Raises:
        SystemActionError: the file is a link, too big, or not what the daemon writes.
    """
    try:
        data = read_untrusted(path, MAX_STAGED_BYTES)
    except SystemActionError as exc:
        if "does not exist" in str(exc):
            return fallback
        raise
    try:
        content: Any = json.loads(data.decode("utf-8"))
        ad = Advertisement(
            _typed(content, "room", str), _typed(content, "port", int),
            _typed(content, "tls", bool),
        )  # fmt: skip
    except (ValueError, TypeError, KeyError):
        raise SystemActionError(
            f"{path} is not an advertisement (JSON with room, port, tls)"
        ) from None
    problems = ad.problems()
    if problems:
        raise SystemActionError(f"{path}: " + "; ".join(problems))
    return ad


def _typed(content: Mapping[str, Any], key: str, kind: type) -> Any:
    value = content[key]
    if type(value) is not kind:  # bool is an int: exact types only
        raise TypeError(key)
    return value


def write_service(path: str, ad: Advertisement) -> None:
    """Install the service file (0644: avahi-daemon reads it as its own user);
    avahi-daemon notices the change in its folder by itself."""
    atomic_write(path, render_service(ad).encode("utf-8"), 0o644, make_folder=True)
    logger.info(
        "advertise: %s on %s port %d", ad.instance_name(), ad.service_type, ad.port
    )
