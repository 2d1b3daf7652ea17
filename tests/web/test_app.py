"""Login, forced password change, sessions, CSRF, lockout, every route, in-process."""

from __future__ import annotations

import re

import pytest

from ivs_accessory.web import create_app
from ivs_accessory.web.accounts import FACTORY_PASSWORD, PasswordFile

from .helpers import ADMIN_PASSWORD, SECRET_PASSWORD, set_admin_password
from .wsgi import WsgiClient

PAGES = [
    "/",
    "/valt",
    "/inputs",
    "/network",
    "/network/confirm",
    "/time",
    "/system",
    "/system/logs.txt",
    "/system/audit.log",
    "/password",
]
JSON_GETS = ["/status.json", "/inputs/events.json"]
POSTS = [
    "/valt",
    "/valt/test",
    "/inputs",
    "/network",
    "/network/confirm",
    "/time",
    "/system/password",
    "/system/reboot",
    "/system/factory-default",
    "/password",
    "/logout",
]
PUBLIC = ["/healthz", "/metrics", "/login", "/static/style.css", "/static/app.js"]


@pytest.mark.parametrize("path", PAGES)
def test_page_without_login_redirects_to_login(browser, path):
    answer = browser.get(path)
    assert answer.status == 303
    assert answer.location.startswith("/login")


@pytest.mark.parametrize("path", JSON_GETS)
def test_json_without_login_is_401(browser, path):
    answer = browser.get(path)
    assert answer.status == 401 and answer.json() == {"error": "log in again"}


@pytest.mark.parametrize("path", POSTS)
def test_post_without_login_changes_nothing(browser, box, path):
    before = box.config_bytes()
    answer = browser.post(path, {"server": "evil", "password": "x"}, csrf=False)
    assert answer.status in (303, 401)
    assert box.config_bytes() == before and box.trace == []


@pytest.mark.parametrize("path", PUBLIC)
def test_public_routes_answer_without_login(browser, path):
    assert browser.get(path).status == 200


@pytest.mark.parametrize("path", POSTS)
def test_post_without_csrf_token_is_refused(admin, box, path):
    before = box.config_bytes()
    answer = admin.post(
        path,
        {"server": "x", "password": ADMIN_PASSWORD, "words": "factory default"},
        csrf=False,
    )
    assert answer.status == 403
    assert "expired or came from another site" in answer.text
    assert box.config_bytes() == before and box.trace == []


def test_post_with_another_sessions_csrf_token_is_refused(admin, app, box):
    other = WsgiClient(app)
    other.login(ADMIN_PASSWORD)
    answer = admin.post(
        "/system/reboot", {"password": ADMIN_PASSWORD, "csrf": other.csrf()}
    )
    assert answer.status == 403 and box.trace == []


def test_csrf_token_in_header_is_accepted(admin):
    answer = admin.post(
        "/valt/test", {"server": ""}, csrf=False, headers={"X-CSRF-Token": admin.csrf()}
    )
    assert answer.status == 200 and answer.json()["reason"] == "invalid"


def test_first_login_forces_a_new_password_before_anything_else(browser, box):
    answer = browser.login(FACTORY_PASSWORD)
    assert answer.status == 303 and answer.location == "/password"
    for path in ["/", "/valt", "/system", "/system/logs.txt"]:
        assert browser.get(path).location == "/password"
    assert browser.get("/status.json").status == 403
    assert (
        browser.post("/system/reboot", {"password": FACTORY_PASSWORD}).location
        == "/password"
    )
    weak = browser.post("/password", {"new": "short", "confirm": "short"})
    assert weak.status == 400 and "at least 8 characters" in weak.text
    same = browser.post(
        "/password", {"new": FACTORY_PASSWORD, "confirm": FACTORY_PASSWORD}
    )
    assert same.status == 400
    assert not (box.folder / "web-password").exists()
    done = browser.post("/password", {"new": ADMIN_PASSWORD, "confirm": ADMIN_PASSWORD})
    assert done.status == 303 and done.location == "/"
    assert browser.get("/").status == 200
    assert (box.folder / "web-password").stat().st_mode & 0o777 == 0o600
    record = PasswordFile(str(box.folder / "web-password")).read()
    assert not record.must_change and ADMIN_PASSWORD not in record.hash
    assert box.trace == []
    # The factory password no longer works; the new one does.
    again = WsgiClient(browser.app)
    assert again.login(FACTORY_PASSWORD).status == 401
    assert again.login(ADMIN_PASSWORD).location == "/"


def test_login_needs_its_csrf_cookie(browser):
    page = browser.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    browser.cookies.clear()
    answer = browser.request(
        "POST",
        "/login",
        form={"csrf": token, "username": "admin", "password": FACTORY_PASSWORD},
    )
    assert answer.status == 403 and "ivs_session" not in browser.cookies


