"""The door board: what door screens are shown, when its version moves, and waiting."""

from __future__ import annotations

import datetime
import json
import threading

import pytest
from conftest import FakeClock

from ivs_accessory.door.board import DoorBoard, ago, public_words
from ivs_accessory.door.outcome import Outcome
from ivs_accessory.door.room import RoomState
from ivs_accessory.errors import ValtRejected, ValtUnavailable
from ivs_accessory.valt.models import RoomStatus, Schedule

UTC = datetime.timezone.utc
NOON = 1796126400.0  # 2026-12-01 12:00 UTC


class Room:
    """Which RoomState the dispatcher uses (a reload may take it away)."""

    def __init__(self, state: RoomState | None) -> None:
        self.state = state

    def __call__(self) -> RoomState | None:
        return self.state


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def room(clock) -> RoomState:
    # No client: these tests tell the room what VALT said, as the actions do.
    return RoomState(None, 3, clock=clock)  # type: ignore[arg-type]


@pytest.fixture
def board(room, clock) -> DoorBoard:
    return DoorBoard(Room(room), clock=clock, wall=lambda: NOON, tz=UTC)


def started(name: str = "Alice Smith") -> Outcome:
    return Outcome(
        "started",
        "toggle",
        f"Recording started for {name}",
        "touch",
        credential="****56",
        room_status=RoomStatus.RECORDING,
    )


def test_board_knows_nothing_before_the_dispatchers_first_turn(board):
    shown = board.snapshot()
    assert (shown["state"], shown["words"]) == ("unknown", "Status unknown")
    assert shown["detail"] == "Starting…"


def test_board_without_a_room_says_not_configured(clock):
    board = DoorBoard(Room(None), clock=clock)
    board.tick(clock())
    shown = board.snapshot()
    assert (shown["state"], shown["words"]) == ("not_configured", "Not configured")
    assert shown["title"] == "Door"
    board.unconfigured_words = "Configuration invalid"
    assert board.snapshot()["detail"] == "Configuration invalid"


def test_board_before_the_first_read_is_unknown_not_available(board, room, clock):
    board.tick(clock())
    shown = board.snapshot()
    assert shown["state"] == "unknown" and shown["detail"] == "Connecting to VALT…"
    assert shown["room"] == 3 and shown["title"] == "Room 3"


@pytest.mark.parametrize(
    ("status", "state", "words", "detail"),
    [
        (RoomStatus.AVAILABLE, "available", "Available", ""),
        (RoomStatus.LOCKED, "locked", "Locked", ""),
        (RoomStatus.PREPARED, "available", "Available", "Recording prepared in VALT"),
        (RoomStatus.RECORDING, "recording", "Recording", ""),
        (RoomStatus.PAUSED, "paused", "Paused", ""),
    ],
)
def test_board_shows_each_status_valt_reported(
    board, room, clock, status, state, words, detail
):
    room.seen(status)
    board.room(status, True)
    shown = board.snapshot()
    assert (shown["state"], shown["words"], shown["detail"]) == (state, words, detail)


def test_board_names_the_room_once_valt_did(board, room, clock):
    room.seen(RoomStatus.AVAILABLE)
    room.name = "Interview Room 3"
    board.tick(clock())
    assert board.snapshot()["title"] == "Interview Room 3"


def test_version_moves_on_a_change_only(board, room, clock):
    room.seen(RoomStatus.AVAILABLE)
    board.tick(clock())
    first = board.version
    clock.advance(60)
    room.seen(RoomStatus.AVAILABLE)  # a routine refresh: nothing new to show
    board.tick(clock())
    assert board.version == first
    room.seen(RoomStatus.RECORDING)  # started in VALT's own UI
    board.room(RoomStatus.RECORDING, True)
    assert board.version == first + 1


def test_recording_started_here_shows_its_starter_and_time(board, room, clock):
    room.seen(RoomStatus.AVAILABLE)
    room.changed("start", recording_id=7, started_by="Alice Smith")
    board.tick(clock())
    version = board.version
    clock.advance(65.4)
    shown = board.snapshot()
    assert shown["state"] == "recording" and shown["running"] is True
    assert shown["started_by"] == "Alice Smith"
    assert shown["detail"] == "Started by Alice Smith"
    assert shown["elapsed_s"] == 65.4
    board.tick(clock())
    assert board.version == version  # the time runs on the screens, not as changes


