"""Enrolment mode on the page: a running daemon on the VALT simulator, console reads,
the page in-process. Started with the password, shown whole only for its 60 s (a
fake clock), writes to VALT audited, VALT's refusal shown, nothing whole elsewhere."""

from __future__ import annotations

import html
import logging
import queue
import re

import pytest
from conftest import FakeClock

from ivs_accessory.config import load
from ivs_accessory.door.enrolment import DURATION_S, Enrolment
from ivs_accessory.service import Service
from ivs_accessory.web import create_app

from .helpers import (
    ADMIN_PASSWORD,
    PipeConsoles,
    set_admin_password,
    write_box_config,
)
from .wsgi import WsgiClient

CARD = "01004B1992"  # an EM4100 tag: decimal (em4100_10) 0004921746, Carol's
WHOLE = ("0004921746", CARD, "4921746")


class Enrolled:
    """A started daemon with its enrolment mode on a fake clock, and its page."""

    def __init__(self, folder, sim) -> None:
        self.sim = sim
        self.clock = FakeClock()
        self.consoles = PipeConsoles()
        self.outcomes: queue.Queue = queue.Queue()
        path = write_box_config(folder, sim.url)
        self.service = Service(
            load(str(path)),
            source_factory=self.consoles,
            on_outcome=self.outcomes.put,
            enrolment=Enrolment(self.clock),
        )
        self.service.start()
        self.app = create_app(self.service, devices=lambda: [])
        set_admin_password(folder)
        self.admin = WsgiClient(self.app)
        assert self.admin.login(ADMIN_PASSWORD).status == 303
        self.audit_path = folder / "audit.log"

    def read(self, line: str):
        """Type ``line`` at the door's console; the outcome it led to."""
        self.consoles.type("door", line)
        return self.outcomes.get(timeout=10)

    def start(self, password: str = ADMIN_PASSWORD):
        return self.admin.post("/enrol/start", {"password": password})

    def audit(self) -> str:
        return self.audit_path.read_text() if self.audit_path.exists() else ""

    def everything_else(self) -> str:
        """What the page shows outside the enrolment page, and the audit log."""
        return "\n".join(
            [
                self.admin.get("/").text,
                self.admin.get("/status.json").text,
                self.admin.get("/inputs").text,
                self.admin.get("/inputs/events.json").text,
                self.admin.get("/system/audit.log").text,
                WsgiClient(self.app).get("/door").text,
                self.audit(),
            ]
        )

    def close(self) -> None:
        self.app.close()
        self.service.stop()


@pytest.fixture
def door(tmp_path, make_sim, caplog):
    caplog.set_level(logging.DEBUG, logger="ivs_accessory")
    made = Enrolled(tmp_path, make_sim(version="6.6.0"))
    try:
        yield made
    finally:
        made.close()


def shown_whole(text: str) -> list[str]:
    return [number for number in WHOLE if number in text]


def test_the_page_needs_a_login(door):
    stranger = WsgiClient(door.app)
    assert stranger.get("/enrol").location.startswith("/login")
    assert stranger.get("/enrol/reads.json").status == 401


def test_starting_needs_the_password_typed_again(door):
    page = door.admin.get("/enrol")
    assert page.status == 200 and 'id="enrol-start"' in page.text
    for wrong in ("", "not the password"):
        refused = door.start(wrong)
        assert refused.status == 400 and 'id="enrol-start"' in refused.text
        assert not door.service.enrolment.active()
    assert door.start().location == "/enrol"
    assert door.service.enrolment.active()
    assert 'id="enrol-stop"' in door.admin.get("/enrol").text


def test_starting_needs_the_forms_token(door):
    answer = door.admin.request(
        "POST", "/enrol/start", form={"password": ADMIN_PASSWORD}
    )
    assert answer.status == 403 and not door.service.enrolment.active()


def test_a_card_is_shown_whole_only_for_the_60_s_and_nothing_else_shows_it(
    door, caplog
):
    # Outside the mode a read acts (another card: the mapper takes one card
    # again within 2 s as the same swipe).
    assert door.read("card 654321").result == "started"
    assert "654321" not in door.admin.get("/enrol").text
    door.start()
    outcome = door.read(f"card {CARD}")
    assert (outcome.result, outcome.message) == ("enrolment", "Enrolment: shown")
    assert door.sim.state.room_info(1)["status"] == "recording"  # not stopped
    page = html.unescape(door.admin.get("/enrol").text)
    assert {"0004921746", CARD} <= set(shown_whole(page))
    marked = re.search(r'<tr class="marked"><td>(\w+)</td>', page)
    assert marked.group(1) == "decimal"  # the default match_reading
    assert "Carol Nguyen (cnguyen, id 4)" in page
    door.clock.advance(DURATION_S - 1)
    assert door.admin.get("/enrol/reads.json").json()["last_seq"] == 1
    door.clock.advance(1)  # the mode ends by itself
    poll = door.admin.get("/enrol/reads.json").json()
    assert poll == {"on": False, "left_s": 0, "last_seq": 0}
    assert shown_whole(door.admin.get("/enrol").text) == []
    assert shown_whole(door.everything_else()) == []
    assert shown_whole(caplog.text) == []
    actions = [line for line in door.audit().splitlines() if "enrolment_" in line]
    assert ["enrolment_start" in actions[0], "enrolment_end" in actions[1]] == [
        True,
        True,
    ]


