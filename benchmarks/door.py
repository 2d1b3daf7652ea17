"""The door page with 10 screens following: /door answers, outcome -> screens, RSS."""

from __future__ import annotations

import http.client
import importlib.util
import json
import re
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.harness import PIN_ALICE, Daemon, rss_kib, simulator, summary_ms
from benchmarks.resources import DaemonProcess, _feed

SCREENS = 10


class Screen:
    """One door screen: its event stream on a connection and thread of its own.

    Each screen connects from its own loopback address (127.0.0.2, .3 ...): ten
    screens are ten devices, and the page allows 8 connections per address.
    """

    def __init__(self, url: str, index: int) -> None:
        parts = urlsplit(url)
        self.connection = http.client.HTTPConnection(
            parts.hostname,
            parts.port,
            timeout=120,
            source_address=(f"127.0.0.{index + 2}", 0),
        )
        self.connection.request("GET", "/door/events")
        self.response = self.connection.getresponse()
        self.events = 0
        self.arrivals: dict[int, float] = {}  # outcome seq -> wall time it arrived
        self.changed = threading.Condition()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        data = b""
        try:
            for line in iter(self.response.readline, b""):
                if line.startswith(b"data: "):
                    data = line[6:]
                elif line == b"\n" and data:
                    self._arrived(json.loads(data), time.time())
                    data = b""
        except (OSError, ValueError):  # closed by close(), or the daemon stopped
            pass

    def _arrived(self, event: dict[str, Any], at: float) -> None:
        with self.changed:
            self.events += 1
            outcome = event.get("outcome")
            if outcome is not None:
                self.arrivals.setdefault(outcome["seq"], at)
            self.changed.notify_all()

    def wait(self, predicate: Callable[[Screen], bool], timeout: float = 30) -> None:
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError("a door screen heard nothing in time")

    def close(self) -> None:
        # Shut the socket down first: the reader sees the end and returns; closing
        # the connection under its readline would pull the file from under it.
        sock = self.connection.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(10)
        self.connection.close()


def open_screens(url: str, count: int = SCREENS) -> list[Screen]:
    """``count`` screens following ``url``'s door page, each with its first event."""
    screens = [Screen(url, index) for index in range(count)]
    for screen in screens:
        screen.wait(lambda s: s.events > 0)
    return screens


def answer_times(url: str, count: int) -> list[float]:
    """Seconds for ``GET /door``, each on a new connection (as a screen loads it)."""
    parts = urlsplit(url)
    times = []
    for _ in range(count):
        began = time.perf_counter()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", "/door")
        answer = connection.getresponse()
        answer.read()
        times.append(time.perf_counter() - began)
        connection.close()
        if answer.status != 200:
            raise RuntimeError(f"/door answered {answer.status}")
    return times


def outcome_to_screens(
    latency_ms: float, trials: int, log: Callable[[str], object] = print
) -> dict[str, Any]:
    """Seconds from an outcome to each of 10 screens hearing it (in-process daemon).

    The outcome's moment is taken by a feedback sink called right after the door
    board's (a few microseconds later on the same thread); PINs toggle the room.
    """
    sim = simulator("6.6.0", latency_ms)
    delays: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-bench-door-") as folder:
            with Daemon(sim, 1, Path(folder), page=True, door=True) as daemon:
                url = daemon.service.web.url
                screens = open_screens(url)
                try:
                    for trial in range(trials):
                        done = daemon.act(PIN_ALICE)
                        seq = daemon.service.panel.board.snapshot()["outcome"]["seq"]
                        for screen in screens:
                            screen.wait(lambda s, seq=seq: seq in s.arrivals, 10)
                            delays.append(screen.arrivals[seq] - done.shown)
                        if (trial + 1) % 20 == 0:
                            log(f"  door: {trial + 1} of {trials} outcomes")
                finally:
                    for screen in screens:
                        screen.close()
    finally:
        sim.stop()
    return {"trials": trials, "screens": SCREENS, **summary_ms(delays)}


# The memory figure is "with the page, the door page and the lamp on".
LAMP_ON = "[lamp]\nenabled = true\n"
# The lamp imports busylight-core and hidapi's hidraw only once sysfs shows a light
# (door/busylight.py). No light is plugged in here, so for the figure "with a light"
# sysfs is made to show one: the lamp's own thread then loads the libraries and
# looks for the light through them, at each retry, as on a box whose light it
# cannot open. The open light's handle (a descriptor, a few objects) is not counted.
LIGHT_SHOWN = (
    "import ivs_accessory.door.busylight as lamp_library\n"
    "lamp_library.light_plugged_in = lambda sys_root: True\n"
    "from ivs_accessory.cli import main\n"
    "raise SystemExit(main())"
)
LIBRARY_FILE = "hidraw.cpython"  # in /proc/PID/maps once the lamp has loaded it


