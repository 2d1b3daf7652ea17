"""Factory default as root: restore templates, prune, page back on, set time, reboot."""

from __future__ import annotations

import contextlib
import glob
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_copy
from ivs_accessory.system.commands import CommandRunner, clear_directory
from ivs_accessory.system.timeconfig import TimeApplier, read_time_file

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Restore:
    """One factory template, where it lives, and the mode and owner it gets."""

    template: str
    target: str
    mode: int = 0o600
    uid: int = -1  # -1: the helper's own (root on the box)
    gid: int = -1


@dataclass(frozen=True)
class FactoryPlan:
    """Everything a factory default does, from configuration (so tests use tmp_path).

    Attributes:
        restores: templates and their live places, restored in this order.
        clear: (directory, glob patterns to keep): each directory is emptied except
            the matching names and the files restored into it.
        remove: single files the templates do not have (e.g. the rollback netplan).
        web_enable_command: re-enables the configuration page (may be empty).
        time_file: the restored time settings, applied through ``time``.
        time: applies them (None: leave the clock settings alone).
        reboot_command: the last step.
    """

    restores: Sequence[Restore]
    clear: Sequence[tuple[str, Sequence[str]]] = ()
    remove: Sequence[str] = ()
    web_enable_command: Sequence[str] = ()
    time_file: str | None = None
    time: TimeApplier | None = None
    reboot_command: Sequence[str] = ()


def factory_default(plan: FactoryPlan, runner: CommandRunner) -> None:
    """Restore the factory settings and reboot, logging each step.

    Every template is checked first, so a broken install never leaves the box
    half reset. Files are replaced atomically (a power cut leaves the old or the
    new file). Re-enabling the page and applying the time are attempted even if
    one fails, and the box reboots either way: the files, which matter most, are
    already restored by then.

    Raises:
        SystemActionError: a template is missing (nothing was touched), a step
            failed (after the reboot was asked for), or the reboot command failed.
    """
    missing = [r.template for r in plan.restores if not os.path.isfile(r.template)]
    if missing:
        raise SystemActionError(
            f"factory template(s) missing: {', '.join(missing)}; reinstall the package"
        )
    logger.warning("factory default: restoring the factory settings")
    for item in plan.restores:
        atomic_copy(item.template, item.target, item.mode, uid=item.uid, gid=item.gid)
        logger.info("factory default: restored %s", item.target)
    _remove_extras(plan)
    failures: list[str] = []
    if plan.web_enable_command:
        failures += _step(
            "re-enable the web page", lambda: runner.run(plan.web_enable_command)
        )
    if plan.time is not None and plan.time_file:
        time, time_file = plan.time, plan.time_file
        failures += _step(
            "apply the template time",
            lambda: time.apply(read_time_file(time_file), runner),
        )
    logger.warning("factory default: settings restored; rebooting")
    if plan.reboot_command:
        runner.run(plan.reboot_command)
    if failures:
        raise SystemActionError("factory default: " + "; ".join(failures))


def _remove_extras(plan: FactoryPlan) -> None:
    restored = {os.path.abspath(r.target) for r in plan.restores}
    for folder, keep in plan.clear:
        mine = [
            glob.escape(os.path.basename(t))
            for t in restored
            if os.path.dirname(t) == os.path.abspath(folder)
        ]
        for path in clear_directory(folder, [*keep, *mine]):
            logger.info("factory default: removed %s", path)
    for path in plan.remove:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
            logger.info("factory default: removed %s", path)


def _step(what: str, action: Callable[[], object]) -> list[str]:
    """Run one step that must not stop the reset; return its failure, if any."""
    try:
        action()
    except SystemActionError as exc:
        logger.error("factory default: could not %s: %s", what, exc)
        return [f"could not {what}: {exc}"]
    logger.info("factory default: %s: done", what)
    return []
