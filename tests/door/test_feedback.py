"""Feedback sinks: LED states on keypads, the systemd STATUS line, the console."""

from __future__ import annotations

import io

from ivs_accessory.door.actions import Outcome
from ivs_accessory.door.feedback import ConsoleFeedback, LedFeedback, StatusFeedback
from ivs_accessory.valt.models import RoomStatus


class LedDevice:
    """Records set_leds calls, with the interface EvdevKeypad offers."""

    def __init__(self, fail=False):
        self.calls: list[set[str]] = []
        self.fail = fail

    def set_leds(self, on):
        if self.fail:
            raise OSError(19, "No such device")
        self.calls.append(set(on))


def make(result, status=None, credential="****"):
    return Outcome(
        result, "toggle", result, "keypad", credential=credential, room_status=status
    )


ALL = {"LED_NUML", "LED_CAPSL", "LED_SCROLLL"}


def timeline(result, status=None, result_s=5.0, step=0.1, until=3.0):
    """The LED sets a device sees, sampled every ``step`` seconds after one outcome."""
    now = [0.0]
    device = LedDevice()
    leds = LedFeedback(lambda: [device], result_s=result_s, clock=lambda: now[0])
    leds.show(make(result, status))
    seen = []
    while now[0] < until:
        seen.append(frozenset(leds.wanted()))
        now[0] = round(now[0] + step, 3)
        leds.tick(now[0])
    return seen, device


def rhythm(seen):
    """Run lengths of on/off (all LEDs vs none), in ticks, ignoring the steady tail."""
    runs = []
    for state in seen:
        lit = state == ALL
        if runs and runs[-1][0] == lit:
            runs[-1][1] += 1
        else:
            runs.append([lit, 1])
    return [(lit, n) for lit, n in runs]


def test_led_patterns_differ_for_every_outcome_kind():
    kinds = {
        name: rhythm(timeline(name)[0])
        for name in ("started", "denied", "busy", "offline", "locked_out")
    }
    assert kinds["started"][:1] == [(True, 10)]
    # (the last dark frame runs on into the dark steady state)
    assert kinds["denied"][:5] == ([(True, 2), (False, 2)] * 3)[:5]
    assert kinds["busy"][:3] == ([(True, 5), (False, 5)] * 2)[:3]
    assert kinds["offline"][:11] == ([(True, 1), (False, 1)] * 6)[:11]
    assert kinds["locked_out"][:5] == [
        (True, 8),
        (False, 2),
        (True, 2),
        (False, 2),
        (True, 8),
    ]
    assert len({tuple(r) for r in kinds.values()}) == 5


def test_led_steady_state_after_pattern_shows_recording_and_offline():
    seen, device = timeline("started", RoomStatus.RECORDING)
    assert seen[-1] == {"LED_NUML"}
    seen, _ = timeline("offline")
    assert seen[-1] == {"LED_SCROLLL"}
    seen, _ = timeline("denied", RoomStatus.AVAILABLE)
    assert seen[-1] == frozenset()


def test_led_pattern_is_cut_at_result_time_and_unchanged_states_not_resent():
    seen, device = timeline("busy", RoomStatus.RECORDING, result_s=0.7, until=2)
    assert seen[:5] == [ALL] * 5
    assert seen[5:7] == [frozenset()] * 2
    assert seen[7:] == [frozenset({"LED_NUML"})] * (len(seen) - 7)
    assert device.calls == [ALL, set(), {"LED_NUML"}]


def test_leds_survive_a_device_that_fails_and_follow_room_changes():
    now = [0.0]
    device, gone = LedDevice(), LedDevice(fail=True)
    leds = LedFeedback(lambda: [device, gone], result_s=2, clock=lambda: now[0])
    leds.room(RoomStatus.RECORDING, True)
    assert device.calls[-1] == {"LED_NUML"}
    leds.room(None, False)
    assert device.calls[-1] == {"LED_SCROLLL"}
    calls = len(device.calls)
    leds.tick(now[0])
    assert len(device.calls) == calls  # unchanged states are not re-sent


def test_status_line_says_room_and_last_outcome():
    sent = []
    status = StatusFeedback(sent.append, room=3)
    status.room(RoomStatus.AVAILABLE, True)
    assert sent[-1] == "STATUS=room 3 available"
    status.show(
        Outcome(
            "started",
            "toggle",
            "Recording started for Alice",
            "keypad",
            room_status=RoomStatus.RECORDING,
        )
    )
    assert sent[-1] == "STATUS=room 3 recording; last: Recording started for Alice"
    status.room(None, False)
    assert sent[-1].startswith("STATUS=room 3: VALT offline")


def test_console_prints_one_line_per_outcome():
    out = io.StringIO()
    ConsoleFeedback(out).show(
        Outcome(
            "denied",
            "toggle",
            "Unknown PIN or card",
            "console",
            credential="****",
            requests=1,
            latency_s=0.004,
        )
    )
    assert out.getvalue() == "-- Unknown PIN or card [****] (1 VALT request, 4 ms)\n"


def test_console_counts_requests_in_plural_only_above_one():
    out = io.StringIO()
    ConsoleFeedback(out).show(
        Outcome("started", "toggle", "Started", "console", requests=2)
    )
    assert "(2 VALT requests, 0 ms)" in out.getvalue()
