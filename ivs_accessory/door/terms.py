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
    "privacy_on",
    "privacy_off",
)
MODES = ("pin", "card", "both")

# A binding may also move the room's PTZ cameras: ``preset:NAME``.
PRESET_PREFIX = "preset:"
PRESET_NAME_MAX = 31  # VAPIX: a server preset name has at most 31 characters
_PRESET_FORBIDDEN = '"<>~:'


def preset_problem(name: str) -> str | None:
    """Why ``name`` cannot be an Axis preset name, or None when it can."""
    if not name.strip():
        return "name the preset after 'preset:', e.g. preset:Wide"
    if len(name) > PRESET_NAME_MAX:
        return f"a preset name has at most {PRESET_NAME_MAX} characters"
    bad = sorted({c for c in name if c in _PRESET_FORBIDDEN or not c.isprintable()})
    if bad:
        return f"a preset name may not contain {' '.join(repr(c) for c in bad)}"
    return None
