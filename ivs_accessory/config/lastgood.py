"""The last good configuration (``FILE.last-good``) and safe mode's fallback config."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ivs_accessory.config.loader import Checked, build, check, read_text, summary
from ivs_accessory.config.schema import SCHEMA, Config
from ivs_accessory.errors import ConfigError
from ivs_accessory.system.atomic import atomic_write

SUFFIX = ".last-good"


def last_good_path(path: str | os.PathLike[str]) -> str:
    """Where the last good copy of config file ``path`` is kept: ``path.last-good``."""
    return os.fspath(path) + SUFFIX


def keep_last_good(config: Config) -> bool:
    """Save the text ``config`` was validated from as its file's last good copy.

    Written atomically with mode 0600 (it holds the VALT password), and only when
    it differs from the copy already kept, to spare the SD card. Returns whether a
    file was written.

    Raises:
        OSError: the folder is not writable.
    """
    if config.path is None or config.text is None:
        return False
    target = last_good_path(config.path)
    data = config.text.encode("utf-8")
    if read_text(target)[0] == config.text:
        return False
    atomic_write(target, data, 0o600)
    return True


def check_last_good(path: str) -> Checked | None:
    """The last good copy checked as if it were the file (with today's drop-ins);
    None when there is none or it cannot be read."""
    text, _ = read_text(last_good_path(path))
    return None if text is None else check(path, text)


def restore_last_good(path: str) -> Config:
    """Copy the last good copy over config file ``path`` atomically (mode 0600).

    Returns:
        the restored configuration, to apply with ``Service.reload``.

    Raises:
        ConfigError: there is no last good copy, or it no longer validates (for
            example a drop-in changed since); the file is left as it is.
        OSError: the file cannot be written.
    """
    source = last_good_path(path)
    if not os.path.lexists(source):
        raise ConfigError(
            f"there is no last good configuration ({source}); one is kept each time "
            f"the daemon starts or reloads a valid file, so fix {path} instead"
        )
    text, errors = read_text(source)
    if text is None:
        raise ConfigError(summary(errors), errors)
    config, errors = build(path, text)
    if config is None:
        raise ConfigError(
            f"the last good configuration {source} no longer validates; fix {path} "
            f"instead: " + summary(errors),
            errors,
        )
    atomic_write(os.path.realpath(path), text.encode("utf-8"), 0o600)
    return config


@dataclass
class Fallback:
    """What safe mode runs when the file is invalid (see :func:`fallback`).

    Attributes:
        config: each section from the file where it validates, else from the last
            good copy, else the packaged defaults (with the drop-ins); the
            ``[source:*]`` sections and ``[bindings]`` likewise.
        errors: every error of the file.
        last_good: a last good copy exists and validates.
    """

    config: Config
    errors: list[str]
    last_good: bool


def fallback(path: str, checked: Checked | None = None) -> Fallback:
    """The configuration safe mode runs with, for the invalid file ``path``.

    Each part comes from the first of these in which it validates: the file (if
    it could be read at all), the last good copy, the drop-ins over the packaged
    defaults, the packaged defaults. ``checked`` is ``check(path)`` when the caller
    has it already.
    """
    checked = checked or check(path)
    good = check_last_good(path)
    candidates = [
        c for c in (checked, good, check(path, ""), check(None)) if c and c.readable
    ]
    sections = {
        name: _first(name, [c.sections.get(name) for c in candidates])
        for name in SCHEMA
        if name != "bindings"
    }
    sources = _first("source:*", [c.sources for c in candidates])
    bindings = _first("bindings", [c.bindings for c in candidates])
    cameras = _first("camera:*", [c.cameras for c in candidates])
    config = Config(sections, sources, bindings, path, cameras)
    return Fallback(config, checked.errors, good is not None and not good.errors)


def _first(name: str, candidates: list[Any]) -> Any:
    # The packaged defaults always validate (tests/config/test_loading.py checks it).
    found = next((c for c in candidates if c is not None), None)
    assert found is not None, f"the packaged defaults of [{name}] are invalid"
    return found
