"""The status page's line for the room's cameras: privacy, each problem by name."""

from __future__ import annotations

import queue

import pytest
from conftest import PipeConsoles, valt_data_with_cameras

from ivs_accessory.config import load
from ivs_accessory.service import Service
from ivs_accessory.web import create_app
from ivs_accessory.web.live import camera_words

from .helpers import ADMIN_PASSWORD, set_admin_password, write_box_config
from .test_status import text_of
from .wsgi import WsgiClient

PW = "Status-Cam-Pw-2718"


def camera(name, private, problem=None, age_s=4.0):
    return {"name": name, "private": private, "problem": problem, "age_s": age_s}


@pytest.mark.parametrize(
    "privacy, words",
    [
        (None, ""),
        ({"source": "none", "state": None, "cameras": []}, ""),
        ({"source": "valt", "state": None, "cameras": [], "list_error": None},
         "none in this room"),
        ({"source": "valt", "state": None, "cameras": [],
          "list_error": "VALT is unreachable"},
         "none known: VALT is unreachable"),
        ({"source": "config", "state": "on",
          "cameras": [camera("Desk", True), camera("Hall", True, age_s=70)]},
         "privacy on (Desk: private, read 4 s ago; "
         "Hall: private, read 1 min 10 s ago)"),
        ({"source": "both", "state": "partial",
          "cameras": [camera("Desk", True),
                      camera("Hall", None, "refused the credentials")]},
         "privacy partly on (Desk: private, read 4 s ago; "
         "Hall: refused the credentials)"),
        ({"source": "valt", "state": "unknown",
          "cameras": [camera("Desk", None, age_s=None)]},
         "privacy not known (Desk: not read yet)"),
    ],
)  # fmt: skip
def test_camera_words(privacy, words):
    assert camera_words(privacy) == words


def test_the_status_page_names_a_camera_that_refused_privacy(
    tmp_path, make_sim, make_camera
):
    desk, hall = make_camera(password=PW), make_camera(password=PW)
    hall.inject(refuse_credentials=True)
    data = valt_data_with_cameras([("Desk cam", desk, PW), ("Hall cam", hall, PW)])
    sim = make_sim(version="6.6.0", data=data)
    path = write_box_config(
        tmp_path,
        sim.url,
        extra="\n[privacy]\ncameras = valt\ncamera_timeout_s = 2\n"
        "[bindings]\nKEY_F1 = privacy_on\n",
    )
    console, outcomes = PipeConsoles(), queue.Queue()
    service = Service(load(str(path)), source_factory=console, on_outcome=outcomes.put)
    service.start()
    set_admin_password(tmp_path)
    app = create_app(service, devices=lambda: [])
    try:
        client = WsgiClient(app)
        assert client.login(ADMIN_PASSWORD).status == 303
        console.type("door", "key KEY_F1")
        outcome = outcomes.get(timeout=15)
        assert outcome.result == "partial", outcome.message
        line = text_of(client.get("/"), "cameras")
        assert line.startswith("Cameras: privacy partly on (Desk cam: private, read ")
        assert line.endswith("; Hall cam: refused the credentials)")
        assert client.get("/status.json").json()["cameras"] == line[len("Cameras: ") :]
        assert PW not in client.get("/status.json").text
    finally:
        app.close()
        service.stop()


def test_no_cameras_no_line(tmp_path, make_sim):
    path = write_box_config(tmp_path, make_sim(version="6.6.0").url)
    service = Service(load(str(path)), source_factory=PipeConsoles())
    service.start()
    set_admin_password(tmp_path)
    app = create_app(service, devices=lambda: [])
    try:
        client = WsgiClient(app)
        assert client.login(ADMIN_PASSWORD).status == 303
        assert text_of(client.get("/"), "cameras") is None
    finally:
        app.close()
        service.stop()
