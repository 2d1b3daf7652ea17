"""The known word closest to a mistyped one, for the "did you mean …?" hints."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, known: Iterable[str]) -> str | None:
    """The word of ``known`` most like ``word`` (difflib's ratio at least 0.6), or
    None when none is that close."""
    # Imported only when something is mistyped: the daemon need not keep difflib
    # (0.2 MiB of its resident memory, issue 12) for hints it rarely gives.
    import difflib

    found = difflib.get_close_matches(word, list(known), 1)
    return found[0] if found else None
