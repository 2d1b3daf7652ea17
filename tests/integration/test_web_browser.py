"""The configuration page in real headless Chromium (Debian's), driven by Playwright as
a person would.

Each test runs the daemon on the VALT simulator with the page served by cheroot on
loopback, and saves screenshots under test-artifacts/screenshots/.
"""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from web.helpers import (  # tests/ is on sys.path
    ADMIN_PASSWORD,
    set_admin_password,
    start_box,
)

from ivs_accessory.config import load
from ivs_accessory.web import WebServer, create_app
from ivs_accessory.web.auth import FACTORY_PASSWORD

pytestmark = pytest.mark.integration

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
WAIT_MS = 15_000


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module (about a second to start)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="playwright is not installed (pip install playwright)",
    )
    if not shutil.which(CHROMIUM):
        pytest.skip(
            f"{CHROMIUM} is missing (apt install chromium; scripts/setup-browser)"
        )
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


def listening_socket(port: int = 0) -> socket.socket:
    """A loopback listening socket, handed to the server as systemd would hand it.

    SO_REUSEADDR lets a test listen again on the same port right after closing it.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


SERVERS: dict[str, WebServer] = {}  # url -> the server a test may stop and restart


@pytest.fixture
def site(tmp_path, make_sim):
    """(box, url): the daemon on a simulator and its page on a free loopback port."""
    box = start_box(tmp_path, make_sim(version="6.6.0"))
    server = WebServer(create_app(box.service), sock=listening_socket())
    server.start()
    SERVERS[server.url] = server
    try:
        yield box, server.url
    finally:
        SERVERS.pop(server.url).stop()
        box.service.stop()


@pytest.fixture
def tab(chromium):
    """A fresh browser context and page; fails the test on script or CSP errors."""
    context = chromium.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.set_default_timeout(WAIT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    # Chromium logs a refused form's 400 (on purpose) and a poll of a box that is
    # restarting (the restart test) as console errors; anything else is a problem.
    expected = ("status of 400", "net::ERR_CONNECTION_REFUSED")
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not any(text in m.text for text in expected)
            and problems.append(m.text)
        ),
    )
    try:
        yield page
    finally:
        context.close()
    assert problems == []


def shoot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, url: str, password: str = ADMIN_PASSWORD) -> None:
    page.goto(url)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_first_login_forces_a_new_password(site, tab):
    box, url = site
    tab.goto(url + "valt")
    assert tab.url.endswith("/login?next=/valt")
    shoot(tab, "01-login")
    tab.fill("#password", FACTORY_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/password")
    shoot(tab, "02-forced-password-change")
    tab.fill("#new", "mismatch-one")
    tab.fill("#confirm", "mismatch-two")
    tab.click("button[type=submit]")
    assert tab.inner_text("#confirm-error") == "does not match the new password"
    tab.goto(url + "system")  # nothing else is reachable yet
    assert tab.url.endswith("/password")
    tab.fill("#new", ADMIN_PASSWORD)
    tab.fill("#confirm", ADMIN_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(url)
    assert "Password changed" in tab.inner_text("#flash")
    assert (box.folder / "web-password").exists()


def test_valt_settings_with_test_connection_and_room_picker(site, tab):
    box, url = site
    set_admin_password(box.folder)
    log_in(tab, url)
    tab.goto(url + "valt")
    result = tab.locator("#test-result")
    # The page tests the saved settings by itself and fills the room picker.
    result.filter(has_text="Connected to VALT 6.6.0").wait_for()
    assert tab.locator("#room-picker option").count() == 5
    tab.fill("#password", "not-the-password")
    tab.click("#test-connection")
    result.filter(has_text="refused the user name or password").wait_for()
    assert result.get_attribute("data-reason") == "credentials"
    shoot(tab, "03-valt-bad-credentials")
    tab.fill("#password", "")
    tab.click("#test-connection")
    result.filter(has_text="Connected to VALT 6.6.0").wait_for()
    tab.select_option("#room-picker", "3")
    assert tab.input_value("#room") == "3"
    tab.fill("#recording_name", "Door 3 interview")
    tab.select_option("#marker_colour", "green")
    shoot(tab, "04-valt")
    tab.click("button[type=submit]:has-text('Save')")
    assert "VALT settings saved" in tab.inner_text("#flash")
    saved = load(str(box.config_path))["valt"]
    assert (saved["room"], saved["recording_name"], saved["marker_colour"]) == (
        3,
        "Door 3 interview",
        "green",
    )
    assert box.service.config["valt"]["room"] == 3


def test_binding_change_is_applied_by_the_running_daemon(site, tab):
    box, url = site
    set_admin_password(box.folder)
    log_in(tab, url)
    tab.goto(url + "inputs")
    tab.fill("input[name=bkey_2]", "KEY_KPMINUS")
    tab.select_option("select[name=baction_2]", "start")
    tab.click("#save-inputs")
    assert "Input settings saved" in tab.inner_text("#flash")
    box.consoles.type("door", "key minus")
    outcome = box.outcomes.get(timeout=10)
    assert (outcome.action, outcome.result) == ("start", "started")
    assert box.sim.state.room_info(1)["status"] == "recording"
    # The live view shows what the keypad sent.
    tab.locator("#event-rows td", has_text="KEY_KPMINUS").first.wait_for()
    shoot(tab, "05-inputs")


def test_live_status_follows_a_recording_started_in_valt(site, tab):
    box, url = site
    set_admin_password(box.folder)
    log_in(tab, url)
    room = tab.locator("#room-status")
    room.filter(has_text="Available").wait_for()
    shoot(tab, "06-status-available")
    box.sim.set_room_status(1, "recording")  # someone started it in VALT itself
    room.filter(has_text="Recording").wait_for()
    assert tab.url == url  # no reload: the page polled its JSON
    box.consoles.type("door", "123456")  # and a PIN at the door stops it
    assert box.outcomes.get(timeout=10).result == "stopped"
    tab.locator("#audit td", has_text="Recording stopped by Alice Smith").wait_for()
    room.filter(has_text="Available").wait_for()
    shoot(tab, "07-status-after-pin")


def test_every_page_renders_without_script_errors(site, tab):
    box, url = site
    set_admin_password(box.folder)
    log_in(tab, url)
    for number, name in enumerate(["network", "time", "system"], start=8):
        tab.goto(url + name)
        tab.locator("h1").wait_for()
        shoot(tab, f"{number:02d}-{name}")
    tab.goto(url + "network")
    tab.select_option("#mode", "static")
    assert tab.locator("#address").is_visible()
    tab.select_option("#mode", "dhcp")
    assert not tab.locator("#address").is_visible()
    tab.set_viewport_size({"width": 390, "height": 844})  # a phone
    tab.goto(url)
    tab.locator("#room-status").wait_for()
    shoot(tab, "11-status-phone")
    assert tab.evaluate("document.documentElement.scrollWidth") <= 390


def test_restart_page_waits_for_the_box_to_go_away_and_come_back(site, tab):
    box, url = site
    set_admin_password(box.folder)
    log_in(tab, url)
    tab.goto(url + "system")
    tab.fill("#reboot_password", ADMIN_PASSWORD)
    tab.click("button:has-text('Restart the box')")
    state = tab.locator("#progress-state")
    state.wait_for()
    assert box.trace == ["reboot"]  # the configured command ran (a trace script here)
    shoot(tab, "12-restart-progress")
    # The "box" goes away: nothing answers on the page's port any more ...
    page_server = SERVERS.pop(url)
    page_server.stop()
    state.filter(has_text="restarting").wait_for()
    # ... and comes back at the same address: the page moves on to the login.
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    SERVERS[url] = WebServer(create_app(box.service), sock=listening_socket(port))
    SERVERS[url].start()
    tab.wait_for_url("**/login")
