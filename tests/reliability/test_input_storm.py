"""Input storms: 1000 key events/s on one keypad while PINs are typed on another."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SECRET_USER

from .conftest import LONG
from .door import PIN_ROSA, PIN_TAE

SECONDS = 10 if LONG else 3
HERE = Path(__file__).resolve().parent


@pytest.mark.timeout(300)
def test_storm_loses_no_valid_pin_keeps_the_queue_bounded_and_memory_flat(
    make_sim, watched
):
    sim = make_sim(version="6.6.0", latency_ms=25)
    folder = watched.folder / "storm"
    folder.mkdir()
    for pin in (PIN_ROSA, PIN_TAE):
        watched.add("pins", pin)
    with open(folder / "storm.log", "wb") as log:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "reliability.storm",
                "--server",
                sim.url,
                "--folder",
                str(folder),
                "--seconds",
                str(SECONDS),
            ],
            cwd=HERE.parent,
            env=os.environ | {"PYTHONPATH": str(HERE.parent)},
            stdout=subprocess.PIPE,
            stderr=log,
            timeout=240,
        )
    assert done.returncode == 0, (folder / "storm.log").read_text()[-2000:]
    token = sim.token_for(SECRET_USER)  # the storm daemon's: its log must not show it
    if token:
        watched.add("tokens", token)
    report = json.loads(done.stdout)
    # The storm really was ~1000 events a second (a slow machine would test less).
    assert report["noise_events"] >= 0.9 * 1000 * report["seconds"]
    # Every valid PIN typed on the door keypad was acted on, start and stop in turn.
    results = report["door_results"]
    assert len(results) == report["door_pins"] >= 4 * SECONDS
    assert results == ["started", "stopped"] * (len(results) // 2) + ["started"] * (
        len(results) % 2
    )
    # The queue never overflowed: nothing dropped, never near its bound.
    assert report["dropped"] == 0
    assert report["max_pending"] < report["queue_size"]
    # The noise keypad got refused and then locked out, without VALT for each key.
    assert set(report["other_results"]) <= {"denied", "locked_out"}
    # Memory is flat: no growth from the first second to the end beyond allocator noise.
    rss = dict(report["rss_kib"])
    after_first_second = next(kib for at, kib in report["rss_kib"] if at >= 1.0)
    growth = report["rss_kib"][-1][1] - after_first_second
    print(
        f"storm: {report['noise_events']} noise events in {report['seconds']} s, "
        f"{len(results)} PINs, max queue {report['max_pending']}, RSS growth "
        f"{growth} KiB (samples {sorted(rss.items())[:3]}...)"
    )
    assert growth < 2048
