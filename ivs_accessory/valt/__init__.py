"""VALT REST API v3 client: ``ValtClient`` and the value objects it returns."""

from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import (
    DEFAULT_MARKER_COLOUR,
    MARKER_COLOURS,
    RETENTION_TYPES,
    Camera,
    Recording,
    Room,
    RoomInfo,
    RoomStatus,
    Schedule,
    ServerVersion,
    User,
)
from ivs_accessory.valt.transport import base_url, redact

__all__ = [
    "DEFAULT_MARKER_COLOUR",
    "MARKER_COLOURS",
    "RETENTION_TYPES",
    "Camera",
    "Recording",
    "Room",
    "RoomInfo",
    "RoomStatus",
    "Schedule",
    "ServerVersion",
    "User",
    "ValtClient",
    "base_url",
    "redact",
]
