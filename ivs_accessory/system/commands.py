"""System primitives: argv commands, untrusted reads, folder clearing, SystemControl."""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
import stat
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ivs_accessory.errors import SystemActionError

logger = logging.getLogger(__name__)

MAX_LOG_BYTES = 20_000_000  # the page's log download; 5000 journal lines are ~1 MB


class CommandFailed(SystemActionError):
    """A command ran and exited with a status other than 0."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


class CommandRunner:
    """Run a command given as an argument list (never a shell string), with a timeout.

    Raises:
        SystemActionError: the command is missing, failed or timed out; the message
            names the command and the last line it printed.
    """

    def __init__(self, timeout_s: float = 60) -> None:
        self.timeout_s = timeout_s

    def run(
        self,
        argv: Sequence[str],
        *,
        timeout_s: float | None = None,
        cwd: str | None = None,
    ) -> str:
        if isinstance(argv, str) or not argv:
            raise SystemActionError("a command must be a non-empty list of arguments")
        try:
            done = subprocess.run(
                list(argv),
                check=True,
                capture_output=True,
                text=True,
                timeout=timeout_s or self.timeout_s,
                stdin=subprocess.DEVNULL,
                cwd=cwd,
            )
        except FileNotFoundError:
            raise SystemActionError(f"command {argv[0]!r} not found") from None
        except subprocess.TimeoutExpired:
            raise SystemActionError(
                f"{argv[0]} did not finish within {timeout_s or self.timeout_s:g} s"
            ) from None
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or exc.stdout or "").strip().splitlines()[-1:] or [""]
            raise CommandFailed(
                f"{argv[0]} failed with exit code {exc.returncode}: {last[0]}",
                exc.returncode,
            ) from None
        return done.stdout

    def succeeds(self, argv: Sequence[str]) -> bool:
        """Run a command that answers with its exit code (``dpkg --compare-versions``,
        ``gpgv``): True for 0, False for any other.

        Raises:
            SystemActionError: the command is missing or timed out.
        """
        try:
            self.run(argv)
        except CommandFailed:
            return False
        return True


def read_untrusted(path: str, limit: int) -> bytes:
    """Read a file that a less privileged user may control, as root does.

    The last component must not be a symlink (a planted link could make root read
    any file) and must be a regular file of at most ``limit`` bytes.

    Raises:
        SystemActionError: the file is missing, a link, not a file or too big.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise SystemActionError(f"{path} does not exist") from None
    except OSError as exc:
        raise SystemActionError(f"cannot read {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise SystemActionError(f"{path} is not a regular file")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise SystemActionError(f"{path} is larger than {limit} bytes")
    return data


# Directories that a misconfigured path must never make us empty.
_NEVER_CLEAR = frozenset(
    {
        "/",
        "/etc",
        "/var",
        "/var/lib",
        "/usr",
        "/opt",
        "/home",
        "/root",
        "/srv",
        "/tmp",
        "/boot",
        "/run",
        "/etc/netplan",
    }
)


def clear_directory(folder: str, keep: Iterable[str] = ()) -> list[str]:
    """Remove every entry of ``folder`` except the names matching a ``keep`` glob.

    Symlinks are removed, never followed, and sub-directories are removed with
    ``shutil.rmtree``, which does not follow links either. A missing folder is
    empty already.

    Returns:
        The paths removed, sorted.

    Raises:
        SystemActionError: ``folder`` is relative or a system directory such as /etc.
    """
    folder = os.path.normpath(folder)
    if not os.path.isabs(folder) or folder in _NEVER_CLEAR:
        raise SystemActionError(
            f"refusing to empty {folder}; give the accessory's "
            "own directory, e.g. /etc/ivs-accessory"
        )
    patterns = list(keep)
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except FileNotFoundError:
        return []
    removed = []
    for entry in entries:
        if any(fnmatch.fnmatchcase(entry.name, p) for p in patterns):
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
        removed.append(entry.path)
    return removed


def system_settings(config_path: str | None) -> Mapping[str, Any]:
    """The ``[system]`` section of the config at ``config_path``.

    Falls back to the packaged defaults (with a warning) when the file is missing or
    invalid: a broken configuration is one of the reasons to restore the factory
    settings, so it must not stop that.
    """
    from ivs_accessory.config import load
    from ivs_accessory.errors import ConfigError

    try:
        return load(config_path)["system"]
    except ConfigError as exc:
        logger.warning(
            "config %s not usable (%d problem(s)); using the defaults of [system]",
            config_path,
            len(exc.errors),
        )
        return load(None)["system"]


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

    def __init__(
        self, settings: Mapping[str, Any], runner: CommandRunner | None = None
    ) -> None:
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

    def update(self) -> None:
        """Have the helper install the package staged in ``update_dir``
        (``system.update_request.stage``); it restarts the daemon."""
        self._run("update")

    def apply_time(self) -> None:
        """Apply ``time_file`` (timezone, NTP servers)."""
        self._run("apply_time")

    def logs(self) -> str:
        """The daemon's recent log.

        Runs ``logs_command``; with ``logs_file`` set, the log is what the command
        left there (on the box: the helper's ``logs`` op), else what it printed.
        """
        printed = self.runner.run(self.settings["logs_command"])
        path = self.settings.get("logs_file")
        if not path:
            return printed
        try:
            with open(path, "rb") as file:
                return file.read(MAX_LOG_BYTES).decode("utf-8", "replace")
        except OSError as exc:
            raise SystemActionError(
                f"no log in {path} ({exc.strerror or exc}); see the journal of "
                "ivs-accessory-helper@logs.service"
            ) from None

    def _run(self, operation: str) -> None:
        argv = self.settings[f"{operation}_command"]
        logger.warning("system: %s (%s)", operation.replace("_", " "), argv[0])
        self.runner.run(argv)