def test_recording_started_elsewhere_claims_no_starter_and_no_time(board, room, clock):
    room.seen(RoomStatus.RECORDING)
    board.tick(clock())
    shown = board.snapshot()
    assert shown["state"] == "recording"
    assert shown["started_by"] is None and shown["elapsed_s"] is None
    assert shown["detail"] == ""


def test_paused_recording_time_stands_still(board, room, clock):
    room.changed("start", recording_id=7, started_by="Alice Smith")
    clock.advance(30)
    room.changed("pause")
    board.tick(clock())
    clock.advance(100)
    shown = board.snapshot()
    assert (shown["state"], shown["elapsed_s"], shown["running"]) == (
        "paused",
        30.0,
        False,
    )


def test_offline_shows_the_last_known_state_with_its_age(board, room, clock):
    room.changed("start", recording_id=7, started_by="Alice Smith")
    clock.advance(5)
    room.failed(ValtUnavailable("cannot connect to 10.0.0.9"))
    board.tick(clock())
    clock.advance(120)
    shown = board.snapshot()
    assert (shown["state"], shown["words"]) == ("offline", "Offline")
    assert shown["detail"] == "Last known: Recording, 2 min ago · VALT unreachable"
    # The door cannot see the recording now: no timer, no starter.
    assert shown["elapsed_s"] is None and shown["started_by"] is None
    assert "10.0.0.9" not in json.dumps(shown)


def test_an_error_answer_is_offline_too_and_says_so(board, room, clock):
    room.failed(ValtRejected(500, "boom"))
    board.tick(clock())
    shown = board.snapshot()
    assert shown["state"] == "offline"
    assert shown["detail"] == "Room status not known · VALT answered with an error"


def test_offline_then_back_is_a_change(board, room, clock):
    room.seen(RoomStatus.AVAILABLE)
    room.failed(ValtUnavailable("down"))
    board.tick(clock())
    version = board.version
    room.seen(RoomStatus.AVAILABLE)
    board.room(RoomStatus.AVAILABLE, True)
    assert board.version == version + 1
    assert board.snapshot()["state"] == "available"


def test_outcome_words_show_for_three_seconds(board, room, clock):
    room.changed("start", recording_id=7, started_by="Alice Smith")
    board.show(started())
    shown = board.snapshot()["outcome"]
    assert shown["words"] == "Recording started for Alice Smith"
    assert shown["kind"] == "good" and shown["left_s"] == 3.0
    version = board.version
    clock.advance(2.9)
    board.tick(clock())
    assert board.snapshot()["outcome"]["left_s"] == 0.1
    assert board.version == version
    clock.advance(0.1)
    board.tick(clock())
    assert board.snapshot()["outcome"] is None
    assert board.version == version + 1  # screens hear that it went


def test_each_outcome_is_new_even_with_the_same_words(board, clock):
    board.show(Outcome("denied", "toggle", "Unknown PIN or card", "touch"))
    first = board.snapshot()["outcome"]["seq"]
    board.show(Outcome("denied", "toggle", "Unknown PIN or card", "touch"))
    assert board.snapshot()["outcome"]["seq"] == first + 1


@pytest.mark.parametrize(
    ("result", "message", "words", "kind"),
    [
        ("denied", "Unknown PIN or card", "Unknown PIN or card", "denied"),
        ("busy", "Room is locked in VALT", "Room is locked in VALT", "busy"),
        ("repeat", "Still working on it", "Still working on it", "wait"),
        ("locked_out", "Too many attempts; try again in 30 s", None, "locked_out"),
        (
            "offline",
            "VALT is offline: cannot connect to https://10.0.0.9/api/v3/",
            "VALT is offline; not done",
            "offline",
        ),
        ("error", "VALT error: 500 from 10.0.0.9", "Not done; please try again", None),
        (
            "not_configured",
            "Configuration invalid; fix it on the configuration page",
            "The door is not configured",
            "offline",
        ),
    ],
)
def test_outcomes_keep_valts_error_text_off_the_screens(
    board, result, message, words, kind
):
    outcome = Outcome(result, "toggle", message, "keypad", credential="****21")
    assert public_words(outcome) == (words or message)
    board.show(outcome)
    shown = board.snapshot()["outcome"]
    assert shown["words"] == (words or message)
    assert shown["kind"] == (kind or "offline")
    assert "****21" not in json.dumps(board.snapshot())  # not even masked


