"""VAPIX clients of Axis simulators (``make_camera`` is the suite's), closed after each
test."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conftest import CAMERA_PASSWORD

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.cameras.vapix import VapixCamera


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
