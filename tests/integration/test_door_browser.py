"""The door page in real headless Chromium (Debian's, through Playwright) at a kiosk's
sizes (800x480, 1280x800) and a phone's (390x844): the state's colour and words,
nothing overflowing, the clock and the recording's timer ticking, today's sessions,
the on-screen pad starting a recording and a preset button moving a camera.
Screenshots go to each test's tmp_path (their paths are printed at the end), as for
the configuration page's tests.
"""

from __future__ import annotations

import datetime

import pytest
from conftest import data_with_secret_user
from web.helpers import start_box
from web.test_door_presets import CAMERA_PW, cameras

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.web import WebServer, create_app

from . import test_web_browser as page_tests

pytestmark = pytest.mark.integration

# The configuration page's browser and screenshot fixtures, shared.
chromium = page_tests.chromium
shoot = page_tests.shoot

KIOSK_SMALL = {"width": 800, "height": 480}
KIOSK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
GREEN, RED = "rgb(23, 128, 61)", "rgb(198, 40, 40)"

# What sticks out of the viewport (or of its own box, for the state's words);
# a phone may scroll down, a kiosk may not scroll at all.
OVERFLOW = """
(kiosk) => {
  const root = document.documentElement;
  const out = [];
  for (const el of document.querySelectorAll("body *")) {
    const box = el.getBoundingClientRect();
    if (!box.width || el.closest("[hidden]")) continue;
    const name = el.id || el.className || el.tagName;
    if (box.left < -1 || box.right > root.clientWidth + 1) out.push(name);
    if (kiosk && box.bottom > root.clientHeight + 1) out.push(name + " (below)");
  }
  for (const id of ["state", "room", "detail"]) {
    const el = document.getElementById(id);
    if (el.scrollWidth > el.clientWidth + 1) out.push(id + " (text)");
  }
  if (root.scrollWidth > root.clientWidth) out.push("page (wide)");
  return out;
}
"""


def todays_sessions() -> list[dict]:
    """Three sessions at fixed hours of today (the box's local day)."""
    midnight = (
        datetime.datetime.now()
        .astimezone()
        .replace(hour=0, minute=0, second=0, microsecond=0)
    )
    at = [midnight + datetime.timedelta(hours=h) for h in (9, 14, 17, 18)]
    names = ("Morning interview", "Afternoon interview", "Late interview")
    return [
        {
            "id": index + 1,
            "name": name,
            "start_at": int(at[index].timestamp()),
            "stop_at": int(at[index].timestamp()) + 3600,
            "rooms": [1],
        }
        for index, name in enumerate(names)
    ]


@pytest.fixture
def door_site(tmp_path, make_sim):
    """``door_site(extra) -> (box, url)``: a daemon with today's sessions in VALT and
    its page served on loopback; all stopped after."""
    made = []

    def make(extra: str):
        data = data_with_secret_user()
        data["schedules"] = todays_sessions()
        box = start_box(tmp_path, make_sim(version="6.6.0", data=data), extra=extra)
        server = WebServer(create_app(box.service), sock=page_tests.listening_socket())
        server.start()
        made.append((box, server))
        return box, server.url

    try:
        yield make
    finally:
        for box, server in made:
            server.stop()
            box.service.stop()


@pytest.fixture
def screen(chromium):
    """``screen(viewport)``: a fresh page of that size; fails the test on a script
    error, a CSP refusal or any console error."""
    contexts, problems = [], []

    def make(viewport: dict):
        context = chromium.new_context(viewport=viewport)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(page_tests.WAIT_MS)
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.on("console", lambda m: m.type == "error" and problems.append(m.text))
        return tab

    try:
        yield make
    finally:
        for context in contexts:
            context.close()
    assert problems == []


def status_colour(tab) -> str:
    return tab.evaluate(
        "getComputedStyle(document.getElementById('status')).backgroundColor"
    )


def check_layout(tab, viewport: dict) -> None:
    kiosk = viewport is not PHONE
    assert tab.evaluate(OVERFLOW, kiosk) == []


