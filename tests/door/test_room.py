"""RoomState: what we believe the room's status is, and when it is read again."""

from __future__ import annotations

import pytest

from ivs_accessory.door.room import RoomState
from ivs_accessory.errors import ValtError
from ivs_accessory.valt.models import RoomStatus


@pytest.mark.parametrize(
    "fault, online",
    [({"status": 503}, True), ({"malformed": True}, True), ({"drop": True}, False)],
)
def test_after_any_failure_the_status_is_checked_again_soon(
    make_sim, make_client, fault, online
):
    # Found by the reliability fault matrix: after an error that is not "offline" (a
    # 5xx, a 4xx, a body that is not JSON) the page kept showing it for the whole 60 s
    # refresh interval after VALT was fine again; offline errors were re-checked at
    # 15 s.
    sim = make_sim()
    client = make_client(sim, timeout=0.5)
    now = [0.0]
    room = RoomState(client, 1, refresh_s=60, clock=lambda: now[0])
    room.refresh()
    sim.inject(path="rooms/1/status", count=1, **fault)
    now[0] = 60
    with pytest.raises(ValtError):
        room.refresh()
    assert room.online is online and room.last_error
    now[0] = 74.9
    assert not room.due()
    now[0] = 75
    assert room.due()
    assert room.refresh() is RoomStatus.AVAILABLE and room.last_error is None


@pytest.fixture
def room_at(make_sim, make_client):
    """(simulator, RoomState on room 1, its clock as a one-item list)."""
    sim = make_sim()
    now = [100.0]
    return sim, RoomState(make_client(sim), 1, clock=lambda: now[0], max_age_s=10), now


def test_a_failed_read_keeps_the_last_status_with_its_age(room_at):
    sim, room, now = room_at
    room.refresh()
    now[0] += 7
    sim.inject(path="rooms/1/status", status=503)
    with pytest.raises(ValtError):
        room.refresh()
    assert room.known() is RoomStatus.AVAILABLE and room.age() == 7
    assert room.online is True and "503" in room.last_error


def test_status_at_answers_what_was_believed_then(room_at):
    sim, room, now = room_at
    assert room.fresh_at(now[0]) is None  # never asked
    room.refresh()
    now[0] += 2
    room.changed("start", recording_id=5, started_by="Alice")
    assert room.status_at(101).status is RoomStatus.AVAILABLE
    assert room.status_at(102).status is RoomStatus.RECORDING
    assert room.fresh_at(101) is RoomStatus.AVAILABLE
    assert room.fresh_at(112) is RoomStatus.RECORDING  # confirmed at 102
    assert room.fresh_at(112.5) is None


def test_the_recording_time_follows_our_own_start_and_pause(room_at):
    sim, room, now = room_at
    room.refresh()
    room.changed("start", recording_id=5, started_by="Alice")
    now[0] += 30
    assert room.marker_time() == (30, 5)
    room.changed("pause")
    now[0] += 100
    assert room.marker_time() == (30, 5)
    room.changed("resume")  # the server may restart the count: unknown
    assert room.marker_time() is None
    assert room.recording.started_by == "Alice"


@pytest.mark.parametrize("elsewhere", ["paused", "available", "locked"])
def test_a_change_made_elsewhere_forgets_what_no_longer_holds(room_at, elsewhere):
    sim, room, now = room_at
    room.refresh()
    room.changed("start", recording_id=5, started_by="Alice")
    sim.set_room_status(1, elsewhere)
    room.refresh()
    if elsewhere == "paused":
        assert room.recording.id == 5 and room.marker_time() is None
    else:
        assert room.recording is None


def test_reading_the_room_info_gives_name_id_and_time(make_sim, make_client):
    sim_now = [500.0]
    sim = make_sim(clock=lambda: sim_now[0])
    now = [0.0]
    room = RoomState(make_client(sim), 1, clock=lambda: now[0])
    sim.set_room_status(1, "recording")
    sim_now[0] += 61
    room.refresh()
    room.read_info()
    now[0] += 4
    rid = sim.state.room_info(1)["recording"]["id"]
    assert room.marker_time() == (65, rid) and room.name
