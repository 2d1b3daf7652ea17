"""The status page's line for the recording lamp: what it shows, or why it cannot."""

from __future__ import annotations

import pytest

from ivs_accessory.config import load
from ivs_accessory.door.lamp_memory import MemoryLights
from ivs_accessory.service import Service
from ivs_accessory.web import create_app
from ivs_accessory.web.live import lamp_words

from .helpers import ADMIN_PASSWORD, set_admin_password, write_box_config
from .test_status import text_of
from .wsgi import WsgiClient


@pytest.mark.parametrize(
    "lamp, words",
    [
        (None, ""),
        (
            {"connected": True, "device": "Luxafor Flag at /dev/hidraw0",
             "showing": "recording", "problem": None},
            "Luxafor Flag at /dev/hidraw0: showing recording",
        ),
        (
            {"connected": False, "device": None, "showing": "starting",
             "problem": "busylight-core not installed (busylight_core missing)"},
            "not connected: busylight-core not installed (busylight_core missing)",
        ),
        ({"connected": False, "device": None, "problem": None},
         "looking for the light"),
    ],
)  # fmt: skip
def test_lamp_words(lamp, words):
    assert lamp_words(lamp) == words


def page_of(tmp_path, make_sim, lights, extra="[lamp]\nenabled = true\n"):
    sim = make_sim(version="6.6.0")
    sim.state.set_room_status(1, "recording")
    path = write_box_config(tmp_path, sim.url, extra="\n" + extra)
    service = Service(load(str(path)), open_light=lights)
    service.start()
    set_admin_password(tmp_path)
    app = create_app(service, devices=lambda: [])
    client = WsgiClient(app)
    assert client.login(ADMIN_PASSWORD).status == 303
    return service, app, client


def test_the_status_page_names_the_lamp_and_what_it_shows(tmp_path, make_sim):
    lights = MemoryLights()
    service, app, client = page_of(tmp_path, make_sim, lights)
    try:
        # Red is written only after the lamp was told the room records.
        assert lights.wait_for(lambda seen: seen.shown == (255, 0, 0))
        assert text_of(client.get("/"), "lamp") == (
            "Recording lamp: memory light 1: showing recording"
        )
        assert client.get("/status.json").json()["lamp"] == (
            "memory light 1: showing recording"
        )
    finally:
        app.close()
        service.stop()


def test_an_absent_lamp_is_a_line_on_the_page(tmp_path, make_sim):
    lights = MemoryLights(plugged=False)
    service, app, client = page_of(tmp_path, make_sim, lights)
    try:
        # The second attempt comes after the first one's failure was recorded.
        assert lights.wait_for(lambda seen: len(seen.selectors) >= 2)
        assert text_of(client.get("/"), "lamp") == (
            "Recording lamp: not connected: no supported light found (device = first)"
        )
    finally:
        app.close()
        service.stop()


def test_no_lamp_no_line(tmp_path, make_sim):
    service, app, client = page_of(tmp_path, make_sim, MemoryLights(), extra="")
    try:
        assert text_of(client.get("/"), "lamp") is None
    finally:
        app.close()
        service.stop()
