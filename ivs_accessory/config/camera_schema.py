"""The ``[camera:NAME]`` sections (a room's Axis cameras by hand) and ``[privacy]``."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping

from ivs_accessory.config.section import Errors, Section, Values
from ivs_accessory.config.types import (
    Boolean,
    Choice,
    Float,
    Integer,
    Secret,
    String,
)

CAMERA_PREFIX = "camera:"
CAMERA_SOURCES = ("none", "valt", "config", "both")
# A camera's name is shown at the door: letters, digits, spaces and - _ . ( ).
_CAMERA_NAME = re.compile(r"[\w .()-]{1,40}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


class CameraHost(String):
    """A camera's host name or IP address, alone: no scheme, port, path or login."""

    example = "192.168.1.20"

    def __init__(self) -> None:
        super().__init__(example=self.example)

    def deserialize(self, text: str) -> str:
        value = super().deserialize(text)
        if "://" in value or "/" in value or "@" in value:
            raise ValueError(
                "must be the camera's address alone, e.g. 192.168.1.20 or "
                "cam1.example.org (set https and port as keys of their own)"
            )
        try:
            return str(ipaddress.ip_address(value.strip("[]")))
        except ValueError:
            pass
        if ":" in value:
            raise ValueError("write the port as its own key: port = 8080")
        labels = value.rstrip(".").split(".")
        if len(value) > 253 or not all(_HOST_LABEL.fullmatch(p) for p in labels):
            raise ValueError("must be a host name or an IP address, e.g. 192.168.1.20")
        return value


CAMERA_SCHEMA = Section(
    {
        "address": CameraHost(),
        "port": Integer(1, 65535, optional=True, default=""),
        "https": Boolean(default="false"),
        "verify_tls": Boolean(default="true"),
        "username": String(example="root", default="root"),
        "password": Secret(default=""),
    }
)
"""``[camera:NAME]`` keys; ``port`` empty means 80 (443 with https)."""

PRIVACY_SCHEMA = Section(
    {
        "cameras": Choice(CAMERA_SOURCES, default="none"),
        "on_start": Choice(("refuse", "clear"), default="refuse"),
        "camera_timeout_s": Float(0.5, 30, unit="seconds", default="5"),
        "camera_list_s": Integer(0, 86_400, unit="seconds", default="3600"),
        "camera_check_s": Integer(0, 86_400, unit="seconds", default="300"),
    }
)
"""``[privacy]``: where the room's cameras come from and how privacy behaves."""


def validate_camera(label: str, raw: Mapping[str, str]) -> tuple[Values, Errors]:
    """Check one ``[camera:NAME]`` section: its name and keys (a bad name is under
    the key ``""``)."""
    name = label[len(CAMERA_PREFIX) :]
    if not _CAMERA_NAME.fullmatch(name) or not name.strip():
        return {}, {
            "": f"section [{label}]: a camera name has 1 to 40 letters, digits, "
            f"spaces and - _ . ( ), e.g. [camera:Hall cam]"
        }
    return CAMERA_SCHEMA.validate(label, raw)


def cameras_problem(cameras: str | None, configured: int) -> str | None:
    """The error when ``[privacy] cameras`` asks for sections that do not exist."""
    if cameras == "config" and configured == 0:
        return (
            "[privacy] cameras = config: there is no [camera:NAME] section; add one "
            "(address, username, password) or use cameras = valt"
        )
    return None
