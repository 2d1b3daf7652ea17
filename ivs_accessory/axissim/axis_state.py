"""The simulated camera's state: parameters, privacy masks, PTZ presets, and the VAPIX
rules for changing them (no HTTP here)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

# The largest image the simulated sensor gives; privacy mask corners are reported
# in these pixels (VAPIX gives them "in the max resolution of the camera").
WIDTH, HEIGHT = 1920, 1080
MAX_MASKS = 32  # Properties.PrivacyMask.MaxNbrOfPrivacyMasks
MAX_MASK_NAME = 128
MAX_PRESET_NAME = 31
# Characters VAPIX does not allow in a preset name.
PRESET_FORBIDDEN = set('"<>~:')

_BOOLEAN_WORDS = {"true", "false"}


class VapixError(Exception):
    """A request the camera refuses: answered ``200 OK`` with an ``Error:`` line."""


@dataclass
class Mask:
    """One privacy mask: its size and centre in percent of the image."""

    id: int
    name: str
    width: float
    height: float
    center: tuple[float, float] = (50.0, 50.0)
    enabled: bool = True

    def corners(self) -> list[dict[str, int]]:
        """The four corners in sensor pixels, clockwise from the upper left."""
        cx, cy = self.center[0] * WIDTH / 100, self.center[1] * HEIGHT / 100
        half_w, half_h = self.width * WIDTH / 200, self.height * HEIGHT / 200
        left, right = round(cx - half_w), round(cx + half_w)
        top, bottom = round(cy - half_h), round(cy + half_h)
        return [
            {"x": left, "y": top},
            {"x": right, "y": top},
            {"x": right, "y": bottom},
            {"x": left, "y": bottom},
        ]


@dataclass
class Features:
    """What the simulated model has; each can be switched off to test clients."""

    privacy_masks: bool = True
    ptz: bool = True
    audio: bool = True


@dataclass
class AxisState:
    """One camera: its parameter tree, masks and presets, behind one lock.

    Parameters are kept with their full names (``root.AudioSource.A0.InputGain``);
    requests may leave ``root.`` out, as VAPIX allows.
    """

    name: str = "AXIS Q6075 PTZ Network Camera (simulated)"
    features: Features = field(default_factory=Features)
    presets: list[str] = field(default_factory=lambda: ["Home", "Wide", "Table"])
    gain: str = "12"
    params: dict[str, str] = field(default_factory=dict)
    masks: dict[str, Mask] = field(default_factory=dict)
    position: str | None = "Home"
    lock: threading.RLock = field(default_factory=threading.RLock)
    _next_mask: int = 0

    def __post_init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Back to the model's factory state (masks gone, audio on, PTZ enabled)."""
        with self.lock:
            self.masks.clear()
            self._next_mask = 0
            self.position = self.presets[0] if self.presets else None
            self.params = self._factory_params()

    def _factory_params(self) -> dict[str, str]:
        f = self.features
        params = {
            "root.Brand.ProdFullName": self.name,
            "root.Brand.Brand": "AXIS",
            "root.Properties.API.HTTP.Version": "3",
            "root.Properties.PrivacyMask.PrivacyMask": _yes(f.privacy_masks),
            "root.Properties.PTZ.PTZ": _yes(f.ptz),
            "root.Properties.PTZ.DigitalPTZ": "no",
            "root.Properties.Audio.Audio": _yes(f.audio),
        }
        if f.privacy_masks:
            params["root.Properties.PrivacyMask.MaxNbrOfPrivacyMasks"] = str(MAX_MASKS)
            params["root.Properties.PrivacyMask.Query"] = "listpxjson,positionpxjson"
            params["root.Properties.PrivacyMask.MainSwitch"] = "yes"
            params["root.Image.I0.Overlay.MaskWindows.Color"] = "black"
        if f.audio:
            params["root.AudioSource.A0.Name"] = "Audio"
            params["root.AudioSource.A0.InputGain"] = self.gain
        if f.ptz:
            for axis in ("Pan", "Tilt", "Zoom"):
                params[f"root.PTZ.Various.V1.{axis}Enabled"] = "true"
        return params

    # -- param.cgi ---------------------------------------------------------------------
    def list_params(self, groups: list[str]) -> list[str]:
        """``root.X=value`` lines of the groups (all parameters without a group).

        Raises:
            VapixError: a group names no parameter (the whole answer is that error).
        """
        with self.lock:
            every = {**self.params, **self._mask_params()}
            if not groups:
                return [f"{k}={v}" for k, v in sorted(every.items())]
            lines: list[str] = []
            for group in groups:
                prefix = _full(group)
                found = [
                    f"{k}={v}"
                    for k, v in sorted(every.items())
                    if k == prefix or k.startswith(prefix + ".")
                ]
                if not found:
                    raise VapixError(f"Error -1 getting param in group '{group}'")
                lines += found
            return lines

    def update_params(self, changes: dict[str, str]) -> None:
        """Set every parameter in ``changes``, or none of them.

        Raises:
            VapixError: an unknown parameter or a value it does not take.
        """
        with self.lock:
            staged = {}
            for name, value in changes.items():
                full = _full(name)
                if full.startswith("root.Properties.") or full not in self.params:
                    raise VapixError(f"Error setting '{full}' to '{value}'!")
                if not _valid(full, value):
                    raise VapixError(f"Error setting '{full}' to '{value}'!")
                staged[full] = value
            self.params.update(staged)

    def _mask_params(self) -> dict[str, str]:
        prefix = "root.Image.I0.Overlay.MaskWindows"
        out = {}
        for index, mask in enumerate(self.masks.values()):
            out[f"{prefix}.M{index}.Name"] = mask.name
            out[f"{prefix}.M{index}.Enabled"] = _yes(mask.enabled)
        return out

    # -- privacymask.cgi ---------------------------------------------------------------
    def add_mask(
        self, name: str, width: float, height: float, center: tuple[float, float]
    ) -> None:
        """A new mask, enabled.

        Raises:
            VapixError: the name is taken or too long, or the camera is full.
        """
        with self.lock:
            if not name or len(name) > MAX_MASK_NAME:
                raise VapixError(f"name must be 1 to {MAX_MASK_NAME} characters")
            if name in self.masks:
                raise VapixError(f"a mask named '{name}' exists already")
            if len(self.masks) >= MAX_MASKS:
                raise VapixError(f"no room for more than {MAX_MASKS} masks")
            self.masks[name] = Mask(self._next_mask, name, width, height, center)
            self._next_mask += 1

    def remove_mask(self, name: str) -> None:
        """Raises VapixError when there is no such mask."""
        with self.lock:
            if self.masks.pop(name, None) is None:
                raise VapixError(f"no mask named '{name}'")

    def enable_masks(self, enabled: bool) -> None:
        """``enable_all`` / ``disable_all``."""
        with self.lock:
            for mask in self.masks.values():
                mask.enabled = enabled

    def list_masks(self) -> dict[str, Any]:
        """The ``query=listpxjson`` answer."""
        with self.lock:
            return {
                "listpx": [
                    {
                        "id": m.id,
                        "name": m.name,
                        "enabled": m.enabled,
                        "zoomlowlimit": 0,
                        "position": m.corners(),
                    }
                    for m in self.masks.values()
                ]
            }

    # -- ptz.cgi -----------------------------------------------------------------------
    def preset_lines(self) -> list[str]:
        """The ``query=presetposall`` answer, one line each."""
        with self.lock:
            lines = ["Preset Positions for camera 1"]
            lines += [f"presetposno{n}={p}" for n, p in enumerate(self.presets, 1)]
            return lines

    def goto_preset(self, name: str) -> None:
        """Move to a preset (the move is at once here).

        Raises:
            VapixError: PTZ is disabled, or there is no such preset.
        """
        with self.lock:
            if not self.ptz_enabled():
                raise VapixError("PTZ control is disabled on this camera")
            if name not in self.presets:
                raise VapixError(f"no preset named '{name}'")
            self.position = name

    def ptz_enabled(self) -> bool:
        """False when pan, tilt or zoom is disabled (``PTZ.Various.V1.*Enabled``)."""
        return all(
            self.params.get(f"root.PTZ.Various.V1.{axis}Enabled") == "true"
            for axis in ("Pan", "Tilt", "Zoom")
        )

    # -- for tests ---------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """What a test wants to check, in plain JSON."""
        with self.lock:
            return {
                "name": self.name,
                "features": {
                    "privacy_masks": self.features.privacy_masks,
                    "ptz": self.features.ptz,
                    "audio": self.features.audio,
                },
                "masks": self.list_masks()["listpx"],
                "gain": self.params.get("root.AudioSource.A0.InputGain"),
                "ptz_enabled": self.ptz_enabled() if self.features.ptz else None,
                "presets": list(self.presets),
                "position": self.position,
            }


def _full(name: str) -> str:
    return name if name.startswith("root.") else "root." + name


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _valid(name: str, value: str) -> bool:
    """Whether the parameter takes the value (the few with a known range)."""
    if name.endswith("Enabled") and name.startswith("root.PTZ."):
        return value in _BOOLEAN_WORDS
    if name.endswith(".InputGain"):
        return value == "mute" or _whole(value, -100, 100)
    return len(value) <= 1024


def _whole(text: str, low: int, high: int) -> bool:
    try:
        return low <= int(text) <= high
    except ValueError:
        return False
