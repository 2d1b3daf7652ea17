"""Atomic writes of the small private files the page owns (password, network, time)."""

from __future__ import annotations

import contextlib
import os
import tempfile


def write_private(path: str, text: str, mode: int = 0o600) -> None:
    """Replace ``path`` with ``text``: temp file, fsync, rename, fsync the directory.

    The file is the old one or the new one at every moment, and never readable by
    others (it is created with ``mode`` before anything is written).

    Raises:
        OSError: the directory is missing or not writable.
    """
    target = os.path.realpath(path)
    folder = os.path.dirname(target)
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            os.fchmod(file.fileno(), mode)
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    directory = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def read_text(path: str, limit: int = 1_000_000) -> str | None:
    """The file's text (at most ``limit`` characters), or None when it does not exist.

    Raises:
        OSError: it exists but cannot be read.
        UnicodeDecodeError: it is not UTF-8.
    """
    try:
        with open(path, encoding="utf-8") as file:
            return file.read(limit)
    except FileNotFoundError:
        return None