def test_wait_returns_at_the_next_change_from_another_thread(board, clock):
    seen = board.version
    woke: list[int] = []
    waiting = threading.Thread(target=lambda: woke.append(board.wait(seen, 10)))
    waiting.start()
    board.show(started())
    waiting.join(10)
    assert woke == [seen + 1]


def test_wait_gives_up_after_its_timeout_without_a_change(board):
    seen = board.version
    assert board.wait(seen, 0.01) == seen


def test_wake_and_close_end_every_wait(board):
    seen = board.version
    woke: list[int] = []
    threads = [
        threading.Thread(target=lambda: woke.append(board.wait(seen, 30)))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    board.close()
    for thread in threads:
        thread.join(10)
    assert woke == [seen] * 3 and board.closed
    assert board.wait(seen, 30) == seen  # at once: closed for good


def test_viewers_are_counted_and_the_first_one_is_announced(board, clock):
    announced: list[int] = []
    board.on_watch = lambda: announced.append(board.viewers)
    assert not board.watched()
    with board.viewer():
        with board.viewer():
            assert board.viewers == 2 and board.watched()
    assert announced == [1]
    assert board.viewers == 0 and not board.watched()
    assert board.watched(within_s=1)  # seen just now
    clock.advance(2)
    assert not board.watched(within_s=1)
    board.seen()  # a screen that polled
    assert board.watched(within_s=1)


def session(name: str, start_h: float, stop_h: float) -> Schedule:
    midnight = NOON - 12 * 3600
    return Schedule(int(midnight + start_h * 3600), int(midnight + stop_h * 3600), name)


def test_todays_sessions_with_the_next_one_marked(board, room, clock):
    board.tick(clock())
    version = board.version
    board.set_schedule(
        3,
        [
            session("Yesterday", -5, -4),
            session("Morning", 9, 10),
            session("Lunch", 11.5, 12.5),
            session("Afternoon", 14, 15),
            session("Evening", 18, 19),
            session("Tomorrow", 33, 34),
        ],
    )
    assert board.version == version + 1
    schedule = board.snapshot()["schedule"]
    assert [(s["name"], s["when"]) for s in schedule["sessions"]] == [
        ("Morning", "past"),
        ("Lunch", "now"),
        ("Afternoon", "next"),
        ("Evening", "later"),
    ]
    assert schedule["sessions"][2]["start"] == "14:00"
    assert schedule["sessions"][2]["stop"] == "15:00"
    assert schedule["note"] == ""


def test_schedule_notes_say_why_the_list_is_empty_or_old(board, room, clock):
    board.tick(clock())
    assert board.snapshot()["schedule"]["note"] == "Not read yet"
    board.schedule_failed(3)
    assert board.snapshot()["schedule"]["note"] == "Sessions could not be read"
    board.set_schedule(3, [])
    assert board.snapshot()["schedule"]["note"] == "No sessions today"
    board.set_schedule(3, [session("Afternoon", 14, 15)])
    clock.advance(600)
    board.schedule_failed(3)
    schedule = board.snapshot()["schedule"]
    assert [s["name"] for s in schedule["sessions"]] == ["Afternoon"]  # kept
    assert schedule["note"] == "As read 10 min ago; VALT cannot be asked now"


def test_another_rooms_schedule_is_not_shown(board, room, clock):
    board.tick(clock())
    board.set_schedule(4, [session("Elsewhere", 14, 15)])
    assert board.snapshot()["schedule"]["sessions"] == []


def test_snapshot_is_json_with_the_clock_of_the_box(board, clock):
    shown = json.loads(json.dumps(board.snapshot()))
    assert shown["now_ms"] == NOON * 1000 and shown["utc_offset_s"] == 0


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(0.4, "just now"), (42, "42 s ago"), (300, "5 min ago"), (7300, "2 h ago")],
)
def test_ago(seconds, words):
    assert ago(seconds) == words
