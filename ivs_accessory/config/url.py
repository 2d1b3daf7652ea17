"""Server addresses: parse, check and normalise the http(s) URL a person typed."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ivs_accessory.spelling import closest

MAX_URL = 2048
MAX_HOST = 253  # DNS: a name is at most 253 characters, a label at most 63
MAX_LABEL = 63
SCHEMES = ("http", "https")
EXAMPLE = "https://valt.example.org"

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
# "http:/valt" or "https:valt": a known scheme whose slashes went missing.
_SHORT_SCHEME = re.compile(r"(https?):(?!//)", re.IGNORECASE)
_LABEL = re.compile(r"[A-Za-z0-9_-]+")
_PORT = re.compile(r"[0-9]{1,5}")
# RFC 3986 path characters: unreserved, sub-delims, ":", "@", "/" and %XX escapes.
_PATH = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*")
_USERINFO = re.compile(r"^((?:[A-Za-z][A-Za-z0-9+.-]*:)?//)?[^/?#]*@")


@dataclass(frozen=True)
class ServerUrl:
    """A checked server address; ``str()`` gives its normalised text.

    Attributes:
        scheme: ``http`` or ``https``.
        host: lower-case name, IPv4 address, or IPv6 address in brackets.
        port: 1-65535, or None for the scheme's default.
        path: ``""`` or ``/a/b`` (single slashes, no trailing slash).
        scheme_given: False when the scheme was assumed.
    """

    scheme: str
    host: str
    port: int | None
    path: str
    scheme_given: bool = True

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``."""
        port = f":{self.port}" if self.port is not None else ""
        return f"{self.scheme}://{self.host}{port}"

    def __str__(self) -> str:
        return self.origin + self.path


def without_userinfo(text: str) -> str:
    """``text`` with any ``user:password@`` replaced by ``***@`` (safe to log)."""
    return _USERINFO.sub(lambda m: (m.group(1) or "") + "***@", text)


def parse_server(text: str, default_scheme: str = "https") -> ServerUrl:
    """Check a server address and return it parsed.

    Accepts ``host``, ``host:port``, ``[IPv6]:port`` and ``http(s)://`` URLs with an
    optional path; ``default_scheme`` is used when none is written.

    Raises:
        ValueError: a message saying what is wrong and what would work.
    """
    if len(text) > MAX_URL:
        raise ValueError(f"is {len(text)} characters long; at most {MAX_URL}")
    if any(c.isspace() for c in text) or not text.isprintable():
        raise ValueError(
            f"must not contain spaces or control characters, e.g. {EXAMPLE}"
        )
    scheme, rest, given = _split_scheme(text, default_scheme)
    authority, _, path = rest.partition("/")
    if "?" in rest or "#" in rest:
        raise ValueError(f"must not have a query (?) or fragment (#), e.g. {EXAMPLE}")
    if "@" in authority:
        raise ValueError(
            "must not hold user:password@; set username and password instead"
        )
    host, port = _split_port(authority)
    return ServerUrl(
        scheme.lower(),
        _check_host(host),
        port,
        _check_path("/" + path if path else ""),
        scheme_given=given,
    )


def _split_scheme(text: str, default: str) -> tuple[str, str, bool]:
    match = _SCHEME.match(text)
    if match is None:
        short = _SHORT_SCHEME.match(text)
        if short:
            raise ValueError(f"write {short.group(1).lower()}:// (two slashes)")
        return default, text, False
    scheme = match.group(1)
    if scheme.lower() not in SCHEMES:
        guess = closest(scheme.lower(), SCHEMES)
        hint = f"did you mean {guess}://?" if guess else "use http:// or https://"
        raise ValueError(f"scheme {scheme!r} is not supported; {hint}")
    return scheme, text[match.end() :], True


def _split_port(authority: str) -> tuple[str, int | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise ValueError(
                "the IPv6 address has no closing ], e.g. https://[fd00::1]"
            )
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise ValueError(f"unexpected {after!r} after the IPv6 address")
        return host, _check_port(after[1:]) if after else None
    if authority.count(":") > 1:
        raise ValueError("put an IPv6 address in brackets, e.g. https://[fd00::1]:8443")
    host, colon, port = authority.partition(":")
    return host, _check_port(port) if colon else None


def _check_port(text: str) -> int:
    if not text:
        raise ValueError(
            "has ':' but no port after it; add one (e.g. :8443) or drop ':'"
        )
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise ValueError(f"port {shown!r} must be a number from 1 to 65535")
    return int(text)


def _check_host(host: str) -> str:
    if not host:
        raise ValueError(f"has no host name, e.g. {EXAMPLE}")
    if host.startswith("["):
        return _check_ipv6(host[1:-1])
    if len(host) > MAX_HOST:
        raise ValueError(f"the host name is {len(host)} characters long; at most 253")
    if not host.isascii():
        raise ValueError("write an international host name in its xn-- (punycode) form")
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    for label in labels:
        _check_label(label)
    if labels[-1].isdigit():
        # A name ending in a number is read as an IPv4 address by resolvers
        # ("10.1.2" would mean 10.1.0.2), so only a complete one is accepted.
        return _check_ipv4(host)
    return host.lower()


def _check_label(label: str) -> None:
    if not label:
        raise ValueError("the host name has an empty part between dots")
    if len(label) > MAX_LABEL:
        raise ValueError(f"a part of the host name is over {MAX_LABEL} characters")
    if not _LABEL.fullmatch(label) or label[0] == "-" or label[-1] == "-":
        shown = label if len(label) <= 30 else label[:30] + "..."
        raise ValueError(
            f"host name part {shown!r} may only use letters, digits, '-' and '_' "
            "(not at its start or end)"
        )


def _check_ipv4(host: str) -> str:
    try:
        return str(ipaddress.IPv4Address(host))
    except ValueError:
        raise ValueError(
            f"{host!r} is not an IPv4 address (four numbers 0-255, e.g. 192.0.2.10)"
        ) from None


def _check_ipv6(text: str) -> str:
    if "%" in text:
        raise ValueError("an IPv6 zone (%...) cannot be used; give a routable address")
    try:
        return f"[{ipaddress.IPv6Address(text)}]"
    except ValueError:
        shown = text if len(text) <= 45 else text[:45] + "..."
        raise ValueError(f"[{shown}] is not an IPv6 address, e.g. [fd00::1]") from None


def _check_path(path: str) -> str:
    if not _PATH.fullmatch(path):
        raise ValueError("the path after the host may only use URL characters")
    return re.sub(r"/+", "/", path).rstrip("/")
