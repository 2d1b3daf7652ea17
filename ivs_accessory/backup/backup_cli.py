"""The backup, restore and provision commands: backup files on the command line."""

from __future__ import annotations

import logging
import os
import shlex
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from ivs_accessory.backup.applying import apply_config, apply_network, apply_time
from ivs_accessory.backup.document import (
    BoxFiles,
    decode,
    is_sealed,
    make_backup,
)
from ivs_accessory.backup.plan import Plan, make_plan
from ivs_accessory.config import load
from ivs_accessory.errors import ConfigError, SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.commands import CommandRunner, SystemControl

logger = logging.getLogger(__name__)

RELOAD_COMMAND = "systemctl try-reload-or-restart ivs-accessory.service"
MAX_PASSPHRASE_FILE = 4096


def box_files(config_path: str) -> tuple[BoxFiles, Any]:
    """The box's files and its ``[system]`` settings, from its configuration.

    An invalid configuration (the box in safe mode) still has files to back up and
    to restore over: their places then come from the packaged defaults.
    """
    try:
        config = load(config_path)
    except ConfigError as exc:
        logger.warning(
            "config %s not usable (%d problem(s)); using the defaults' file places",
            config_path,
            len(exc.errors),
        )
        config = load(None)
    return BoxFiles.of(config, config_path), config["system"]


def read_passphrase(path: str | None) -> str | None:
    """The passphrase in ``path`` (its first line), or None without a file.

    Raises:
        ConfigError: the file cannot be read or is empty.
    """
    if path is None:
        return None
    try:
        with open(path, "rb") as file:
            data = file.read(MAX_PASSPHRASE_FILE)
    except OSError as exc:
        raise ConfigError(
            f"cannot read the passphrase file {path}: {exc.strerror}"
        ) from None
    lines = data.decode("utf-8", "surrogateescape").splitlines()
    if not lines or not lines[0]:
        raise ConfigError(f"the passphrase file {path} is empty; put the passphrase in")
    return lines[0]


def backup(config_path: str, out: str, passphrase_file: str | None) -> int:
    """Write the box's backup to ``out`` (mode 0600); 0, or 1 with the reason."""
    try:
        passphrase = read_passphrase(passphrase_file)
        files, _ = box_files(config_path)
        data = make_backup(files, passphrase)
        atomic_write(os.path.abspath(out), data, 0o600)
    except ConfigError as exc:
        print(f"backup: {exc}; nothing was written", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"backup: cannot write {out}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    kind = "encrypted, with passwords" if passphrase else "without passwords"
    print(f"backup written to {out} ({kind})")
    return 0


def restore(
    config_path: str,
    path: str,
    passphrase_file: str | None,
    *,
    yes: bool,
    provision: bool = False,
    reload_command: str = RELOAD_COMMAND,
    stdin: TextIO | None = None,
) -> int:
    """Check a backup, show what changes, and apply it with ``yes`` (or
    ``provision``, which never asks); 0 applied or shown, 1 refused or failed."""
    verb = "provision" if provision else "restore"
    try:
        plan, system = _plan(config_path, path, passphrase_file, stdin)
    except ConfigError as exc:
        _refused(verb, exc)
        return 1
    _show(plan)
    if not (yes or provision) and not _confirmed(stdin):
        print(f"{verb}: nothing was changed; add --yes to apply", file=sys.stderr)
        return 0
    return _apply(verb, plan, system, shlex.split(reload_command))


def _plan(
    config_path: str, path: str, passphrase_file: str | None, stdin: TextIO | None
) -> tuple[Plan, Any]:
    try:
        with open(path, "rb") as file:
            data = file.read()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    passphrase = read_passphrase(passphrase_file)
    if passphrase is None and is_sealed(data) and _interactive(stdin):
        import getpass  # here: `ivs-accessory run` builds this module's parser too

        passphrase = getpass.getpass("passphrase of the backup: ")
    files, system = box_files(config_path)
    return make_plan(decode(data, passphrase), files), system


def _interactive(stdin: TextIO | None) -> bool:
    return stdin is None and sys.stdin.isatty()


def _confirmed(stdin: TextIO | None) -> bool:
    if stdin is None and not sys.stdin.isatty():
        return False
    print("Apply these changes? Type 'yes': ", end="", file=sys.stderr, flush=True)
    return (stdin or sys.stdin).readline().strip().lower() == "yes"


def _refused(verb: str, exc: ConfigError) -> None:
    print(f"{verb}: refused, nothing was changed:", file=sys.stderr)
    for error in exc.errors or [str(exc)]:
        print(f"  {error}", file=sys.stderr)


def _show(plan: Plan) -> None:
    changes = plan.shown()
    if not plan.has_changes:
        print("no setting changes")
    if not changes:
        return
    print("changes:" if plan.has_changes else "passwords:")
    for change in changes:
        print(f"  {change.words()}")


def _apply(verb: str, plan: Plan, system: Any, reload: Sequence[str]) -> int:
    # The box's own [system] commands, never the backup's (plan refuses those).
    control = SystemControl(system)
    runner = CommandRunner(system["command_timeout_s"])
    try:
        apply_config(plan, lambda config: runner.run(reload) if reload else None)
    except ConfigError as exc:
        _refused(verb, exc)
        return 1
    except (OSError, SystemActionError) as exc:
        print(f"{verb}: failed, nothing was changed: {exc}", file=sys.stderr)
        return 1
    problems = apply_time(plan, control) + apply_network(plan, control)
    for problem in problems:
        print(f"{verb}: {problem}", file=sys.stderr)
    print(
        f"{verb}: the configuration is restored" + (" (see above)" if problems else "")
    )
    return 1 if problems else 0
