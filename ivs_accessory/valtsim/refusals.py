"""SimError: how the simulator's state and routes ask for an answer other than 200."""

from __future__ import annotations

from typing import Any


class SimError(Exception):
    """An API answer other than success.

    ``status`` is the HTTP status; ``message`` goes out as ``{"error": message}``.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ForbiddenTransition(SimError):
    """A room action the room's state does not allow (start while recording, ...).

    It goes out as 409 unless the simulator answers forbidden transitions another way
    (``forbidden=``); ``success_answer`` is what it sends when that way is "200": what
    a success would look like, with nothing done.
    """

    def __init__(self, message: str, recording_id: int | None) -> None:
        super().__init__(409, message)
        self.success_answer: Any = {"data": {"id": recording_id}}
