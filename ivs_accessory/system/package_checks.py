"""Checks of an uploaded package, before the root helper installs anything."""

from __future__ import annotations

import json
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.commands import CommandRunner

PACKAGE = "ivs-accessory"
_HEALTH_URL = re.compile(
    r"https?://(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost)(:\d{1,5})?/healthz"
)


class UpdateRefused(SystemActionError):
    """The file is not an update this box takes; nothing was installed."""


@dataclass(frozen=True)
class Package:
    """What a .deb's control fields say about it."""

    path: str
    name: str
    version: str
    architecture: str
    installed_kib: int


@dataclass(frozen=True)
class Request:
    """What the daemon asked for with the staged file (read as untrusted)."""

    allow_downgrade: bool = False
    health_url: str = ""  # empty: the page is off, READY alone says healthy

    @classmethod
    def parse(cls, data: bytes) -> Request:
        """Raises UpdateRefused: not the JSON the daemon writes."""
        try:
            raw = json.loads(data or b"{}")
            request = cls(
                bool(raw.get("allow_downgrade", False)), str(raw.get("health_url", ""))
            )
        except (ValueError, AttributeError):
            raise UpdateRefused("the update request is not valid JSON") from None
        if request.health_url and not own_health_url(request.health_url):
            raise UpdateRefused("the health check must be the box's own /healthz")
        return request


def own_health_url(url: str) -> bool:
    """True for ``http(s)://ADDRESS[:PORT]/healthz`` where ADDRESS is one of this
    box's own (only those can be bound): root never fetches from elsewhere."""
    found = _HEALTH_URL.fullmatch(url)
    if found is None:
        return False
    host = found.group(1).strip("[]")
    if host == "localhost":
        return True
    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.bind((host, 0))
    except (OSError, ValueError):
        return False
    return True


def inspect_package(path: str, runner: CommandRunner) -> Package:
    """Read a .deb's control fields and every byte of its contents.

    Raises:
        UpdateRefused: not a Debian package, or damaged or cut short.
    """
    try:
        text = runner.run(
            [
                "dpkg-deb",
                "--field",
                path,
                "Package",
                "Version",
                "Architecture",
                "Installed-Size",
            ]
        )
    except SystemActionError:
        raise UpdateRefused("the file is not a Debian package (.deb)") from None
    try:
        runner.run(["dpkg-deb", "--contents", path])  # reads the whole archive
    except SystemActionError:
        raise UpdateRefused(
            "the package is damaged or cut short (an interrupted upload?)"
        ) from None
    fields = dict(
        (k.strip(), v.strip())
        for k, _, v in (line.partition(":") for line in text.splitlines())
    )
    return Package(
        path,
        fields.get("Package", ""),
        fields.get("Version", ""),
        fields.get("Architecture", ""),
        int(fields.get("Installed-Size", "0") or 0),
    )


def check_package(
    new: Package,
    installed: str | None,
    runner: CommandRunner,
    *,
    host_architecture: str,
    allow_downgrade: bool = False,
) -> None:
    """Refuse another package, another architecture, or an older (or the same)
    version unless ``allow_downgrade``.

    Raises:
        UpdateRefused: with the reason.
    """
    if new.name != PACKAGE:
        raise UpdateRefused(f"this is the package {new.name!r}, not {PACKAGE}")
    if new.architecture not in ("all", host_architecture):
        raise UpdateRefused(
            f"this package is built for {new.architecture}, and this box is "
            f"{host_architecture}"
        )
    if installed is None or allow_downgrade:
        return
    if not runner.succeeds(
        ["dpkg", "--compare-versions", new.version, "gt", installed]
    ):
        raise UpdateRefused(
            f"version {new.version} is not newer than {installed}, which runs now "
            "(tick 'allow an older version' to go back)"
        )


def check_signature(path: str, keyring: str, runner: CommandRunner) -> None:
    """With a keyring installed, the package needs a detached signature by it.

    Raises:
        UpdateRefused: no signature, or not a good one by a key of the keyring.
    """
    if not keyring:
        return
    if not os.path.exists(path + ".sig"):
        raise UpdateRefused(
            "this box takes only signed updates: give the package's detached "
            "signature (FILE.deb.sig) too"
        )
    if not runner.succeeds(["gpgv", "--keyring", keyring, path + ".sig", path]):
        raise UpdateRefused(
            "the signature does not match the package or is not by the key "
            "installed on this box"
        )


def check_space(folder: str, needed: int, statvfs: Callable[[str], Any]) -> None:
    """Raises UpdateRefused: ``folder``'s file system has less than ``needed`` bytes."""
    info = statvfs(folder)
    free = info.f_bavail * info.f_frsize
    if free < needed:
        raise UpdateRefused(
            f"not enough disk space: {free // 1_000_000} MB free in {folder}, "
            f"{needed // 1_000_000 + 1} MB needed"
        )


def installed_version(runner: CommandRunner) -> str | None:
    """The installed version of the package, or None when dpkg has none."""
    try:
        text = runner.run(
            [
                "dpkg-query",
                "--show",
                "--showformat",
                "${db:Status-Abbrev} ${Version}",
                PACKAGE,
            ]
        )
    except SystemActionError:
        return None
    status, _, version = text.strip().partition(" ")
    return version.strip() or None if status.startswith("i") else None
