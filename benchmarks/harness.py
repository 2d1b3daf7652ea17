"""Shared by benchmarks: a simulator, an in-process daemon on a console pipe, stats."""

from __future__ import annotations

import json
import os
import platform
import queue
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ivs_accessory.config import load
from ivs_accessory.door.actions import Outcome
from ivs_accessory.notify import Notifier
from ivs_accessory.service import Service
from ivs_accessory.sources.console import ConsoleSource

ROOT = Path(__file__).resolve().parent.parent
USERNAME, PASSWORD = "admin", "admin"
# Users of the simulator's default data: the keypad PIN is the VALT card number.
PIN_ALICE, PIN_BOB, BAD_PIN = "123456", "654321", "999999"
CARD_BOB = "654321"


def simulator(
    version: str, latency_ms: float, rooms: int = 4, card_numbers_listed: bool = False
) -> RemoteSimulator:
    """A simulator in its own process (as VALT is), with the default users and
    ``rooms`` rooms; the daemon under test does not share its interpreter."""
    return RemoteSimulator(version, latency_ms, rooms, card_numbers_listed)


class RemoteSimulator:
    """``python -m ivs_accessory.valtsim`` in a subprocess, driven over its control API.

    Offers what the benchmarks use of :class:`ValtSimulator`: ``url``, ``requests()``,
    ``set_room_status()``, ``stop()``. Request times are the wall clock of this machine.
    """

    def __init__(
        self,
        version: str,
        latency_ms: float,
        rooms: int = 4,
        card_numbers_listed: bool = False,
    ) -> None:
        data = {"rooms": [{"id": i, "name": f"Room {i}"} for i in range(1, rooms + 1)]}
        self._folder = tempfile.TemporaryDirectory(prefix="ivs-bench-sim-")
        data_file = Path(self._folder.name) / "data.json"
        data_file.write_text(json.dumps(data))
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ivs_accessory.valtsim",
                "--port",
                "0",
                "--version",
                version,
                "--latency-ms",
                f"{latency_ms:g}",
                "--data",
                str(data_file),
                *(["--card-numbers-listed"] if card_numbers_listed else []),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        found = re.search(r"listening on (\S+)", first)
        if not found:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {first!r}")
        self.url = found.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])
        self._control = requests.Session()

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The API request log, optionally for one path pattern (oldest first)."""
        answer = self._control.get(
            f"{self.url}/_sim/requests",
            params={"path": path} if path else None,
            timeout=30,
        )
        answer.raise_for_status()
        return answer.json()["requests"]

    def clear_requests(self) -> None:
        self._control.delete(f"{self.url}/_sim/requests", timeout=30).raise_for_status()

    def set_room_status(self, room: int, status: str) -> None:
        self._control.post(
            f"{self.url}/_sim/rooms/{room}/status", json={"status": status}, timeout=30
        ).raise_for_status()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._folder.cleanup()


def config_text(
    server: str,
    room: int,
    folder: Path,
    *,
    user_cache_s: int = 60,
    status_refresh_s: int = 60,
    timeout_s: float = 5,
    console: bool = True,
    status_max_age_s: int = 10,
    page: bool = False,
    repeat_window_ms: int = 0,
    door: bool = False,
    extra: str = "",
) -> str:
    """A daemon configuration against ``server``, its audit log in ``folder``.

    The repeat window is off unless given: the trials toggle the same PIN on purpose,
    one after the other's outcome, faster than a person would come back.

    ``page``: serve the configuration page (the shipped default) on a free loopback
    port, with its own password file; else the page is off. ``door``: a door screen
    with its on-screen pad (``[door] screen`` and ``keypad``). ``extra``: more
    sections (e.g. ``[lamp]``).
    """
    web = "[web]\nenabled = false\n"
    if page:
        web = (
            "[web]\nenabled = true\naddress = 127.0.0.1\nport = 0\n"
            f"password_file = {folder / 'web-password'}\n"
        )
    text = (
        f"[valt]\nserver = {server}\nusername = {USERNAME}\npassword = {PASSWORD}\n"
        f"room = {room}\ntimeout_s = {timeout_s}\n\n"
        f"[mapping]\nuser_cache_s = {user_cache_s}\n"
        f"status_refresh_s = {status_refresh_s}\n"
        f"status_max_age_s = {status_max_age_s}\n"
        f"repeat_window_ms = {repeat_window_ms}\n\n"
        f"[logging]\naudit_file = {folder / 'audit.log'}\n"
        f"audit_max_bytes = 100000000\n\n{web}\n{extra}"
    )
    if door:
        text += "\n[door]\nscreen = true\nkeypad = true\n"
    return text + ("\n[source:door]\nkind = console\n" if console else "")


def write_config(folder: Path, name: str, text: str) -> Path:
    """Write a 0600 config file (it holds a password) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


