"""The backup file: what it holds, read from the box, written out, and read back."""

from __future__ import annotations

import datetime
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ivs_accessory import __version__
from ivs_accessory.backup.sealing import seal, unseal
from ivs_accessory.config.loader import line_entries, read_text
from ivs_accessory.config.schema import (
    CAMERA_PREFIX,
    CAMERA_SCHEMA,
    SCHEMA,
    SOURCE_PREFIX,
    SOURCE_SCHEMAS,
)
from ivs_accessory.errors import ConfigError

logger = logging.getLogger(__name__)

KIND = "ivs-accessory backup"
FORMAT = 1  # raise it when a reader of format 1 would misread the new files
MAX_BYTES = 2 * 1024 * 1024  # a configuration is a few kilobytes
DROPIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}\.conf")
NETWORK_KEYS = ("mode", "address", "gateway", "dns")
TIME_KEYS = ("timezone", "ntp_servers")


@dataclass(frozen=True)
class BoxFiles:
    """Where one box keeps what a backup holds.

    Attributes:
        config: the main configuration file; its drop-ins are in ``config + ".d"``.
        time_file, network_file: the files the Time and Network pages write (the
            root helper installs them).
        network_interface: the interface the network settings are for.
        password_file: the page's password hash.
    """

    config: str
    time_file: str
    network_file: str
    network_interface: str
    password_file: str

    @property
    def dropins(self) -> str:
        return self.config + ".d"

    @classmethod
    def of(cls, config: Mapping[str, Any], path: str) -> BoxFiles:
        """The files a loaded configuration names, for the main file ``path``."""
        system, web = config["system"], config["web"]
        return cls(
            path,
            system["time_file"],
            system["network_file"],
            web["network_interface"],
            web["password_file"],
        )


@dataclass
class Backup:
    """One backup's content, as plain text values (the forms' and files' text).

    Attributes:
        main: accessory.conf's text (secret lines removed unless ``secrets``).
        dropins: drop-in file name -> text.
        time: ``timezone`` and ``ntp_servers`` as the Time page's fields, or None.
        network: ``mode``, ``address``, ``gateway``, ``dns`` as the Network page's
            fields, or None when the box had no network file.
        page_password: the password file's text (only when ``secrets``).
        secrets: True when passwords are in (the file is then encrypted).
        version, created: the program version and the time (UTC) it was made.
    """

    main: str
    dropins: dict[str, str]
    time: dict[str, str] | None
    network: dict[str, str] | None
    page_password: str | None
    secrets: bool
    version: str = __version__
    created: str = ""


# -- secrets -------------------------------------------------------------------------


def is_secret(section: str, key: str) -> bool:
    """True when ``[section] key`` holds a password (a Secret field)."""
    if section.startswith(CAMERA_PREFIX):
        field = CAMERA_SCHEMA.get(key)
    elif section.startswith(SOURCE_PREFIX):
        return any(
            getattr(schema.get(key), "secret", False)
            for schema in SOURCE_SCHEMAS.values()
        )
    else:
        schema = SCHEMA.get(section)
        field = schema.get(key) if isinstance(schema, dict) else None
    return bool(getattr(field, "secret", False))


def without_secrets(text: str) -> tuple[str, list[tuple[str, str]]]:
    """``text`` with every password line removed, and which ``(section, key)``."""
    lines = text.split("\n")
    removed = []
    for entry in reversed(line_entries(lines)):
        if entry.key is not None and entry.section is not None:
            if is_secret(entry.section, entry.key):
                del lines[entry.start : entry.end]
                removed.append((entry.section, entry.key))
    return "\n".join(lines), sorted(set(removed))


# -- from the box --------------------------------------------------------------------


def collect(files: BoxFiles, *, secrets: bool) -> Backup:
    """Read everything a backup holds from the box.

    Raises:
        ConfigError: the main configuration file or a drop-in cannot be read.
    """
    main = _read(files.config)
    dropins = {
        name: _read(os.path.join(files.dropins, name)) for name in _dropins(files)
    }
    if not secrets:
        main = without_secrets(main)[0]
        dropins = {name: without_secrets(text)[0] for name, text in dropins.items()}
    return Backup(
        main,
        dropins,
        _time(files.time_file),
        _network(files.network_file),
        _optional(files.password_file) if secrets else None,
        secrets,
        created=datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
    )


def _read(path: str) -> str:
    text, errors = read_text(path)
    if text is None:
        raise ConfigError("; ".join(errors), errors)
    return text


def _optional(path: str) -> str | None:
    return _read(path) if os.path.exists(path) else None


def _dropins(files: BoxFiles) -> list[str]:
    """The drop-in names the loader reads (``*.conf`` files, by name)."""
    try:
        names = os.listdir(files.dropins)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise ConfigError(f"cannot read {files.dropins}: {exc.strerror}") from None
    return sorted(
        name
        for name in names
        if name.endswith(".conf") and os.path.isfile(os.path.join(files.dropins, name))
    )


def _time(path: str) -> dict[str, str] | None:
    from ivs_accessory.system.timeconfig import parse_time_settings

    text = _optional(path)
    if text is None:
        return None
    try:
        settings = parse_time_settings(text, path)
    except ConfigError as exc:  # the page shows such a file as the defaults too
        logger.warning("backup: time settings left out: %s", exc)
        return None
    return {
        "timezone": settings.timezone,
        "ntp_servers": " ".join(settings.ntp_servers),
    }


