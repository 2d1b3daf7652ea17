"""Refused and failed saves: nothing written, a banner at the top, focus, said once."""

from __future__ import annotations

import html
import logging
import re

import pytest

from ivs_accessory.config import load
from ivs_accessory.web import create_app

from .fakes import BrokenStatus, FailingReload
from .helpers import ADMIN_PASSWORD, SECRET_PASSWORD, set_admin_password
from .test_settings import inputs_form, valt_form
from .wsgi import WsgiClient


def logged_in(service) -> WsgiClient:
    client = WsgiClient(create_app(service, devices=lambda: []))
    assert client.login(ADMIN_PASSWORD).status == 303
    return client


def banner(answer) -> str:
    """The text of the problems banner at the top (it comes before the heading)."""
    match = re.search(
        r'<div [^>]*id="form-problems"[^>]*>(.*?)</div>', answer.text, re.S
    )
    assert match, "no banner"
    assert answer.text.index('id="form-problems"') < answer.text.index("<h1>")
    assert 'role="alert"' in match.group(0)
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", match.group(1))))


def focused(answer) -> list[str]:
    """The ids of the fields that get the focus when the page opens."""
    return re.findall(
        r'<(?:input|select)[^>]*\bid="([^"]+)"[^>]*\bautofocus', answer.text
    )


def test_a_save_the_daemon_cannot_apply_writes_nothing(box):
    set_admin_password(box.folder)
    failing = FailingReload(box.service)
    client = logged_in(failing)
    before = box.config_bytes()
    answer = client.post("/valt", valt_form(box, room="3"))
    assert answer.status == 400
    assert box.config_bytes() == before  # byte for byte
    assert "cannot open the card reader" in banner(answer)
    assert "nothing was saved" in banner(answer)
    assert box.service.config["valt"]["room"] == 1  # the daemon went back too
    assert failing.reloads == 2  # the new settings, then the previous ones


def test_a_server_the_client_cannot_use_is_refused_without_a_500(admin, box):
    before = box.config_bytes()
    answer = admin.post("/valt", valt_form(box, server="ftp://valt.example"))
    assert answer.status == 400
    assert box.config_bytes() == before
    assert "Server" in banner(answer)  # the field, named in the banner
    assert box.service.config["valt"]["server"] == box.sim.url


def test_a_refused_form_names_the_fields_at_the_top_and_focuses_the_first(admin, box):
    before = box.config_bytes()
    answer = admin.post("/valt", valt_form(box, timeout_s="soon", room="kitchen"))
    assert answer.status == 400 and box.config_bytes() == before
    words = banner(answer)
    assert "Not done: fix the marked fields: Timeout (seconds), Room id." in words
    assert "must be a number" not in words  # the reason is said once: by the field
    assert focused(answer) == ["timeout_s"]
    assert re.search(r'id="timeout_s"[^>]*aria-invalid="true"', answer.text)
    assert '<a href="#timeout_s" data-field="timeout_s">' in answer.text


def test_a_refused_table_row_is_named_and_marked(admin, box):
    answer = admin.post("/inputs", inputs_form(bkey_2="KEY_NOPE", baction_2="start"))
    assert answer.status == 400
    assert "Key of binding 3" in banner(answer)
    assert re.search(
        r'name="bkey_2" value="KEY_NOPE" id="bkey_2"[^>]*aria-invalid', answer.text
    )


@pytest.mark.parametrize(
    "path, form",
    [
        ("/valt", {"timeout_s": "soon", "room": "kitchen", "marker_colour": "pink"}),
        ("/inputs", {"pin_length": "-1", "max_s": "1", "bkey_2": "KEY_KPPLUS"}),
        ("/time", {"timezone": "Mars/Base", "ntp_servers": "bad_host!"}),
        ("/network", {"mode": "static", "address": "", "password": "wrong"}),
        ("/system/password", {"current": "wrong", "new": "x", "confirm": "y"}),
        ("/system/factory-default", {"words": "no", "password": "wrong"}),
    ],
)
def test_each_error_shows_once(admin, box, path, form):
    base = {"/valt": valt_form(box), "/inputs": inputs_form()}.get(path, {})
    if path == "/inputs":
        form = form | {"baction_2": "stop", "bgesture_2": "tap"}
    answer = admin.post(path, base | form)
    assert answer.status == 400
    messages = re.findall(r'class="error"[^>]*>([^<]+)<', answer.text)
    assert messages
    text = html.unescape(re.sub(r"<[^>]+>", " ", answer.text))
    for message in messages:
        assert text.count(html.unescape(message)) == 1, message


@pytest.mark.parametrize("typed", ["        ", " \t ", "\u3000\u3000\u3000\u3000"])
def test_a_blank_valt_password_is_refused(admin, box, typed):
    before = box.config_bytes()
    answer = admin.post("/valt", valt_form(box, password=typed))
    assert answer.status == 400 and box.config_bytes() == before
    assert "must not be blank" in answer.text
    test = admin.post("/valt/test", valt_form(box, password=typed)).json()
    assert test["reason"] == "invalid" and "password" in test["errors"]
    assert load(str(box.config_path))["valt"]["password"] == SECRET_PASSWORD


def test_a_blank_page_password_is_refused(admin, box):
    spaces = " " * 12
    answer = admin.post(
        "/system/password",
        {"current": ADMIN_PASSWORD, "new": spaces, "confirm": spaces},
    )
    assert answer.status == 400 and "must not be only spaces" in answer.text
    assert logged_in(box.service)  # the old password still works


def test_a_blank_password_is_refused_at_the_first_change(browser, box):
    from ivs_accessory.web.accounts import FACTORY_PASSWORD

    browser.login(FACTORY_PASSWORD)
    spaces = " " * 8
    answer = browser.post("/password", {"new": spaces, "confirm": spaces})
    assert answer.status == 400 and "must not be only spaces" in answer.text
    assert not (box.folder / "web-password").exists()


# -- nothing unexpected reaches the browser as a bare 500 ------------------------------


def test_an_unexpected_error_shows_the_page_with_a_banner_and_logs_once(box, caplog):
    set_admin_password(box.folder)
    client = logged_in(BrokenStatus(box.service))
    with caplog.at_level(logging.ERROR, logger="ivs_accessory.web"):
        answer = client.get("/")
    assert answer.status == 500
    assert "Something went wrong" in banner(answer)
    assert "Traceback" not in answer.text and "status exploded" not in answer.text
    assert "<nav>" in answer.text  # the layout, with the way back
    tracebacks = [r for r in caplog.records if r.exc_info]
    assert len(tracebacks) == 1
    assert "status exploded" in caplog.text
