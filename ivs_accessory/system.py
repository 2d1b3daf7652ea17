"""System operations (reboot, timezone, network apply, factory default) over an injected command runner, as argument lists only."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.errors import SystemActionError

logger = logging.getLogger(__name__)


class CommandRunner:
    """Run a command given as an argument list (never a shell string), with a timeout.

    Raises:
        SystemActionError: the command is missing, failed or timed out; the message
            names the command and the last line it printed.
    """

    def __init__(self, timeout_s: float = 60) -> None:
        self.timeout_s = timeout_s

    def run(self, argv: Sequence[str], *, timeout_s: float | None = None) -> str:
        if isinstance(argv, str) or not argv:
            raise SystemActionError("a command must be a non-empty list of arguments")
        try:
            done = subprocess.run(list(argv), check=True, capture_output=True, text=True,
                                  timeout=timeout_s or self.timeout_s, stdin=subprocess.DEVNULL)
        except FileNotFoundError:
            raise SystemActionError(f"command {argv[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise SystemActionError(
                f"{argv[0]} did not finish within {timeout_s or self.timeout_s:g} s") from None
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or [""]
            raise SystemActionError(
                f"{argv[0]} failed with exit code {exc.returncode}: {last[0]}") from None
        return done.stdout


def atomic_copy(source: str, target: str, mode: int = 0o600) -> None:
    """Replace ``target`` with a copy of ``source``: it is always the old or the new file.

    The copy goes to a temporary file in the target's directory, is flushed to disk,
    renamed over the target, and the directory entry is flushed too, so a power cut
    at any moment leaves one whole file.
    """
    folder = os.path.dirname(os.path.abspath(target))
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=".factory-", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as out, open(source, "rb") as data:
            shutil.copyfileobj(data, out)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    sync_directory(folder)


def sync_directory(folder: str) -> None:
    """Flush a directory's entries (the rename) to disk."""
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass(frozen=True)
class Restore:
    """One factory template and where it lives."""

    template: str
    target: str
    mode: int = 0o600
    owner: str | None = None  # "user:group" to hand the restored file to (root helper only)


@dataclass(frozen=True)
class FactoryPlan:
    """Everything a factory default does, from configuration (so tests use tmp_path)."""

    restores: Sequence[Restore]
    remove: Sequence[str] = ()  # files the templates do not have (audit log, state)
    timezone_command: Sequence[str] = ()
    reboot_command: Sequence[str] = ()
    extra_commands: Sequence[Sequence[str]] = field(default_factory=tuple)


def factory_default(plan: FactoryPlan, runner: CommandRunner,
                    chown: Callable[[str, str], None] | None = None) -> None:
    """Restore every template, remove what they lack, apply the timezone, reboot.

    Each step is logged. A missing template stops everything before any file is
    touched, so the box is never half reset by a broken install.

    Raises:
        SystemActionError: a template is missing or a command failed.
    """
    missing = [r.template for r in plan.restores if not os.path.isfile(r.template)]
    if missing:
        raise SystemActionError(f"factory template(s) missing: {', '.join(missing)}; "
                                "reinstall the package")
    for item in plan.restores:
        atomic_copy(item.template, item.target, item.mode)
        if item.owner and chown is not None:
            chown(item.target, item.owner)
        logger.warning("factory default: restored %s", item.target)
    for path in plan.remove:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            logger.warning("factory default: removed %s", path)
    for argv in [plan.timezone_command, *plan.extra_commands]:
        if argv:
            runner.run(argv)
            logger.warning("factory default: ran %s", argv[0])
    logger.warning("factory default: done; rebooting")
    if plan.reboot_command:
        runner.run(plan.reboot_command)


def chown_to(path: str, owner: str) -> None:
    """``chown user:group path`` without a shell (the root helper's use)."""
    user, _, group = owner.partition(":")
    shutil.chown(path, user or None, group or None)



class SystemControl:
    """The box-level operations the page and the daemon may ask for.

    Each runs the command configured in ``[system]`` (an argument list) through the
    runner; on the box these start the privileged helper unit, which does the root
    work. The daemon itself never needs root for any of them.

    Args:
        settings: the ``[system]`` section of a loaded config.
        runner: runs the commands (tests point the commands at scripts in tmp_path).

    Raises (every method):
        SystemActionError: the command is missing, failed or timed out.
    """

    def __init__(self, settings: Mapping[str, Any], runner: CommandRunner | None = None) -> None:
        self.settings = settings
        self.runner = runner or CommandRunner(settings.get("command_timeout_s", 60))

    def reboot(self) -> None:
        self._run("reboot")

    def factory_default(self) -> None:
        self._run("factory_default")

    def apply_network(self) -> None:
        """Install ``network_file`` as the live network configuration."""
        self._run("apply_network")

    def rollback_network(self) -> None:
        """Bring back the network configuration from before the last apply."""
        self._run("rollback_network")

    def apply_time(self) -> None:
        """Apply ``time_file`` (timezone, NTP servers)."""
        self._run("apply_time")

    def logs(self) -> str:
        """The daemon's recent log, as ``logs_command`` prints it."""
        return self.runner.run(self.settings["logs_command"])

    def _run(self, operation: str) -> None:
        argv = self.settings[f"{operation}_command"]
        logger.warning("system: %s (%s)", operation.replace("_", " "), argv[0])
        self.runner.run(argv)
