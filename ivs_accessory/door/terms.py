"""The words a config may use for the door: binding actions and input modes (a leaf)."""

from __future__ import annotations

ACTIONS = (
    "toggle",
    "start",
    "stop",
    "pause",
    "resume",
    "marker",
    "lock",
    "unlock",
    "privacy_toggle",
)
MODES = ("pin", "card", "both")