@pytest.mark.parametrize(
    ("viewport", "pad"),
    [(KIOSK_SMALL, True), (KIOSK, True), (PHONE, True), (PHONE, False)],
    ids=["800x480-pad", "1280x800-pad", "phone-pad", "phone-read-only"],
)
def test_door_screen_shows_the_room_and_the_pad_starts_a_recording(
    door_site, screen, shoot, viewport, pad
):
    box, url = door_site(
        "\n[door]\nscreen = true\n" + ("keypad = true\n" if pad else "")
    )
    tab = screen(viewport)
    tab.goto(url + "door")
    tab.locator("#state", has_text="Available").wait_for()
    tab.locator("#sessions li").nth(2).wait_for()  # today's sessions, read from VALT
    tab.locator("#clock", has_text=":").wait_for()
    assert tab.inner_text("#room") == "Interview Room 1"
    assert tab.evaluate("document.body.dataset.state") == "available"
    assert status_colour(tab) == GREEN
    upcoming = tab.locator("#sessions li[data-when=next]").count()
    assert upcoming <= 1  # the next session, highlighted (none late in the day)
    check_layout(tab, viewport)
    name = f"door-{viewport['width']}x{viewport['height']}-{'pad' if pad else 'view'}"
    shoot(tab, f"{name}-available", full_page=False)
    if pad:
        assert tab.locator("#pad button").count() == 12
        for digit in "12345":
            tab.click(f"#pad button[data-digit='{digit}']")
        assert tab.inner_text("#pin") == "•••••"  # masked
        tab.click("#pad-delete")
        assert tab.inner_text("#pin") == "••••"
        tab.click("#pad-clear")
        for digit in "123456":  # the sixth digit submits ([mapping] pin_length)
            tab.click(f"#pad button[data-digit='{digit}']")
    else:
        box.consoles.type("door", "123456")
    tab.locator("#outcome", has_text="Recording started for Alice Smith").wait_for()
    tab.locator("#state", has_text="Recording").wait_for()
    assert box.outcomes.get(timeout=10).source == ("touch" if pad else "door")
    assert status_colour(tab) == RED
    assert tab.inner_text("#detail") == "Started by Alice Smith"
    if pad:
        assert tab.inner_text("#pin") == ""  # wiped once sent
    check_layout(tab, viewport)
    shoot(tab, f"{name}-recording", full_page=False)
    # The timer ticks on the screen between events; the outcome goes after 3 s.
    first = tab.inner_text("#elapsed")
    tab.wait_for_function(
        "(first) => document.getElementById('elapsed').textContent !== first", arg=first
    )
    tab.locator("#outcome").wait_for(state="hidden")


def test_door_screen_follows_valt_and_says_when_it_cannot(door_site, screen, shoot):
    box, url = door_site("\n[door]\nscreen = true\n")
    tab = screen(KIOSK_SMALL)
    tab.goto(url + "door")
    tab.locator("#state", has_text="Available").wait_for()
    box.sim.set_room_status(1, "paused")  # in VALT's own UI
    tab.locator("#state", has_text="Paused").wait_for()  # within status_refresh_s
    assert not tab.is_visible("#elapsed")  # started elsewhere: no time to claim
    shoot(tab, "door-paused", full_page=False)
    box.sim.go_down()
    tab.locator("#state", has_text="Offline").wait_for()
    assert "Last known: Paused" in tab.inner_text("#detail")
    assert tab.evaluate("document.body.dataset.state") == "offline"
    check_layout(tab, KIOSK_SMALL)
    shoot(tab, "door-offline", full_page=False)
    box.sim.come_up()


def test_door_page_pad_wipes_a_half_typed_pin(door_site, screen):
    box, url = door_site(
        "\n[door]\nkeypad = true\n\n[mapping]\nentry_timeout_ms = 1000\n"
    )
    tab = screen(KIOSK_SMALL)
    tab.goto(url + "door")
    tab.click("#pad button[data-digit='4']")
    assert tab.inner_text("#pin") == "•"
    tab.wait_for_function("() => document.getElementById('pin').textContent === ''")
    assert box.service.panel.touch.pins == 0  # nothing was sent


@pytest.mark.parametrize(
    "viewport", [KIOSK_SMALL, KIOSK, PHONE], ids=["800x480", "1280x800", "phone"]
)
def test_door_screen_preset_buttons_move_the_camera(door_site, screen, shoot, viewport):
    with AxisSimulator(password=CAMERA_PW) as camera:
        box, url = door_site(
            cameras(camera.port)
            + "\n[door]\nscreen = true\nkeypad = true\npresets = Wide, Table\n"
        )
        tab = screen(viewport)
        tab.goto(url + "door")
        tab.locator("#state", has_text="Available").wait_for()
        tab.locator("#sessions li").nth(2).wait_for()
        buttons = tab.locator("#presets button")
        assert buttons.all_inner_texts() == ["Wide", "Table"]
        assert tab.locator("#pad button").count() == 12  # beside the pad
        check_layout(tab, viewport)
        name = f"door-{viewport['width']}x{viewport['height']}-presets"
        shoot(tab, name, full_page=False)
        tab.click("#presets button[data-preset='Table']")
        tab.locator("#outcome", has_text="preset Table").wait_for()
        outcome = box.outcomes.get(timeout=10)
        assert (outcome.source, outcome.action) == ("touch", "preset:Table")
        assert camera.state.position == "Table"
        check_layout(tab, viewport)
        shoot(tab, f"{name}-moved", full_page=False)
