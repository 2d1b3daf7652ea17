"""Saving a form: the config file written atomically and applied, or left untouched."""

from __future__ import annotations

import logging
import os
import stat
from typing import Any

from ivs_accessory.config import Config, load, save
from ivs_accessory.errors import ConfigError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.web.backend import PageService

logger = logging.getLogger(__name__)


def save_and_apply(
    service: PageService, path: str | None, changes: dict[str, Any]
) -> list[str]:
    """Save ``changes`` to the config file atomically, then reload the daemon.

    The reload is what SIGHUP does (``service.reload(load(path))``). When the
    daemon cannot apply the result, the file gets its previous bytes back and the
    daemon its previous settings: a save that fails writes nothing.

    Returns:
        The problems in words; [] on success.
    """
    if path is None:
        return ["the daemon runs without a configuration file; nothing can be saved"]
    previous = service.config
    try:
        before = _snapshot(path)
        save(path, changes)
    except ConfigError as exc:
        return list(exc.errors)
    except OSError as exc:
        return [f"cannot write {path}: {exc.strerror or exc}"]
    problems = _apply(service, path)
    if problems:
        _put_back(service, path, before, previous)
    return problems


def _apply(service: PageService, path: str) -> list[str]:
    try:
        service.reload(load(path))
    except ConfigError as exc:
        return list(exc.errors)
    except Exception as exc:  # whatever stops the reload, the old file comes back
        logger.exception("page: the daemon cannot apply the saved settings")
        return [f"the daemon cannot use these settings ({exc}); nothing was saved"]
    return []


def _put_back(
    service: PageService,
    path: str,
    before: tuple[bytes, int] | None,
    previous: Config,
) -> None:
    """The file's previous bytes, and the daemon on its previous settings."""
    target = os.path.realpath(path)
    try:
        if before is None:
            os.unlink(target)
        else:
            atomic_write(target, before[0], before[1])
    except OSError as exc:
        logger.error("page: cannot put %s back as it was: %s", path, exc)
    try:
        service.reload(previous)
    except Exception:  # the page must still answer; the log says what broke
        logger.exception("page: cannot go back to the previous settings")


def _snapshot(path: str) -> tuple[bytes, int] | None:
    """The file's bytes and mode, or None when it does not exist."""
    try:
        with open(path, "rb") as file:
            return file.read(), stat.S_IMODE(os.fstat(file.fileno()).st_mode)
    except FileNotFoundError:
        return None
