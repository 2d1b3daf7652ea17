"""Keypad source: decoder tables of evdev events, the reader thread on fakes."""

from __future__ import annotations

import errno
import logging
import queue
import time

import pytest
from evdev_fakes import (
    NUMLOCK,
    WAIT_S,
    E,
    FakeClock,
    FakeDevice,
    FakeInput,
    get,
    info,
    key,
    press,
    run_decoder,
    running,
    summary,
    warnings_of,
)

from ivs_accessory.door.mapping import Mapper, MappingSettings, Presented, Trigger
from ivs_accessory.events import KeyHeld, KeyPressed
from ivs_accessory.sources.keypad import EvdevKeypad, KeypadDecoder, key_name
from ivs_accessory.sources.selector import DeviceInfo

# Every test: no reader thread may outlive it.
pytestmark = pytest.mark.usefixtures("no_source_thread_left")


def tap(code: int, t: float, length: float = 0.1) -> list[tuple]:
    return [(t, code, 1), (t + length, code, 0)]


def released(name: str, seconds: float) -> list[tuple]:
    return [("held", name, seconds, True), ("pressed", name)]


# --- key names -------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, name",
    [
        (E.KEY_KP1, "KEY_KP1"),
        (E.KEY_KPENTER, "KEY_KPENTER"),
        (E.KEY_5, "KEY_5"),
        (E.KEY_KPPLUS, "KEY_KPPLUS"),
        (E.KEY_KPASTERISK, "KEY_KPASTERISK"),
        (E.KEY_MUTE, "KEY_MUTE"),  # an alias list: not KEY_MIN_INTERESTING
        (E.KEY_COFFEE, "KEY_COFFEE"),
        (0x2FE, "KEY_766"),
    ],
)
def test_key_name_matches_the_names_mapping_uses(code, name):
    assert key_name(code) == name


# --- KeypadDecoder: tables ----------------------------------------------------------


KEYPAD_CASES = [
    # (hold_min_s, steps, expected)
    (1.0, tap(E.KEY_KP1, 0, 0.2), released("KEY_KP1", 0.2)),
    (1.0, tap(E.KEY_5, 0, 0.1), released("KEY_5", 0.1)),
    (1.0, tap(E.KEY_KPENTER, 0), released("KEY_KPENTER", 0.1)),
    # some keypads wrap every digit in NumLock presses: invisible
    (
        1.0,
        NUMLOCK + [(0.01, E.KEY_KP7, 1)] + NUMLOCK + [(0.11, E.KEY_KP7, 0)] + NUMLOCK,
        released("KEY_KP7", 0.1),
    ),
    # non-key events (SYN, MSC scan codes) are ignored
    (
        1.0,
        [
            (0, E.MSC_SCAN, 458841, E.EV_MSC),
            (0, E.KEY_KP2, 1),
            (0, E.SYN_REPORT, 0, E.EV_SYN),
            (0.1, E.KEY_KP2, 0),
        ],
        released("KEY_KP2", 0.1),
    ),
    # autorepeat: one progress event per whole second crossed, then the release
    (
        1.0,
        [
            (0, E.KEY_KPPLUS, 1),
            (0.5, E.KEY_KPPLUS, 2),
            (0.99, E.KEY_KPPLUS, 2),
            (1.0, E.KEY_KPPLUS, 2),
            (1.5, E.KEY_KPPLUS, 2),
            (2.1, E.KEY_KPPLUS, 2),
            (2.2, E.KEY_KPPLUS, 2),
            (2.3, E.KEY_KPPLUS, 0),
        ],
        [("held", "KEY_KPPLUS", 1.0, False), ("held", "KEY_KPPLUS", 2.1, False)]
        + released("KEY_KPPLUS", 2.3),
    ),
    # a 10 s factory-reset hold reports each second, so LEDs can change at 10
    (
        1.0,
        [(0, E.KEY_KPASTERISK, 1)]
        + [(t + 0.03, E.KEY_KPASTERISK, 2) for t in range(11)],
        [("held", "KEY_KPASTERISK", t + 0.03, False) for t in range(1, 11)],
    ),
    # a gap in repeats crossing several seconds gives one event
    (
        1.0,
        [(0, E.KEY_KP0, 1), (3.5, E.KEY_KP0, 2), (3.6, E.KEY_KP0, 2)],
        [("held", "KEY_KP0", 3.5, False)],
    ),
    # hold_min_s sets the first report; whole seconds after it
    (
        1.5,
        [
            (0, E.KEY_KP0, 1),
            (1.0, E.KEY_KP0, 2),
            (1.6, E.KEY_KP0, 2),
            (1.9, E.KEY_KP0, 2),
            (2.0, E.KEY_KP0, 2),
        ],
        [("held", "KEY_KP0", 1.6, False), ("held", "KEY_KP0", 2.0, False)],
    ),
    (
        0.0,
        [(0, E.KEY_KP0, 1), (0.5, E.KEY_KP0, 2), (1.0, E.KEY_KP0, 2)],
        [("held", "KEY_KP0", 1.0, False)],
    ),
    # hold_min_s does not change releases: short or long, both events, KeyHeld first
    (0.0, tap(E.KEY_KP3, 0, 0.3), released("KEY_KP3", 0.3)),
    (1.0, tap(E.KEY_KP3, 0, 1.7), released("KEY_KP3", 1.7)),
    # a release we never saw pressed (pressed before the device was opened)
    (1.0, [(0, E.KEY_KP4, 0)], []),
    # a repeat without a press: timing starts at the first repeat
    (
        1.0,
        [(0, E.KEY_KP4, 2), (1.2, E.KEY_KP4, 2), (1.3, E.KEY_KP4, 0)],
        [("held", "KEY_KP4", 1.2, False)] + released("KEY_KP4", 1.3),
    ),
    # a repeated key-down keeps the first press time
    (
        1.0,
        [(0, E.KEY_KP6, 1), (0.5, E.KEY_KP6, 1), (0.8, E.KEY_KP6, 0)],
        released("KEY_KP6", 0.8),
    ),
    # two keys at once are timed separately
    (
        1.0,
        [
            (0, E.KEY_KP1, 1),
            (0.2, E.KEY_KP2, 1),
            (0.3, E.KEY_KP1, 0),
            (0.7, E.KEY_KP2, 0),
        ],
        released("KEY_KP1", 0.3) + released("KEY_KP2", 0.5),
    ),
    # no autorepeat at all: tick() reports progress
    (
        1.0,
        [
            (0, E.KEY_KP9, 1),
            (0.8, "tick"),
            (1.2, "tick"),
            (1.5, "tick"),
            (2.0, "tick"),
            (2.4, E.KEY_KP9, 0),
        ],
        [("held", "KEY_KP9", 1.2, False), ("held", "KEY_KP9", 2.0, False)]
        + released("KEY_KP9", 2.4),
    ),
]