class Recorder:
    """A feedback sink that timestamps what the daemon shows (wall clock)."""

    def __init__(self) -> None:
        self.shown: queue.Queue[tuple[Outcome, float]] = queue.Queue()
        self.status: Any = None
        self.online: bool | None = None
        self.last_tick: float | None = None
        self.changed = threading.Condition()

    def show(self, outcome: Outcome) -> None:
        self.shown.put((outcome, time.time()))

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: Any, online: bool | None) -> None:
        with self.changed:
            self.status, self.online = status, online
            self.changed.notify_all()

    def tick(self, now: float) -> None:
        with self.changed:
            self.last_tick = now
            self.changed.notify_all()

    def wait(self, predicate: Callable[[Recorder], bool], timeout: float = 30) -> None:
        """Wait until ``predicate(self)`` holds; TimeoutError after ``timeout`` s."""
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(
                    "the daemon did not reach the expected state in time"
                )


class Daemon:
    """The daemon in this process: the real Service, a console source on a pipe.

    Args:
        sim: the simulator to talk to.
        room: the room this door controls.
        folder: where its config and audit log go.
        clock: the Service's clock (the idle benchmark passes a simulated one).
        console: give it a console source (False: no input at all, an idle box).
        **config: ``config_text`` options (user_cache_s, status_refresh_s, timeout_s).
    """

    def __init__(
        self,
        sim: RemoteSimulator,
        room: int,
        folder: Path,
        *,
        clock: Callable[[], float] = time.monotonic,
        console: bool = True,
        client_factory: Callable[..., Any] | None = None,
        open_light: Callable[[str], Any] | None = None,
        **config: Any,
    ) -> None:
        self.sim, self.room = sim, room
        text = config_text(sim.url, room, folder, console=console, **config)
        self.path = write_config(folder, f"room{room}.conf", text)
        self.recorder = Recorder()
        self._writer: int | None = None
        options: dict[str, Any] = {
            "source_factory": self._console,
            "clock": clock,
            "feedback": [self.recorder],
            "notifier": Notifier(environ={}),
        }
        if client_factory is not None:
            options["client_factory"] = client_factory
        if open_light is not None:
            options["open_light"] = open_light
        self.service = Service(load(self.path), **options)

    def __enter__(self) -> Daemon:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, wait: bool = True) -> None:
        """Start the daemon; with ``wait``, return once it has read the room status."""
        self.service.start()
        if wait:
            self.recorder.wait(lambda r: r.status is not None)

    def stop(self) -> None:
        self.service.stop()
        if self._writer is not None:
            os.close(self._writer)
            self._writer = None

    def _console(self, name: str, options: dict[str, Any]) -> ConsoleSource:
        read, self._writer = os.pipe()
        return ConsoleSource(name, stream=os.fdopen(read, "r"))

    def type(self, line: str) -> float:
        """Type a line on the console; returns the wall-clock time it was written."""
        assert self._writer is not None, "the daemon has no console source"
        began = time.time()
        os.write(self._writer, (line + "\n").encode())
        return began

    def act(self, line: str, timeout: float = 30) -> Trial:
        """Type ``line`` and wait for what the daemon shows."""
        began = self.type(line)
        outcome, shown = self.recorder.shown.get(timeout=timeout)
        return Trial(began, outcome, shown)

    def act_typed(self, pin: str, pace_s: float, timeout: float = 30) -> Trial:
        """Press ``pin``'s keys one by one, ``pace_s`` apart, as a person does.

        The trial starts at the last key, which submits the PIN (``pin_length``
        digits): the moment the person starts waiting. The pause between keys is
        the stimulus, a person's typing speed, not a wait for the daemon.
        """
        pause = threading.Event()
        for digit in pin[:-1]:
            self.type(f"key KEY_KP{digit}")
            pause.wait(pace_s)
        began = self.type(f"key KEY_KP{pin[-1]}")
        outcome, shown = self.recorder.shown.get(timeout=timeout)
        return Trial(began, outcome, shown)

    @property
    def requests(self) -> int:
        client = self.service.client
        return client.request_count if client is not None else 0


@dataclass
class Trial:
    """One input and its outcome, with wall-clock times."""

    began: float
    outcome: Outcome
    shown: float


def arrival(
    sim: RemoteSimulator, path: str, after: float, method: str = "POST"
) -> float:
    """When the first ``method path`` request since ``after`` reached the simulator."""
    for entry in sim.requests(path):
        if entry["method"] == method and entry["time"] >= after:
            return entry["time"]
    raise LookupError(f"no {method} {path} reached the simulator after {after}")


def requests_between(
    sim: RemoteSimulator, began: float, ended: float
) -> list[dict[str, Any]]:
    """The simulator's log entries that arrived in [began, ended]."""
    return [e for e in sim.requests() if began <= e["time"] <= ended]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (nearest rank, as latency reports use)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary_ms(seconds: Iterable[float]) -> dict[str, float]:
    """Median, p95, p99 and max in milliseconds, with the number of samples."""
    values = [s * 1000 for s in seconds]
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values), 2),
        "p95_ms": round(percentile(values, 0.95), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "max_ms": round(max(values), 2),
    }


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size of a process in KiB, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise LookupError(f"no VmRSS for process {pid}")


def machine() -> dict[str, Any]:
    """Where the figures were taken, including how busy the machine was."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "host": platform.node(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "kernel": platform.release(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
        "commit": _commit(),
    }


def _commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
