"""The room's cameras: from VALT's camera list (kept a while: it costs a request),
from ``[camera:NAME]`` sections, or both; one VapixCamera each, kept between actions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ivs_accessory.cameras.vapix import VapixCamera
from ivs_accessory.errors import ValtError
from ivs_accessory.valt.deadline import Watchdog
from ivs_accessory.valt.models import CameraLogin

logger = logging.getLogger(__name__)

SOURCES = ("none", "valt", "config", "both")
_RETRY_S = 60  # VALT's list is asked for again this soon after a failure


@dataclass(frozen=True)
class CameraSpec:
    """Where a camera is and how to log in; the password stays out of reprs."""

    name: str
    host: str
    username: str
    password: str = field(repr=False)
    port: int | None = None
    https: bool = False
    verify_tls: bool = True
    origin: str = "config"  # "config" or "valt"

    @property
    def where(self) -> tuple[str, int | None, bool]:
        return (self.host, self.port, self.https)


def spec_from_login(login: CameraLogin) -> CameraSpec | None:
    """The spec of a camera VALT lists (its ``ip`` may carry a scheme or a port;
    ``http_port`` wins); None when VALT gives it no usable address."""
    text = login.ip.strip()
    https = text.lower().startswith("https://")
    try:
        parts = urlsplit(text if "://" in text else "//" + text)
        host, port = parts.hostname, parts.port
    except ValueError:
        host, port = None, None
    if not host:
        logger.warning("camera %r in VALT has no usable address; left out", login.name)
        return None
    return CameraSpec(
        login.name or f"camera {login.id}",
        host,
        login.username,
        login.password,
        port=login.http_port or port,
        https=https,
        origin="valt",
    )


class CameraRoster:
    """Which cameras the room has, asked for by each camera action.

    Args:
        source: none, valt, config or both (``[privacy] cameras``).
        configured: the ``[camera:NAME]`` sections.
        list_valt: reads VALT's camera list of the room (1 request); raises
            ValtError.
        list_s: how long a list read from VALT is used before it is read again
            (0: before every action). A camera that refuses its credentials makes
            the next action read it again (the password may have changed in VALT).
        timeout_s: each camera's deadline for one action.
        camera_factory: builds a VapixCamera from a spec and the deadline, with
            the roster's watchdog (one thread cuts every camera's late requests).
    """

    def __init__(
        self,
        source: str,
        configured: Sequence[CameraSpec] = (),
        list_valt: Callable[[], list[CameraSpec]] | None = None,
        *,
        list_s: float = 3600,
        timeout_s: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
        camera_factory: Callable[[CameraSpec, float, Watchdog], VapixCamera]
        | None = None,
    ) -> None:
        if source not in SOURCES:
            raise ValueError(f"camera source {source!r} is not one of {SOURCES}")
        self.source = source
        self._configured = list(configured) if source in ("config", "both") else []
        self._list_valt = list_valt if source in ("valt", "both") else None
        self.list_s = list_s
        self.timeout_s = timeout_s
        self._clock = clock
        self._factory = camera_factory or _vapix_camera
        self._listed: list[CameraSpec] | None = None
        self._listed_at = -float("inf")
        self._cameras: dict[tuple[object, ...], VapixCamera] = {}
        self._lock = threading.Lock()
        self._watchdog = Watchdog(clock, name="camera-deadline")
        self.list_error: str | None = None

    @property
    def in_use(self) -> bool:
        """False when the door has no cameras to look after (source none)."""
        return self.source != "none"

    @property
    def reads_valt(self) -> bool:
        return self._list_valt is not None

    def list_due(self) -> bool:
        """True when the next :meth:`cameras` will read VALT's list."""
        return self.reads_valt and (
            self._listed is None or self._clock() - self._listed_at >= self.list_s
        )

    def cameras(self) -> list[VapixCamera]:
        """The room's cameras now (VALT's list read first when due).

        Raises:
            ValtError: VALT's list is needed, cannot be read, none was read before
                and there are no sections' cameras (an older list, or the sections'
                cameras alone, serve with a warning otherwise).
        """
        specs = list(self._configured)
        if self._list_valt is not None:
            taken = {s.where for s in specs}  # a section for a camera wins
            specs += [s for s in self._valt_specs() if s.where not in taken]
        with self._lock:
            return self._keep(specs)

    def known(self) -> list[VapixCamera]:
        """The cameras of the last :meth:`cameras`, without asking anyone."""
        with self._lock:
            return list(self._cameras.values())

    def credentials_refused(self) -> None:
        """A VALT camera refused its login: read VALT's list at the next action."""
        self._listed_at = -float("inf")

    def close(self) -> None:
        """Cut the cameras' requests in progress, close their connections, stop
        the deadline thread."""
        self._watchdog.cut_all()
        with self._lock:
            cameras, self._cameras = list(self._cameras.values()), {}
        for camera in cameras:
            camera.close()
        self._watchdog.close()

    def _valt_specs(self) -> list[CameraSpec]:
        assert self._list_valt is not None
        if self.list_due():
            try:
                self._listed = self._list_valt()
                self.list_error = None
            except ValtError as exc:
                self.list_error = str(exc)
                if self._listed is None and not self._configured:
                    raise
                # The sections' cameras (source both) need no VALT: they go on.
                logger.warning(
                    "VALT's camera list not read; using what is known: %s", exc
                )
                # Asked again within a minute, not after the whole list_s.
                self._listed_at = self._clock() - self.list_s + _RETRY_S
                return list(self._listed or [])
            self._listed_at = self._clock()
        return list(self._listed or [])

    def _keep(self, specs: list[CameraSpec]) -> list[VapixCamera]:
        """The cameras for ``specs``, reusing those whose login is unchanged (they
        remember the audio gain they had before privacy)."""
        kept: dict[tuple[object, ...], VapixCamera] = {}
        for spec in specs:
            key = (
                spec.origin,
                spec.name,
                spec.host,
                spec.port,
                spec.https,
                spec.username,
            )
            camera = self._cameras.pop(key, None)
            if camera is None or not camera.has_password(spec.password):
                old, camera = (
                    camera,
                    self._factory(spec, self.timeout_s, self._watchdog),
                )
                if old is not None:  # a new password: the same camera otherwise
                    camera.gain_before = old.gain_before
                    old.close()
            kept[key] = camera
        for gone in self._cameras.values():
            gone.close()
        self._cameras = kept
        return list(kept.values())


def _vapix_camera(
    spec: CameraSpec, timeout_s: float, watchdog: Watchdog
) -> VapixCamera:
    return VapixCamera(
        spec.name,
        spec.host,
        spec.username,
        spec.password,
        port=spec.port,
        https=spec.https,
        verify_tls=spec.verify_tls,
        timeout_s=timeout_s,
        watchdog=watchdog,
    )