def test_the_stop_button_ends_the_mode_at_once(door):
    door.start()
    door.read("123456")
    assert "123456" in door.admin.get("/enrol").text
    stopped = door.admin.post("/enrol/stop", {})
    assert stopped.location == "/enrol" and not door.service.enrolment.active()
    assert "123456" not in door.admin.get("/enrol").text
    assert '"enrolment_stop"' in door.audit()


def test_a_pin_is_shown_and_nothing_whole_reaches_logs_or_audit(door, caplog):
    door.start()
    assert door.read("135790").result == "enrolment"
    assert "135790" in door.admin.get("/enrol").text
    for text in (caplog.text, door.everything_else()):
        assert "135790" not in text


def test_the_door_page_says_enrolment_while_it_is_on(door):
    board = door.service.panel.board
    assert (
        'id="enrolment" class="enrolment" hidden'
        in WsgiClient(door.app).get("/door").text
    )
    door.start()
    seen = board.version
    while not board.snapshot()["enrolment"]:
        seen = board.wait(seen, 5)  # the dispatcher's next turn tells the board
    text = WsgiClient(door.app).get("/door").text
    assert re.search(r'<p id="enrolment" class="enrolment">Enrolment</p>', text)
    door.clock.advance(DURATION_S)
    while board.snapshot()["enrolment"]:
        seen = board.wait(seen, 5)
    assert board.snapshot()["enrolment"] is False


def test_writing_a_reading_sets_the_users_card_number_and_is_audited(door):
    door.start()
    door.read(f"card {CARD}")
    written = door.admin.post(
        "/enrol/write", {"read": "1", "reading": "em4100_hex", "user": "5"}
    )
    assert written.status == 303 and written.location == "/enrol"
    assert door.sim.state.users[5]["card_number"] == CARD
    page = html.unescape(door.admin.get("/enrol").text)
    assert "Card number of Dev Patel set (em4100_hex, ****1992)." in page
    assert "em4100_hex is now the card number of Dev Patel" in page
    entry = [line for line in door.audit().splitlines() if "enrol_write" in line]
    assert len(entry) == 1 and '"result":"written"' in entry[0]
    assert '"credential":"****1992"' in entry[0] and CARD not in door.audit()


def test_a_taken_card_number_shows_valts_reason_and_nothing_changes(door):
    door.start()
    door.read("123456")  # Alice's PIN, written to Bob
    refused = door.admin.post(
        "/enrol/write", {"read": "1", "reading": "decimal", "user": "3"}
    )
    assert refused.status == 409
    error = re.search(
        r'<p class="error" id="write-error" role="alert">([^<]+)', refused.text
    )
    assert html.unescape(error.group(1)) == (
        "VALT refused: the card number is already assigned to user 'asmith'"
    )
    assert 'action="/enrol/write"' in refused.text[refused.text.index('id="read-1"') :]
    assert door.sim.state.users[3]["card_number"] == "654321"
    assert door.sim.state.users[2]["card_number"] == "123456"
    entry = [line for line in door.audit().splitlines() if "enrol_write" in line]
    assert len(entry) == 1 and '"result":"refused"' in entry[0]
    assert "asmith" in entry[0] and "123456" not in door.audit()


def test_a_write_after_the_mode_ended_sends_nothing(door):
    door.start()
    door.read("112233")
    door.clock.advance(DURATION_S)
    door.sim.clear_requests()
    answer = door.admin.post(
        "/enrol/write", {"read": "1", "reading": "decimal", "user": "3"}
    )
    assert answer.status == 400 and "no longer shown" in answer.text
    assert [r for r in door.sim.requests() if r["method"] == "POST"] == []


def test_a_bad_write_form_is_refused_with_words(door):
    door.start()
    answer = door.admin.post("/enrol/write", {"read": "x", "reading": "", "user": ""})
    assert answer.status == 400 and "choose a reading and a VALT user" in answer.text
