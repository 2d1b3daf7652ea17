"""The lamp in the running daemon: a PIN at the door turns it red, reloads keep it,
the status has its line, a stop turns it off (the VALT simulator on loopback)."""

from __future__ import annotations

import queue

from conftest import PipeConsoles
from test_service import write_config

from ivs_accessory.config import load
from ivs_accessory.door.lamp_memory import MemoryLights
from ivs_accessory.service import Service

RED, GREEN, OFF = (255, 0, 0), (0, 255, 0), (0, 0, 0)
LAMP = "[lamp]\nenabled = true\n"


def start(tmp_path, sim, lights, extra=LAMP):
    consoles = PipeConsoles()
    outcomes: queue.Queue = queue.Queue()
    path = write_config(tmp_path / "accessory.conf", server=sim.url, extra=extra)
    service = Service(
        load(path), source_factory=consoles, on_outcome=outcomes.put, open_light=lights
    )
    service.start()
    return service, consoles, outcomes, path


def colours(lights):
    return [rgb for rgb, _ in lights.writes]


def test_a_pin_at_the_door_blinks_green_then_shows_red(tmp_path, make_sim):
    sim = make_sim(version="6.6.0")
    lights = MemoryLights()
    service, consoles, outcomes, _ = start(tmp_path, sim, lights)
    try:
        # First the room's state as read at start: available, which is off.
        assert lights.wait_for(lambda seen: OFF in colours(seen))
        consoles.type("door", "123456")
        assert outcomes.get(timeout=10).result == "started"
        assert lights.wait_for(lambda seen: seen.shown == RED)
        after = colours(lights)
        assert GREEN in after and after.index(GREEN) < after.index(RED)
        lamp = service.status()["lamp"]
        assert (lamp["state"], lamp["showing"], lamp["device"]) == (
            "connected",
            "recording",
            "memory light 1",
        )
    finally:
        service.stop()
    assert lights.shown == OFF


def test_reloads_keep_the_lamp_and_turning_it_off_turns_it_off(tmp_path, make_sim):
    sim = make_sim(version="6.6.0")
    sim.state.set_room_status(1, "recording")
    lights = MemoryLights()
    service, _, _, path = start(tmp_path, sim, lights)
    try:
        assert lights.wait_for(lambda seen: seen.shown == RED)
        write_config(
            tmp_path / "accessory.conf",
            server=sim.url,
            extra=LAMP + "recording = #ff0010\n",
        )
        service.reload(load(path))
        assert lights.wait_for(lambda seen: seen.shown == (255, 0, 16))
        assert lights.opened == 1  # the same light, still open
        write_config(tmp_path / "accessory.conf", server=sim.url, extra="")
        service.reload(load(path))
        assert lights.shown == OFF and service.status()["lamp"] is None
    finally:
        service.stop()


def test_without_a_lamp_section_nothing_is_opened(tmp_path, make_sim):
    sim = make_sim(version="6.6.0")
    lights = MemoryLights()
    service, consoles, outcomes, _ = start(tmp_path, sim, lights, extra="")
    try:
        consoles.type("door", "123456")
        assert outcomes.get(timeout=10).result == "started"
        assert service.status()["lamp"] is None
    finally:
        service.stop()
    assert lights.selectors == []
