"""The route table of the simulated API: ApiRequest, the @route decorator, find().

Each handler takes the state, the request and the path's numeric groups, and returns
the JSON payload (already wrapped in ``data`` where VALT wraps it) or raises SimError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivs_accessory.valtsim.state import SimError, SimState


@dataclass
class ApiRequest:
    """One API request as the handlers see it."""

    method: str
    path: str  # relative to /api/v3/
    query: dict[str, str]
    body: dict[str, Any]
    user: dict[str, Any] | None = None

    def get(self, name: str, default: Any = None) -> Any:
        """A field of the JSON body (always an object, possibly empty)."""
        return self.body.get(name, default)

    def has(self, name: str) -> bool:
        return name in self.body


Handler = Callable[..., Any]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    auth: bool
    admin: bool
    available: Callable[[SimState], bool]
    # A room action (start, stop, ..., marker, comment): the request log says whether
    # it changed anything.
    action: bool = False


ROUTES: list[Route] = []


def _any_version(state: SimState) -> bool:
    return True


def route(
    method: str,
    path: str,
    *,
    auth: bool = True,
    admin: bool = False,
    available: Callable[[SimState], bool] = _any_version,
    action: bool = False,
) -> Callable[[Handler], Handler]:
    """Register a handler; ``{id}`` in ``path`` matches a number passed as an int.

    ``action`` marks the room actions, whose log entries say whether they changed
    the state.
    """
    regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[0-9]+)", path) + "$")

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method, regex, handler, auth, admin, available, action))
        return handler

    return register


def find(state: SimState, method: str, path: str) -> tuple[Route, dict[str, int]]:
    """The route for a request and its path's numbers.

    Raises:
        SimError: 404 for unknown paths and for the other version's endpoints.
    """
    for candidate in ROUTES:
        found = candidate.pattern.match(path)
        if found and candidate.method == method and candidate.available(state):
            return candidate, {k: int(v) for k, v in found.groupdict().items()}
    known = [r for r in ROUTES if r.pattern.match(path) and r.method == method]
    if known:
        raise SimError(
            404, f"{method} {path} does not exist on VALT {state.version_text}"
        )
    raise SimError(404, f"no endpoint {method} {path}")


def is_action(method: str, path: str) -> bool:
    """Whether the request is a room action, on any version."""
    return any(
        r.action and r.method == method and r.pattern.match(path) for r in ROUTES
    )


def wrap(value: Any) -> dict[str, Any]:
    """``{"data": value}``, the envelope VALT puts around most answers."""
    return {"data": value}
