"""Config field types: each turns one INI text value into a typed value and back."""

from __future__ import annotations

import ipaddress
import re
import shlex
import unicodedata
from collections.abc import Iterable
from typing import Any

from ivs_accessory.config.url import MAX_URL, parse_server, without_userinfo
from ivs_accessory.sources.keynames import KEY_NAMES
from ivs_accessory.sources.selector import parse_selector
from ivs_accessory.spelling import closest

SECRET_MASK = "********"
MAX_TEXT = 1024  # characters in one value (a URL may have MAX_URL)

_INTEGER = re.compile(r"[+-]?[0-9]+")
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})
# Line and paragraph separators and control characters would break the INI file
# (a newline in a web form could inject a whole section); surrogates cannot be
# written as UTF-8 at all.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})


def _one_line(text: str, limit: int = MAX_TEXT) -> str:
    """The stripped text; ValueError if it holds anything an INI line cannot."""
    if any(unicodedata.category(c) in _FORBIDDEN_CATEGORIES for c in text):
        raise ValueError("must be a single line of text without control characters")
    value = text.strip()
    if len(value) > limit:
        # Also keeps int() away from its 4300-digit limit and the logs short.
        raise ValueError(f"is {len(value)} characters long; at most {limit}")
    return value


def is_one_line(text: str) -> bool:
    """True when ``text`` can be written as the value of one INI line."""
    try:
        _one_line(text)
    except ValueError:
        return False
    return True


def _number(value: float) -> str:
    """``5.0`` -> ``5``, ``0.5`` -> ``0.5``: the form a person would type."""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


class ConfigValue:
    """Base class: ``deserialize(text) -> value`` and ``serialize(value) -> text``.

    Attributes:
        default: the raw text used when no file sets the key; None means required.
        secret: True when the value must never be shown (see :meth:`display`).
    """

    secret = False

    def __init__(self, *, default: str | None = None) -> None:
        self.default = default

    def deserialize(self, text: str) -> Any:
        """Parse ``text``; raise ValueError saying what a valid value looks like."""
        raise NotImplementedError

    def serialize(self, value: Any) -> str:
        """The text that :meth:`deserialize` turns back into ``value``."""
        return "" if value is None else str(value)

    def display(self, value: Any) -> str:
        """The text safe to show on the page and in logs."""
        return self.serialize(value)

    def quoted(self, text: str) -> str | None:
        """The raw ``text`` as an error message may quote it; None hides it."""
        return None if self.secret else text


class String(ConfigValue):
    """One line of text; empty only when ``optional``, one of ``choices`` if given."""

    def __init__(
        self,
        optional: bool = False,
        choices: Iterable[str] | None = None,
        *,
        example: str | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__(default=default)
        self.optional = optional
        self.choices = tuple(choices) if choices is not None else None
        self.example = example

    def deserialize(self, text: str) -> str:
        value = _one_line(text)
        if not value:
            if self.optional:
                return ""
            raise ValueError(self._empty_message())
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"must be one of {', '.join(self.choices)}")
        return value

    def _empty_message(self) -> str:
        return "must not be empty" + (f", e.g. {self.example}" if self.example else "")


class Secret(String):
    """A String (a password) that is never shown: ``display`` gives ``********``."""

    secret = True

    def __init__(self, optional: bool = True, *, default: str | None = None) -> None:
        super().__init__(optional, default=default)

    def display(self, value: Any) -> str:
        # An empty secret shows as empty so the page can tell "not set" from "set".
        return SECRET_MASK if value else ""


class Url(ConfigValue):
    """An http(s) server address, normalised; ``https://`` when none is written.

    ``valt.example.org:8443`` gives ``https://valt.example.org:8443``; see
    :func:`ivs_accessory.config.url.parse_server` for what is accepted. Empty gives
    ``""`` when ``optional``.
    """

    example = "https://valt.example.org"

    def __init__(self, optional: bool = True, *, default: str | None = None) -> None:
        super().__init__(default=default)
        self.optional = optional

    def deserialize(self, text: str) -> str:
        value = _one_line(text, MAX_URL)
        if not value and self.optional:
            return ""
        if not value:
            raise ValueError(f"must not be empty, e.g. {self.example}")
        return str(parse_server(value))

    def quoted(self, text: str) -> str | None:
        return without_userinfo(text)

    @staticmethod
    def assumed_scheme(text: str) -> bool:
        """True when ``text`` is a valid address written without a scheme."""
        try:
            return not parse_server(text.strip()).scheme_given
        except ValueError:
            return False


class IpAddress(ConfigValue):
    """An IPv4 or IPv6 address of this box (no brackets), such as ``0.0.0.0``."""

    example = "0.0.0.0"

    def deserialize(self, text: str) -> str:
        value = _one_line(text)
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            raise ValueError(
                "must be an IP address of this box, e.g. 0.0.0.0 (all of them), "
                ":: (all, IPv6 too) or 127.0.0.1"
            ) from None


