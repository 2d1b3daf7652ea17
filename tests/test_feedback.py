"""Feedback sinks: LED states on keypads, the systemd STATUS line, the console."""

from __future__ import annotations

import io

from ivs_accessory.actions import Outcome
from ivs_accessory.feedback import ConsoleFeedback, LedFeedback, StatusFeedback
from ivs_accessory.valt import RoomStatus


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
    return Outcome(result, "toggle", result, "keypad", credential=credential,
                   room_status=status)


def test_leds_show_recording_refusal_and_offline():
    now = [0.0]
    device, gone = LedDevice(), LedDevice(fail=True)
    leds = LedFeedback(lambda: [device, gone], result_s=2, clock=lambda: now[0])
    leds.show(make("started", RoomStatus.RECORDING))
    assert device.calls[-1] == {"LED_NUML"}
    leds.show(make("denied"))
    assert device.calls[-1] == {"LED_NUML", "LED_CAPSL"}
    now[0] = 2.5
    leds.tick(now[0])
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
    status.show(Outcome("started", "toggle", "Recording started for Alice", "keypad",
                        room_status=RoomStatus.RECORDING))
    assert sent[-1] == "STATUS=room 3 recording; last: Recording started for Alice"
    status.room(None, False)
    assert sent[-1].startswith("STATUS=room 3: VALT offline")


def test_console_prints_one_line_per_outcome():
    out = io.StringIO()
    ConsoleFeedback(out).show(Outcome("denied", "toggle", "Unknown PIN or card", "console",
                                      credential="****", requests=1, latency_s=0.004))
    assert out.getvalue() == "-- Unknown PIN or card [****] (1 VALT requests, 4 ms)\n"
