"""Door latency: input -> action request at VALT -> confirmed; ours vs the vendor's."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import (
    PASSWORD,
    PIN_ALICE,
    USERNAME,
    Daemon,
    arrival,
    simulator,
    summary_ms,
)
from benchmarks.vendor import VendorReplay
from ivs_accessory.events import CodeEntered

ROOM_WARM, ROOM_COLD, ROOM_VENDOR, ROOM_EMIT, ROOM_TYPED = 1, 2, 3, 4, 5
ACTORS = ("ours_warm", "ours_cold", "ours_typed", "vendor")
OURS = ACTORS[:3]
# Between two keys of a typed PIN: quicker than most people type at a door keypad,
# so the time the daemon has to fetch the users while they type is not overstated.
TYPING_PACE_S = 0.15
METRICS = ("to_request", "to_confirm", "to_shown", "to_end")


def run(
    latency_ms: float,
    trials: int,
    log: Callable[[str], object] = print,
    version: str = "5.2.0",
    card_numbers_listed: bool = False,
) -> dict[str, Any]:
    """``trials`` PIN -> start and as many PIN -> stop per actor, interleaved.

    The actors take turns on one simulator (in a rotating order), so machine noise
    hits them alike and the ratios come from the same run. The vendor flow matches
    the PIN in the whole user list, which works on VALT 5.2 (the default) or on a
    6.5+ simulator that lists card numbers (``card_numbers_listed``).
    ``ours_cold`` gets the whole PIN at once (a console line), so it must look the
    user up after the PIN is in; ``ours_typed`` has no cache either but gets the keys
    one by one and fetches the users while they are typed (``prefetch_users``).
    """
    samples: dict[str, list[dict[str, float]]] = {a: [] for a in ACTORS}
    sim = simulator(version, latency_ms, ROOM_TYPED, card_numbers_listed)
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ivs-bench-latency-") as folder,
            Daemon(sim, ROOM_WARM, Path(folder) / "warm") as warm,
            Daemon(sim, ROOM_COLD, Path(folder) / "cold", user_cache_s=0) as cold,
            Daemon(sim, ROOM_TYPED, Path(folder) / "typed", user_cache_s=0) as typed,
        ):
            vendor = VendorReplay(sim.url, USERNAME, PASSWORD, ROOM_VENDOR)
            vendor.connect()
            do = {
                "ours_warm": lambda: _ours(warm),
                "ours_cold": lambda: _ours(cold),
                "ours_typed": lambda: _ours(typed, typed_pace_s=TYPING_PACE_S),
                "vendor": lambda: _vendor(vendor, sim),
            }
            for actor in ACTORS:  # one start and one stop each, so caches are warm
                do[actor]()
                do[actor]()
            for index in range(2 * trials):
                if index % 20 == 0:
                    log(f"  latency: trial {index // 2 + 1} of {trials}")
                turn = index % len(ACTORS)
                for actor in ACTORS[turn:] + ACTORS[:turn]:
                    samples[actor].append(do[actor]())
    finally:
        sim.stop()
    return {
        "latency_ms": latency_ms,
        "trials_per_action": trials,
        "valt": version + (" (card numbers listed)" if card_numbers_listed else ""),
        **_report(samples),
    }


def _ours(daemon: Daemon, typed_pace_s: float | None = None) -> dict[str, float]:
    if typed_pace_s is None:
        trial = daemon.act(PIN_ALICE)
    else:
        trial = daemon.act_typed(PIN_ALICE, typed_pace_s)
    kind = _kind(trial.outcome.result)
    sent = arrival(daemon.sim, f"rooms/{daemon.room}/record/{kind}", trial.began)
    return {
        "kind": kind,
        "to_request": sent - trial.began,
        # The daemon shows the outcome as soon as VALT has answered the action.
        "to_confirm": trial.shown - trial.began,
        "to_shown": trial.shown - trial.began,
        "to_end": trial.shown - trial.began,
        "requests": trial.outcome.requests,
    }


def _vendor(vendor: VendorReplay, sim: Any) -> dict[str, float]:
    before, began = vendor.requests, time.time()
    kind = _kind(vendor.keypad(PIN_ALICE))
    ended = time.time()
    sent = arrival(sim, f"rooms/{vendor.room}/record/{kind}", began)
    assert vendor.action_answered_at is not None and vendor.shown_at is not None
    return {
        "kind": kind,
        "to_request": sent - began,
        "to_confirm": vendor.action_answered_at - began,
        "to_shown": vendor.shown_at - began,
        "to_end": ended - began,
        "requests": vendor.requests - before,
    }


def _kind(result: str) -> str:
    if result not in ("started", "stopped"):
        raise RuntimeError(f"a PIN toggle gave {result!r}")
    return "start" if result == "started" else "stop"


def _report(samples: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for kind in ("start", "stop"):
        rows = {}
        for actor, items in samples.items():
            mine = [s for s in items if s["kind"] == kind]
            rows[actor] = {
                metric: summary_ms(s[metric] for s in mine) for metric in METRICS
            }
            rows[actor]["requests"] = sorted({s["requests"] for s in mine})
        rows["ratios"] = _ratios(rows)
        out[kind] = rows
    return out


def _ratios(rows: dict[str, Any]) -> dict[str, float]:
    """ours / vendor for medians and p95s: to the action request, to its answer
    (``to_confirm``) and to the result shown at the door (``to_shown``)."""
    ratios = {}
    for actor in OURS:
        for metric in METRICS[:3]:
            for stat in ("median_ms", "p95_ms"):
                ours, theirs = rows[actor][metric][stat], rows["vendor"][metric][stat]
                ratios[f"{actor}.{metric}.{stat}"] = round(ours / theirs, 3)
    return ratios


def event_to_request(
    latency_ms: float, trials: int, log: Callable[[str], object] = print
) -> dict[str, Any]:
    """In-process: the dispatcher's ``emit`` of a PIN to the action request at VALT."""
    sim = simulator("6.6.0", latency_ms)
    seconds = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="ivs-bench-emit-") as folder,
            Daemon(sim, ROOM_EMIT, Path(folder), console=False) as daemon,
        ):
            dispatcher = daemon.service.dispatcher
            assert dispatcher is not None
            for index in range(trials + 2):
                began = time.time()
                dispatcher.emit(CodeEntered("door", PIN_ALICE, time.monotonic()))
                outcome, _ = daemon.recorder.shown.get(timeout=30)
                kind = _kind(outcome.result)
                if index >= 2:  # the first start and stop fill the user cache
                    seconds.append(
                        arrival(sim, f"rooms/{ROOM_EMIT}/record/{kind}", began) - began
                    )
                sim.clear_requests()  # keeps each look-up in the log short
                if index % 200 == 0:
                    log(f"  event -> request: {index} of {trials}")
    finally:
        sim.stop()
    return {"latency_ms": latency_ms, "valt": "6.6.0", **summary_ms(seconds)}