@pytest.mark.parametrize("hold_min_s, steps, expected", KEYPAD_CASES)
def test_keypad_decoder_table(hold_min_s, steps, expected):
    clock = FakeClock(100.0)
    decoder = KeypadDecoder("kp", hold_min_s, clock)
    assert summary(run_decoder(decoder, clock, steps)) == expected


def test_keypad_decoder_events_carry_source_and_clock_time():
    clock = FakeClock(100.0)
    decoder = KeypadDecoder("door", clock=clock)
    held, pressed = run_decoder(decoder, clock, tap(E.KEY_KP1, 5.0))
    assert held == KeyHeld("door", "KEY_KP1", pytest.approx(0.1), 105.1, released=True)
    assert pressed == KeyPressed("door", "KEY_KP1", 105.1)


def test_keypad_decoder_reset_forgets_held_keys():
    clock = FakeClock(100.0)
    decoder = KeypadDecoder("kp", clock=clock)
    run_decoder(decoder, clock, [(0, E.KEY_KP1, 1)])
    decoder.reset()
    assert run_decoder(decoder, clock, [(0.5, E.KEY_KP1, 0), (3.0, "tick")]) == []


def test_keypad_decoder_rejects_negative_hold():
    with pytest.raises(ValueError):
        KeypadDecoder("kp", hold_min_s=-1)


# --- the decoder's output fits the mapper ------------------------------------------

BINDINGS = {
    ("KEY_KPPLUS", "tap"): "marker",
    ("KEY_KPPLUS", "hold"): "lock",
    ("KEY_KPMINUS", "tap"): "stop",
    ("KEY_KPASTERISK", "hold"): "privacy_toggle",
}


def repeats(code: int, start: float, seconds: float) -> list[tuple]:
    """A press held ``seconds`` with autorepeat every 0.1 s after a 0.25 s delay."""
    steps = [(start, code, 1)]
    t = 0.25
    while t < seconds:
        steps.append((start + t, code, 2))
        t += 0.1
    return steps + [(start + seconds, code, 0)]


