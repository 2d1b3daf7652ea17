"""The door page in-process: public and read-only, the pad only where allowed, and
every refusal of a PIN from the pad (client, token, rate, form)."""

from __future__ import annotations

import logging
import re

import pytest
from conftest import FakeClock

from ivs_accessory.web import create_app

from .helpers import start_box
from .wsgi import WsgiClient

PAD = "[door]\nkeypad = true\n"


@pytest.fixture
def make_door(tmp_path, make_sim):
    """``make_door(extra=PAD) -> (box, app, clock)``; everything stopped after."""
    made = []

    def make(extra: str = PAD):
        box = start_box(tmp_path, make_sim(version="6.6.0"), extra="\n" + extra)
        clock = FakeClock()
        app = create_app(box.service, clock=clock, devices=lambda: [])
        made.append((box, app))
        return box, app, clock

    try:
        yield make
    finally:
        for box, app in made:
            app.close()
            box.service.stop()


def token_of(answer) -> str:
    found = re.search(r'name="door-csrf" content="([^"]+)"', answer.text)
    return found.group(1) if found else ""


def post_pin(client: WsgiClient, pin: str, token: str | None):
    headers = {"X-CSRF-Token": token} if token is not None else {}
    return client.request("POST", "/door/pin", form={"pin": pin}, headers=headers)


def test_door_page_needs_no_login_and_everything_else_still_does(browser):
    door = browser.get("/door")
    assert door.status == 200
    assert 'id="state"' in door.text and "/static/door.js" in door.text
    assert browser.get("/").status == 303  # to the login
    assert browser.get("/status.json").status == 401
    assert browser.get("/valt").location.startswith("/login")


def test_door_page_keeps_the_pages_security_headers(browser):
    door = browser.get("/door")
    assert "default-src 'self'" in door.header("Content-Security-Policy")
    assert door.header("X-Frame-Options") == "DENY"
    assert door.header("Cache-Control") == "no-store"


def test_door_page_loads_nothing_from_elsewhere(browser):
    text = browser.get("/door").text
    links = re.findall(r'(?:src|href)="([^"]+)"', text)
    assert links and all(link.startswith("/static/") for link in links)
    assert "<style" not in text and "style=" not in text  # CSP: no inline style
    scripts = re.findall(r"<script([^>]*)>", text)
    assert all("src=" in s or 'type="application/json"' in s for s in scripts)
    for name in ("door.css", "door.js"):
        assert browser.get(f"/static/{name}").status == 200


def test_door_page_shows_no_secret_and_asks_valt_nothing(browser, box):
    box.sim.clear_requests()
    for _ in range(20):
        text = browser.get("/door").text
    assert box.sim.requests() == []  # any number of screens: no request
    for secret in ("Zq7-unique-Pw!42", "keypad", box.sim.url):
        assert secret not in text
    assert "door-csrf" not in text  # no pad here: [door] keypad is off


def test_pad_and_its_token_are_for_allowed_clients_only(make_door):
    box, app, _ = make_door()
    local = WsgiClient(app)
    page = local.get("/door")
    assert 'id="pad"' in page.text and token_of(page)
    cookie = next(c for c in local.raw_cookies if c.startswith("ivs_door="))
    for part in ("HttpOnly", "SameSite=Strict", "Path=/door"):
        assert part.lower() in cookie.lower()
    assert local.get("/door").text.count(token_of(page)) == 1  # kept across loads
    lan = WsgiClient(app, remote="192.0.2.7")
    elsewhere = lan.get("/door")
    assert elsewhere.status == 200 and 'id="pad"' not in elsewhere.text
    assert not token_of(elsewhere) and "ivs_door" not in lan.cookies


def test_pad_is_not_shown_when_pins_do_not_count(make_door):
    _, app, _ = make_door(PAD + "\n[mapping]\nmode = card\n")
    assert 'id="pad"' not in WsgiClient(app).get("/door").text


def test_a_pin_from_the_pad_becomes_a_touch_input(make_door):
    box, app, _ = make_door()
    client = WsgiClient(app)
    answer = post_pin(client, "123456", token_of(client.get("/door")))
    assert answer.status == 202 and answer.json() == {"accepted": True}
    outcome = box.outcomes.get(timeout=10)
    assert (outcome.source, outcome.result) == ("touch", "started")


