"""The configuration page in real headless Chromium (Debian's), driven by Playwright as
a person would.

Each test runs the daemon on the VALT simulator with the page served by cheroot on
loopback, and saves screenshots in its own tmp_path; their paths are printed at the end
of each test (pytest -s is not needed).
"""

from __future__ import annotations

import shutil
import socket

import pytest
from web.fakes import StatusOverlay  # tests/ is on sys.path
from web.helpers import (
    ADMIN_PASSWORD,
    SECRET_PASSWORD,
    set_admin_password,
    start_box,
)

from ivs_accessory.config import load
from ivs_accessory.web import WebServer, create_app
from ivs_accessory.web.accounts import FACTORY_PASSWORD

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


def serve(box, service=None) -> str:
    """Serve the page for ``box`` (or a stand-in ``service``) on a free port."""
    server = WebServer(create_app(service or box.service), sock=listening_socket())
    server.start()
    SERVERS[server.url] = server
    return server.url


@pytest.fixture
def make_site(tmp_path, make_sim):
    """``make_site(**box_options, service=None) -> (box, url)``; all stopped after."""
    boxes = []

    def make(service=None, **options):
        box = start_box(tmp_path, make_sim(version="6.6.0"), **options)
        boxes.append(box)
        return box, serve(box, service(box.service) if service else None)

    try:
        yield make
    finally:
        for url in list(SERVERS):
            SERVERS.pop(url).stop()
        for box in boxes:
            box.service.stop()


@pytest.fixture
def site(make_site):
    """(box, url): the daemon on a simulator and its page on a free loopback port."""
    return make_site()


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


@pytest.fixture
def shoot(tmp_path, capsys):
    """``shoot(tab, name)``: a full-page screenshot in tmp_path, named at the end."""
    taken = []

    def take(page, name: str, full_page: bool = True) -> None:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        taken.append(path)

    yield take
    with capsys.disabled():
        for path in taken:
            print(f"\nscreenshot: {path}", end="")


def log_in(page, url: str, password: str = ADMIN_PASSWORD) -> None:
    page.goto(url)
    page.fill("#password", password)
    page.click("button[type=submit]")


def test_first_login_forces_a_new_password(site, tab, shoot):
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


def test_valt_settings_with_test_connection_and_room_picker(site, tab, shoot):
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


def test_binding_change_is_applied_by_the_running_daemon(site, tab, shoot):
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
    # The live view shows what the keypad sent, and what came of it.
    row = tab.locator("#event-rows tr", has_text="KEY_KPMINUS").first
    row.wait_for()
    row.locator("td", has_text="Recording started").wait_for()
    shoot(tab, "05-inputs")


def test_live_status_follows_a_recording_started_in_valt(site, tab, shoot):
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


def test_every_page_renders_without_script_errors(site, tab, shoot):
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


def test_restart_page_waits_for_the_box_to_go_away_and_come_back(site, tab, shoot):
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


# -- issue 11: the page tells the truth and guides the first ten minutes ---------------

# Every text the VALT connection showed on the status page, as it changed.
RECORD_STATES = """
window.seenStates = [];
window.polls = 0;
document.addEventListener("DOMContentLoaded", () => {
  const state = document.getElementById("valt-state");
  if (state) {
    window.seenStates.push(state.textContent);
    new MutationObserver(() => window.seenStates.push(state.textContent))
      .observe(state, { childList: true, characterData: true, subtree: true });
  }
  const uptime = document.querySelector('[data-live="uptime"]');
  if (uptime) {
    new MutationObserver(() => { window.polls += 1; })
      .observe(uptime, { childList: true, characterData: true, subtree: true });
  }
});
"""


def test_wrong_valt_password_shows_login_refused_never_connected(site, tab, shoot):
    box, url = site
    set_admin_password(box.folder)
    tab.add_init_script(RECORD_STATES)
    log_in(tab, url)
    tab.goto(url + "valt")
    tab.fill("#password", "not-the-password")
    tab.click("button[type=submit]:has-text('Save')")
    flash = tab.locator("#flash")
    assert flash.inner_text().startswith("Saved. VALT login: refused")
    assert "bad" in flash.get_attribute("class") and "applied" not in flash.inner_text()
    assert "refused the user name or password" in tab.inner_text("#password-warning")
    assert tab.inner_text("#test-result") == ""  # said once: no second test on load
    shoot(tab, "13-valt-saved-wrong-password")
    tab.goto(url)
    tab.locator("#valt-state", has_text="Login refused").wait_for()
    alert = tab.locator("#valt-alert")
    assert alert.is_visible() and "VALT refused the login" in alert.inner_text()
    assert alert.locator("a").get_attribute("href") == "/valt"
    tab.wait_for_function("() => window.polls >= 3")  # three polls later, still refused
    shoot(tab, "14-status-login-refused")
    seen = tab.evaluate("window.seenStates")
    assert "Login refused" in seen and "Connected" not in seen, seen
    tab.goto(url + "inputs")  # every page carries the banner
    assert tab.locator("#valt-alert").is_visible()


