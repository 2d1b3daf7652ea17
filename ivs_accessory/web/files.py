"""Atomic writes of the small private files the page owns (password, network, time)."""

from __future__ import annotations

import os

from ivs_accessory.atomic import atomic_write


def write_private(path: str, text: str, mode: int = 0o600) -> None:
    """Replace the file ``path`` points to with ``text`` atomically, never readable
    by others (see ``atomic.atomic_write``).

    Raises:
        OSError: the directory is missing or not writable.
    """
    atomic_write(os.path.realpath(path), text.encode("utf-8"), mode)


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
