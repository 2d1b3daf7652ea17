"""What each part of the daemon is given, drawn from a loaded configuration."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from ivs_accessory.cameras.roster import CameraRoster, CameraSpec, spec_from_login
from ivs_accessory.config import Config
from ivs_accessory.door.lamp import LampSettings
from ivs_accessory.door.mapping import MappingSettings
from ivs_accessory.door.outcome import ActionSettings
from ivs_accessory.door.privacy import RoomPrivacy
from ivs_accessory.valt.client import ValtClient


def hung_after_s(config: Config) -> float:
    """How long the dispatcher may spend on one event before it counts as hung.

    One input makes at most about 7 VALT calls in a row (login, version, user,
    status, action, and a 401's re-login and retry), each bounded by the timeout.
    With cameras, a privacy toggle waits for them twice (read, then set), each
    within the cameras' deadline.
    """
    valt = 8 * float(config["valt"]["timeout_s"])
    privacy = config["privacy"]
    cameras = (
        2 * float(privacy["camera_timeout_s"]) + 2
        if privacy["cameras"] != "none"
        else 0
    )
    return max(30.0, valt + cameras)


# The room's status is read this often when nothing else says: every 10 s while a
# door screen or a lamp shows it (a change made in VALT's own UI shows there within
# that), every 60 s on a box that only has a keypad (1 idle request a minute).
WATCHED_REFRESH_S, IDLE_REFRESH_S = 10.0, 60.0


def shows_room(config: Config) -> bool:
    """True when a door screen or a lamp is configured to show the room's state.

    A screen is ``[door] screen`` (the kiosk install sets it) or ``[door] keypad``
    (an on-screen pad needs a screen); the lamp is ``[lamp] enabled``, read with a
    default so a configuration without that section works.
    """
    door = config.get("door") or {}
    lamp = config.get("lamp") or {}
    return bool(door.get("screen") or door.get("keypad") or lamp.get("enabled"))


def status_refresh_s(config: Config, watched: bool = False) -> float:
    """Seconds between two reads of the room's status.

    ``[mapping] status_refresh_s`` when set (the integrator's choice, kept whatever
    shows the room); otherwise WATCHED_REFRESH_S when a screen or lamp is configured
    or ``watched`` (a /door page is open now), else IDLE_REFRESH_S.
    """
    chosen = config["mapping"]["status_refresh_s"]
    if chosen is not None:
        return float(chosen)
    if watched or shows_room(config):
        return WATCHED_REFRESH_S
    return IDLE_REFRESH_S


def mapping_settings(config: Config) -> MappingSettings:
    """The mapper's settings from ``[mapping]`` and ``[bindings]``."""
    m = config["mapping"]
    return MappingSettings(
        mode=m["mode"],
        pin_length=m["pin_length"],
        entry_timeout_s=m["entry_timeout_ms"] / 1000,
        repeat_window_s=m["repeat_window_ms"] / 1000,
        hold_s=m["hold_ms"] / 1000,
        bindings=dict(config.bindings),
    )


def action_settings(config: Config) -> ActionSettings:
    """The actions' settings from ``[valt]`` and ``[mapping]``."""
    v, m = config["valt"], config["mapping"]
    return ActionSettings(
        room=v["room"],
        recording_name=v["recording_name"],
        marker_name=v["marker_name"],
        marker_colour=v["marker_colour"],
        busy_action=m["busy_action"],
        match_reading=m["match_reading"],
        repeat_window_s=m["repeat_window_ms"] / 1000,
        max_wait_s=m["max_wait_ms"] / 1000,
        prefetch_users=m["prefetch_users"],
    )


def lamp_settings(config: Config) -> LampSettings | None:
    """The lamp's settings from ``[lamp]`` (blinks as long as ``[feedback]
    result_ms``), or None when the lamp is off."""
    lamp = config["lamp"]
    if not lamp["enabled"]:
        return None
    return LampSettings.from_section(lamp, config["feedback"]["result_ms"] / 1000)


def valt_client(
    config: Config, factory: Callable[..., ValtClient] = ValtClient
) -> ValtClient | None:
    """A client for ``[valt]``, or None while no server is configured."""
    v = config["valt"]
    if not v["server"]:
        return None
    return factory(
        v["server"],
        v["username"],
        v["password"],
        timeout=v["timeout_s"],
        verify_tls=v["verify_tls"],
        ca_file=v["ca_file"] or None,
        success_reauth_time=v["success_reauth_s"],
        failure_reauth_time=v["failure_reauth_s"],
    )


def room_privacy(
    config: Config,
    client: ValtClient | None,
    clock: Callable[[], float] = time.monotonic,
) -> RoomPrivacy | None:
    """Privacy and presets for the room, from ``[privacy]`` and ``[camera:NAME]``;
    None without a VALT client and room (no input gets that far then)."""
    p, room = config["privacy"], config["valt"]["room"]
    if client is None or room is None:
        return None
    configured = [
        CameraSpec(
            name,
            v["address"],
            v["username"],
            v["password"],
            port=v["port"],
            https=v["https"],
            verify_tls=v["verify_tls"],
        )
        for name, v in sorted(config.cameras.items())
    ]

    def list_valt() -> list[CameraSpec]:
        specs = (spec_from_login(login) for login in client.camera_logins(room))
        return [spec for spec in specs if spec is not None]

    roster = CameraRoster(
        p["cameras"],
        configured,
        list_valt,
        list_s=p["camera_list_s"],
        timeout_s=p["camera_timeout_s"],
        clock=clock,
    )
    return RoomPrivacy(roster, p["on_start"], p["camera_check_s"], clock)


class PrivacyCache:
    """The room's RoomPrivacy, built again only when ``[privacy]``, the cameras,
    the room or the VALT client change: a reload that keeps it keeps what the door
    knows of the cameras (their privacy, the gain before muting)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._made: tuple[tuple[Any, ...], RoomPrivacy | None] | None = None

    def get(self, config: Config, client: ValtClient | None) -> RoomPrivacy | None:
        cameras = tuple(
            sorted((n, tuple(sorted(v.items()))) for n, v in config.cameras.items())
        )
        privacy = tuple(sorted(config["privacy"].items()))
        key = (privacy, config["valt"]["room"], cameras, id(client))
        if self._made is None or self._made[0] != key:
            self._made = (key, room_privacy(config, client, self._clock))
        return self._made[1]

    def forget(self) -> None:
        """Build a new one next time (the last one was not put in use)."""
        self._made = None


def close_unused(
    old: Any, running: Any, stop: Callable[[str, Callable[[], object]], None]
) -> None:
    """Close the cameras of ``old`` actions' privacy unless the ``running`` actions
    use the same (``stop`` logs a failure rather than raise it)."""
    privacy = getattr(old, "privacy", None)
    if privacy is not None and privacy is not getattr(running, "privacy", None):
        stop("the cameras", privacy.close)


def lockout_file(config: Config) -> str | None:
    """Where the lockout is kept: ``[lockout] state_file``, else beside the audit
    log (the state folder), else nowhere."""
    chosen: str = config["lockout"]["state_file"]
    audit: str = config["logging"]["audit_file"]
    if chosen:
        return chosen
    return os.path.join(os.path.dirname(audit), "lockout.json") if audit else None


LOCKOUT_KEYS = (
    "max_failures",
    "base_s",
    "max_s",
    "window_failures",
    "window_s",
    "state_file",
)


def connection(config: Config) -> tuple[Any, ...]:
    v = config["valt"]
    return tuple(
        v[k]
        for k in (
            "server",
            "username",
            "password",
            "timeout_s",
            "verify_tls",
            "ca_file",
            "success_reauth_s",
            "failure_reauth_s",
        )
    )
