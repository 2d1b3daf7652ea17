"""The first-run checklist and the live input view's results."""

from __future__ import annotations

import json

import pytest

from ivs_accessory.web import create_app
from ivs_accessory.web.accounts import FACTORY_PASSWORD
from ivs_accessory.web.live import match_outcomes

from .helpers import ADMIN_PASSWORD, SECRET_PASSWORD, set_admin_password, start_box
from .test_settings import valt_form
from .wsgi import WsgiClient


def steps(client) -> dict[str, dict]:
    return {s["id"]: s for s in client.get("/status.json").json()["setup"]["steps"]}


@pytest.fixture
def new_box(tmp_path, make_sim):
    """A box as the installer finds it: wrong VALT password, factory login."""
    box = start_box(tmp_path, make_sim(version="6.6.0"), password="not-yet")
    try:
        box.rooms.wait(lambda status, online: online is not None)
        yield box
    finally:
        box.service.stop()


def test_checklist_ticks_from_first_login_to_a_pin(new_box):
    box = new_box
    client = WsgiClient(create_app(box.service, devices=lambda: []))
    assert client.login(FACTORY_PASSWORD).location == "/password"
    done = client.post("/password", {"new": ADMIN_PASSWORD, "confirm": ADMIN_PASSWORD})
    assert done.location == "/"
    landing = client.get("/").text
    assert 'id="checklist"' in landing and "Type a PIN now" in landing
    first = steps(client)
    assert [s["done"] for s in first.values()] == [False, False, True, False]
    assert first["valt"]["detail"] == "Login refused"
    assert first["room"]["detail"] == "Room 1: not read from VALT yet"
    assert first["source"]["detail"] == "door connected"
    # The installer fixes the VALT page: the right password and room 2.
    saved = client.post("/valt", valt_form(box, password=SECRET_PASSWORD, room="2"))
    assert saved.status == 303
    box.rooms.wait(lambda status, online: status is not None)
    second = steps(client)
    assert [s["done"] for s in second.values()] == [True, True, True, False]
    assert second["room"]["detail"].endswith("(room 2)")  # VALT's name for it
    assert second["input"]["detail"] == "Waiting for a PIN or a card…"
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    last = steps(client)
    assert last["input"]["done"]
    assert last["input"]["detail"].startswith(
        "Recording started for Alice Smith (door, "
    )
    assert client.get("/status.json").json()["setup"]["done"] is True
    assert 'id="checklist"' not in client.get("/").text  # done: out of the way


def test_a_box_in_use_does_not_show_the_first_steps_again(tmp_path, make_sim):
    # An earlier run handled a PIN; now VALT refuses the login after a restart.
    (tmp_path / "audit.log").write_text('{"result": "started"}\n')
    box = start_box(tmp_path, make_sim(version="6.6.0"), password="changed-in-valt")
    try:
        box.rooms.wait(lambda status, online: online is not None)
        set_admin_password(box.folder)
        client = WsgiClient(create_app(box.service, devices=lambda: []))
        client.login(ADMIN_PASSWORD)
        setup = client.get("/status.json").json()["setup"]
        assert setup["done"] is False and setup["show"] is False
        assert setup["steps"][3]["done"] is True
        page = client.get("/").text
        assert 'id="checklist"' not in page and 'id="valt-alert" role' in page
    finally:
        box.service.stop()


def test_live_inputs_show_each_outcome_next_to_its_event(admin, box):
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    box.consoles.type("door", "card 0000000001")
    assert box.outcomes.get(timeout=10).result == "denied"
    box.consoles.type("door", "key 5")  # a digit: no outcome (yet)
    box.consoles.type("door", "key plus")
    assert box.outcomes.get(timeout=10).result == "marked"
    events = admin.get("/inputs/events.json").json()["events"]
    rows = [(e["detail"], e["result"]) for e in events]
    assert rows == [
        ("KEY_KPPLUS", "marked"),
        ("digit", ""),
        ("decimal card ****0001 (10 characters)", "denied"),
        ("code of 6 digits", "started"),
    ]
    assert events[3]["message"] == "Recording started for Alice Smith"
    text = json.dumps(events)
    assert "123456" not in text and "0000000001" not in text


def event(seq, time, source="pad"):
    return {"seq": seq, "time": time, "source": source}


def outcome(began, result, source="pad"):
    return {"began": began, "result": result, "source": source}


@pytest.mark.parametrize(
    "events, outcomes, expected",
    [
        # A keypad PIN: the outcome belongs to the digit that completed it.
        ([event(i, 0.1 * i) for i in range(1, 7)], [outcome(0.601, "started")],
         {6: "started"}),
        # The next PIN's first digit typed while VALT was still answering.
        ([event(1, 0.1), event(2, 2.4)], [outcome(0.102, "started")], {1: "started"}),
        # ... even within a quarter of a second.
        ([event(1, 0.1), event(2, 0.3)], [outcome(0.101, "started")], {1: "started"}),
        # Two readers: each outcome goes to its own source.
        ([event(1, 0.1, "pad"), event(2, 0.2, "card")],
         [outcome(0.201, "denied", "card"), outcome(0.101, "started", "pad")],
         {1: "started", 2: "denied"}),
        # Two outcomes in one second go to two events, in order.
        ([event(1, 0.1), event(2, 0.5)],
         [outcome(0.502, "marked"), outcome(0.101, "started")],
         {1: "started", 2: "marked"}),
        # An outcome from before every event shown matches nothing.
        ([event(5, 100.0)], [outcome(1.0, "started")], {}),
    ],
)  # fmt: skip
def test_outcomes_are_matched_to_their_events(events, outcomes, expected):
    found = match_outcomes(events, outcomes)
    assert {seq: entry["result"] for seq, entry in found.items()} == expected
