"""The input storm, run in a process of its own so its memory can be watched alone.

``python -m reliability.storm --server URL --folder DIR --seconds S`` starts the real
Service with two keypads: ``noise`` emits about 1000 random key events a second (digits,
Enter, Delete, Escape, letters) while ``door`` types valid PINs every ``--pin-every``
seconds. Prints one JSON object: what the door was shown, the dispatcher's counters,
and the process's RSS sampled through the storm.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ivs_accessory.cli import setup_logging
from ivs_accessory.config import load
from ivs_accessory.notify import Notifier
from ivs_accessory.service import Service

from .door import PIN_ROSA, PIN_TAE, Keypad, config_text

NOISE_KEYS = [f"KEY_KP{d}" for d in range(10)] + [
    "KEY_KPENTER",
    "KEY_KPDOT",
    "KEY_ESC",
    "KEY_A",
    "KEY_SPACE",
    "KEY_F1",
]
SOURCES = "[source:door]\nkind = keypad\n\n[source:noise]\nkind = keypad\n"


class Counter:
    """A feedback sink that keeps the door's outcomes and only counts the others."""

    def __init__(self) -> None:
        self.door: list[str] = []
        self.others: collections.Counter[str] = collections.Counter()
        self.changed = threading.Condition()

    def show(self, outcome: Any) -> None:
        with self.changed:
            if outcome.source == "door":
                self.door.append(outcome.result)
            else:
                self.others[outcome.result] += 1
            self.changed.notify_all()

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: Any, online: bool | None) -> None:
        pass

    def tick(self, now: float) -> None:
        pass


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def storm(args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(args.folder)
    path = folder / "accessory.conf"
    # Two people take turns faster than the repeat window (each PIN is another
    # person's, and the window is for one person's retry): the window is off.
    path.write_text(config_text(args.server, folder, sources=SOURCES))
    path.chmod(0o600)
    keypads = {name: Keypad(name) for name in ("door", "noise")}
    counter = Counter()
    service = Service(
        load(path),
        source_factory=lambda name, options: keypads[name],
        feedback=[counter],
        notifier=Notifier(environ={}),
    )
    service.start()
    try:
        return _run(args, service, keypads, counter)
    finally:
        service.stop()


def _run(
    args: argparse.Namespace,
    service: Service,
    keypads: dict[str, Keypad],
    counter: Counter,
) -> dict[str, Any]:
    dispatcher = service.dispatcher
    assert dispatcher is not None
    rng, pace = random.Random(7), threading.Event()
    began = time.monotonic()
    noise = typed = 0
    samples, max_pending = [], 0
    next_pin = next_sample = began
    while (now := time.monotonic()) < began + args.seconds:
        # Catch up to the rate: the keys due since the start go out now.
        due = int((now - began) * args.rate) - noise
        keypads["noise"].press(*(rng.choice(NOISE_KEYS) for _ in range(due)))
        noise += max(0, due)
        if now >= next_pin:
            keypads["door"].type_digits((PIN_ROSA, PIN_TAE)[typed % 2])
            typed += 1
            next_pin += args.pin_every
        max_pending = max(max_pending, dispatcher.pending())
        if now >= next_sample:
            samples.append((round(now - began, 2), rss_kib()))
            next_sample += 0.25
        pace.wait(0.002)
    elapsed = time.monotonic() - began
    with counter.changed:
        counter.changed.wait_for(lambda: len(counter.door) >= typed, 60)
    samples.append((round(time.monotonic() - began, 2), rss_kib()))
    return {
        "seconds": round(elapsed, 2),
        "noise_events": noise,
        "door_pins": typed,
        "door_results": counter.door,
        "other_results": dict(counter.others),
        "events": dispatcher.events,
        "dropped": dispatcher.dropped,
        "max_pending": max_pending,
        "queue_size": dispatcher._queue.maxsize,
        "rss_kib": samples,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m reliability.storm")
    parser.add_argument("--server", required=True)
    parser.add_argument("--folder", required=True)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--rate", type=float, default=1000, help="noise key events a second"
    )
    parser.add_argument("--pin-every", type=float, default=0.25)
    args = parser.parse_args(argv)
    setup_logging(0)  # the daemon's own logging: INFO to stderr
    print(json.dumps(storm(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
