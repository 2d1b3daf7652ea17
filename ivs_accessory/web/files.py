"""Reading the small files the page owns (password, network, time)."""

from __future__ import annotations


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
