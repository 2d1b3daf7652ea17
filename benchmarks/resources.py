"""Real daemon process resources: time to READY, RSS after start and many inputs."""

from __future__ import annotations

import compileall
import functools
import itertools
import os
import queue
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import ROOT, config_text, rss_kib, simulator, write_config

# One cycle of console lines: 11 input events, 10 outcomes. PINs and cards of the
# simulator's users toggle the room, a wrong PIN is denied (never 5 in a row, so no
# lockout), "key plus" (KeyHeld + KeyPressed) adds a marker or finds the room idle.
# The two cards alternate: the same card twice within 2 s counts as one swipe.
CYCLE = (
    "123456",
    "654321",
    "card 0004921746",
    "123456",
    "999999",
    "key plus",
    "654321",
    "card 13579",
    "123456",
    "654321",
)
EVENTS_PER_CYCLE = len(CYCLE) + 1
BATCH = 200  # lines per write; well under the dispatcher's queue of 1000 events


@functools.cache
def compile_package() -> None:
    """Write the package's bytecode, as a box has it (the .deb's py3compile, pip's
    install): a daemon that compiles its 120 modules from source at each start is
    slower and keeps about 0.5 MiB more. A checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` has none."""
    if not compileall.compile_dir(ROOT / "ivs_accessory", quiet=1):
        raise RuntimeError("the package does not compile")


def unit_environment() -> dict[str, str]:
    """The ``Environment=`` settings of the shipped unit: the daemon is measured
    as systemd runs it (``MALLOC_ARENA_MAX`` changes its memory)."""
    unit = ROOT / "systemd" / "ivs-accessory.service"
    found = {}
    for line in unit.read_text().splitlines():
        if line.startswith("Environment="):
            # One line may set several, space-separated (as the kiosk unit does).
            for setting in line.removeprefix("Environment=").split():
                name, _, value = setting.partition("=")
                found[name] = value
    return found


def daemon_command() -> list[str]:
    """``ivs-accessory run`` as installed next to this Python (else ``-m``)."""
    script = Path(sys.executable).with_name("ivs-accessory")
    return [str(script)] if script.exists() else [sys.executable, "-m", "ivs_accessory"]


class DaemonProcess:
    """``ivs-accessory run`` in a subprocess: console on a pipe, READY on our socket."""

    def __init__(
        self,
        folder: Path,
        server: str,
        room: int = 1,
        door: bool = False,
        extra: str = "",
        command: list[str] | None = None,
    ) -> None:
        self.folder = folder
        self.command = command or daemon_command()
        compile_package()
        # The page is on, as shipped: its thread and templates count.
        shutil.copy(ROOT / "config" / "web-password", folder / "web-password")
        self.config = write_config(
            folder,
            "accessory.conf",
            config_text(server, room, folder, page=True, door=door, extra=extra),
        )
        self.audit = folder / "audit.log"
        self.notify_path = str(folder / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.notify_path)
        self.messages: queue.Queue[str] = queue.Queue()
        # Drain the socket as systemd does: sd_notify blocks the daemon's dispatcher
        # once the socket's queue is full (net.unix.max_dgram_qlen, as low as 10).
        self._drain = threading.Thread(target=self._read_notify, daemon=True)
        self._drain.start()
        self.process: subprocess.Popen | None = None
        self.started = 0.0

    def _read_notify(self) -> None:
        while True:
            try:
                self.messages.put(self.sock.recv(4096).decode())
            except OSError:  # closed by stop()
                return

    def start(self) -> None:
        self.started = time.monotonic()
        with open(self.folder / "daemon.log", "ab") as errors:
            self.process = subprocess.Popen(
                self.command + ["run", "--config", str(self.config)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=errors,
                env=os.environ
                | unit_environment()
                | {"NOTIFY_SOCKET": self.notify_path},
            )

    def wait_for(self, predicate: Callable[[str], bool]) -> float:
        """Read notify messages until ``predicate`` holds; seconds since start."""
        while True:
            message = self.messages.get(timeout=60)
            if predicate(message):
                return time.monotonic() - self.started

    def type(self, lines: list[str]) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(("\n".join(lines) + "\n").encode())
        self.process.stdin.flush()

    def wait_outcomes(self, count: int, timeout: float = 120) -> None:
        """Wait until the audit log holds ``count`` outcomes (polled)."""
        deadline = time.monotonic() + timeout
        while _lines(self.audit) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the daemon recorded {_lines(self.audit)} of {count} "
                    "outcomes in time"
                )
            time.sleep(0.02)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        self.process.terminate()
        try:
            return self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(10)
        finally:
            self.sock.shutdown(socket.SHUT_RDWR)
            self.sock.close()
            self._drain.join(5)


