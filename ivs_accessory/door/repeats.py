"""Pure repeat guard: the same credential again while its first use is pending or just
done is one input, not a second toggle."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class _Use:
    typed: float  # when the person typed or swiped it (the input's timestamp)
    finished: float | None  # when its outcome was shown; None while in hand
    words: str = ""


class RepeatGuard:
    """Remembers the last use of each credential (by digest) for a short while.

    A use counts as a repeat of the previous one when it was typed within
    ``window_s`` of it (counted from when each was typed, not from when the first
    finished) or while the first was still pending: queued behind a slow VALT call
    or in hand. A person who types their PIN again because VALT is slow must not
    undo what the first one does.
    """

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._uses: dict[bytes, _Use] = {}

    def check(self, key: bytes, typed: float) -> str | None:
        """Words for the person if this use is a repeat, else None (and it is
        recorded as pending)."""
        last = self._uses.get(key)
        if last is not None and self._repeats(last, typed):
            if last.finished is None or typed < last.finished:
                return "Still working on it"
            return f"Already done: {last.words}"
        self._uses[key] = _Use(typed, None)
        return None

    def done(self, key: bytes, finished: float, words: str) -> None:
        """The pending use of ``key`` got its outcome at ``finished``."""
        use = self._uses.get(key)
        if use is not None and use.finished is None:
            use.finished, use.words = finished, words
        self._forget(finished)

    def _repeats(self, last: _Use, typed: float) -> bool:
        pending = last.finished is None or typed < last.finished
        return pending or abs(typed - last.typed) < self.window_s

    def _forget(self, now: float) -> None:
        # Only recent uses matter; the rest would only hold digests in memory.
        for key, use in list(self._uses.items()):
            if use.finished is not None and now - use.finished > self.window_s:
                if now - use.typed > self.window_s:
                    del self._uses[key]
