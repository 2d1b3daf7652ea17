"""After a VALT save: say how the login went; warn by the field, never block it."""

from __future__ import annotations

import re

import pytest

from ivs_accessory.config import load
from ivs_accessory.web.verdict import login_verdict

from .helpers import SECRET_PASSWORD
from .test_settings import free_port, valt_form
from .wsgi import Answer


def flash(answer: Answer) -> tuple[str, str]:
    """(level, words) of the one-time message at the top."""
    match = re.search(
        r'<div class="banner (\w+)" role="\w+" id="flash">([^<]*)<', answer.text
    )
    assert match, "no message"
    return match.group(1), match.group(2)


def warning(answer: Answer, field: str) -> str | None:
    match = re.search(rf'id="{field}-warning">([^<]*)<', answer.text)
    return match.group(1) if match else None


def test_a_working_save_says_applied_in_green(admin, box):
    assert admin.post("/valt", valt_form(box)).status == 303
    level, words = flash(admin.get("/valt"))
    assert level == "ok"
    assert words == "VALT settings saved and applied; the login works (VALT 6.6.0)."


def test_a_wrong_password_is_saved_but_never_called_applied(admin, box):
    answer = admin.post("/valt", valt_form(box, password="not-the-password"))
    assert answer.status == 303  # saved: the installer may know better
    assert load(str(box.config_path))["valt"]["password"] == "not-the-password"
    page = admin.get("/valt")
    level, words = flash(page)
    assert level == "bad" and "applied" not in words
    assert words == "Saved. VALT login: refused (check the user name and the password)."
    assert "refused the user name or password" in warning(page, "password")
    assert page.text.count("refused the user name or password") == 1  # said once
    assert "not-the-password" not in page.text
    assert warning(admin.get("/valt"), "password") is None  # said once


def test_a_room_valt_does_not_list_is_saved_with_a_warning(admin, box):
    assert admin.post("/valt", valt_form(box, room="77")).status == 303
    page = admin.get("/valt")
    assert flash(page) == ("warn", "Saved. VALT login works, but VALT has no room 77.")
    assert warning(page, "room") == "VALT has no room 77; pick one from the list"
    assert box.service.config["valt"]["room"] == 77


def test_an_unreachable_server_is_saved_and_said(admin, box):
    server = f"http://127.0.0.1:{free_port()}"
    assert (
        admin.post("/valt", valt_form(box, server=server, password="x1")).status == 303
    )
    level, words = flash(admin.get("/valt"))
    assert level == "bad" and words.startswith("Saved. VALT login: unreachable")


def test_a_new_server_without_a_new_password_is_not_tried_with_the_old_one(
    admin, box, make_sim
):
    other = make_sim(version="6.6.0")
    before = box.config_bytes()
    answer = admin.post("/valt", valt_form(box, server=other.url))
    # The saved password is not kept for another server: it is asked for again,
    # and nothing is saved or sent there.
    assert answer.status == 400 and box.config_bytes() == before
    assert other.requests() == []
    assert load(str(box.config_path))["valt"]["password"] == SECRET_PASSWORD


@pytest.mark.parametrize(
    "result, room, level, field",
    [
        ({"ok": True, "message": "m", "rooms": [{"id": 1}]}, 1, "ok", None),
        ({"ok": True, "message": "m", "rooms": [{"id": 1}]}, None, "warn", "room"),
        ({"ok": True, "message": "m", "rooms": [{"id": 1}]}, 2, "warn", "room"),
        ({"ok": False, "reason": "credentials", "message": "m"}, 1, "bad", "password"),
        ({"ok": False, "reason": "unreachable", "message": "m"}, 1, "bad", "server"),
        ({"ok": False, "reason": "tls", "message": "m"}, 1, "bad", "ca_file"),
        ({"ok": False, "reason": "error", "message": "m"}, 1, "bad", None),
    ],
)
def test_login_verdicts(result, room, level, field):
    words, found, warnings = login_verdict(result, room)
    assert found == level
    assert list(warnings) == ([field] if field else [])
    assert ("applied" in words) == (level == "ok")
