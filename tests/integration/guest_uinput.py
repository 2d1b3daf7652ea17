"""Virtual keypads and card readers on uinput, for code that runs inside the test VM.

Run as a script (``python guest_uinput.py``) it checks the kernel's input subsystem
end to end and prints one ``IVS-RESULT {json}`` line for the host test to judge.
"""

from __future__ import annotations

import dataclasses
import errno
import json
import select
import time
from collections.abc import Iterable
from contextlib import closing

import evdev
from evdev import InputDevice, InputEvent, UInput
from evdev import ecodes as e

KEYPAD_DIGITS = {str(n): getattr(e, f"KEY_KP{n}") for n in range(10)}
KEYBOARD_DIGITS = {str(n): getattr(e, f"KEY_{n}") for n in range(10)}
# What a USB numeric keypad reports, beyond its digits.
KEYPAD_EXTRA_KEYS = (
    e.KEY_KPENTER, e.KEY_NUMLOCK, e.KEY_KPDOT, e.KEY_KPPLUS, e.KEY_KPMINUS,
    e.KEY_KPASTERISK, e.KEY_KPSLASH, e.KEY_BACKSPACE,
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class DeviceSpec:
    """What a virtual device reports: enough to create it again after an unplug."""

    name: str
    keys: tuple[int, ...]
    leds: tuple[int, ...] = ()
    vendor: int = 0x1209  # pid.codes' open-source vendor id; any fixed value does
    product: int = 0x0001

    def capabilities(self) -> dict[int, list[int]]:
        events = {e.EV_KEY: list(self.keys)}
        if self.leds:
            events[e.EV_LED] = list(self.leds)
        return events


KEYPAD = DeviceSpec(
    "IVS test keypad",
    (*KEYPAD_DIGITS.values(), *KEYPAD_EXTRA_KEYS),
    (e.LED_NUML, e.LED_CAPSL),
)
# HID card readers pretend to be a keyboard: top-row digits, then Enter.
CARD_READER = DeviceSpec(
    "IVS test card reader", (*KEYBOARD_DIGITS.values(), e.KEY_ENTER), product=0x0002
)


def create(spec: DeviceSpec) -> UInput:
    """Plug in a virtual device; its event node exists when this returns."""
    return UInput(spec.capabilities(), name=spec.name, vendor=spec.vendor,
                  product=spec.product, bustype=e.BUS_USB)  # fmt: skip


def create_keypad() -> UInput:
    """A numeric keypad with Num Lock and Caps Lock LEDs."""
    return create(KEYPAD)


def create_card_reader() -> UInput:
    """A keyboard-emulating card reader."""
    return create(CARD_READER)


def replug(ui: UInput, spec: DeviceSpec) -> UInput:
    """Unplug ``ui`` (readers of its node get ENODEV) and plug in a fresh one."""
    ui.close()
    return create(spec)


def tap(ui: UInput, code: int) -> None:
    """Press and release one key, each followed by a SYN_REPORT as real HID does."""
    for value in (1, 0):
        ui.write(e.EV_KEY, code, value)
        ui.syn()


def type_digits(
    ui: UInput, digits: str, *, keypad: bool = True, enter: bool = True
) -> None:
    """Type ``digits`` on the keypad (KEY_KPn) or keyboard row (KEY_n), then Enter."""
    table = KEYPAD_DIGITS if keypad else KEYBOARD_DIGITS
    for digit in digits:
        tap(ui, table[digit])
    if enter:
        tap(ui, e.KEY_KPENTER if keypad else e.KEY_ENTER)


def type_card(ui: UInput, number: str) -> None:
    """Present a card to a keyboard-emulating reader: its number, then Enter."""
    type_digits(ui, number, keypad=False)


def is_readable(fd: int, timeout_s: float) -> bool:
    """Wait up to ``timeout_s`` for ``fd`` to have data (or an error) to read."""
    return bool(select.select([fd], [], [], timeout_s)[0])


def read_events(
    source: InputDevice | UInput,
    count: int,
    timeout_s: float,
    types: Iterable[int] = (e.EV_KEY,),
) -> list[InputEvent]:
    """Read up to ``count`` events of ``types``, giving up after ``timeout_s``."""
    wanted = set(types)
    found: list[InputEvent] = []
    deadline = time.monotonic() + timeout_s
    while len(found) < count:
        left = deadline - time.monotonic()
        if left <= 0 or not is_readable(source.fd, left):
            break
        found += [ev for ev in source.read() if ev.type in wanted]
    return found[:count]


def read_pending(
    source: InputDevice | UInput,
    timeout_s: float,
    types: Iterable[int] = (e.EV_KEY,),
) -> list[InputEvent]:
    """Every event of ``types`` in the next batch, waiting up to ``timeout_s`` for one.

    Unlike ``read_events`` nothing is cut off: the daemon sets several LEDs in one
    write, and a reader that kept only the first would miss the others.
    """
    if not is_readable(source.fd, timeout_s):
        return []
    wanted = set(types)
    return [ev for ev in source.read() if ev.type in wanted]


def read_error(device: InputDevice, timeout_s: float) -> str | None:
    """The errno name a read of ``device`` fails with (ENODEV once unplugged)."""
    if not is_readable(device.fd, timeout_s):
        return None
    try:
        list(device.read())  # a generator: the read happens while it is consumed
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))
    return None


def try_grab(device: InputDevice) -> str:
    """Grab ``device``: "ok", or the errno name (EBUSY if someone else holds it)."""
    try:
        device.grab()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc.errno))
    return "ok"


def check_keys_and_grab(ui: UInput, facts: dict) -> None:
    """Open the node twice, grab it, type KP1 + Enter and see who gets the events."""
    path = ui.device.path
    facts["listed"] = path in evdev.list_devices()
    with closing(InputDevice(path)) as device, closing(InputDevice(path)) as other:
        caps = device.capabilities()
        facts["name"] = device.name
        facts["keys"] = sorted(caps.get(e.EV_KEY, []))
        facts["leds"] = sorted(caps.get(e.EV_LED, []))
        facts["grab"] = try_grab(device)
        facts["second_grab"] = try_grab(other)
        type_digits(ui, "1")
        facts["read"] = [[ev.code, ev.value] for ev in read_events(device, 4, 5)]
        # Delivery happens inside the uinput write, so nothing now means nothing.
        facts["other_saw_events"] = is_readable(other.fd, 0)
        device.set_led(e.LED_NUML, 1)
        facts["led_state"] = device.leds()
        got = read_events(ui, 1, 5, types=(e.EV_LED,))
        facts["led_at_uinput"] = [[ev.code, ev.value] for ev in got]


def selfcheck() -> dict:
    """Exercise the input subsystem and return what was observed."""
    facts: dict = {}
    ui = create_keypad()
    try:
        check_keys_and_grab(ui, facts)
        with closing(InputDevice(ui.device.path)) as device:
            ui = replug(ui, KEYPAD)
            facts["after_unplug"] = read_error(device, 5)
        facts["replugged"] = ui.device.path in evdev.list_devices()
    finally:
        ui.close()
    return facts


if __name__ == "__main__":
    print("IVS-RESULT " + json.dumps(selfcheck()), flush=True)
