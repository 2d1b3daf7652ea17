"""The lamp's thread: latest colour wins, absent and unplugged lights, a hung write."""

from __future__ import annotations

import logging
import threading
from contextlib import contextmanager
from functools import partial

import pytest

from ivs_accessory.door.busylight import open_busylight
from ivs_accessory.door.lamp import OFF, LampFeedback, LampSettings
from ivs_accessory.door.lamp_driver import LampDriver, LampSlot
from ivs_accessory.door.lamp_memory import MemoryLights
from ivs_accessory.valt.models import RoomStatus

RED, AMBER, BLUE = (255, 0, 0), (255, 120, 0), (0, 0, 255)
# Short back-off and refresh so a test sees several retries within its wait.
FAST = {"retry_min_s": 0.01, "retry_max_s": 0.05}


@contextmanager
def running(opener, **options):
    driver = LampDriver(opener, "first", **{**FAST, **options})
    driver.start()
    try:
        yield driver
    finally:
        driver.close()


def shows(rgb):
    return lambda lights: lights.shown == rgb


def test_driver_writes_the_wanted_colour():
    lights = MemoryLights()
    with running(lights) as driver:
        driver.want(RED, "recording")
        assert lights.wait_for(shows(RED))
        status = driver.status()
    assert status["state"] == "connected" and status["device"] == "memory light 1"
    assert (status["showing"], status["colour"]) == ("recording", "#ff0000")
    assert lights.selectors == ["first"]


def test_driver_turns_the_light_off_and_closes_it_when_stopped():
    lights = MemoryLights()
    with running(lights) as driver:
        driver.want(RED, "recording")
        assert lights.wait_for(shows(RED))
    # The daemon stopping no longer knows the room: no red left behind.
    assert lights.shown == OFF
    assert driver.status()["state"] == "closed"


def test_the_latest_colour_wins_while_a_write_hangs():
    gate = threading.Event()
    lights = MemoryLights(gate=gate)
    with running(lights) as driver:
        driver.want(RED, "recording")
        assert lights.wait_for(lambda seen: seen.opened == 1)
        # The lamp's thread is stuck in a USB write; the door's calls still return.
        for colour in [(n, 0, 0) for n in range(50)] + [AMBER]:
            driver.want(colour, "paused")
        gate.set()
        assert lights.wait_for(shows(AMBER))
    # The write in hand (off at first, or red), straight to the latest one, and off
    # at the stop.
    colours = [rgb for rgb, _ in lights.writes]
    assert colours[0] in (OFF, RED) and colours[1:] == [AMBER, OFF]


def test_an_absent_light_is_a_status_line_and_one_warning(caplog):
    lights = MemoryLights(plugged=False)
    caplog.set_level(logging.DEBUG, "ivs_accessory.door.lamp_driver")
    with running(lights) as driver:
        driver.want(RED, "recording")
        assert lights.wait_for(lambda seen: len(seen.selectors) >= 4)
        status = driver.status()
        assert status["state"] == "absent" and not status["connected"]
        assert status["problem"] == "no supported light found (device = first)"
        lights.plug()
        assert lights.wait_for(shows(RED))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "lamp: no supported light found (device = first)"
    ]
    assert any("memory light 1 connected" in r.getMessage() for r in caplog.records)


def test_unplug_and_replug_brings_the_colour_back(caplog):
    lights = MemoryLights()
    caplog.set_level(logging.WARNING, "ivs_accessory.door.lamp_driver")
    with running(lights) as driver:
        driver.want(RED, "recording")
        assert lights.wait_for(shows(RED))
        lights.unplug()
        driver.want(AMBER, "paused")  # this write finds the light gone
        assert lights.wait_for(lambda seen: len(seen.selectors) >= 4)
        assert driver.status()["state"] == "absent"
        lights.plug()
        assert lights.wait_for(shows(AMBER))
        status = driver.status()
    assert (status["state"], status["reconnects"], status["device"]) == (
        "connected",
        1,
        "memory light 2",
    )
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["lamp: memory light 1 stopped answering (memory light 1: no "
                        "such device); looking for it again"]  # fmt: skip


def test_an_unplug_is_found_while_the_colour_stays_the_same():
    lights = MemoryLights()
    with running(lights, refresh_s=0.05) as driver:
        driver.want(RED, "recording")
        assert lights.wait_for(shows(RED))
        lights.unplug()
        # No new colour: the periodic rewrite is what notices.
        assert lights.wait_for(lambda seen: len(seen.selectors) >= 2)
        assert not driver.connected
        lights.plug()
        assert lights.wait_for(lambda seen: seen.opened == 2 and seen.shown == RED)


def test_without_busylight_core_the_lamp_says_so_and_keeps_quiet(caplog):
    attempts: list[str] = []
    tried = threading.Condition()

    def missing(name):
        with tried:
            attempts.append(name)
            tried.notify_all()
        raise ImportError(f"No module named {name!r}", name=name)

    opener = partial(open_busylight, importer=missing)
    caplog.set_level(logging.DEBUG, "ivs_accessory.door.lamp_driver")
    with running(opener) as driver:
        with tried:
            assert tried.wait_for(lambda: len(attempts) >= 3, timeout=5)
        status = driver.status()
    assert status["state"] == "absent"
    assert status["problem"].startswith("busylight-core not installed")
    assert "pip install 'ivs-accessory[lamp]'" in status["problem"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1


def test_the_slot_keeps_its_light_across_reloads_until_the_device_changes():
    lights = MemoryLights()
    slot = LampSlot(lights)
    try:
        first = slot.sinks(LampSettings(), lambda: 0.0)
        again = slot.sinks(LampSettings(paused=BLUE), lambda: 0.0)
        assert isinstance(again[0], LampFeedback) and again[0] is not first[0]
        again[0].room(RoomStatus.PAUSED, True)
        assert lights.wait_for(shows(BLUE))
        assert lights.opened == 1
        slot.sinks(LampSettings(device="usb:04d8:f372"), lambda: 0.0)
        assert lights.wait_for(lambda seen: seen.opened == 2)
        assert lights.selectors[-1] == "usb:04d8:f372"
        assert slot.sinks(None) == [] and slot.status() is None
        assert lights.shown == OFF
    finally:
        slot.close()


@pytest.mark.parametrize("online", [False, None])
def test_through_the_driver_offline_is_never_red(online):
    lights = MemoryLights()
    with running(lights) as driver:
        sink = LampFeedback(LampSettings(blink=False), driver)
        sink.room(RoomStatus.RECORDING, True)
        assert lights.wait_for(shows(RED))
        sink.room(RoomStatus.RECORDING if online is False else None, online)
        assert lights.wait_for(shows(BLUE))
        assert driver.status()["showing"] in ("offline", "unknown")
