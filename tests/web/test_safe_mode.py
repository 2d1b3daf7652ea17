"""Safe mode on the page: a red banner on every page, links to the fixes, going back."""

from __future__ import annotations

import html
import re

import pytest

from ivs_accessory.errors import ConfigError
from ivs_accessory.web import create_app
from ivs_accessory.web.notices import page_for_error

from .fakes import StatusOverlay
from .helpers import ADMIN_PASSWORD, set_admin_password
from .wsgi import WsgiClient

PAGES = ["/", "/valt", "/inputs", "/network", "/time", "/system"]
ERRORS = [
    "[valt] room = 'kitchen': must be a whole number between 1 and 1000000",
    "[source:door] device = 'usb:zz': must be usb:VVVV:PPPP",
    "[time] timezone = 'Mars/Base': unknown time zone",
    "[web] port = '99999': must be between 1 and 65535",
]


@pytest.fixture
def safe(box):
    """The daemon reporting safe mode, with a last good configuration to go back to."""
    set_admin_password(box.folder)
    return StatusOverlay(box.service, safe_mode={"errors": ERRORS, "last_good": True})


def client_for(service) -> WsgiClient:
    client = WsgiClient(create_app(service, devices=lambda: []))
    assert client.login(ADMIN_PASSWORD).status == 303
    return client


def safe_banner(answer) -> str | None:
    match = re.search(r'<div [^>]*id="safe-mode"[^>]*>(.*?)</div>', answer.text, re.S)
    return match.group(1) if match else None


@pytest.mark.parametrize("path", PAGES)
def test_every_page_names_the_errors_and_links_to_the_form_that_fixes_each(safe, path):
    answer = client_for(safe).get(path)
    banner = safe_banner(answer)
    assert banner is not None and 'role="alert"' in answer.text
    links = re.findall(r"<li>(.*?) \(<a href=\"([^\"]+)\">", banner)
    assert [(html.unescape(text), href) for text, href in links] == [
        (ERRORS[0], "/valt"),
        (ERRORS[1], "/inputs"),
        (ERRORS[2], "/time"),
        (ERRORS[3], "/system"),
    ]
    assert "Go back to the last configuration that worked" in banner


def test_no_go_back_button_without_a_last_good_configuration(box):
    set_admin_password(box.folder)
    service = StatusOverlay(
        box.service, safe_mode={"errors": ERRORS, "last_good": False}
    )
    banner = safe_banner(client_for(service).get("/"))
    assert banner is not None and "restore-last-good" not in banner


def test_no_banner_outside_safe_mode(admin):
    assert safe_banner(admin.get("/")) is None


def test_going_back_restores_without_the_password(safe):
    client = client_for(safe)
    answer = client.post("/safe-mode/restore", {})
    assert answer.status == 303 and answer.location == "/"
    assert safe.restored == 1
    safe.safe_mode = None  # the daemon left safe mode
    page = client.get("/")
    assert "The last configuration that worked is back in use." in page.text
    assert safe_banner(page) is None


def test_going_back_needs_the_csrf_token(safe):
    answer = client_for(safe).post("/safe-mode/restore", {}, csrf=False)
    assert answer.status == 403 and safe.restored == 0


def test_a_failed_go_back_shows_why(safe):
    safe.restore_error = ConfigError("the last good copy /var/lib/x is unreadable")
    answer = client_for(safe).post("/safe-mode/restore", {})
    assert answer.status == 409
    assert "the last good copy /var/lib/x is unreadable" in answer.text
    assert safe_banner(answer) is not None  # still in safe mode: the banner stays


def test_a_daemon_without_a_last_good_copy_cannot_go_back(admin, box):
    before = box.config_bytes()
    answer = admin.post("/safe-mode/restore", {})
    assert answer.status == 409 and "last-good" in answer.text
    assert box.config_bytes() == before


@pytest.mark.parametrize(
    "error, path",
    [
        ("[valt] server: must be set", "/valt"),
        ("[mapping] pin_length = '-1': ...", "/inputs"),
        ("[lockout] max_s: ...", "/inputs"),
        ("[bindings] KEY_X: unknown key", "/inputs"),
        ("[source:reader] port: ...", "/inputs"),
        ("[network] address: ...", "/network"),
        ("[time] ntp_servers: ...", "/time"),
        ("[system] reboot_command: ...", "/system"),
        ("[web] port: ...", "/system"),
        ("/etc/ivs-accessory/accessory.conf: line 3: not an INI line", "/system"),
    ],
)
def test_errors_lead_to_the_page_of_their_section(error, path):
    assert page_for_error(error)[0] == path
