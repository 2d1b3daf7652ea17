"""One operation on every camera of a room at once, each under its own deadline, so a
dead camera costs its deadline once and never blocks the door longer."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ivs_accessory.cameras.camera_ops import NotPtz, PrivacyReading
from ivs_accessory.cameras.vapix import VapixCamera
from ivs_accessory.errors import CameraAuthError, CameraError

logger = logging.getLogger(__name__)

# Beyond a camera's own deadline (its requests are cut then), the time its thread
# gets to notice and return.
_GRACE_S = 1.0

Work = Callable[[VapixCamera], PrivacyReading | None]


@dataclass(frozen=True)
class CameraResult:
    """How one camera took an operation.

    Attributes:
        name: the camera's name.
        ok: it did what was asked (read back where that applies).
        detail: when not ok (or skipped), what went wrong, in words that follow the
            name: "refused the credentials".
        skipped: the operation does not concern it (a fixed camera and a preset).
        reading: its privacy settings as read back, when the operation read them.
        auth_failed: it refused the credentials (those VALT lists may be stale).
    """

    name: str
    ok: bool
    detail: str = ""
    skipped: bool = False
    reading: PrivacyReading | None = None
    auth_failed: bool = False


def run_all(cameras: Sequence[VapixCamera], work: Work) -> list[CameraResult]:
    """Run ``work`` on every camera, each in its own thread and operation (one
    deadline per camera); results in the cameras' order.

    Returns once every camera answered or its deadline (plus a grace second) passed.
    """
    results: dict[int, CameraResult] = {}
    threads = []
    for index, camera in enumerate(cameras):
        # Plain threads: each lives for one operation, bounded by the camera's
        # deadline (its requests are cut then), and is joined below.
        thread = threading.Thread(
            target=_one,
            args=(index, camera, work, results),
            name=f"camera-{camera.name}",
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    end = time.monotonic() + max((c.timeout_s for c in cameras), default=0) + _GRACE_S
    for thread in threads:
        thread.join(max(0.0, end - time.monotonic()))
    return [
        results.get(index)
        or CameraResult(
            camera.name, False, f"did not answer within {camera.timeout_s:g} s"
        )
        for index, camera in enumerate(cameras)
    ]


def _one(
    index: int,
    camera: VapixCamera,
    work: Work,
    results: dict[int, CameraResult],
) -> None:
    try:
        with camera.operation():
            reading = work(camera)
        results[index] = CameraResult(camera.name, True, reading=reading)
    except NotPtz as exc:
        results[index] = CameraResult(camera.name, True, str(exc), skipped=True)
    except CameraError as exc:
        logger.warning("camera %s %s", camera.name, exc)
        results[index] = CameraResult(
            camera.name, False, str(exc), auth_failed=isinstance(exc, CameraAuthError)
        )
    except Exception:
        # A bug must still give the camera a result (and the person an outcome).
        logger.exception("camera %s: the operation failed unexpectedly", camera.name)
        results[index] = CameraResult(camera.name, False, "failed (see the log)")