MAPPER_CASES = [
    (tap(E.KEY_KPPLUS, 0, 0.2), ["marker"]),  # tap of a tap+hold key: the tap
    (repeats(E.KEY_KPPLUS, 0, 3.0), ["lock"]),  # hold: fires once while held
    (repeats(E.KEY_KPPLUS, 0, 3.0) + repeats(E.KEY_KPPLUS, 5, 3.0), ["lock", "lock"]),
    (repeats(E.KEY_KPPLUS, 0, 1.2), ["marker"]),  # released before hold_s: a tap
    (tap(E.KEY_KPPLUS, 0, 1.7), ["lock"]),  # no autorepeat: the release fires the hold
    (tap(E.KEY_KPASTERISK, 0, 0.3), []),  # hold-only key: a tap does nothing
    (
        repeats(E.KEY_KPASTERISK, 0, 2.5) + repeats(E.KEY_KPASTERISK, 4, 2.5),
        ["privacy_toggle", "privacy_toggle"],
    ),  # lock, then unlock
    (tap(E.KEY_KPMINUS, 0), ["stop"]),  # tap-only key
    (repeats(E.KEY_KPMINUS, 0, 2.0), ["stop"]),  # a long press is still one press
]


@pytest.mark.parametrize("steps, actions", MAPPER_CASES)
def test_keypad_decoder_output_drives_mapper_bindings(steps, actions):
    clock = FakeClock(100.0)
    decoder = KeypadDecoder("kp", clock=clock)
    mapper = Mapper(MappingSettings(hold_s=1.5, bindings=BINDINGS))
    intents = [
        i for ev in run_decoder(decoder, clock, steps) for i in mapper.handle(ev)
    ]
    assert [i.action for i in intents if isinstance(i, Trigger)] == actions


def test_keypad_decoder_output_types_a_pin_once_per_press_however_long():
    clock = FakeClock(100.0)
    decoder = KeypadDecoder("kp", clock=clock)
    mapper = Mapper(MappingSettings(pin_length=4))
    steps = (
        tap(E.KEY_KP0, 0)
        + NUMLOCK
        + repeats(E.KEY_KP4, 1, 1.6)
        + tap(E.KEY_4, 3)
        + tap(E.KEY_KP2, 4)
    )
    intents = [
        i for ev in run_decoder(decoder, clock, steps) for i in mapper.handle(ev)
    ]
    assert [i.value for i in intents if isinstance(i, Presented)] == ["0442"]


def reading(world: FakeInput, events: queue.Queue) -> FakeDevice:
    """The next device opened, once the reader reads it (a key press came through)."""
    device = world.opened.get(timeout=WAIT_S)
    press(device, E.KEY_KPDOT)
    assert [type(get(events)), type(get(events))] == [KeyHeld, KeyPressed]
    return device


# --- EvdevKeypad ----------------------------------------------------------------------


def test_keypad_reads_grabbed_device_and_reports_status():
    world = FakeInput(info())
    keypad = EvdevKeypad("door", "usb:04d9:1203", **world.seams())
    with running(keypad) as events:
        device = world.opened.get(timeout=WAIT_S)
        device.push(key(E.KEY_NUMLOCK, 1), key(E.KEY_NUMLOCK, 0))
        press(device, E.KEY_KP5)
        held, pressed = get(events), get(events)
        assert (held.key, held.released, pressed) == (
            "KEY_KP5",
            True,
            KeyPressed("door", "KEY_KP5", held.timestamp),
        )
        status = keypad.status()
    assert device.grabbed
    assert status["connected"] and status["grabbed"] and status["leds"]
    assert status["device"] == "/dev/input/event3"
    assert status["device_name"] == "USB Keypad" and status["reconnects"] == 0
    assert status["events"] == 2 and status["last_error"] is None
    assert device.closed.is_set()
    assert keypad.status()["connected"] is False and keypad.status()["device"] is None


def test_keypad_events_come_in_order_with_the_source_name():
    world = FakeInput(info())
    with running(EvdevKeypad("door", "", **world.seams())) as events:
        device = world.opened.get(timeout=WAIT_S)
        for code in (E.KEY_KP1, E.KEY_KP2, E.KEY_KPENTER):
            press(device, code)
        got = [get(events) for _ in range(6)]
    assert [(e.source, e.key) for e in got if isinstance(e, KeyPressed)] == [
        ("door", "KEY_KP1"),
        ("door", "KEY_KP2"),
        ("door", "KEY_KPENTER"),
    ]