def test_failed_save_banner_at_the_top_and_focus_on_the_field(site, tab, shoot):
    box, url = site
    set_admin_password(box.folder)
    before = box.config_bytes()
    tab.set_viewport_size({"width": 1100, "height": 500})
    log_in(tab, url)
    tab.goto(url + "inputs")
    tab.fill("#max_s", "1")  # the longest lockout, below the fold
    tab.click("#save-inputs")
    banner = tab.locator("#form-problems")
    banner.wait_for()
    assert banner.get_attribute("role") == "alert"
    assert "Longest lockout (s)" in banner.inner_text()
    assert tab.evaluate("document.activeElement.id") == "max_s"
    top = banner.bounding_box()
    field = tab.locator("#max_s").bounding_box()
    height = tab.viewport_size["height"]
    # The field was below the fold: the page scrolled to it, and the banner sticks
    # to the top of the window above it.
    assert tab.evaluate("window.scrollY") > 0
    assert 0 <= top["y"] < 20, top
    assert top["y"] + top["height"] <= field["y"] < height, (top, field)
    assert "must be at least base_s" in tab.inner_text("#max_s-error")
    shoot(tab, "15-inputs-refused", full_page=False)  # what the window shows
    assert box.config_bytes() == before


def test_first_run_checklist_ticks_through_to_a_pin(make_site, tab, shoot):
    box, url = make_site(password="not-yet")
    tab.goto(url)
    tab.fill("#password", FACTORY_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url("**/password")
    tab.fill("#new", ADMIN_PASSWORD)
    tab.fill("#confirm", ADMIN_PASSWORD)
    tab.click("button[type=submit]")
    tab.wait_for_url(url)
    step = {
        name: tab.locator(f"[data-step={name}]")
        for name in ("valt", "room", "source", "input")
    }
    step["source"].and_(tab.locator("[data-done=true]")).wait_for()
    assert step["valt"].get_attribute("data-done") == "false"
    assert step["input"].get_attribute("data-done") == "false"
    shoot(tab, "16-checklist-start")
    step["valt"].locator("a").click()  # step 1 leads to the VALT page
    tab.wait_for_url("**/valt")
    tab.fill("#password", SECRET_PASSWORD)
    tab.click("#test-connection")
    tab.locator("#test-result", has_text="Connected to VALT 6.6.0").wait_for()
    tab.select_option("#room-picker", "2")
    tab.click("button[type=submit]:has-text('Save')")
    assert tab.inner_text("#flash").startswith("VALT settings saved and applied")
    tab.goto(url)
    for name in ("valt", "room", "source"):
        step[name].and_(tab.locator("[data-done=true]")).wait_for()
    assert "Waiting for a PIN" in step["input"].inner_text()
    shoot(tab, "17-checklist-three-done")
    box.consoles.type("door", "123456")  # the PIN, typed on the console source
    assert box.outcomes.get(timeout=10).result == "started"
    step["input"].and_(tab.locator("[data-done=true]")).wait_for()  # no reload
    assert "Recording started for Alice Smith" in step["input"].inner_text()
    shoot(tab, "18-checklist-done")


def test_phone_width_tables_become_stacked_rows(site, tab, shoot):
    box, url = site
    set_admin_password(box.folder)
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    tab.set_viewport_size({"width": 390, "height": 844})
    log_in(tab, url)
    for path, table in (("", "#audit"), ("inputs", "#source-table")):
        tab.goto(url + path)
        cell = tab.locator(f"{table} tbody td").first
        cell.wait_for()
        assert cell.evaluate("td => getComputedStyle(td).display") == "block"
        label = cell.evaluate("td => getComputedStyle(td, '::before').content")
        assert label.strip('"').endswith(": "), label
        assert tab.evaluate("document.documentElement.scrollWidth") <= 390
        shoot(tab, f"19-phone-{path or 'status'}")
    # Rows the status page fills in by itself get their labels too.
    tab.goto(url)
    tab.wait_for_function(
        "() => document.querySelector('#audit tbody td').dataset.label"
    )


def test_safe_mode_banner_and_going_back(make_site, tab, shoot):
    errors = ["[source:door] device = 'usb:zz': must be usb:VVVV:PPPP"]

    class SafeMode(StatusOverlay):
        def restore_last_good(self) -> None:
            super().restore_last_good()
            self.safe_mode = None  # what the daemon does once it is back

    fakes = []

    def safe(service):
        fakes.append(SafeMode(service, safe_mode={"errors": errors, "last_good": True}))
        return fakes[0]

    box, url = make_site(service=safe)
    set_admin_password(box.folder)
    log_in(tab, url)
    banner = tab.locator("#safe-mode")
    assert banner.is_visible() and errors[0] in banner.inner_text()
    assert (
        banner.locator("a", has_text="Inputs page").get_attribute("href") == "/inputs"
    )
    shoot(tab, "20-safe-mode")
    tab.goto(url + "time")
    assert tab.locator("#safe-mode").is_visible()  # on every page
    tab.click("#restore-last-good")
    tab.wait_for_url(url)
    assert "The last configuration that worked is back in use." in tab.inner_text(
        "#flash"
    )
    assert tab.locator("#safe-mode").count() == 0 and fakes[0].restored == 1
    shoot(tab, "21-safe-mode-left")
