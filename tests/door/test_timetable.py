"""Today's sessions: read from the VALT simulator only while wanted, off the door's
thread, and kept with a note when VALT cannot be asked."""

from __future__ import annotations

import datetime

import pytest
from conftest import FakeClock

from ivs_accessory.door.board import DoorBoard
from ivs_accessory.door.timetable import ScheduleReader, Timetable, today
from ivs_accessory.valt.models import Schedule

UTC = datetime.timezone.utc
DAY = 1796115600  # 2026-12-01 09:00 UTC: the simulator's default sessions' day
HOUR = 3600
WALL = DAY + 90 * 60  # 10:30, between the morning and the afternoon interview


class Wanted:
    def __init__(self, value: bool = True) -> None:
        self.value = value

    def __call__(self) -> bool:
        return self.value


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def board(clock) -> DoorBoard:
    return DoorBoard(lambda: None, clock=clock, wall=lambda: WALL, tz=UTC)


@pytest.fixture
def reader_for(board, clock, make_client):
    """``reader_for(sim, room=1, wanted=True)``: a reader of ``sim`` (not started)."""

    def make(sim, room=1, wanted=None):
        client = make_client(sim)
        rooms = {"room": room}
        reader = ScheduleReader(
            board,
            lambda: client,
            lambda: rooms["room"],
            wanted or Wanted(),
            clock=clock,
            wall=lambda: WALL,
        )
        reader.rooms = rooms
        return reader

    return make


def names(board: DoorBoard, room: int = 1) -> list[str]:
    with board._cond:  # what the reader handed over, whichever room the board shows
        timetable = board._timetable
    assert timetable.room == room
    return [s.name for s in timetable.items]


def schedule_reads(sim) -> int:
    return len([r for r in sim.requests() if r["path"] == "schedule"])


@pytest.mark.parametrize("version", ["5.2.0", "6.6.0"])
def test_reader_gives_the_board_the_rooms_sessions_in_order(
    board, reader_for, make_sim, version
):
    sim = make_sim(version=version)
    reader = reader_for(sim)
    assert reader.turn() == reader.every_s
    assert names(board) == [
        "Morning interview",
        "Afternoon interview",
        "Late interview",
    ]
    shown = today(board._timetable, WALL, 0.0, UTC)
    assert [(s["name"], s["when"], s["start"]) for s in shown["sessions"]] == [
        ("Morning interview", "past", "09:00"),
        ("Afternoon interview", "next", "14:00"),
        ("Late interview", "later", "17:00"),
    ]


def test_reader_asks_valt_every_few_minutes_only(board, reader_for, make_sim, clock):
    sim = make_sim(version="6.6.0")
    reader = reader_for(sim)
    reader.turn()
    clock.advance(reader.every_s - 1)
    assert reader.turn() == 1
    assert schedule_reads(sim) == 1
    clock.advance(1)
    reader.turn()
    assert schedule_reads(sim) == 2 and reader.reads == 2


def test_reader_asks_nothing_while_no_screen_wants_it(reader_for, make_sim, clock):
    sim = make_sim(version="6.6.0")
    wanted = Wanted(False)
    reader = reader_for(sim, wanted=wanted)
    assert reader.turn() == reader.idle_s
    clock.advance(3600)
    reader.turn()
    assert schedule_reads(sim) == 0
    wanted.value = True
    reader.turn()
    assert schedule_reads(sim) == 1


def test_reader_reads_again_at_once_for_another_room(board, reader_for, make_sim):
    sim = make_sim(version="6.6.0")
    reader = reader_for(sim)
    reader.turn()
    reader.rooms["room"] = 3
    reader.turn()
    assert names(board, 3) == ["Ward round drill"]
    assert schedule_reads(sim) == 2


def test_a_failing_valt_keeps_the_sessions_and_retries_sooner(
    board, reader_for, make_sim, clock, caplog
):
    sim = make_sim(version="6.6.0")
    reader = reader_for(sim)
    reader.turn()
    clock.advance(reader.every_s)
    sim.inject(path="schedule", status=500)
    assert reader.turn() == reader.retry_s
    reader_failed_once = [r for r in caplog.records if r.levelname == "WARNING"]
    assert len(reader_failed_once) == 1
    assert names(board) == [
        "Morning interview",
        "Afternoon interview",
        "Late interview",
    ]
    assert board._timetable.failed
    clock.advance(reader.retry_s)
    reader.turn()  # still failing: no second warning
    assert len([r for r in caplog.records if r.levelname == "WARNING"]) == 1
    sim.clear_faults()
    clock.advance(reader.retry_s)
    reader.turn()
    assert not board._timetable.failed


def test_reader_thread_reads_when_woken_and_stops(board, reader_for, make_sim):
    sim = make_sim(version="6.6.0")
    wanted = Wanted(False)
    reader = reader_for(sim, wanted=wanted)
    seen = board.version
    reader.start()
    try:
        wanted.value = True
        reader.wake()  # a first screen connected
        board.wait(seen, 10)
        assert names(board) == [
            "Morning interview",
            "Afternoon interview",
            "Late interview",
        ]
    finally:
        reader.stop()
    assert reader.reads == 1


def test_reader_without_client_or_room_asks_nothing(board, clock):
    reader = ScheduleReader(board, lambda: None, lambda: 1, Wanted(), clock=clock)
    assert reader.turn() == reader.idle_s and reader.reads == 0


def test_today_keeps_sessions_that_cross_midnight(clock):
    late = Schedule(DAY - 10 * HOUR, DAY - 8 * HOUR, "Night shift")  # 23:00-01:00
    timetable = Timetable(1, (late,), 0.0)
    shown = today(timetable, WALL, 0.0, UTC)
    assert [(s["name"], s["start"], s["when"]) for s in shown["sessions"]] == [
        ("Night shift", "23:00", "past")
    ]
