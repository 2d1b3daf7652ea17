"""The door page's preset buttons served for real: a press moves the room's
simulated Axis camera through the daemon; refusals as for the pad."""

from __future__ import annotations

import re

import pytest
import requests

from ivs_accessory.axissim import AxisSimulator

from .helpers import start_box
from .test_door_stream import serve

CAMERA_PW = "Preset-Cam-Pw-7001"


def cameras(port: int) -> str:
    """A [privacy] and [camera:NAME] naming the simulated camera by hand."""
    return (
        "\n[privacy]\ncameras = config\ncamera_timeout_s = 2\ncamera_check_s = 0\n"
        f"\n[camera:Desk cam]\naddress = 127.0.0.1\nport = {port}\n"
        f"username = root\npassword = {CAMERA_PW}\n"
    )


@pytest.fixture
def preset_site(tmp_path, make_sim):
    """``preset_site(door) -> (box, url, camera)``: a daemon with one Axis camera,
    its page served; ``door`` is the [door] section's body."""
    made = []

    def make(door: str = "presets = Wide, Table\n"):
        camera = AxisSimulator(password=CAMERA_PW).start()
        extra = cameras(camera.port) + "\n[door]\n" + door
        box = start_box(tmp_path, make_sim(version="6.6.0"), extra=extra)
        server = serve(box.service)
        made.append((box, server, camera))
        return box, server.url, camera

    try:
        yield make
    finally:
        for box, server, camera in made:
            server.stop()
            box.service.stop()
            camera.stop()


class Screen:
    """A browser on the box: the page's cookie and token, then button presses."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.page = self.http.get(url + "door", timeout=10).text
        found = re.search(r'name="door-csrf" content="([^"]+)"', self.page)
        self.token = found.group(1) if found else ""

    def buttons(self) -> list[str]:
        return re.findall(r'data-preset="([^"]*)"', self.page)

    def press(self, name: str, token: str | None = "page") -> requests.Response:
        headers = {"X-CSRF-Token": self.token if token == "page" else token or ""}
        if token is None:
            headers = {}
        return self.http.post(
            self.url + "door/preset", data={"preset": name}, headers=headers, timeout=10
        )


def gotos(camera: AxisSimulator) -> list[dict]:
    """The preset moves the camera was asked for."""
    return [
        r for r in camera.requests() if "gotoserverpresetname" in r.get("query", {})
    ]


def test_a_preset_button_moves_the_rooms_camera(preset_site):
    box, url, camera = preset_site()
    screen = Screen(url)
    assert screen.buttons() == ["Wide", "Table"] and screen.token
    assert 'id="pad"' not in screen.page  # presets alone: no PIN pad
    assert camera.state.position == "Home"
    assert screen.press("Table").status_code == 202
    outcome = box.outcomes.get(timeout=10)
    assert (outcome.source, outcome.action) == ("touch", "preset:Table")
    assert outcome.ok, outcome.message
    assert camera.state.position == "Table"
    assert [r["query"]["gotoserverpresetname"] for r in gotos(camera)] == ["Table"]
    assert box.service.panel.touch.presses == 1


def test_a_name_not_listed_is_refused(preset_site):
    box, url, camera = preset_site()
    screen = Screen(url)
    answer = screen.press("Home")  # the camera has it, [door] presets does not
    assert answer.status_code == 400 and "[door] presets" in answer.json()["error"]
    assert box.service.panel.touch.presses == 0
    assert camera.state.position == "Home" and gotos(camera) == []


def test_a_client_outside_allowed_clients_sees_no_button_and_is_refused(preset_site):
    box, url, camera = preset_site("presets = Wide\nallowed_clients = 10.0.0.0/8\n")
    screen = Screen(url)
    assert screen.buttons() == [] and not screen.token
    answer = screen.press("Wide", token="x" * 32)
    assert answer.status_code == 403 and "allowed_clients" in answer.json()["error"]
    assert box.service.panel.touch.presses == 0 and gotos(camera) == []


def test_a_press_without_the_token_is_refused(preset_site):
    box, url, camera = preset_site()
    screen = Screen(url)
    assert screen.press("Wide", token=None).status_code == 403
    assert (
        screen.press("Wide", token="not-the-token-but-long-enough").status_code == 403
    )
    assert box.service.panel.touch.presses == 0 and gotos(camera) == []


def test_no_presets_no_buttons_and_the_pad_alone(preset_site):
    box, url, _ = preset_site("keypad = true\n")
    screen = Screen(url)
    assert screen.buttons() == [] and 'id="pad"' in screen.page
    assert screen.press("Wide").status_code == 404


def test_buttons_alone_refuse_a_pin(preset_site):
    _, url, _ = preset_site()
    screen = Screen(url)
    answer = screen.http.post(
        url + "door/pin",
        data={"pin": "123456"},
        headers={"X-CSRF-Token": screen.token},
        timeout=10,
    )
    assert answer.status_code == 404 and "keypad = false" in answer.json()["error"]
