"""Outcome -> lamp: from the outcome shown to the lamp's write of its blink."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import PIN_ALICE, Daemon, simulator, summary_ms
from ivs_accessory.door.lamp_memory import MemoryLights

ROOM_LAMP = 1
GOOD, RED, OFF = (0, 255, 0), (255, 0, 0), (0, 0, 0)  # the [lamp] defaults


def run(
    latency_ms: float, trials: int, log: Callable[[str], object] = print
) -> dict[str, Any]:
    """``trials`` PIN toggles at a door with the lamp on (a light in memory).

    Each trial is timed from the moment the daemon shows the outcome (the sink
    before the lamp's is told, on the dispatcher thread) to the moment the lamp's
    own thread hands the blink's colour to the light: the door's share of the
    issue's "outcome -> lamp" figure. The USB write itself comes on top (the VM
    test prints it for a uhid light through hidraw).
    """
    lights = MemoryLights(clock=time.time)  # the recorder's clock
    sim = simulator("6.6.0", latency_ms, ROOM_LAMP)
    seconds = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ivs-bench-lamp-") as folder,
            Daemon(sim, ROOM_LAMP, Path(folder), open_light=lights,
                   extra="[lamp]\nenabled = true\n") as daemon,
        ):  # fmt: skip
            for index in range(trials):
                if index % 20 == 0:
                    log(f"  lamp: trial {index + 1} of {trials}")
                seconds.append(_trial(daemon, lights))
    finally:
        sim.stop()
    return {"latency_ms": latency_ms, "trials": trials, **summary_ms(seconds)}


def _trial(daemon: Daemon, lights: MemoryLights) -> float:
    trial = daemon.act(PIN_ALICE)
    if trial.outcome.result not in ("started", "stopped"):
        raise RuntimeError(f"a PIN toggle gave {trial.outcome.result!r}")
    steady = RED if trial.outcome.result == "started" else OFF

    def blinked(seen: MemoryLights) -> bool:
        return any(rgb == GOOD and at >= trial.shown for rgb, at in seen.writes)

    if not lights.wait_for(blinked, 10):
        raise RuntimeError("the lamp did not blink for the outcome within 10 s")
    written = next(at for rgb, at in lights.writes if rgb == GOOD and at >= trial.shown)
    # The blink ends before the next trial, so each one starts from the steady state.
    if not lights.wait_for(lambda seen: seen.shown == steady and _after(seen, written)):
        raise RuntimeError("the lamp did not return to the room's state")
    return written - trial.shown


def _after(lights: MemoryLights, moment: float) -> bool:
    return bool(lights.writes) and lights.writes[-1][1] > moment