def test_keypad_absent_at_start_warns_once_then_opens_when_plugged(caplog):
    world = FakeInput()
    keypad = EvdevKeypad("door", "usb:04d9:1203", **world.seams())
    with running(keypad) as events:
        world.wait_listings(4)
        assert keypad.status()["connected"] is False
        assert "no input device matches usb:04d9:1203" in keypad.status()["last_error"]
        world.present["/dev/input/event3"] = info()
        device = world.opened.get(timeout=WAIT_S)
        press(device, E.KEY_KP1)
        assert isinstance(get(events), KeyHeld)
    assert warnings_of(caplog) == [
        "keypad door: no input device matches usb:04d9:1203; waiting for it"
    ]
    assert keypad.status()["reconnects"] == 0


def test_keypad_unplug_warns_once_and_reopens_with_backoff(caplog):
    caplog.set_level(logging.INFO)
    world = FakeInput(info())
    keypad = EvdevKeypad("door", "", **world.seams())
    with running(keypad) as events:
        first = world.opened.get(timeout=WAIT_S)
        del world.present["/dev/input/event3"]
        listed = world.listings
        first.unplug()
        world.wait_listings(listed + 4)  # several failed attempts while it is away
        assert keypad.status()["connected"] is False
        world.present["/dev/input/event4"] = info("/dev/input/event4")
        second = world.opened.get(timeout=WAIT_S)
        press(second, E.KEY_KP9)
        assert get(events).key == "KEY_KP9"
        status = keypad.status()
    assert first.closed.is_set()
    assert status["reconnects"] == 1 and status["device"] == "/dev/input/event4"
    assert warnings_of(caplog) == [
        "keypad door: lost /dev/input/event3 ([Errno 19] No such device); reopening"
    ]
    assert (
        "keypad door reconnected to /dev/input/event4 (USB Keypad)" in caplog.messages
    )


def test_keypad_events_before_an_unplug_are_delivered():
    world = FakeInput(info())
    with running(EvdevKeypad("door", "", **world.seams())) as events:
        device = world.opened.get(timeout=WAIT_S)
        device.push(key(E.KEY_KP3, 1), key(E.KEY_KP3, 0), OSError(errno.ENODEV, "gone"))
        assert [type(get(events)), type(get(events))] == [KeyHeld, KeyPressed]
        assert world.opened.get(timeout=WAIT_S) is not device  # and it is reopened


def test_keypad_retries_a_permission_error_quickly_without_warning(caplog):
    world = FakeInput(info())
    world.open_errors.append(PermissionError(errno.EACCES, "Permission denied"))
    keypad = EvdevKeypad(
        "door",
        "",
        open_device=world.open_device,
        list_devices=world.list_devices,
        reconnect_min_s=0.01,
        reconnect_max_s=30,
    )
    started = time.monotonic()
    with running(keypad) as events:
        reading(world, events)
        assert time.monotonic() - started < 1.0
        assert keypad.status()["connected"]
    assert warnings_of(caplog) == []


def test_keypad_by_path_waits_for_udev_to_grant_access(caplog):
    world = FakeInput(DeviceInfo("/dev/input/event3", is_accessible=False))
    world.open_errors.append(PermissionError(errno.EACCES, "Permission denied"))
    keypad = EvdevKeypad("door", "/dev/input/event3", **world.seams())
    with running(keypad) as events:
        reading(world, events)
    assert warnings_of(caplog) == []


def test_keypad_warns_about_permissions_that_stay_denied(caplog):
    clock = FakeClock(100.0)
    world = FakeInput(info())
    world.open_errors.extend(
        PermissionError(errno.EACCES, "denied") for _ in range(1000)
    )
    keypad = EvdevKeypad("door", "", clock=clock, **world.seams())
    with running(keypad):
        world.wait_listings(3)
        assert warnings_of(caplog) == []
        clock.now += 5  # past the moment udev needs to set the group
        world.wait_listings(world.listings + 3)
    assert warnings_of(caplog) == [
        "keypad door: permission denied on /dev/input/event3; is the service user in "
        "group 'input' and the udev rule installed?"
    ]


def test_keypad_grab_busy_warns_and_reads_ungrabbed(caplog):
    world = FakeInput(info())
    world.grab_errors.append(OSError(errno.EBUSY, "Device or resource busy"))
    keypad = EvdevKeypad("door", "", **world.seams())
    with running(keypad) as events:
        device = world.opened.get(timeout=WAIT_S)
        press(device, E.KEY_KP1)
        get(events)
        assert keypad.status()["grabbed"] is False and keypad.status()["connected"]
    assert warnings_of(caplog) == [
        "keypad door: /dev/input/event3 is grabbed by another program; reading it "
        "without a grab"
    ]


