"""The simulated server's directory: users and their login tokens, and schedules."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from ivs_accessory.valtsim.refusals import SimError


class DirectoryMixin:
    """Directory methods of :class:`~ivs_accessory.valtsim.state.SimState`."""

    # SimState sets these up (reset() rebuilds the dicts); declared here so that
    # what this part needs from SimState is visible.
    lock: threading.RLock
    clock: Callable[[], float]
    token_lifetime_s: float
    users: dict[int, dict[str, Any]]
    tokens: dict[str, tuple[int, float]]
    schedule_items: dict[int, dict[str, Any]]
    at_least: Callable[..., bool]
    card_numbers_listed: bool

    # -- tokens ----------------------------------------------------------------
    def login(self, username: Any, password: Any) -> str:
        """Return the user's still-valid token, or a new one (reference §1.3)."""
        if not isinstance(username, str) or not isinstance(password, str):
            raise SimError(400, "login needs 'username' and 'password' strings")
        with self.lock:
            user = next((u for u in self.users.values() if u["name"] == username), None)
            if user is None or not secrets.compare_digest(
                user["password"].encode(), password.encode()
            ):
                raise SimError(401, "invalid username or password")
            now = self.clock()
            for token, (user_id, expires) in list(self.tokens.items()):
                if user_id == user["id"] and expires > now:
                    return token
            token = secrets.token_hex(16)
            self.tokens[token] = (user["id"], now + self.token_lifetime_s)
            return token

    def user_for_token(self, token: str | None) -> dict[str, Any]:
        """The user a valid token belongs to; 401 when missing, unknown or expired."""
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None:
                raise SimError(401, "missing or invalid access_token")
            user_id, expires = entry
            if expires <= self.clock():
                del self.tokens[token or ""]
                raise SimError(401, "access_token expired")
            user = self.users.get(user_id)
            if user is None:
                raise SimError(401, "the token's user no longer exists")
            return user

    def peek_user(self, token: str | None) -> dict[str, Any] | None:
        """The user of a currently valid token, or None; changes nothing."""
        with self.lock:
            entry = self.tokens.get(token or "")
            if entry is None or entry[1] <= self.clock():
                return None
            return self.users.get(entry[0])

    def revoke_tokens(self, user_id: int | None = None) -> None:
        """Forget every token (of one user, or of everyone)."""
        with self.lock:
            for token, (owner, _) in list(self.tokens.items()):
                if user_id is None or owner == user_id:
                    del self.tokens[token]

    def token_for(self, username: str) -> str | None:
        """The current token of a user, if any (for tests)."""
        with self.lock:
            now = self.clock()
            for token, (owner, expires) in self.tokens.items():
                user = self.users.get(owner)
                if user and user["name"] == username and expires > now:
                    return token
        return None

    # -- users -------------------------------------------------------------------
    def user_json(self, user: dict[str, Any]) -> dict[str, Any]:
        """A user as the server lists it; 6.5+ omits ``card_number`` unless told
        otherwise (our choice: the reference does not know)."""
        shown = {
            "id": user["id"],
            "name": user["name"],
            "displayName": user["displayName"],
            "admin": bool(user.get("admin")),
        }
        if self.card_numbers_listed:
            shown["card_number"] = user["card_number"]
        return shown

    def user(self, user_id: int) -> dict[str, Any]:
        user = self.users.get(user_id)
        if user is None:
            raise SimError(404, f"user {user_id} not found")
        return user

    # -- schedules ---------------------------------------------------------------
    def schedules(self) -> list[dict[str, Any]]:
        """Every schedule, for tests.

        Each is ``{id, name, start_at, stop_at, room, rooms}``.
        """
        with self.lock:
            return [
                {
                    "id": s["id"],
                    "name": s.get("name", ""),
                    "start_at": s["start_at"],
                    "stop_at": s["stop_at"],
                    "room": (s.get("rooms") or [None])[0],
                    "rooms": list(s.get("rooms", [])),
                }
                for s in self.schedule_items.values()
            ]

    def schedule_json(self, item: dict[str, Any]) -> dict[str, Any]:
        """One schedule in the version's shape.

        ``room: {id}`` before 6.5, ``rooms: [{id}]`` from 6.5.
        """
        shown = {
            "id": item["id"],
            "name": item.get("name", ""),
            "start_at": item["start_at"],
            "stop_at": item["stop_at"],
        }
        rooms = list(item.get("rooms", []))
        if self.at_least(6, 5):
            shown["rooms"] = [{"id": r} for r in rooms]
        else:
            shown["room"] = {"id": rooms[0]} if rooms else None
        return shown
