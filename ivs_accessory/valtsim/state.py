"""SimState: everything the simulated server remembers, seeded from data, resettable."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from typing import Any

from ivs_accessory.valtsim.people import DirectoryMixin
from ivs_accessory.valtsim.refusals import ForbiddenTransition, SimError
from ivs_accessory.valtsim.rooms import STATUSES, Comment, Recording, Room, RoomsMixin

# SimError, ForbiddenTransition and the room types are part of this module's face:
# routes, the server and the control API import them from here.
__all__ = [
    "STATUSES",
    "Comment",
    "ForbiddenTransition",
    "Recording",
    "Room",
    "SimError",
    "SimState",
    "parse_version",
]


def parse_version(text: str) -> tuple[int, int, int]:
    """``"6.5.0"`` -> (6, 5, 0); missing parts are 0."""
    parts = str(text).strip().split(".")
    try:
        numbers = [int(p) for p in parts[:3]]
    except ValueError:
        raise ValueError(
            f"VALT version {text!r} is not dotted numbers like 6.6.0"
        ) from None
    return tuple(numbers + [0] * (3 - len(numbers)))  # type: ignore[return-value]


class SimState(RoomsMixin, DirectoryMixin):
    """Everything the server remembers; every method is safe from several threads.

    Args:
        data: seed data (see :mod:`ivs_accessory.valtsim.data`).
        version: the VALT version this server reports.
        clock: seconds, monotonic; drives recording time and token expiry.
        token_lifetime_s: how long a token stays valid after login.
        reset_time_on_resume: whether resume restarts the recording time at 0
            (the reference leaves this unknown, §4).
        marker_colours: allow-list for 5.x marker colours; None accepts any
            non-empty string.
        card_numbers_listed: whether user objects carry ``card_number``; None
            means before 6.5 only (whether 6.5+ lists them is unknown, §2.2).
    """

    def __init__(
        self,
        data: dict[str, Any],
        *,
        version: str,
        clock: Callable[[], float],
        token_lifetime_s: float,
        reset_time_on_resume: bool,
        marker_colours: list[str] | None,
        card_numbers_listed: bool | None = None,
    ) -> None:
        self.version_text = version
        self.version = parse_version(version)
        self.card_numbers_listed = (
            not self.at_least(6, 5)
            if card_numbers_listed is None
            else card_numbers_listed
        )
        self.clock = clock
        self.token_lifetime_s = token_lifetime_s
        self.reset_time_on_resume = reset_time_on_resume
        self.marker_colours = marker_colours
        self._seed = copy.deepcopy(data)
        self.lock = threading.RLock()
        self.reset()

    # -- whole state -----------------------------------------------------------
    def reset(self) -> None:
        """Back to the seed data; all tokens, recordings and comments are forgotten."""
        data = copy.deepcopy(self._seed)
        with self.lock:
            self.users: dict[int, dict[str, Any]] = {u["id"]: u for u in data["users"]}
            self.rooms: dict[int, Room] = {
                r["id"]: Room(r["id"], str(r.get("name", f"Room {r['id']}")))
                for r in data["rooms"]
            }
            self.cameras = {c["id"]: c for c in data["cameras"]}
            self.schedule_items = {s["id"]: s for s in data["schedules"]}
            self.groups = {g["id"]: g for g in data["groups"]}
            self.templates = {t["id"]: t for t in data["templates"]}
            self.recordings: dict[int, Recording] = {}
            self.comments: dict[int, Comment] = {}
            self.tokens: dict[str, tuple[int, float]] = {}
            self._ids = {
                "recording": 1000,
                "comment": 0,
                "user": 100,
                "group": 100,
                "schedule": 100,
            }

    def next_id(self, kind: str) -> int:
        with self.lock:
            self._ids[kind] += 1
            return self._ids[kind]

    def at_least(self, major: int, minor: int = 0) -> bool:
        """True when the simulated version is ``major.minor`` or newer."""
        return self.version[:2] >= (major, minor)

    # -- inspection --------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as JSON-able data, without passwords or tokens."""
        with self.lock:
            return {
                "version": self.version_text,
                "rooms": [self.room_info(r) for r in sorted(self.rooms)],
                "recordings": [
                    {
                        "id": r.id,
                        "room": r.room,
                        "name": r.name,
                        "author": r.author,
                        "time": r.time(self.clock()),
                        "stopped": r.stopped,
                        "markers": self.markers(r.id),
                    }
                    for r in self.recordings.values()
                ],
                "users": [
                    self.user_json(u) | {"card_number": u["card_number"]}
                    for u in self.users.values()
                ],
                "groups": list(self.groups.values()),
                "schedules": self.schedules(),
                "tokens": len(self.tokens),
            }
