"""Simulator seed data: the built-in default and loading/validating a JSON data file."""

from __future__ import annotations

import copy
import json
from typing import Any

# 2026-12-01 09:00 UTC; the default schedules sit on that day so they are stable in
# tests.
_DAY = 1796115600
_HOUR = 3600

_DEFAULT: dict[str, Any] = {
    "users": [
        {
            "id": 1,
            "name": "admin",
            "password": "admin",
            "displayName": "Administrator",
            "admin": True,
            "card_number": "",
        },
        {
            "id": 2,
            "name": "asmith",
            "password": "alice",
            "displayName": "Alice Smith",
            "admin": False,
            "card_number": "123456",
        },
        {
            "id": 3,
            "name": "bjones",
            "password": "bob",
            "displayName": "Bob Jones",
            "admin": False,
            "card_number": "654321",
        },
        # Leading zeros are part of the card number (a 10-digit EM4100 reading).
        {
            "id": 4,
            "name": "cnguyen",
            "password": "carol",
            "displayName": "Carol Nguyen",
            "admin": False,
            "card_number": "0004921746",
        },
        {
            "id": 5,
            "name": "dpatel",
            "password": "dev",
            "displayName": "Dev Patel",
            "admin": False,
            "card_number": "13579",
        },
    ],
    "rooms": [
        {"id": 1, "name": "Interview Room 1"},
        {"id": 2, "name": "Interview Room 2"},
        {"id": 3, "name": "Simulation Lab"},
        {"id": 4, "name": "Exam Room"},
    ],
    "cameras": [
        {
            "id": 11,
            "name": "Room 1 wide",
            "ip": "10.10.1.11",
            "username": "root",
            "password": "cam-one",
            "rooms": [1],
        },
        {
            "id": 12,
            "name": "Room 1 table",
            "ip": "10.10.1.12",
            "username": "root",
            "password": "cam-two",
            "rooms": [1],
        },
        {
            "id": 21,
            "name": "Room 2 wide",
            "ip": "10.10.2.21",
            "username": "root",
            "password": "cam-three",
            "rooms": [2],
        },
        {
            "id": 31,
            "name": "Lab overhead",
            "ip": "10.10.3.31",
            "username": "root",
            "password": "cam-four",
            "rooms": [3],
        },
    ],
    # Deliberately out of order: clients must sort.
    "schedules": [
        {
            "id": 1,
            "name": "Afternoon interview",
            "start_at": _DAY + 5 * _HOUR,
            "stop_at": _DAY + 6 * _HOUR,
            "rooms": [1],
        },
        {
            "id": 2,
            "name": "Morning interview",
            "start_at": _DAY,
            "stop_at": _DAY + _HOUR,
            "rooms": [1],
        },
        {
            "id": 3,
            "name": "Ward round drill",
            "start_at": _DAY + 2 * _HOUR,
            "stop_at": _DAY + 4 * _HOUR,
            "rooms": [3],
        },
        {
            "id": 4,
            "name": "Late interview",
            "start_at": _DAY + 8 * _HOUR,
            "stop_at": _DAY + 9 * _HOUR,
            "rooms": [1],
        },
    ],
    "groups": [
        {"id": 1, "name": "Instructors", "rooms": [1, 2, 3, 4]},
    ],
    "templates": [
        {"id": 1, "name": "Session information", "type": "info"},
        {"id": 2, "name": "Live comment", "type": "marker"},
    ],
}

_USER_KEYS = {"id": int, "name": str, "password": str}


class SimDataError(ValueError):
    """A simulator data file that cannot be used; the message names the entry and the
    fix."""


def default_data() -> dict[str, Any]:
    """A fresh copy of the built-in data (admin/admin, rooms 1-4, users with cards)."""
    return copy.deepcopy(_DEFAULT)


def load_data(path: str) -> dict[str, Any]:
    """Read a JSON data file; missing sections come from the default data."""
    try:
        with open(path, encoding="utf-8") as handle:
            loaded = json.load(handle)
    except OSError as exc:
        raise SimDataError(
            f"cannot read simulator data {path}: {exc.strerror}"
        ) from None
    except json.JSONDecodeError as exc:
        raise SimDataError(
            f"simulator data {path} is not JSON (line {exc.lineno}: {exc.msg})"
        ) from None
    if not isinstance(loaded, dict):
        raise SimDataError(
            f"simulator data {path} must be a JSON object with 'users', 'rooms'"
        )
    data = default_data()
    data.update(loaded)
    return check_data(data, path)


def check_data(data: dict[str, Any], origin: str = "data") -> dict[str, Any]:
    """Validate the sections the simulator relies on and normalise schedule rooms."""
    for section in ("users", "rooms", "cameras", "schedules", "groups", "templates"):
        if not isinstance(data.get(section, []), list):
            raise SimDataError(f"{origin}: '{section}' must be a list")
        data.setdefault(section, [])
    for index, user in enumerate(data["users"]):
        for key, kind in _USER_KEYS.items():
            if not isinstance(user, dict) or not isinstance(user.get(key), kind):
                raise SimDataError(
                    f"{origin}: users[{index}] needs '{key}' as {kind.__name__}"
                )
        user.setdefault("displayName", user["name"])
        user.setdefault("admin", False)
        user["card_number"] = str(user.get("card_number") or "")
    for section in ("rooms", "cameras", "schedules", "groups", "templates"):
        for index, item in enumerate(data[section]):
            if not isinstance(item, dict) or not isinstance(item.get("id"), int):
                raise SimDataError(
                    f"{origin}: {section}[{index}] needs an integer 'id'"
                )
    for index, item in enumerate(data["schedules"]):
        if "room" in item and "rooms" not in item:
            item["rooms"] = [item.pop("room")]
        if not all(isinstance(r, int) for r in item.get("rooms", [])):
            raise SimDataError(f"{origin}: schedules[{index}].rooms must be room ids")
    _check_unique(data, origin)
    return data


def _check_unique(data: dict[str, Any], origin: str) -> None:
    for section in ("users", "rooms", "cameras", "schedules", "groups", "templates"):
        ids = [item["id"] for item in data[section]]
        duplicated = sorted({i for i in ids if ids.count(i) > 1})
        if duplicated:
            raise SimDataError(f"{origin}: {section} ids {duplicated} appear twice")
    names = [u["name"] for u in data["users"]]
    duplicated_names = sorted({n for n in names if names.count(n) > 1})
    if duplicated_names:
        raise SimDataError(f"{origin}: user names {duplicated_names} appear twice")