def test_another_login_page_load_keeps_the_open_form_valid(browser):
    first = browser.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', first.text).group(1)
    browser.get("/favicon.ico")
    browser.get("/login")  # a second tab
    answer = browser.request(
        "POST",
        "/login",
        form={"csrf": token, "username": "admin", "password": FACTORY_PASSWORD},
    )
    assert answer.status == 303


def test_session_cookie_is_httponly_samesite_strict_and_not_secure_over_http(admin):
    cookie = next(c for c in admin.raw_cookies if c.startswith("ivs_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(box, clock):
    set_admin_password(box.folder)
    client = WsgiClient(create_app(box.service, https=True, clock=clock))
    client.login(ADMIN_PASSWORD)
    cookie = next(c for c in client.raw_cookies if c.startswith("ivs_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    login = next(c for c in client.raw_cookies if c.startswith("ivs_login="))
    assert "Secure" in login


def test_session_expires_after_idle_time_and_not_while_used(admin, clock):
    clock.advance(890)  # session_idle_s defaults to 900
    assert admin.get("/").status == 200
    clock.advance(890)
    assert admin.get("/").status == 200  # each request restarts the idle timer
    clock.advance(901)
    assert admin.get("/").location == "/login"


def test_logout_ends_the_session(admin):
    assert admin.post("/logout").location == "/login"
    assert admin.get("/").status == 303


def test_login_locks_out_after_five_failures_with_doubling_backoff(browser, box, clock):
    set_admin_password(box.folder)
    for _ in range(4):
        assert browser.login("wrong-password").status == 401
    fifth = browser.login("wrong-password")
    assert fifth.status == 401 and "locked for 30 s" in fifth.text
    locked = browser.login(ADMIN_PASSWORD)  # even the right password waits
    assert locked.status == 429 and "try again in 30 s" in locked.text
    clock.advance(31)
    for _ in range(5):
        browser.login("wrong-password")
    assert "try again in 60 s" in browser.login(ADMIN_PASSWORD).text
    clock.advance(61)
    assert browser.login(ADMIN_PASSWORD).status == 303


def test_lockout_counts_per_client_address(app, box):
    set_admin_password(box.folder)
    attacker = WsgiClient(app, remote="10.0.0.66")
    for _ in range(5):
        attacker.login("guess")
    assert attacker.login(ADMIN_PASSWORD).status == 429
    # X-Forwarded-For cannot move the attacker to another address...
    assert attacker.login(ADMIN_PASSWORD).status == 429
    forged = attacker.request("GET", "/login", headers={"X-Forwarded-For": "10.9.9.9"})
    assert forged.status == 200
    # ...and the admin at another address is not locked out.
    assert WsgiClient(app, remote="10.0.0.5").login(ADMIN_PASSWORD).status == 303


def test_wrong_user_name_is_refused(browser, box):
    set_admin_password(box.folder)
    assert browser.login(ADMIN_PASSWORD, username="root").status == 401


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/valt", "/valt"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil", "/"),
        ("", "/"),
    ],
)
def test_login_goes_back_only_to_local_pages(browser, box, target, expected):
    set_admin_password(box.folder)
    page = browser.get("/login?next=" + target)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    answer = browser.request(
        "POST",
        "/login",
        form={
            "csrf": token,
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "next": target,
        },
    )
    assert answer.location == expected


def test_damaged_password_file_refuses_login_and_says_why(browser, box):
    (box.folder / "web-password").write_text("not an ini file at all")
    answer = browser.login(FACTORY_PASSWORD)
    assert answer.status == 401
    assert "is damaged" in answer.text


def test_every_page_sends_security_headers(admin):
    answer = admin.get("/valt")
    assert "frame-ancestors 'none'" in answer.header("Content-Security-Policy")
    assert answer.header("X-Frame-Options") == "DENY"
    assert answer.header("X-Content-Type-Options") == "nosniff"
    assert answer.header("Cache-Control") == "no-store"


def test_valt_password_is_never_sent_to_the_browser(admin):
    for path in PAGES + JSON_GETS + ["/healthz", "/metrics"]:
        answer = admin.get(path)
        assert SECRET_PASSWORD not in answer.text, path


def test_unknown_page_is_404_after_login(admin):
    assert admin.get("/no/such/page").status == 404


def test_malformed_host_header_is_refused_not_a_crash(app):
    client = WsgiClient(app, host="[::1")
    answer = client.get("/valt")
    assert answer.status == 400 and answer.location is None


def test_password_file_damaged_during_the_first_change_is_reported(browser, box):
    browser.login(FACTORY_PASSWORD)
    (box.folder / "web-password").write_text("[password]\n")
    answer = browser.post(
        "/password", {"new": ADMIN_PASSWORD, "confirm": ADMIN_PASSWORD}
    )
    assert answer.status == 400 and "is damaged" in answer.text


def test_existing_source_names_cannot_be_edited_into_a_second_source(admin):
    page = admin.get("/inputs").text
    assert 'name="sname_0" value="door"' in page
    assert re.search(r'name="sname_0" value="door"[^>]*readonly', page)
    assert not re.search(r'name="sname_1" value=""[^>]*readonly', page)
