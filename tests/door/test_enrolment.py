"""Enrolment mode on the door side: its 60 s, its reads (whole, with the matched user),
the dispatcher giving it PINs and cards, the keypad LEDs and the door board, and the
write of a reading to VALT (the simulator on loopback)."""

from __future__ import annotations

import queue
import time

import pytest
from conftest import FakeClock

from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.audit import AuditLog
from ivs_accessory.door.board import DoorBoard
from ivs_accessory.door.card_writer import write_card
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.dispatcher import Dispatcher
from ivs_accessory.door.enrolment import DURATION_S, Enrolment
from ivs_accessory.door.feedback import LedFeedback
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Mapper, MappingSettings
from ivs_accessory.door.room import RoomState
from ivs_accessory.events import CardRead, CodeEntered, KeyPressed

ALL = frozenset({"LED_NUML", "LED_CAPSL", "LED_SCROLLL"})


class Notes:
    """Stands in for ``AuditLog.note``: the entries, in order."""

    def __init__(self) -> None:
        self.entries: list[dict] = []

    def __call__(self, **fields) -> None:
        self.entries.append(fields)

    def actions(self) -> list[tuple[str, str]]:
        return [(e["action"], e["result"]) for e in self.entries]


@pytest.fixture
def door(make_sim, make_client, tmp_path):
    """A running dispatcher on a 6.6 simulator with an enrolment mode on a fake
    clock; yields (sim, enrolment, dispatcher, outcomes, clock, audit)."""
    sim = make_sim(version="6.6.0")
    client = make_client(sim)
    clock = FakeClock()
    audit = AuditLog(str(tmp_path / "audit.log"))
    enrolment = Enrolment(clock, record=audit.note)
    actions = Actions(
        client,
        RoomState(client, 1),
        UserDirectory(client),
        ActionSettings(room=1, match_reading="em4100_10"),
        Lockout(),
    )
    outcomes: queue.Queue = queue.Queue()
    mapper = Mapper(
        MappingSettings(
            mode="both", pin_length=6, bindings={("KEY_KPPLUS", "tap"): "marker"}
        )
    )
    dispatcher = Dispatcher(
        mapper,
        actions,
        audit=audit,
        on_outcome=outcomes.put,
        tick_s=0.05,
        enrolment=enrolment,
    )
    dispatcher.start()
    try:
        yield sim, enrolment, dispatcher, outcomes, clock, audit
    finally:
        dispatcher.stop()


def test_mode_lasts_60_s_then_ends_by_itself_and_is_audited():
    clock, notes = FakeClock(), Notes()
    enrolment = Enrolment(clock, record=notes)
    assert DURATION_S == 60 and not enrolment.active()
    enrolment.start("192.0.2.9")
    clock.advance(59.9)
    assert enrolment.active() and enrolment.left_s() == pytest.approx(0.1)
    clock.advance(0.1)
    assert not enrolment.active() and enrolment.left_s() == 0
    assert not enrolment.active()  # the end is noticed once
    assert notes.actions() == [("enrolment_start", "on"), ("enrolment_end", "off")]
    assert "192.0.2.9" in notes.entries[0]["message"]


def test_stop_ends_it_at_once_and_only_when_it_is_on():
    clock, notes = FakeClock(), Notes()
    enrolment = Enrolment(clock, record=notes)
    assert not enrolment.stop("me")
    enrolment.start("me")
    assert enrolment.stop("me") and not enrolment.active()
    assert notes.actions() == [("enrolment_start", "on"), ("enrolment_stop", "off")]


def test_a_card_is_shown_whole_with_its_matched_reading_and_user(door):
    sim, enrolment, dispatcher, outcomes, _, _ = door
    enrolment.start("test")
    sim.clear_requests()
    dispatcher.emit(CardRead("reader", "01004B1992", "em4100", time.monotonic()))
    outcome = outcomes.get(timeout=10)
    assert (outcome.result, outcome.message) == ("enrolment", "Enrolment: shown")
    assert outcome.user_id == 4 and outcome.credential == "****1746"
    [read] = enrolment.reads()
    values = {r["name"]: r["value"] for r in read["readings"]}
    assert values["em4100_10"] == "0004921746" and values["em4100_hex"] == "01004B1992"
    assert [r["name"] for r in read["readings"] if r["marked"]] == ["em4100_10"]
    assert read["user"]["name"] == "cnguyen" and read["source"] == "reader"
    # The one lookup matching makes anyway, and nothing sent to change anything.
    lookups = [r for r in sim.requests() if r["path"] == "admin/users"]
    assert [r["query"] for r in lookups] == [{"cardNumber": "0004921746"}]
    assert all(r["method"] == "GET" for r in sim.requests() if r["path"] != "login")
    assert sim.state.room_info(1)["status"] == "available"


def test_a_pin_is_shown_as_its_digits_and_does_not_start_a_recording(door):
    sim, enrolment, dispatcher, outcomes, _, _ = door
    enrolment.start("test")
    dispatcher.emit(CodeEntered("keypad", "123456", time.monotonic()))
    outcome = outcomes.get(timeout=10)
    assert outcome.result == "enrolment" and outcome.user_name == "asmith"
    [read] = enrolment.reads()
    assert read["kind"] == "pin" and read["marked"] == "decimal"
    assert read["readings"] == [{"name": "decimal", "value": "123456", "marked": True}]
    assert sim.state.room_info(1)["status"] == "available"


