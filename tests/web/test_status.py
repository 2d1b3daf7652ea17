"""Honest states: the VALT connection, the room's last known status, banners."""

from __future__ import annotations

import html
import re

import pytest

from ivs_accessory.errors import ValtUnavailable
from ivs_accessory.service import valt_state
from ivs_accessory.web import create_app
from ivs_accessory.web.live import room_words, valt_words

from .fakes import StatusOverlay
from .helpers import ADMIN_PASSWORD, set_admin_password, start_box
from .test_settings import free_port
from .wsgi import WsgiClient

PAGES = ["/", "/valt", "/inputs", "/network", "/time", "/system"]


def logged_in(service, clock=None) -> WsgiClient:
    options = {"clock": clock} if clock else {}
    client = WsgiClient(create_app(service, devices=lambda: [], **options))
    answer = client.login(ADMIN_PASSWORD)
    assert answer.status == 303, answer.text
    return client


def text_of(answer, element_id: str) -> str | None:
    """The text inside the element with ``element_id`` (tags dropped), or None."""
    match = re.search(
        rf'<(\w+)[^>]*\bid="{element_id}"([^>]*)>(.*?)</\1>', answer.text, re.S
    )
    if match is None:
        return None
    return html.unescape(re.sub(r"<[^>]+>", "", match.group(3))).strip()


def banner_shown(answer, element_id: str) -> bool:
    match = re.search(rf'id="{element_id}"[^>]*>', answer.text)
    return match is not None and " hidden" not in match.group(0)


@pytest.fixture
def refused_box(tmp_path, make_sim):
    """A daemon whose VALT password is wrong, after VALT has refused it once."""
    box = start_box(tmp_path, make_sim(version="6.6.0"), password="wrong-password")
    set_admin_password(box.folder)
    try:
        box.rooms.wait(lambda status, online: online is not None)
        yield box
    finally:
        box.service.stop()


def test_wrong_valt_password_reads_login_refused_never_connected(refused_box):
    assert refused_box.service.status()["valt"]["state"] == "login_refused"
    client = logged_in(refused_box.service)
    status = client.get("/status.json").json()
    assert status["valt"]["state"] == "Login refused"
    assert status["valt"]["code"] == "login_refused"
    page = client.get("/")
    assert text_of(page, "valt-state") == "Login refused"
    assert "Connected" not in text_of(page, "valt-card")
    assert "Connected" not in text_of(page, "checklist")
    assert 'data-state="login_refused"' in page.text


@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_a_red_banner_linking_to_the_fix(refused_box, path):
    client = logged_in(refused_box.service)
    answer = client.get(path)
    assert banner_shown(answer, "valt-alert")
    words = text_of(answer, "valt-alert")
    assert words.startswith("VALT refused the login: check the user name")
    assert re.search(r'id="valt-alert".*?<a href="/valt">', answer.text, re.S)


def test_unreachable_valt_says_unreachable(tmp_path, make_sim):
    port = free_port()  # nothing listens there
    sim = make_sim(version="6.6.0")
    box = start_box(tmp_path, sim)
    try:
        box.service.reload(_with_server(box, f"http://127.0.0.1:{port}"))
        box.rooms.wait(lambda status, online: online is False)
        assert box.service.status()["valt"]["state"] == "unreachable"
        set_admin_password(box.folder)
        page = logged_in(box.service).get("/")
        assert text_of(page, "valt-state") == "Unreachable"
        assert text_of(page, "valt-alert").startswith("VALT is unreachable")
    finally:
        box.service.stop()


def _with_server(box, server: str):
    from ivs_accessory.config import load, save

    save(str(box.config_path), {"valt": {"server": server}})
    return load(str(box.config_path))


def test_valt_not_configured_says_so_with_the_banner(tmp_path, make_sim):
    box = start_box(tmp_path, make_sim())
    try:
        box.service.reload(_with_server(box, ""))
        assert box.service.status()["valt"]["state"] == "not_configured"
        set_admin_password(box.folder)
        page = logged_in(box.service).get("/inputs")
        assert text_of(page, "valt-alert").startswith("VALT is not configured")
    finally:
        box.service.stop()


def test_a_room_valt_does_not_know_is_an_error_not_connected(tmp_path, make_sim):
    box = start_box(tmp_path, make_sim(), room="99")
    try:
        box.rooms.wait(lambda status, online: online is not None)
        assert box.service.status()["valt"]["state"] == "error"
        set_admin_password(box.folder)
        answer = logged_in(box.service).get("/status.json").json()
        assert answer["valt"]["state"] == "Error" and answer["valt"]["alert"]
        assert "99" in answer["valt"]["last_error"]
    finally:
        box.service.stop()