def test_pin_without_the_pad_is_not_found(box, browser):
    answer = post_pin(browser, "123456", "x" * 32)
    assert answer.status == 404 and "[door] keypad" in answer.json()["error"]


@pytest.mark.parametrize("token", [None, "", "forged-token-of-some-length-xx"])
def test_pin_without_the_pages_token_is_refused(make_door, token):
    box, app, _ = make_door()
    client = WsgiClient(app)
    client.get("/door")  # the cookie is set; the header is missing or wrong
    answer = post_pin(client, "123456", token)
    assert answer.status == 403 and "reload" in answer.json()["error"]
    assert box.service.panel.touch.pins == 0


def test_pin_with_the_token_but_without_its_cookie_is_refused(make_door):
    box, app, _ = make_door()
    token = token_of(WsgiClient(app).get("/door"))
    answer = post_pin(WsgiClient(app), "123456", token)  # another browser
    assert answer.status == 403 and box.service.panel.touch.pins == 0


def test_pin_from_a_client_outside_allowed_clients_is_refused(make_door):
    box, app, _ = make_door()
    local = WsgiClient(app)
    token = token_of(local.get("/door"))
    lan = WsgiClient(app, remote="192.0.2.7")
    lan.cookies = dict(local.cookies)  # even with a stolen token
    answer = post_pin(lan, "123456", token)
    assert answer.status == 403 and "allowed_clients" in answer.json()["error"]
    assert box.service.panel.touch.pins == 0


def test_allowed_clients_may_name_a_network(make_door):
    box, app, _ = make_door(PAD + "allowed_clients = 192.0.2.0/24\n")
    tablet = WsgiClient(app, remote="192.0.2.7")
    assert post_pin(tablet, "123456", token_of(tablet.get("/door"))).status == 202
    local = WsgiClient(app)  # the box itself is no longer named
    assert 'id="pad"' not in local.get("/door").text


@pytest.mark.parametrize("pin", ["", "12ab56", "1" * 33, "١٢٣٤٥٦"])
def test_a_pin_that_is_not_digits_is_refused(make_door, pin):
    box, app, _ = make_door()
    client = WsgiClient(app)
    answer = post_pin(client, pin, token_of(client.get("/door")))
    assert answer.status == 400 and "1 to 32 digits" in answer.json()["error"]


def test_pins_are_rate_limited(make_door):
    box, app, clock = make_door()
    client = WsgiClient(app)
    token = token_of(client.get("/door"))
    answers = [post_pin(client, f"90000{i % 10}", token) for i in range(11)]
    assert [a.status for a in answers] == [202] * 10 + [429]
    assert answers[-1].header("Retry-After") == "2"
    assert "too many PINs" in answers[-1].json()["error"]
    clock.advance(2)
    assert post_pin(client, "900000", token).status == 202


def test_the_pin_is_never_logged(make_door, caplog):
    caplog.set_level(logging.DEBUG)
    box, app, _ = make_door()
    client = WsgiClient(app)
    token = token_of(client.get("/door"))
    post_pin(client, "246813", token)
    post_pin(WsgiClient(app, remote="192.0.2.7"), "246813", token)
    post_pin(client, "246813", None)
    box.outcomes.get(timeout=10)
    box.service.dispatcher.drain(10)
    assert all("246813" not in r.getMessage() for r in caplog.records)


def test_preset_presses_share_the_pads_rate(make_door):
    box, app, clock = make_door("[door]\nkeypad = true\npresets = Wide\n")
    client = WsgiClient(app)
    token = token_of(client.get("/door"))
    pins = [post_pin(client, f"90000{i}", token) for i in range(5)]
    presses = [
        client.request(
            "POST",
            "/door/preset",
            form={"preset": "Wide"},
            headers={"X-CSRF-Token": token},
        )
        for _ in range(6)
    ]
    assert [a.status for a in pins + presses] == [202] * 10 + [429]
    assert "too many presets" in presses[-1].json()["error"]