def test_an_unknown_card_and_an_unreadable_one_each_get_one_outcome(door):
    _, enrolment, dispatcher, outcomes, _, _ = door
    enrolment.start("test")
    dispatcher.emit(CardRead("reader", "99999999", "decimal", time.monotonic()))
    dispatcher.emit(CardRead("reader", "0101", "wiegand", time.monotonic()))
    assert outcomes.get(timeout=10).result == "enrolment"
    assert outcomes.get(timeout=10).result == "unreadable"
    unknown, unreadable = enrolment.reads()
    assert unknown["user"] is None and unknown["marked"] == "em4100_10"
    assert unknown["problem"] == (
        "no em4100_10 reading: match_reading = em4100_10 cannot match it"
    )
    assert unreadable["readings"] == [] and "wiegand" in unreadable["problem"]
    assert outcomes.empty()


def test_key_bindings_still_work_during_enrolment(door):
    sim, enrolment, dispatcher, outcomes, _, _ = door
    enrolment.start("test")
    dispatcher.emit(KeyPressed("keypad", "KEY_KPPLUS", time.monotonic()))
    # A marker needs a recording: the binding ran (and was told the room's state).
    assert outcomes.get(timeout=10).action == "marker"
    assert enrolment.reads() == []


def test_after_the_mode_ends_reads_act_again_and_nothing_is_kept(door):
    sim, enrolment, dispatcher, outcomes, clock, audit = door
    enrolment.start("test")
    dispatcher.emit(CodeEntered("keypad", "654321", time.monotonic()))
    assert outcomes.get(timeout=10).result == "enrolment"
    clock.advance(DURATION_S)
    assert enrolment.reads() == [] and enrolment.value(1, "decimal") is None
    dispatcher.emit(CodeEntered("keypad", "654321", time.monotonic()))
    assert outcomes.get(timeout=10).result == "started"
    text = (audit.path and open(audit.path).read()) or ""
    assert "654321" not in text and '"result":"enrolment"' in text


def test_write_sets_the_card_number_audited_masked_and_the_card_then_matches(door):
    sim, enrolment, dispatcher, outcomes, _, audit = door
    directory = dispatcher.actions.directory
    enrolment.start("test")
    dispatcher.emit(CardRead("reader", "0A0B0C0D0E", "em4100", time.monotonic()))
    assert outcomes.get(timeout=10).user_id is None
    client = dispatcher.actions.client
    done = write_card(
        enrolment, client, directory, audit.note,
        seq=1, reading="em4100_10", user_id=5, by="192.0.2.9",
    )  # fmt: skip
    assert done.ok and "Dev Patel" in done.words
    assert sim.state.users[5]["card_number"] == "0185339150"
    assert enrolment.reads()[0]["written"]["name"] == "dpatel"
    entry = audit.recent(1)[0]
    assert (entry["action"], entry["result"], entry["user"]) == (
        "enrol_write",
        "written",
        5,
    )
    assert entry["credential"] == "****9150"
    assert "0185339150" not in open(audit.path).read()
    enrolment.stop("test")
    # Past the mapper's debounce of one card held in the field (2 s).
    later = time.monotonic() + 3
    dispatcher.emit(CardRead("reader", "0A0B0C0D0E", "em4100", later))
    started = outcomes.get(timeout=10)
    assert (started.result, started.user_id) == ("started", 5)


def test_a_taken_number_gives_valts_reason_and_changes_nothing(door):
    sim, enrolment, dispatcher, outcomes, _, audit = door
    enrolment.start("test")
    dispatcher.emit(CodeEntered("keypad", "123456", time.monotonic()))
    outcomes.get(timeout=10)
    refused = write_card(
        enrolment, dispatcher.actions.client, None, audit.note,
        seq=1, reading="decimal", user_id=3, by="me",
    )  # fmt: skip
    assert (refused.result, refused.words) == (
        "refused",
        "the card number is already assigned to user 'asmith'",
    )
    assert sim.state.users[3]["card_number"] == "654321"
    entry = audit.recent(1)[0]
    assert (entry["result"], entry["credential"]) == ("refused", "****")
    assert "asmith" in entry["message"] and "123456" not in open(audit.path).read()


def test_nothing_is_written_once_the_mode_has_ended(door):
    sim, enrolment, dispatcher, outcomes, clock, audit = door
    enrolment.start("test")
    dispatcher.emit(CodeEntered("keypad", "112233", time.monotonic()))
    outcomes.get(timeout=10)
    clock.advance(DURATION_S)
    sim.clear_requests()
    gone = write_card(
        enrolment, dispatcher.actions.client, None, audit.note,
        seq=1, reading="decimal", user_id=3, by="me",
    )  # fmt: skip
    assert gone.result == "gone"
    assert [r for r in sim.requests() if r["path"].endswith("/edit")] == []
    assert sim.state.users[3]["card_number"] == "654321"


def test_leds_loop_a_double_blink_while_on_and_outcomes_play_over_it():
    clock = FakeClock(0.0)
    enrolment = Enrolment(clock)
    leds = LedFeedback(lambda: [], clock=clock, looping=enrolment.led_pattern)
    assert leds.wanted() == frozenset()
    enrolment.start("me")
    seen = []
    for _ in range(40):  # 4 s in ticks of 0.1 s
        seen.append(leds.wanted() == ALL)
        clock.advance(0.1)
    on_ticks = [i for i, lit in enumerate(seen) if lit]
    assert on_ticks == [0, 1, 4, 5, 20, 21, 24, 25]
    clock.advance(DURATION_S)
    assert leds.wanted() == frozenset()


def test_door_board_says_enrolment_while_it_is_on():
    clock = FakeClock()
    enrolment = Enrolment(clock)
    board = DoorBoard(lambda: None, clock=clock, enrolment=enrolment.active)
    board.tick(clock())
    assert board.snapshot()["enrolment"] is False
    before = board.version
    enrolment.start("me")
    board.tick(clock())
    assert board.snapshot()["enrolment"] is True and board.version > before
    clock.advance(DURATION_S)
    board.tick(clock())
    assert board.snapshot()["enrolment"] is False
