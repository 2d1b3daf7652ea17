"""The lamp's colours: the room's state, offline never red, a blink per outcome."""

from __future__ import annotations

import pytest

from ivs_accessory.door.actions import Outcome
from ivs_accessory.door.lamp import OFF, LampFeedback, LampSettings
from ivs_accessory.valt.models import RoomStatus

RED, AMBER, BLUE, GREEN = (255, 0, 0), (255, 120, 0), (0, 0, 255), (0, 255, 0)


class Wanted:
    """Records what the sink hands the lamp, with LampDriver.want's interface."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[int, int, int], str]] = []

    def want(self, rgb, meaning):
        self.calls.append((rgb, meaning))

    @property
    def last(self):
        return self.calls[-1]


def make(result, status=None):
    return Outcome(result, "toggle", result, "keypad", room_status=status)


def lamp(clock=None, **settings):
    output = Wanted()
    now = clock or [0.0]
    sink = LampFeedback(LampSettings(**settings), output, clock=lambda: now[0])
    return sink, output, now


@pytest.mark.parametrize(
    "status, colour, meaning",
    [
        (RoomStatus.RECORDING, RED, "recording"),
        (RoomStatus.PAUSED, AMBER, "paused"),
        (RoomStatus.AVAILABLE, OFF, "available"),
        (RoomStatus.PREPARED, OFF, "available"),
        (RoomStatus.LOCKED, OFF, "locked"),
    ],
)
def test_lamp_shows_the_rooms_state(status, colour, meaning):
    sink, output, _ = lamp()
    sink.room(status, True)
    assert output.last == (colour, meaning)


def test_lamp_colours_come_from_the_settings():
    sink, output, _ = lamp(available=GREEN, locked=(128, 0, 255))
    sink.room(RoomStatus.AVAILABLE, True)
    assert output.last == (GREEN, "available")
    sink.room(RoomStatus.LOCKED, True)
    assert output.last == ((128, 0, 255), "locked")


def test_lamp_never_shows_recording_while_valt_is_offline():
    sink, output, _ = lamp()
    sink.room(RoomStatus.RECORDING, True)
    # VALT went away: RoomState keeps the last status it saw, the lamp does not.
    sink.room(RoomStatus.RECORDING, False)
    assert output.last == (BLUE, "offline")
    sink.room(None, None)  # nothing known yet (start, no room)
    assert output.last == (BLUE, "unknown")
    assert all(rgb != RED for rgb, meaning in output.calls[1:])


def test_an_offline_outcome_takes_the_recording_colour_away():
    sink, output, now = lamp(blink=False)
    sink.room(RoomStatus.RECORDING, True)
    sink.show(make("offline"))
    assert output.last == (BLUE, "offline")


def test_an_outcome_with_a_status_shows_it_at_once():
    sink, output, _ = lamp(blink=False)
    sink.room(RoomStatus.AVAILABLE, True)
    sink.show(make("started", RoomStatus.RECORDING))
    assert output.last == (RED, "recording")


def timeline(result, status=None, until=3.0, **settings):
    """The colours the lamp is told, sampled every 0.1 s (the dispatcher's tick)."""
    now = [0.0]
    sink, output, _ = lamp(clock=now, **settings)
    sink.room(RoomStatus.AVAILABLE, True)
    sink.show(make(result, status))
    seen = []
    while now[0] < until:
        seen.append(sink.wanted()[0])
        now[0] = round(now[0] + 0.1, 3)
        sink.tick(now[0])
    return seen, output


def runs(seen):
    """Run lengths of colours, in ticks."""
    out: list[list] = []
    for rgb in seen:
        if out and out[-1][0] == rgb:
            out[-1][1] += 1
        else:
            out.append([rgb, 1])
    return [tuple(r) for r in out]


def test_each_outcome_blinks_in_its_rhythm_and_colour():
    started, _ = timeline("started", RoomStatus.RECORDING)
    assert runs(started) == [(GREEN, 10), (OFF, 3), (RED, 17)]
    denied, _ = timeline("denied")
    # (the last dark frame runs on into the steady "available", off)
    assert runs(denied) == [(RED, 2), (OFF, 2), (RED, 2), (OFF, 2), (RED, 2), (OFF, 20)]
    busy, _ = timeline("busy")
    assert runs(busy)[:3] == [(RED, 5), (OFF, 5), (RED, 5)]
    offline, _ = timeline("offline")
    assert runs(offline)[:2] == [(BLUE, 1), (OFF, 1)]
    assert runs(offline)[-1][0] == BLUE  # and offline stays
    locked_out, _ = timeline("locked_out")
    assert runs(locked_out)[:3] == [(RED, 8), (OFF, 2), (RED, 2)]


def test_a_blink_ends_after_result_s():
    seen, _ = timeline("denied", result_s=0.5)
    assert runs(seen) == [(RED, 2), (OFF, 2), (RED, 1), (OFF, 25)]


def test_no_blink_when_blinking_is_off():
    seen, _ = timeline("denied", blink=False)
    assert set(seen) == {OFF}


def test_a_repeat_leaves_the_first_blink_playing():
    now = [0.0]
    sink, output, _ = lamp(clock=now)
    sink.show(make("denied"))
    now[0] = 0.3
    sink.tick(0.3)
    before = list(output.calls)
    sink.show(make("repeat"))
    assert output.calls == before


def test_the_lamp_is_told_only_of_changes():
    sink, output, now = lamp()
    sink.room(RoomStatus.RECORDING, True)
    for step in range(20):
        now[0] = step / 10
        sink.tick(now[0])
    sink.room(RoomStatus.RECORDING, True)
    assert output.calls == [(RED, "recording")]


def test_settings_from_the_config_section():
    from ivs_accessory.config import validate_section

    values, errors = validate_section("lamp", {"paused": "#102030", "blink": "no"})
    assert errors == {}
    settings = LampSettings.from_section(values, 1.5)
    assert settings == LampSettings(paused=(16, 32, 48), blink=False, result_s=1.5)
