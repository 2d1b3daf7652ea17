"""Restore, step two: write a checked plan's files, apply them, or put all back."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from ivs_accessory.backup.plan import Plan
from ivs_accessory.config import Config, load
from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.commands import SystemControl

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Saved:
    """A file as it was before the restore: bytes and mode, or None (missing)."""

    path: str
    data: bytes | None
    mode: int = 0o600


def apply_config(plan: Plan, reload: Callable[[Config], object]) -> Config:
    """Write the configuration files and the page password, then ``reload``.

    Every file is written atomically. If the result does not load or ``reload``
    raises, every file gets its previous bytes back (the caller's reload of the
    previous settings is its own business): the restore changed nothing.

    Returns:
        The new configuration, as loaded from the files.

    Raises:
        ConfigError, OSError, or whatever ``reload`` raised: nothing was changed.
    """
    files = plan.files
    old_dropins = _dropin_names(files.dropins)
    paths = [files.config, *(os.path.join(files.dropins, n) for n in old_dropins)]
    paths += [
        os.path.join(files.dropins, n) for n in plan.dropins if n not in old_dropins
    ]
    if plan.page_password is not None:
        paths.append(files.password_file)
    saved = [_save(path) for path in paths]
    try:
        _write_config(plan, old_dropins)
        config = load(files.config)
        reload(config)
    except BaseException:
        _put_back(saved)
        raise
    logger.warning(
        "restore: configuration written (%d drop-in(s)%s)",
        len(plan.dropins),
        ", page password" if plan.page_password is not None else "",
    )
    return config


def apply_time(plan: Plan, system: SystemControl) -> list[str]:
    """Write the time file and ask the helper to apply it; the problems in words."""
    if plan.time_text is None or not plan.changes_in("[time]"):
        return []
    try:
        write_kept_owner(plan.files.time_file, plan.time_text.encode())
        system.apply_time()
    except (OSError, SystemActionError) as exc:
        return [f"the time settings were not applied: {exc}"]
    return []


def apply_network(plan: Plan, system: SystemControl) -> list[str]:
    """Write the network file and ask the helper to install it, without a trial
    (the command line; the page puts the change on trial instead)."""
    if not network_changes(plan):
        return []
    assert plan.network_yaml is not None  # network_changes says so
    try:
        write_kept_owner(plan.files.network_file, plan.network_yaml.encode())
        system.apply_network()
    except (OSError, SystemActionError) as exc:
        return [f"the network settings were not applied: {exc}"]
    return []


def network_changes(plan: Plan) -> bool:
    """True when the restore changes the network file."""
    return plan.network_yaml is not None and plan.changes_in("[network]")


def write_kept_owner(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``path`` atomically, as the page's saves do (a symlink is followed).

    As root (``sudo ivs-accessory restore``) the folder belongs to the daemon's
    user, who could have planted a link there: the path itself is replaced, never
    what a link points to, and the file keeps the owner it (or its folder) had, so
    the daemon can still write it.
    """
    if os.geteuid() != 0:
        atomic_write(os.path.realpath(path), data, mode, make_folder=True)
        return
    uid = gid = -1
    with contextlib.suppress(OSError):
        info = os.lstat(path if os.path.lexists(path) else os.path.dirname(path))
        uid, gid = info.st_uid, info.st_gid
    atomic_write(path, data, mode, uid=uid, gid=gid, make_folder=True)


def _write_config(plan: Plan, old_dropins: list[str]) -> None:
    files = plan.files
    for name, text in plan.dropins.items():
        write_kept_owner(os.path.join(files.dropins, name), text.encode("utf-8"))
    for name in old_dropins:
        if name not in plan.dropins:
            os.unlink(os.path.join(files.dropins, name))
    if plan.page_password is not None:
        write_kept_owner(files.password_file, plan.page_password.encode("utf-8"))
    write_kept_owner(files.config, plan.main.encode("utf-8"))


def _dropin_names(folder: str) -> list[str]:
    try:
        return sorted(
            n
            for n in os.listdir(folder)
            if n.endswith(".conf") and os.path.isfile(os.path.join(folder, n))
        )
    except FileNotFoundError:
        return []


def _save(path: str) -> _Saved:
    """The file as it is. As root a symlink is refused (ELOOP): root must not copy
    what a link the daemon's user planted points to (see :func:`write_kept_owner`)."""
    flags = os.O_RDONLY | (os.O_NOFOLLOW if os.geteuid() == 0 else 0)
    try:
        descriptor = os.open(path, flags)
    except FileNotFoundError:
        return _Saved(path, None)
    with os.fdopen(descriptor, "rb") as file:
        return _Saved(path, file.read(), os.fstat(file.fileno()).st_mode & 0o777)


def _put_back(saved: list[_Saved]) -> None:
    for item in saved:
        try:
            if item.data is None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(item.path)
            else:
                write_kept_owner(item.path, item.data, item.mode)
        except OSError as exc:
            logger.error("restore: cannot put %s back: %s", item.path, exc)
    logger.warning("restore: not applied; the previous files are back")
