"""Requests per action: ours (cold, warm) vs the vendor's sequence, same simulator."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    BAD_PIN,
    CARD_BOB,
    PASSWORD,
    PIN_ALICE,
    USERNAME,
    Daemon,
    RemoteSimulator,
    Trial,
    requests_between,
    simulator,
)
from benchmarks.vendor import VendorReplay

CARD_CAROL = "0004921746"


@dataclass(frozen=True)
class Flow:
    """One door flow: how to do it on the daemon's console and with the vendor replay.

    ``warm_up`` are console lines typed between the cold and the warm measurement, to
    bring the room back to ``room_status`` with the user now cached.
    """

    name: str
    version: str  # the simulated VALT version the vendor's flow needs
    reference: int  # the vendor's count, valt-api-v3.md §6
    room_status: str
    line: str
    warm_up: tuple[str, ...]
    vendor: Callable[[VendorReplay], str]
    expect: str


FLOWS = (
    # Vendor keypad flows match the PIN against card_number in the whole user list and
    # add 5.x markers, so they run on 5.2; the vendor card lookup needs 6.5+ (§6.6).
    Flow(
        "PIN -> start",
        "5.2.0",
        8,
        "available",
        PIN_ALICE,
        (PIN_ALICE,),
        lambda v: v.keypad(PIN_ALICE),
        "started",
    ),
    Flow(
        "PIN -> stop",
        "5.2.0",
        5,
        "recording",
        PIN_ALICE,
        (PIN_ALICE,),
        lambda v: v.keypad(PIN_ALICE),
        "stopped",
    ),
    Flow(
        "card -> start",
        "6.6.0",
        6,
        "available",
        f"card {CARD_BOB}",
        (f"card {CARD_CAROL}",),
        lambda v: v.card(CARD_BOB),
        "started",
    ),
    Flow(
        "add marker",
        "5.2.0",
        6,
        "recording",
        "key plus",
        (),
        lambda v: v.marker(),
        "marked",
    ),
    Flow(
        "bad PIN",
        "5.2.0",
        1,
        "available",
        BAD_PIN,
        (),
        lambda v: v.keypad(BAD_PIN),
        "denied",
    ),
)


def run(latency_ms: float, log: Callable[[str], object] = print) -> dict[str, Any]:
    """Measure every flow; returns rows for the report."""
    rows = []
    sims: dict[str, RemoteSimulator] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-bench-flows-") as folder:
            for index, flow in enumerate(FLOWS):
                sim = sims.get(flow.version)
                if sim is None:
                    sim = sims[flow.version] = simulator(
                        flow.version, latency_ms, rooms=20
                    )
                log(f"  requests per action: {flow.name} (VALT {flow.version})")
                rows.append(
                    _measure(flow, sim, Path(folder) / str(index), room=index + 1)
                )
    finally:
        for sim in sims.values():
            sim.stop()
    return {"latency_ms": latency_ms, "flows": rows}


def _measure(
    flow: Flow, sim: RemoteSimulator, folder: Path, room: int
) -> dict[str, Any]:
    sim.set_room_status(room, flow.room_status)
    with Daemon(sim, room, folder) as daemon:
        cold = _ours(daemon, flow.line, flow.expect)
        for line in flow.warm_up:
            daemon.act(line)
        warm = _ours(daemon, flow.line, flow.expect)
    vendor_room = room + 10
    sim.set_room_status(vendor_room, flow.room_status)
    vendor = VendorReplay(sim.url, USERNAME, PASSWORD, vendor_room)
    vendor.connect()
    before, began = vendor.requests, time.time()
    result = flow.vendor(vendor)
    paths = [_path(e) for e in requests_between(sim, began, time.time())]
    if result != flow.expect:
        raise RuntimeError(
            f"vendor replay of {flow.name} gave {result}, not {flow.expect}"
        )
    return {
        "flow": flow.name,
        "valt": flow.version,
        "vendor_reference": flow.reference,
        "vendor_replay": vendor.requests - before,
        "vendor_paths": paths,
        "ours_cold": cold["requests"],
        "ours_cold_paths": cold["paths"],
        "ours_warm": warm["requests"],
        "ours_warm_paths": warm["paths"],
    }


def _ours(daemon: Daemon, line: str, expect: str) -> dict[str, Any]:
    trial: Trial = daemon.act(line)
    if trial.outcome.result != expect:
        raise RuntimeError(
            f"'{line}' gave {trial.outcome.result}, not {expect}: "
            f"{trial.outcome.message}"
        )
    seen = requests_between(daemon.sim, trial.began, trial.shown)
    # The simulator's log and the client's own count must agree; a background
    # refresh inside the window would make them differ.
    if len(seen) != trial.outcome.requests:
        raise RuntimeError(
            f"'{line}': the simulator saw {len(seen)} requests, the daemon "
            f"counted {trial.outcome.requests}"
        )
    return {"requests": len(seen), "paths": [_path(e) for e in seen]}


def _path(entry: dict[str, Any]) -> str:
    query = "?" + "&".join(f"{k}=..." for k in entry["query"]) if entry["query"] else ""
    return f"{entry['method']} {entry['path']}{query}"