def test_connected_after_a_login_and_no_banner(admin, box):
    box.rooms.wait(lambda status, online: status is not None)
    assert box.service.status()["valt"]["state"] == "connected"
    page = admin.get("/")
    assert text_of(page, "valt-state") == "Connected"
    assert not banner_shown(page, "valt-alert")


def test_valt_state_before_any_login_is_connecting(make_sim, make_client):
    client = make_client(make_sim())
    assert valt_state(client, None) == "connecting"
    client.login()
    assert valt_state(client, None) == "connected"
    assert valt_state(None, None) == "not_configured"


def test_valt_state_of_a_failed_login_names_its_kind(make_client):
    client = make_client(f"http://127.0.0.1:{free_port()}", timeout=1)
    with pytest.raises(ValtUnavailable):
        client.login()
    assert valt_state(client, None) == "unreachable"


@pytest.mark.parametrize(
    "valt, words",
    [
        ({"configured": False, "online": None}, "Not configured"),
        ({"configured": True, "online": None}, "Connecting…"),
        ({"configured": True, "online": True}, "Connected"),
        ({"configured": True, "online": False}, "Unreachable"),
        (
            {"configured": True, "online": True, "state": "login_refused"},
            "Login refused",
        ),
    ],
)
def test_valt_words_work_with_and_without_the_daemons_state(valt, words):
    assert valt_words(valt) == words


# -- the room --------------------------------------------------------------------------


def test_room_keeps_its_last_status_with_its_age_when_valt_fails(box):
    room = {"id": 1, "status": "recording", "status_age_s": 12.4}
    valt = {"configured": True, "online": False, "state": "unreachable"}
    assert room_words(room, valt) == (
        "Recording — last confirmed 12 s ago; VALT unreachable"
    )
    overlay = StatusOverlay(box.service, valt=valt, room=room)
    set_admin_password(box.folder)
    page = logged_in(overlay).get("/")
    assert text_of(page, "room-status") == (
        "Recording — last confirmed 12 s ago; VALT unreachable"
    )
    assert "Unknown" not in text_of(page, "room-status")


def test_room_shows_its_name_who_started_it_and_how_long(box):
    overlay = StatusOverlay(
        box.service,
        valt={"online": True, "state": "connected"},
        room={
            "status": "recording",
            "name": "Interview Room 1",
            "started_by": "Alice Smith",
            "elapsed_s": 120.0,
            "status_age_s": 5.0,
        },
    )
    set_admin_password(box.folder)
    page = logged_in(overlay).get("/")
    assert text_of(page, "room-status") == "Recording"
    assert text_of(page, "room-details") == "Started by Alice Smith, 2 min 5 s recorded"
    assert text_of(page, "room-title") == "Interview Room 1 (room 1)"


def test_room_never_read_says_so(box):
    overlay = StatusOverlay(
        box.service, valt={"online": None, "state": "connecting"}, room={"status": None}
    )
    set_admin_password(box.folder)
    status = logged_in(overlay).get("/status.json").json()
    assert status["room"]["words"] == "Unknown (not read yet)"


def test_status_area_is_announced_politely(admin):
    page = admin.get("/").text
    assert re.search(r'id="room-card" aria-live="polite"', page)
    assert re.search(r'id="valt-card" aria-live="polite"', page)


def test_input_events_are_counted_in_words(admin, box):
    assert admin.get("/status.json").json()["events_words"] == "0 input events"
    box.consoles.type("door", "123456")
    box.outcomes.get(timeout=10)
    assert admin.get("/status.json").json()["events_words"] == "1 input event"


@pytest.mark.parametrize(
    "status, valt, words",
    [
        ("recording", {"state": "login_refused"}, "Recording — VALT login refused"),
        ("paused", {"state": "error"}, "Paused — VALT answered with an error"),
        ("available", {"online": False}, "Available — VALT unreachable"),
        (None, {"state": "unreachable"}, "Unknown (VALT unreachable)"),
        (None, {"state": "connected", "online": True}, "Unknown (not read yet)"),
        ("locked", {"state": "connected", "online": True}, "Locked (privacy)"),
    ],
)  # fmt: skip
def test_room_words_say_why_a_status_may_be_old(status, valt, words):
    assert room_words({"id": 1, "status": status}, {"configured": True} | valt) == words
