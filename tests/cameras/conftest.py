"""Axis simulators and VAPIX clients of them, all closed at the end of each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.cameras.vapix import VapixCamera

CAMERA_PASSWORD = "Cam-Secret-4417"


@pytest.fixture
def make_camera() -> Iterator[Callable[..., AxisSimulator]]:
    """Factory for started Axis simulators (password CAMERA_PASSWORD)."""
    made: list[AxisSimulator] = []

    def make(**options) -> AxisSimulator:
        options.setdefault("password", CAMERA_PASSWORD)
        camera = AxisSimulator(**options).start()
        made.append(camera)
        return camera

    try:
        yield make
    finally:
        for camera in made:
            camera.stop()


@pytest.fixture
def make_vapix() -> Iterator[Callable[..., VapixCamera]]:
    """Factory for VapixCameras of a simulator (right password unless given)."""
    made: list[VapixCamera] = []

    def make(sim: AxisSimulator, name: str = "Cam", **options) -> VapixCamera:
        password = options.pop("password", CAMERA_PASSWORD)
        options.setdefault("timeout_s", 2.0)
        camera = VapixCamera(name, sim.host, "root", password, port=sim.port, **options)
        made.append(camera)
        return camera

    try:
        yield make
    finally:
        for camera in made:
            camera.close()