def test_keypad_other_grab_errors_close_and_retry():
    world = FakeInput(info())
    world.grab_errors.append(OSError(errno.ENODEV, "No such device"))
    keypad = EvdevKeypad("door", "", **world.seams())
    with running(keypad) as events:
        failed = world.opened.get(timeout=WAIT_S)
        retried = reading(world, events)
        assert failed.closed.is_set() and retried.grabbed


def test_keypad_grab_false_does_not_grab():
    world = FakeInput(info())
    keypad = EvdevKeypad("door", "", grab=False, **world.seams())
    with running(keypad) as events:
        device = reading(world, events)
        assert not device.grabbed and keypad.status()["grabbed"] is False


def test_keypad_close_returns_within_a_second_while_idle():
    world = FakeInput(info())
    keypad = EvdevKeypad("door", "", **world.seams())
    keypad.start(lambda event: None)
    device = world.opened.get(timeout=WAIT_S)
    started = time.monotonic()
    keypad.close()
    assert time.monotonic() - started < 1.0
    assert device.closed.is_set()


def test_keypad_close_returns_within_a_second_while_waiting_for_a_device():
    world = FakeInput()
    keypad = EvdevKeypad(
        "door",
        "",
        open_device=world.open_device,
        list_devices=world.list_devices,
        reconnect_min_s=2,
        reconnect_max_s=2,
    )
    keypad.start(lambda event: None)
    world.wait_listings(1)
    started = time.monotonic()
    keypad.close()
    assert time.monotonic() - started < 1.0


def test_keypad_close_before_start_and_twice_is_fine():
    keypad = EvdevKeypad("door", "", **FakeInput().seams())
    keypad.close()
    keypad.close()


def test_keypad_start_twice_is_an_error():
    world = FakeInput(info())
    keypad = EvdevKeypad("door", "", **world.seams())
    with running(keypad):
        with pytest.raises(RuntimeError, match="already started"):
            keypad.start(lambda event: None)


def test_keypad_handler_error_is_logged_and_reading_continues(caplog):
    world = FakeInput(info())
    got: queue.Queue = queue.Queue()

    def emit(event):
        if isinstance(event, KeyPressed) and event.key == "KEY_KP1":
            raise ValueError("handler bug")
        got.put(event)

    with running(EvdevKeypad("door", "", **world.seams()), emit):
        device = world.opened.get(timeout=WAIT_S)
        press(device, E.KEY_KP1)
        press(device, E.KEY_KP2)
        seen = [got.get(timeout=WAIT_S) for _ in range(3)]
    assert [e.key for e in seen] == ["KEY_KP1", "KEY_KP2", "KEY_KP2"]
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == "keypad door: event handler failed"


def test_keypad_set_leds_writes_all_three_and_reapplies_after_reconnect():
    world = FakeInput(info())
    keypad = EvdevKeypad("door", "", **world.seams())
    keypad.set_leds({"LED_NUML"})  # not connected yet: remembered
    with running(keypad) as events:
        first = reading(world, events)
        assert first.leds == [(E.LED_NUML, 1), (E.LED_CAPSL, 0), (E.LED_SCROLLL, 0)]
        keypad.set_leds({"LED_CAPSL", "LED_SCROLLL"})
        assert first.leds[3:] == [(E.LED_NUML, 0), (E.LED_CAPSL, 1), (E.LED_SCROLLL, 1)]
        first.unplug()
        second = reading(world, events)
        assert second.leds == [(E.LED_NUML, 0), (E.LED_CAPSL, 1), (E.LED_SCROLLL, 1)]
    keypad.set_leds({"LED_NUML"})  # closed: a no-op
    assert len(second.leds) == 3


@pytest.mark.parametrize("leds, has_leds", [(False, True), (True, False)])
def test_keypad_set_leds_is_a_no_op_without_leds(leds, has_leds):
    world = FakeInput(info(has_leds=has_leds))
    keypad = EvdevKeypad("door", "", leds=leds, **world.seams())
    with running(keypad) as events:
        device = reading(world, events)
        keypad.set_leds({"LED_NUML"})
        assert device.leds == [] and keypad.status()["leds"] is False


def test_keypad_picks_the_device_its_selector_names():
    world = FakeInput(
        info("/dev/input/event2", name="Keyboard", vendor=1, phys="a"),
        info("/dev/input/event5", name="Reader", vendor=2, phys="b"),
    )
    keypad = EvdevKeypad("door", "phys:b", **world.seams())
    with running(keypad):
        assert world.opened.get(timeout=WAIT_S).path == "/dev/input/event5"
