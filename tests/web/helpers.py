"""Daemon for page tests: VALT simulator, console sources, [system] trace scripts."""

from __future__ import annotations

import os
import queue
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivs_accessory.config import load
from ivs_accessory.service import Service
from ivs_accessory.sources.console import ConsoleSource
from ivs_accessory.web.accounts import hash_password

from .fakes import RoomWatch

# The simulator's extra admin account (tests/conftest.py, data_with_secret_user).
SECRET_USER, SECRET_PASSWORD = "keypad", "Zq7-unique-Pw!42"

ADMIN_PASSWORD = "correct horse battery"
OPERATIONS = (
    "update",
    "reboot",
    "factory_default",
    "apply_network",
    "rollback_network",
    "apply_time",
)


class PipeConsoles:
    """A source factory giving each console source a real pipe as its stdin."""

    def __init__(self) -> None:
        self.writers: dict[str, int] = {}

    def __call__(self, name: str, options: dict[str, Any]) -> ConsoleSource:
        read, write = os.pipe()
        self.writers[name] = write
        return ConsoleSource(name, stream=os.fdopen(read, "r"))

    def type(self, name: str, line: str) -> None:
        os.write(self.writers[name], (line + "\n").encode())


def trace_script(
    folder: Path, name: str, trace: Path, *, fail: bool = False, output: str = ""
) -> Path:
    """A small script that appends its name to ``trace`` (and prints ``output``)."""
    path = folder / name
    lines = ["#!/bin/sh", f'echo "{name}" >> "{trace}"']
    if output:
        lines.append(f"printf '%s\\n' '{output}'")
    if fail:
        lines += ["echo 'helper unit not found' >&2", "exit 3"]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def write_box_config(
    folder: Path,
    server: str,
    *,
    failing: tuple[str, ...] = (),
    extra: str = "",
    password: str = SECRET_PASSWORD,
    room: str = "1",
) -> Path:
    """The daemon's config for page tests: every [system] command is a trace script."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    trace = folder / "trace.log"
    commands = "".join(
        f"{op}_command = {trace_script(bin_dir, op, trace, fail=op in failing)}\n"
        for op in OPERATIONS
    )
    logs = trace_script(bin_dir, "logs", trace, output="INFO ivs_accessory: a log line")
    path = folder / "accessory.conf"
    path.write_text(
        f"[valt]\nserver = {server}\nusername = {SECRET_USER}\n"
        f"password = {password}\n"
        f"room = {room}\ntimeout_s = 2\n\n"
        f"[logging]\naudit_file = {folder / 'audit.log'}\n\n"
        "[source:door]\nkind = console\n\n"
        f"[web]\nenabled = false\npassword_file = {folder / 'web-password'}\n"
        "network_confirm_s = 30\nstatus_poll_s = 1\n\n"
        f"[system]\n{commands}logs_command = {logs}\nlogs_file =\n"
        f"network_file = {folder / 'network.yaml'}\n"
        f"time_file = {folder / 'time.conf'}\n"
        f"update_dir = {folder / 'update'}\n"
        f"update_result_file = {folder / 'update-result.json'}\n" + extra
    )
    path.chmod(0o600)
    return path


def set_admin_password(folder: Path, password: str = ADMIN_PASSWORD) -> None:
    """Write the page's password file as if the first login had changed it."""
    (folder / "web-password").write_text(
        f"[password]\nhash = {hash_password(password)}\nmust_change = false\n"
    )


@dataclass
class Box:
    """A started daemon and what a test needs around it."""

    sim: Any
    service: Service
    consoles: PipeConsoles
    config_path: Path
    folder: Path
    outcomes: queue.Queue = field(default_factory=queue.Queue)
    rooms: RoomWatch = field(default_factory=RoomWatch)

    @property
    def trace(self) -> list[str]:
        path = self.folder / "trace.log"
        return path.read_text().split() if path.exists() else []

    def config_bytes(self) -> bytes:
        return self.config_path.read_bytes()


def start_box(folder: Path, sim: Any, **options: Any) -> Box:
    """Write the config, start a Service on it (without its own page server)."""
    path = write_box_config(folder, sim.url, **options)
    consoles = PipeConsoles()
    outcomes: queue.Queue = queue.Queue()
    rooms = RoomWatch()
    service = Service(
        load(str(path)),
        source_factory=consoles,
        on_outcome=outcomes.put,
        feedback=[rooms],
    )
    service.start()
    return Box(sim, service, consoles, path, folder, outcomes, rooms)
