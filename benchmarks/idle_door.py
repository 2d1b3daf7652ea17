"""A door idle for an hour: typed PIN and card against cold users and a stale status.

What matters after an idle hour is that the room status is older than its limit and
the daemon remembers no user list; any age past the limit behaves the same. So the
daemon runs with a 1-second status limit and the door is left alone for longer than
that before each input, and its user answers are forgotten (an hour would have
expired them), instead of waiting an hour.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import CARD_BOB, PIN_ALICE, Daemon, Trial, simulator

VALT = "5.2.0"  # lists card numbers, so the typed PIN's lookup is made while typing
IDLE_S = 2.5  # past both 1 s limits, and past the 2 s repeat window
PACE_S = 0.15  # between keys, as a person types

FLOWS = (
    ("typed PIN -> start", "typed", PIN_ALICE, "started"),
    ("typed PIN -> stop", "typed", PIN_ALICE, "stopped"),
    ("card -> start", "card", CARD_BOB, "started"),
    ("card -> stop", "card", CARD_BOB, "stopped"),
)


def run(
    latency_ms: float, trials: int, log: Callable[[str], object] = print
) -> dict[str, Any]:
    """Each flow ``trials`` times on a door idle between inputs; rows for the report."""
    sim = simulator(VALT, latency_ms)
    found: dict[str, list[dict[str, float]]] = {name: [] for name, *_ in FLOWS}
    idle = threading.Event()  # never set: the wait is the door left alone
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-bench-idle-door-") as folder:
            with Daemon(
                sim,
                1,
                Path(folder),
                status_max_age_s=1,
                repeat_window_ms=2000,  # as shipped: the door is left longer
            ) as daemon:
                for trial in range(trials):
                    for name, how, credential, expect in FLOWS:
                        idle.wait(IDLE_S)
                        _forget_users(daemon)
                        found[name].append(
                            _one(daemon, how, credential, expect, latency_ms)
                        )
                    log(f"  idle door: trial {trial + 1} of {trials}")
    finally:
        sim.stop()
    return {
        "valt": VALT,
        "latency_ms": latency_ms,
        "trials": trials,
        "flows": [_row(name, found[name]) for name, *_ in FLOWS],
    }


def _forget_users(daemon: Daemon) -> None:
    dispatcher = daemon.service.dispatcher
    assert dispatcher is not None and dispatcher.actions.directory is not None
    dispatcher.actions.directory.clear()


def _one(
    daemon: Daemon, how: str, credential: str, expect: str, latency_ms: float
) -> dict[str, float]:
    if how == "typed":
        trial: Trial = daemon.act_typed(credential, PACE_S)
    else:
        trial = daemon.act(f"card {credential}")
    if trial.outcome.result != expect:
        raise RuntimeError(
            f"{how} {expect}: got {trial.outcome.result} ({trial.outcome.message})"
        )
    after = [
        e["time"]
        for e in daemon.sim.requests()
        if trial.began <= e["time"] <= trial.shown
    ]
    return {
        "requests": trial.outcome.requests,
        "round_trips_after": _round_trips(after, latency_ms),
        "ms_after": (trial.shown - trial.began) * 1000,
    }


def _round_trips(arrivals: list[float], latency_ms: float) -> int:
    """Round trips in a row: a request that reached VALT before the answer to the
    first one of its trip could have come back (``latency_ms`` later) went with it."""
    trips, began = 0, None
    for at in sorted(arrivals):
        if began is None or (at - began) * 1000 >= latency_ms:
            trips, began = trips + 1, at
    return trips


def _row(name: str, runs: list[dict[str, float]]) -> dict[str, Any]:
    spent = [r["ms_after"] for r in runs]
    return {
        "flow": name,
        "requests_max": max(int(r["requests"]) for r in runs),
        "round_trips_after_max": max(int(r["round_trips_after"]) for r in runs),
        "ms_after_median": round(statistics.median(spent), 1),
        "ms_after_max": round(max(spent), 1),
    }
