"""Time settings file (timezone, NTP servers): read, validate, write, apply as root."""

from __future__ import annotations

import configparser
import contextlib
import ipaddress
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ivs_accessory.errors import ConfigError, SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.commands import CommandRunner, read_untrusted

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 16_384
MAX_NTP_SERVERS = 8
# IANA names: "UTC", "Etc/GMT+5", "America/Argentina/Buenos_Aires". No "..", no
# leading "/": the name becomes a path under /usr/share/zoneinfo in timedated.
_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,3}")
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(\.{_LABEL})*\.?")


@dataclass(frozen=True)
class TimeSettings:
    """What time.conf says; built only through :func:`parse_time_settings` or checked.

    Attributes:
        timezone: an IANA zone name such as ``Europe/Berlin``.
        ntp_servers: host names or addresses; empty = the network's or the
            distribution's default servers.
    """

    timezone: str = "Etc/UTC"
    ntp_servers: tuple[str, ...] = ()

    def problems(self) -> list[str]:
        """Every reason these settings cannot be applied; [] when they can."""
        errors = []
        if len(self.timezone) > 64 or not _ZONE.fullmatch(self.timezone):
            errors.append(
                f"[time] timezone = {self.timezone!r}: must be a time zone "
                "name such as Europe/Berlin or Etc/UTC"
            )
        if len(self.ntp_servers) > MAX_NTP_SERVERS:
            errors.append(f"[time] ntp_servers: at most {MAX_NTP_SERVERS} servers")
        errors += [
            f"[time] ntp_servers: {server!r} is not a host name or IP address"
            for server in self.ntp_servers
            if not _is_host(server)
        ]
        return errors


def _is_host(text: str) -> bool:
    if len(text) <= 253 and _HOST.fullmatch(text):
        return True
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def parse_time_settings(text: str, origin: str = "time.conf") -> TimeSettings:
    """Read ``[time]`` with ``timezone`` and ``ntp_servers`` (space separated).

    Raises:
        ConfigError: with every problem (syntax, unknown keys, bad values).
    """
    parser = configparser.ConfigParser(
        interpolation=None, delimiters=("=",), default_section="\0"
    )
    try:
        parser.read_string(text, source=origin)
    except configparser.Error as exc:
        raise ConfigError(f"{origin}: cannot read it: {exc.message}") from None
    if not parser.has_section("time"):
        raise ConfigError(f"{origin}: has no [time] section")
    section = parser["time"]
    errors = [
        f"{origin}: unknown key {key!r} in [time]"
        for key in section
        if key not in ("timezone", "ntp_servers")
    ]
    settings = TimeSettings(
        section.get("timezone", "").strip(),
        tuple(section.get("ntp_servers", "").split()),
    )
    errors += [f"{origin}: {problem}" for problem in settings.problems()]
    if errors:
        raise ConfigError("; ".join(errors), errors)
    return settings


def format_time_settings(settings: TimeSettings) -> str:
    """The text of time.conf for ``settings`` (what the page saves)."""
    return (
        "# Time settings: the helper applies them as root "
        "(ivs-accessory system set-time).\n"
        "[time]\n"
        "# An IANA time zone name, e.g. Europe/Berlin.\n"
        f"timezone = {settings.timezone}\n"
        "# NTP servers, space separated; "
        "empty = the network's or the system's default.\n"
        f"ntp_servers = {' '.join(settings.ntp_servers)}\n"
    ).replace(" \n", "\n")


def write_time_file(path: str, settings: TimeSettings) -> None:
    """Save ``settings`` atomically with mode 0600 (the page's side).

    Raises:
        ConfigError: the settings are invalid; nothing is written.
    """
    errors = settings.problems()
    if errors:
        raise ConfigError("; ".join(errors), errors)
    atomic_write(path, format_time_settings(settings).encode(), 0o600, make_folder=True)


def read_time_file(path: str) -> TimeSettings:
    """Read and check time.conf as root: no symlinks, at most 16 KiB.

    Raises:
        SystemActionError: the file cannot be read or is invalid.
    """
    data = read_untrusted(path, MAX_FILE_BYTES)
    try:
        return parse_time_settings(data.decode("utf-8"), path)
    except UnicodeDecodeError:
        raise SystemActionError(f"{path} is not UTF-8 text") from None
    except ConfigError as exc:
        raise SystemActionError(str(exc)) from None


@dataclass(frozen=True)
class TimeApplier:
    """How the helper applies time settings, from ``[helper]``.

    Attributes:
        timesyncd_file: the systemd-timesyncd drop-in that carries the NTP servers.
        timezone_command: run with the zone name appended
            (``timedatectl set-timezone``).
        ntp_restart_command: makes timesyncd read its drop-ins again; may be empty.
    """

    timesyncd_file: str
    timezone_command: Sequence[str]
    ntp_restart_command: Sequence[str] = ()

    def apply(self, settings: TimeSettings, runner: CommandRunner) -> None:
        """Write or remove the NTP drop-in, set the zone, restart timesyncd.

        Raises:
            SystemActionError: the settings are invalid or a command failed.
        """
        errors = settings.problems()
        if errors:
            raise SystemActionError("; ".join(errors))
        if settings.ntp_servers:
            text = (
                "# Written by ivs-accessory (set-time); replaced on every apply.\n"
                f"[Time]\nNTP={' '.join(settings.ntp_servers)}\n"
            )
            atomic_write(self.timesyncd_file, text.encode(), 0o644, make_folder=True)
            logger.info("time: NTP servers %s", " ".join(settings.ntp_servers))
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.timesyncd_file)
            logger.info("time: default NTP servers")
        runner.run([*self.timezone_command, settings.timezone])
        logger.info("time: timezone %s", settings.timezone)
        if self.ntp_restart_command:
            runner.run(self.ntp_restart_command)