def light_command() -> list[str] | None:
    """``ivs-accessory`` as on a box with a light; None without the lamp extra."""
    if importlib.util.find_spec("busylight_core") is None:
        return None
    return [sys.executable, "-c", LIGHT_SHOWN]


def wait_library_loaded(pid: int, timeout: float = 60) -> None:
    """Until the daemon's lamp has loaded the light's libraries (polled)."""
    deadline = time.monotonic() + timeout
    while LIBRARY_FILE not in Path(f"/proc/{pid}/maps").read_text():
        if time.monotonic() > deadline:
            raise TimeoutError("the lamp did not load busylight-core in time")
        time.sleep(0.05)


def process(
    events: int,
    answers: int,
    log: Callable[[str], object] = print,
    command: list[str] | None = None,
) -> dict[str, Any]:
    """The real daemon process with the page, a door screen with its pad and the
    recording lamp on: RSS at start, with 10 screens following, after ``events``
    inputs; and ``/door`` answer times while the screens follow.

    Args:
        command: how to start the daemon; :func:`light_command` for a box with a
            light plugged in (default: as installed, no light plugged in).
    """
    sim = simulator("6.6.0", 0)
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-bench-door-rss-") as folder:
            daemon = DaemonProcess(
                Path(folder), sim.url, door=True, extra=LAMP_ON, command=command
            )
            daemon.start()
            try:
                _wait_ready_and_available(daemon)
                assert daemon.process is not None
                pid = daemon.process.pid
                if command is not None:
                    wait_library_loaded(pid)
                url = _page_url(Path(folder) / "daemon.log")
                started = rss_kib(pid)
                screens = open_screens(url)
                try:
                    following = rss_kib(pid)
                    times = answer_times(url, answers)
                    log(f"  door: /door answered {answers} times, 10 screens open")
                    samples = _feed(daemon, events, log)
                    scraped = scrape_rss(url, pid, SCRAPES)
                    log(f"  door: /metrics scraped {SCRAPES} times")
                finally:
                    for screen in screens:
                        screen.close()
            finally:
                code = daemon.stop()
    finally:
        sim.stop()
    return {
        "answer": summary_ms(times),
        "rss_start_kib": started,
        "rss_screens_kib": following,
        "rss_end_kib": samples[-1][1],
        "rss_scraped_kib": scraped,
        "scrapes": SCRAPES,
        "events": samples[-1][0],
        "exit_code": code,
    }


# /metrics loads prometheus_client at its first scrape; a Prometheus server scrapes
# every 30 s or so, so the figure after a few scrapes is the scraped box's steady one.
SCRAPES = 5


def scrape_rss(url: str, pid: int, count: int) -> int:
    """Scrape ``url``'s /metrics ``count`` times (from loopback, which the shipped
    ``metrics_access = local`` allows); the daemon's RSS after, in KiB."""
    parts = urlsplit(url)
    for _ in range(count):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request("GET", "/metrics")
            answer = connection.getresponse()
            body = answer.read()
        finally:
            connection.close()
        if answer.status != 200 or b"ivs_accessory_info" not in body:
            raise RuntimeError(f"/metrics answered {answer.status}: {body[:200]!r}")
    return rss_kib(pid)


def _wait_ready_and_available(daemon: DaemonProcess) -> None:
    """Until READY=1 (the page listens: it starts before) and the room was read;
    the two come in either order."""
    seen: set[str] = set()

    def both(message: str) -> bool:
        if message == "READY=1":
            seen.add("ready")
        if message.startswith("STATUS=room 1 available"):
            seen.add("room")
        return seen == {"ready", "room"}

    daemon.wait_for(both)


def _page_url(log_file: Path) -> str:
    """The page's URL, from the daemon's log (it picks a free port)."""
    found = re.search(r"configuration page at (\S+)", log_file.read_text())
    if found is None:
        raise RuntimeError(f"the daemon logged no page URL in {log_file}")
    return found.group(1)


def run(
    latency_ms: float,
    trials: int,
    events: int,
    answers: int,
    log: Callable[[str], object] = print,
) -> dict[str, Any]:
    """Every figure of the door page."""
    figures = {
        "latency_ms": latency_ms,
        "outcome_to_screen": outcome_to_screens(latency_ms, trials, log),
        "process": process(events, answers, log),
    }
    command = light_command()
    if command is None:
        log("  door: busylight-core is not installed; no figure with a light")
    else:
        log("  door: again, with sysfs showing a light (busylight-core loaded)")
        figures["process_light"] = process(events, answers, log, command)
    return figures
