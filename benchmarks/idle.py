"""Idle load: many real daemons, simulated clock, one simulator, requests per minute."""

from __future__ import annotations

import collections
import concurrent.futures
import functools
import re
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import Daemon, simulator
from ivs_accessory.valt.client import ValtClient

VENDOR_PER_MIN = 12  # valt-api-v3.md §6.7: GET rooms/{room}/status every 5 s
RELOGIN_EVERY_MIN = 480  # the 8-hour login cycle: POST login + GET admin/general


class SimClock:
    """Simulated monotonic seconds: still until :meth:`advance_to` moves them."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self.changed = threading.Condition()

    def __call__(self) -> float:
        return self._now

    def advance_to(self, now: float) -> None:
        with self.changed:
            self._now = now
            self.changed.notify_all()

    def timer(self, delay: float, function: Callable[[], None]) -> threading.Timer:
        """A re-login timer on this clock (the client's ``timer_factory`` seam)."""
        return SimTimer(self, delay, function)


class SimTimer(threading.Timer):
    """``threading.Timer`` that fires when the simulated clock passes its deadline."""

    def __init__(
        self, clock: SimClock, delay: float, function: Callable[[], None]
    ) -> None:
        super().__init__(delay, function)
        self.daemon, self.name = True, "valt-relogin"
        self._clock, self._deadline = clock, clock() + delay

    def cancel(self) -> None:
        super().cancel()
        with self._clock.changed:
            self._clock.changed.notify_all()

    def run(self) -> None:
        with self._clock.changed:
            self._clock.changed.wait_for(
                lambda: self.finished.is_set() or self._clock() >= self._deadline
            )
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


def run(
    accessories: int,
    minutes: float,
    step_s: float,
    latency_ms: float,
    log: Callable[[str], object] = print,
) -> dict[str, Any]:
    """``accessories`` idle daemons (no input at all), ``minutes`` of simulated time.

    Every daemon is the real Service with its dispatcher thread; only its clock and
    its re-login timer are simulated. The clock moves in steps of ``step_s``, and each
    step waits until every dispatcher has done its housekeeping at the new time (the
    feedback ``tick``), which is where the daemon refreshes the room status when due.
    """
    clock = SimClock()
    sim = simulator("6.6.0", latency_ms, rooms=accessories)
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-bench-idle-") as folder:
            daemons = _start_all(sim, clock, Path(folder), accessories)
            try:
                start_up = _by_path(sim.requests())
                began, wall = len(sim.requests()), time.monotonic()
                _advance(clock, daemons, minutes * 60, step_s, log)
                wall = time.monotonic() - wall
                window = _by_path(sim.requests()[began:])
            finally:
                _stop_all(daemons)
    finally:
        sim.stop()
    per_min = sum(window.values()) / accessories / minutes
    # A window of 8 hours or more holds the re-login (its timer runs on the simulated
    # clock); a shorter one adds its 2 requests per 8 hours.
    relogin = 0 if minutes >= RELOGIN_EVERY_MIN else 2 / RELOGIN_EVERY_MIN
    return {
        "accessories": accessories,
        "simulated_minutes": minutes,
        "step_s": step_s,
        "latency_ms": latency_ms,
        "wall_s": round(wall, 1),
        "start_up_requests": start_up,
        "start_up_per_accessory": round(sum(start_up.values()) / accessories, 2),
        "window_requests": window,
        "total_per_min": round(per_min * accessories, 1),
        "per_accessory_per_min": round(per_min, 3),
        "relogin_in_window": not relogin,
        "per_accessory_per_min_with_8h_relogin": round(per_min + relogin, 3),
        "vendor_per_accessory_per_min": VENDOR_PER_MIN,
        "vendor_total_per_min": VENDOR_PER_MIN * accessories,
    }


def _start_all(sim: Any, clock: SimClock, folder: Path, count: int) -> list[Daemon]:
    """Start ``count`` idle daemons, one per room; return once each has asked VALT."""
    factory = functools.partial(ValtClient, timer_factory=clock.timer)
    daemons = [
        Daemon(
            sim,
            room,
            folder / str(room),
            clock=clock,
            console=False,
            client_factory=factory,
        )
        for room in range(1, count + 1)
    ]
    try:
        for daemon in daemons:
            daemon.start(wait=False)
        for daemon in daemons:
            daemon.recorder.wait(lambda r: r.online is not None, timeout=120)
    except BaseException:
        _stop_all(daemons)
        raise
    return daemons


def _advance(
    clock: SimClock,
    daemons: list[Daemon],
    seconds: float,
    step_s: float,
    log: Callable[[str], object],
) -> None:
    start = clock()
    steps = max(1, round(seconds / step_s))
    for index in range(1, steps + 1):
        now = start + index * seconds / steps
        clock.advance_to(now)
        for daemon in daemons:
            daemon.recorder.wait(
                lambda r, now=now: r.last_tick is not None and r.last_tick >= now
            )
        if index % max(1, steps // 10) == 0:
            log(f"  idle: {(now - start) / 60:.1f} of {seconds / 60:g} simulated min")


def _by_path(entries: list[dict[str, Any]]) -> dict[str, int]:
    counts: collections.Counter[str] = collections.Counter()
    for entry in entries:
        # One line per kind of request, not per room: room numbers become N.
        path = re.sub(r"(?<=/)\d+(?=/|$)", "N", entry["path"])
        counts[f"{entry['method']} {path}"] += 1
    return dict(counts)


def _stop_all(daemons: list[Daemon]) -> None:
    # One by one, 200 dispatcher joins would take a minute.
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        for done in [pool.submit(d.stop) for d in daemons]:
            done.result()
