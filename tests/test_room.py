"""RoomState: what we believe the room's status is, and when it is read again."""

from __future__ import annotations

import pytest

from ivs_accessory.errors import ValtError
from ivs_accessory.room import RoomState
from ivs_accessory.valt import RoomStatus


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