def _network(path: str) -> dict[str, str] | None:
    from ivs_accessory.errors import SystemActionError
    from ivs_accessory.system.netconfig import parse_netplan

    text = _optional(path)
    if text is None:
        return None
    try:
        settings = parse_netplan(text, path)
    except SystemActionError as exc:  # the helper would not install it either
        logger.warning("backup: network settings left out: %s", exc)
        return None
    return {
        "mode": settings.mode,
        "address": settings.address,
        "gateway": settings.gateway,
        "dns": " ".join(settings.dns),
    }


# -- the file ------------------------------------------------------------------------


def encode(backup: Backup, passphrase: str | None = None) -> bytes:
    """The backup file's bytes: JSON, its content sealed when a passphrase is given.

    Raises:
        ConfigError: secrets without a passphrase (or one too short).
    """
    content = {
        "kind": KIND,
        "format": FORMAT,
        "version": backup.version,
        "created": backup.created,
        "secrets": backup.secrets,
        "config": {"main": backup.main, "dropins": backup.dropins},
        "time": backup.time,
        "network": backup.network,
        "page_password": backup.page_password,
    }
    plain = json.dumps(content, indent=1, ensure_ascii=False).encode("utf-8")
    if passphrase is None:
        if backup.secrets:
            raise ConfigError("a backup with passwords needs a passphrase")
        return plain + b"\n"
    outer = {
        "kind": KIND,
        "format": FORMAT,
        "version": backup.version,
        "created": backup.created,
        "sealed": seal(plain, passphrase),
    }
    return json.dumps(outer, indent=1).encode("ascii") + b"\n"


def make_backup(files: BoxFiles, passphrase: str | None = None) -> bytes:
    """The backup file of the box: passwords in (and encrypted) only with a passphrase.

    Raises:
        ConfigError: a file cannot be read, or the passphrase is too short.
    """
    return encode(collect(files, secrets=passphrase is not None), passphrase)


def is_sealed(data: bytes) -> bool:
    """True when ``data`` is an encrypted backup (it needs a passphrase)."""
    try:
        return "sealed" in _envelope(data)
    except ConfigError:
        return False


def decode(data: bytes, passphrase: str | None = None) -> Backup:
    """Read a backup file; shape only (values are checked by ``plan``).

    Raises:
        ConfigError: not a backup, cut short, from a newer version, encrypted
            without the passphrase given, or the wrong passphrase.
    """
    content = _envelope(data)
    if "sealed" in content:
        if not passphrase:
            raise ConfigError(
                "this backup is encrypted: give the passphrase it was made with"
            )
        content = _envelope(unseal(content["sealed"], passphrase), "encrypted part")
    return _backup(content)


def _envelope(data: bytes, what: str = "file") -> dict[str, Any]:
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"the {what} is over {MAX_BYTES // 1024} KiB: not an ivs-accessory backup"
        )
    try:
        content = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"the {what} is not an ivs-accessory backup") from None
    except (ValueError, RecursionError):  # RecursionError: nesting a JSON bomb
        if data.lstrip().startswith(b"{") and KIND.encode() in data[:200]:
            raise ConfigError(
                f"the {what} is cut short or damaged (incomplete JSON); "
                "download the backup again"
            ) from None
        raise ConfigError(f"the {what} is not an ivs-accessory backup") from None
    if not isinstance(content, dict) or content.get("kind") != KIND:
        raise ConfigError(f"the {what} is not an ivs-accessory backup")
    number = content.get("format")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise ConfigError(f"the {what} has no valid format number")
    if number > FORMAT:
        raise ConfigError(
            f"the backup was made by a newer version ({content.get('version')!s:.20}, "
            f"format {number}); this box reads format {FORMAT}: update it first"
        )
    return content


def _backup(content: dict[str, Any]) -> Backup:
    config = content.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("main"), str):
        raise ConfigError("the backup has no configuration (config.main)")
    dropins = config.get("dropins") or {}
    if not isinstance(dropins, dict) or not all(
        isinstance(v, str) for v in dropins.values()
    ):
        raise ConfigError("the backup's config.dropins must map names to text")
    bad = sorted(name for name in dropins if not DROPIN_NAME.fullmatch(name))
    if bad:
        raise ConfigError(
            f"the backup's drop-in name {bad[0][:60]!r} is not allowed; "
            "drop-ins are NAME.conf (letters, digits, _ . -)"
        )
    password = content.get("page_password")
    return Backup(
        config["main"],
        dict(dropins),
        _fields(content.get("time"), TIME_KEYS, "time"),
        _fields(content.get("network"), NETWORK_KEYS, "network"),
        password if isinstance(password, str) else None,
        content.get("secrets") is True,
        str(content.get("version", "")),
        str(content.get("created", "")),
    )


def _fields(value: Any, keys: tuple[str, ...], name: str) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(v, str) for v in value.values()
    ):
        raise ConfigError(f"the backup's {name} settings must map names to text")
    unknown = sorted(set(value) - set(keys))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0][:60]!r} in the backup's [{name}]; "
            f"known: {', '.join(keys)}"
        )
    return dict(value)