def ready_time(
    trials: int, log: Callable[[str], object] = print, latency_ms: float = 0
) -> dict[str, Any]:
    """Seconds from process start (``Popen``) to ``READY=1``, and to the first input
    that can be served (logged in, room read: its first ``STATUS=room N ...``),
    ``trials`` times, with the page on."""
    sim = simulator("6.6.0", latency_ms)
    ready, served = [], []
    try:
        for index in range(trials):
            with tempfile.TemporaryDirectory(prefix="ivs-bench-ready-") as folder:
                daemon = DaemonProcess(Path(folder), sim.url)
                daemon.start()
                try:
                    ready.append(daemon.wait_for(lambda m: m == "READY=1"))
                    served.append(daemon.wait_for(_room_known))
                finally:
                    daemon.stop()
            log(
                f"  ready: {index + 1} of {trials}: {ready[-1]:.3f} s, "
                f"served {served[-1]:.3f} s"
            )
    finally:
        sim.stop()
    return {
        "trials": trials,
        "page": True,
        "latency_ms": latency_ms,
        **_spread("", ready),
        **_spread("served_", served),
        "command": " ".join(
            [Path(daemon_command()[-1]).name, "run", "--config", "FILE"]
        ),
    }


def _room_known(message: str) -> bool:
    # "STATUS=room 1 available" once the room was read (not "status unknown").
    return message.startswith("STATUS=room ") and "unknown" not in message


def _spread(prefix: str, seconds: list[float]) -> dict[str, float]:
    return {
        f"{prefix}median_s": round(statistics.median(seconds), 3),
        f"{prefix}max_s": round(max(seconds), 3),
        f"{prefix}min_s": round(min(seconds), 3),
    }


def memory(events: int, log: Callable[[str], object] = print) -> dict[str, Any]:
    """RSS after start and as ``events`` input events go through the real daemon.

    The simulator answers without added latency: this measures memory, not speed.
    """
    sim = simulator("6.6.0", 0)
    try:
        with tempfile.TemporaryDirectory(prefix="ivs-bench-rss-") as folder:
            daemon = DaemonProcess(Path(folder), sim.url)
            daemon.start()
            try:
                daemon.wait_for(lambda m: m.startswith("STATUS=room 1 available"))
                samples = _feed(daemon, events, log)
            finally:
                code = daemon.stop()
    finally:
        sim.stop()
    return _memory_report(samples, code)


def _feed(daemon: DaemonProcess, events: int, log: Callable[[str], object]) -> list:
    """Type batches of lines until ``events`` went in; (events, RSS KiB) every 1000."""
    assert daemon.process is not None
    pid = daemon.process.pid
    samples = [(0, rss_kib(pid))]
    sent = outcomes = 0
    lines = itertools.cycle(CYCLE)
    while sent < events:
        batch = [next(lines) for _ in range(BATCH)]
        daemon.type(batch)
        sent += len(batch) + sum(line == "key plus" for line in batch)
        outcomes += len(batch)
        daemon.wait_outcomes(outcomes)
        if sent // 1000 > samples[-1][0] // 1000:
            samples.append((sent, rss_kib(pid)))
            log(f"  memory: {sent} events, RSS {samples[-1][1]} KiB")
    if samples[-1][0] != sent:
        samples.append((sent, rss_kib(pid)))
    return samples


def _memory_report(samples: list[tuple[int, int]], code: int | None) -> dict[str, Any]:
    start = samples[0][1]
    first_k = next((rss for count, rss in samples if count >= 1000), samples[-1][1])
    return {
        "events": samples[-1][0],
        "rss_start_kib": start,
        "rss_1k_kib": first_k,
        "rss_end_kib": samples[-1][1],
        "growth_1k_to_end_kib": samples[-1][1] - first_k,
        "samples": samples,
        "exit_code": code,
    }


def _lines(path: Path) -> int:
    try:
        with open(path, "rb") as audit:
            return audit.read().count(b"\n")
    except FileNotFoundError:
        return 0
