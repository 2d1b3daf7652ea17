"""SimError: how the simulator's state and routes ask for an answer other than 200."""

from __future__ import annotations


class SimError(Exception):
    """An API answer other than success.

    ``status`` is the HTTP status; ``message`` goes out as ``{"error": message}``.
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