class IpNetworks(ConfigValue):
    """IP addresses and networks (``127.0.0.1 ::1 192.168.1.0/24``), separated by
    spaces or commas; the value is a tuple of ``ipaddress`` networks (a single
    address is a /32 or /128). Empty gives an empty tuple: nobody."""

    example = "127.0.0.1 ::1 192.168.10.0/24"

    def deserialize(
        self, text: str
    ) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        found = []
        for word in re.split(r"[\s,]+", _one_line(text)):
            if not word:
                continue
            try:
                # strict=False: 192.168.1.7/24 means the network 192.168.1.0/24.
                found.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                raise ValueError(
                    f"{word!r} is not an IP address or network; write addresses or "
                    f"networks separated by spaces, e.g. {self.example}"
                ) from None
        return tuple(found)

    def serialize(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return " ".join(_network_text(n) for n in value or ())


def _network_text(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """A network as a person writes it: a single address without its /32 or /128."""
    if network.num_addresses == 1:
        return str(network.network_address)
    return str(network)


class Integer(ConfigValue):
    """A whole number in ``[min, max]``; empty gives None when ``optional``."""

    def __init__(
        self,
        min: int,
        max: int,
        *,
        optional: bool = False,
        unit: str | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__(default=default)
        self.min, self.max, self.optional, self.unit = min, max, optional, unit

    def deserialize(self, text: str) -> int | None:
        value = _one_line(text)
        if not value and self.optional:
            return None
        if not _INTEGER.fullmatch(value) or not self.min <= int(value) <= self.max:
            raise ValueError(self._range_message())
        return int(value)

    def _range_message(self) -> str:
        of = f" of {self.unit}" if self.unit else ""
        empty = ", or empty for none" if self.optional else ""
        return f"must be a whole number{of} between {self.min} and {self.max}{empty}"


class Float(ConfigValue):
    """A decimal number in ``[min, max]`` (no nan or inf)."""

    def __init__(
        self,
        min: float,
        max: float,
        *,
        unit: str | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__(default=default)
        self.min, self.max, self.unit = min, max, unit

    def deserialize(self, text: str) -> float:
        value = _one_line(text)
        if not _NUMBER.fullmatch(value) or not self.min <= float(value) <= self.max:
            of = f" of {self.unit}" if self.unit else ""
            low, high = _number(self.min), _number(self.max)
            raise ValueError(f"must be a number{of} between {low} and {high}")
        return float(value)

    def serialize(self, value: Any) -> str:
        return "" if value is None else _number(value)


class Boolean(ConfigValue):
    """true/false (also yes/no, on/off, 1/0), any case."""

    def deserialize(self, text: str) -> bool:
        value = _one_line(text).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise ValueError("must be true or false")

    def serialize(self, value: Any) -> str:
        return "true" if value else "false"


class Choice(ConfigValue):
    """One of ``values``, matched without regard to case, returned as listed."""

    def __init__(self, values: Iterable[str], *, default: str | None = None) -> None:
        super().__init__(default=default)
        self.values = tuple(values)

    def deserialize(self, text: str) -> str:
        value = _one_line(text).lower()
        for choice in self.values:
            if choice.lower() == value:
                return choice
        raise ValueError(f"must be one of {', '.join(self.values)}")


class Path(ConfigValue):
    """An absolute file path (the daemon's working directory is ``/``), as a str."""

    def __init__(self, optional: bool = False, *, default: str | None = None) -> None:
        super().__init__(default=default)
        self.optional = optional

    def deserialize(self, text: str) -> str:
        value = _one_line(text)
        if not value and self.optional:
            return ""
        if not value.startswith("/"):
            raise ValueError("must be an absolute path, starting with /")
        return value


class Command(ConfigValue):
    """A command line, split like a shell would split it but never run by one.

    The value is the argument list (``systemctl start x.service`` ->
    ``["systemctl", "start", "x.service"]``); empty only when ``optional``.
    """

    def __init__(self, optional: bool = False, *, default: str | None = None) -> None:
        super().__init__(default=default)
        self.optional = optional

    def deserialize(self, text: str) -> list[str]:
        try:
            argv = shlex.split(_one_line(text))
        except ValueError as exc:  # an unclosed quote
            raise ValueError(f"cannot split into arguments: {exc}") from None
        if not argv and not self.optional:
            raise ValueError("must be a command, e.g. /usr/bin/systemctl reboot")
        return argv

    def serialize(self, value: Any) -> str:
        return shlex.join(value or [])


class KeyName(ConfigValue):
    """An evdev key name such as ``KEY_KPPLUS`` (exact case, as evdev spells it).

    Empty is allowed (and gives ``""``) only when ``optional``.
    """

    def __init__(self, optional: bool = False, *, default: str | None = None) -> None:
        super().__init__(default=default)
        self.optional = optional

    def deserialize(self, text: str) -> str:
        value = _one_line(text)
        if value in KEY_NAMES or (self.optional and not value):
            return value
        message = "must be an evdev key name such as KEY_KPPLUS"
        guess = value.upper() if value.upper() in KEY_NAMES else None
        guess = guess or closest(value.upper(), KEY_NAMES)
        raise ValueError(message + (f"; did you mean '{guess}'?" if guess else ""))


class DeviceSelector(String):
    """Which input device: a path, ``name:…``, ``usb:VVVV:PPPP`` or ``phys:…``."""

    def __init__(
        self,
        optional: bool = True,
        *,
        empty_message: str | None = None,
        default: str | None = None,
    ) -> None:
        super().__init__(optional, default=default)
        self.empty_message = empty_message

    def deserialize(self, text: str) -> str:
        value = super().deserialize(text)
        if value:
            # The sources parse selectors this same way when they open the device;
            # ConfigError is a ValueError, with a message that says what would work.
            parse_selector(value)
        return value

    def _empty_message(self) -> str:
        return self.empty_message or super()._empty_message()
