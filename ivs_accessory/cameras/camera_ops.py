"""What the door does to one camera: privacy on or off with every setting read back,
its privacy state, and a move to a PTZ preset."""

from __future__ import annotations

from dataclasses import dataclass

from ivs_accessory.cameras.vapix import Capabilities, VapixCamera
from ivs_accessory.errors import CameraNotApplied, CameraUnsupported

# Our full-frame mask has a name of its own, so masks an integrator drew stay.
MASK_NAME = "ivs-accessory-privacy"
GAIN = "root.AudioSource.A0.InputGain"
PTZ_AXES = tuple(
    f"root.PTZ.Various.V1.{axis}Enabled" for axis in ("Pan", "Tilt", "Zoom")
)
# The gain the audio input gets back when the door never saw it before muting
# (after a restart): 0 dB, what the vendor's panel always restores.
DEFAULT_GAIN = "0"


class NotPtz(CameraUnsupported):
    """A fixed camera asked to move to a preset: it is left out, not a failure."""


@dataclass(frozen=True)
class PrivacyReading:
    """A camera's privacy settings as read back.

    Attributes:
        mask: our full-frame mask exists, is enabled and covers the view.
        muted: the audio input is muted (None: the model has no audio input).
        ptz_enabled: pan, tilt, zoom enabled each (None: not a PTZ camera).
    """

    mask: bool
    muted: bool | None
    ptz_enabled: tuple[bool, ...] | None

    @property
    def private(self) -> bool:
        """Video masked, audio muted, PTZ disabled (what the model has of them)."""
        ptz_off = self.ptz_enabled is None or not any(self.ptz_enabled)
        return self.mask and self.muted is not False and ptz_off

    @property
    def public(self) -> bool:
        """No mask of ours, audio not muted, PTZ enabled."""
        ptz_on = self.ptz_enabled is None or all(self.ptz_enabled)
        return not self.mask and self.muted is not True and ptz_on


def read_privacy(camera: VapixCamera) -> PrivacyReading:
    """The camera's privacy settings now (2 or 3 requests; call in an operation)."""
    caps = camera.read_capabilities()
    masks = camera.masks() if caps.privacy_masks else []
    values = camera.params(*_groups(caps)) if _groups(caps) else {}
    ours = [m for m in masks if m.name == MASK_NAME]
    return PrivacyReading(
        mask=bool(ours) and ours[0].enabled and ours[0].corners > 0,
        muted=(values[GAIN] == "mute") if caps.audio and GAIN in values else None,
        ptz_enabled=tuple(values.get(a) == "true" for a in PTZ_AXES)
        if caps.ptz
        else None,
    )


def set_privacy(camera: VapixCamera, on: bool) -> PrivacyReading:
    """Privacy on (mask, mute, PTZ off) or off (the reverse), then read back.

    The mask goes first: the picture is covered before anything else. A model
    without privacy masks is left as it is (privacy on cannot be had there).

    Raises:
        CameraUnsupported: privacy on, and the model has no privacy masks.
        CameraNotApplied: the camera accepted a change that the read-back does
            not show.
        CameraError: any other failure of a request.
    """
    caps = camera.read_capabilities()
    if on and not caps.privacy_masks:
        raise CameraUnsupported("has no privacy masks; nothing was changed")
    if caps.privacy_masks:
        _set_mask(camera, on)
    values = camera.params(*_groups(caps)) if _groups(caps) else {}
    changes = _changes(camera, caps, values, on)
    if changes:
        camera.update(changes)
    reading = read_privacy(camera)
    _confirm(reading, on)
    return reading


def goto_preset(camera: VapixCamera, name: str) -> None:
    """Move a PTZ camera to the preset ``name`` (the move is not waited for).

    Raises:
        NotPtz: a fixed camera.
        CameraUnsupported: the camera has no preset of that name.
        CameraError: any other failure.
    """
    if not camera.read_capabilities().ptz:
        raise NotPtz("is not a PTZ camera")
    if name not in camera.presets():
        raise CameraUnsupported(f"has no preset '{name}'")
    camera.goto_preset(name)


def _groups(caps: Capabilities) -> list[str]:
    groups = []
    if caps.audio:
        groups.append(GAIN.removeprefix("root."))
    if caps.ptz:
        groups.append("PTZ.Various.V1")
    return groups


def _set_mask(camera: VapixCamera, on: bool) -> None:
    ours = [m for m in camera.masks() if m.name == MASK_NAME]
    if on and ours and ours[0].enabled and ours[0].corners > 0:
        return  # already covering the view
    if ours:
        camera.mask_command({"action": "remove", "name": MASK_NAME})
    if on:
        camera.mask_command(
            {
                "action": "add",
                "name": MASK_NAME,
                "width": "100",
                "height": "100",
                "center": "50,50",
            }
        )


def _changes(
    camera: VapixCamera, caps: Capabilities, values: dict[str, str], on: bool
) -> dict[str, str]:
    """The parameter updates that privacy on (off) still needs."""
    changes: dict[str, str] = {}
    gain = values.get(GAIN)
    if caps.audio and gain is not None:
        if on and gain != "mute":
            camera.gain_before = gain
            changes[GAIN] = "mute"
        elif not on and gain == "mute":
            changes[GAIN] = camera.gain_before or DEFAULT_GAIN
    if caps.ptz:
        wanted = "false" if on else "true"
        changes.update({a: wanted for a in PTZ_AXES if values.get(a) != wanted})
    return {name.removeprefix("root."): value for name, value in changes.items()}


def _confirm(reading: PrivacyReading, on: bool) -> None:
    """Raise CameraNotApplied naming each setting the read-back contradicts."""
    wrong = []
    if on:
        if not reading.mask:
            wrong.append("the privacy mask")
        if reading.muted is False:
            wrong.append("the audio mute")
        if reading.ptz_enabled is not None and any(reading.ptz_enabled):
            wrong.append("the PTZ lock")
    else:
        if reading.mask:
            wrong.append("the mask's removal")
        if reading.muted is True:
            wrong.append("the audio unmute")
        if reading.ptz_enabled is not None and not all(reading.ptz_enabled):
            wrong.append("the PTZ unlock")
    if wrong:
        raise CameraNotApplied("accepted but did not apply " + " and ".join(wrong))
