"""The one atomic writer: a file is its old or new content, even after a power cut."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable


def atomic_write(
    target: str,
    data: bytes,
    mode: int = 0o600,
    *,
    uid: int = -1,
    gid: int = -1,
    make_folder: bool = False,
    replace: Callable[[str, str], None] = os.replace,
) -> None:
    """Replace ``target`` with ``data``: it is always the old or the new content.

    The data goes to a temporary file in the target's directory (created 0600, so
    a secret is never readable by others), gets its mode and owner (``uid``/``gid``,
    -1 keeps ours) through the open descriptor, is flushed to disk, renamed over the
    target (``replace``; tests pass a fake), and the directory entry is flushed too.
    Setting the owner before the rename matters when root writes into a directory
    another user controls: a ``chown`` by path afterwards could be redirected
    through a planted symlink. ``target`` is not resolved: the rename replaces a
    symlink rather than following it; callers that want to follow one resolve first.
    ``make_folder`` creates a missing directory first.

    Raises:
        OSError: the directory is missing or not writable.
    """
    folder = os.path.dirname(os.path.abspath(target))
    if make_folder:
        os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(descriptor, "wb") as out:
            os.fchmod(out.fileno(), mode)
            if uid != -1 or gid != -1:
                os.fchown(out.fileno(), uid, gid)
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    sync_directory(folder)


def sync_directory(folder: str) -> None:
    """Flush a directory's entries (a rename) to disk."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def atomic_copy(
    source: str, target: str, mode: int = 0o600, *, uid: int = -1, gid: int = -1
) -> None:
    """Replace ``target`` with a copy of ``source`` (see :func:`atomic_write`); a
    missing folder is made. ``source`` is read whole (templates are small)."""
    with open(source, "rb") as data:
        atomic_write(target, data.read(), mode, uid=uid, gid=gid, make_folder=True)


def write_private(path: str, text: str, mode: int = 0o600) -> None:
    """Replace the file ``path`` points to (a symlink is followed) with ``text``,
    never readable by others: the page's password, network and time files.

    Raises:
        OSError: the directory is missing or not writable.
    """
    atomic_write(os.path.realpath(path), text.encode("utf-8"), mode)
