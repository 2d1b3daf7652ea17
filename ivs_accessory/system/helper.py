"""Root helper (``ivs-accessory system OP``): our only root code, one op per start."""

from __future__ import annotations

import logging
import os
import pwd
import stat
from collections.abc import Callable, Mapping
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.avahi import Advertisement, read_staged, write_service
from ivs_accessory.system.commands import CommandRunner
from ivs_accessory.system.factory import FactoryPlan, Restore, factory_default
from ivs_accessory.system.netconfig import NetworkFiles
from ivs_accessory.system.package_checks import installed_version
from ivs_accessory.system.readiness import Readiness
from ivs_accessory.system.timeconfig import TimeApplier, read_time_file
from ivs_accessory.system.update import UpdatePlan, Updater

logger = logging.getLogger(__name__)

# Template file name in [helper] factory_dir -> the settings that name its live places.
TEMPLATES = {
    "accessory.conf": (("helper", "config_file"),),
    "web-password": (("helper", "web_password_file"),),
    "netplan.yaml": (("system", "network_file"), ("helper", "netplan_file")),
    "time.conf": (("system", "time_file"),),
}
ROOT_OWNED = {("helper", "netplan_file")}  # netplan wants its files root-only


def load_trusted(path: str | None) -> Any:
    """The helper's configuration: packaged defaults, plus ``path`` if given.

    ``path`` and its drop-ins must be writable by nobody but us (root on the box),
    because its commands run as root: the daemon's own accessory.conf never
    qualifies, and :func:`check_trusted` refuses it.

    Raises:
        SystemActionError: a file could be changed by someone else.
        ConfigError: the configuration is invalid.
    """
    from ivs_accessory.config import load

    if path is not None:
        check_trusted(path)
    return load(path)


def check_trusted(path: str) -> None:
    """Refuse a file (or its directory, or its drop-ins) that others could change.

    Raises:
        SystemActionError: owned by another user, or writable by group or others.
    """
    real = os.path.realpath(path)
    dropins = real + ".d"
    items = [os.path.dirname(os.path.abspath(path)), real, os.path.dirname(real)]
    if os.path.isdir(dropins):
        items += [
            dropins,
            *(os.path.join(dropins, n) for n in sorted(os.listdir(dropins))),
        ]
    for item in items:
        try:
            info = os.stat(item)
        except OSError as exc:
            raise SystemActionError(f"cannot use {item}: {exc.strerror}") from None
        if info.st_uid not in (0, os.geteuid()) or info.st_mode & (
            stat.S_IWGRP | stat.S_IWOTH
        ):
            raise SystemActionError(
                f"refusing {item}: the helper runs its commands as root, so its "
                "configuration must be owned by root and writable by nobody else"
            )


def owner_ids(name: str) -> tuple[int, int]:
    """``(uid, gid)`` of a user and its primary group; ``(-1, -1)`` for ``""``.

    Raises:
        SystemActionError: no such user.
    """
    if not name:
        return -1, -1
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        raise SystemActionError(
            f"[helper] owner: no user {name!r}; install the "
            "sysusers.d entry (scripts/install)"
        ) from None
    return entry.pw_uid, entry.pw_gid


def factory_plan(config: Mapping[str, Any]) -> FactoryPlan:
    """The factory default that ``[helper]`` and ``[system]`` describe."""
    helper = config["helper"]
    uid, gid = owner_ids(helper["owner"])
    restores = [
        Restore(os.path.join(helper["factory_dir"], name), config[section][key], 0o600,
                *((-1, -1) if (section, key) in ROOT_OWNED else (uid, gid)))
        for name, places in TEMPLATES.items() for section, key in places
    ]  # fmt: skip
    return FactoryPlan(
        restores=restores,
        clear=[
            (os.path.dirname(helper["config_file"]), ()),
            (helper["state_dir"], helper["keep_state"].split()),
        ],
        remove=[network_files(config).previous],
        web_enable_command=helper["web_enable_command"],
        time_file=config["system"]["time_file"],
        time=time_applier(config),
        reboot_command=helper["reboot_command"],
    )


def network_files(config: Mapping[str, Any]) -> NetworkFiles:
    """The staged and live netplan files and the apply command."""
    helper = config["helper"]
    uid, gid = owner_ids(helper["owner"])
    return NetworkFiles(
        config["system"]["network_file"],
        helper["netplan_file"],
        helper["network_apply_command"],
        uid,
        gid,
        config["web"]["network_interface"],
    )


def time_applier(config: Mapping[str, Any]) -> TimeApplier:
    """How ``[helper]`` applies time settings."""
    helper = config["helper"]
    return TimeApplier(
        helper["timesyncd_file"],
        helper["timezone_command"],
        helper["ntp_restart_command"],
    )


def _set_time(config: Mapping[str, Any], runner: CommandRunner) -> None:
    time_applier(config).apply(read_time_file(config["system"]["time_file"]), runner)


def write_logs(config: Mapping[str, Any], runner: CommandRunner) -> None:
    """Write what ``[helper] journal_command`` prints to ``[system] logs_file``.

    The page's log download: the daemon is not in the systemd-journal group (it
    would read every service's log), so it starts this op and reads the file, which
    belongs to the daemon's user. The rename replaces whatever is at the path (a
    planted link too) rather than following it.

    Raises:
        SystemActionError: no logs_file configured, or the command failed.
    """
    target = config["system"]["logs_file"]
    if not target:
        raise SystemActionError(
            "[system] logs_file is empty in the helper's configuration; "
            "set it to where the daemon reads the log"
        )
    text = runner.run(config["helper"]["journal_command"])
    uid, gid = owner_ids(config["helper"]["owner"])
    atomic_write(
        target,
        text.encode("utf-8", "replace"),
        0o600,
        uid=uid,
        gid=gid,
        make_folder=True,
    )
    logger.info("logs: %d lines written to %s", text.count("\n"), target)


def updater(config: Mapping[str, Any], runner: CommandRunner) -> Updater:
    """The update that ``[helper]`` describes (the ``update`` and
    ``update-recover`` operations)."""
    helper = config["helper"]
    keyring = helper["update_keyring"]
    plan = UpdatePlan(
        staged_dir=helper["update_dir"],
        kept_dir=helper["kept_dir"],
        result_file=helper["update_result_file"],
        keyring=keyring if os.path.exists(keyring) else "",
        restart_command=helper["restart_command"],
        repack_command=helper["repack_command"],
        owner=owner_ids(helper["owner"]),
    )
    architecture = runner.run(["dpkg", "--print-architecture"]).strip()
    return Updater(
        plan,
        runner,
        Readiness(runner),
        lambda: installed_version(runner),
        architecture,
    )


def advertise(config: Mapping[str, Any], runner: CommandRunner) -> None:
    """Write avahi's service file from what the daemon staged in ``[system]
    advertise_file`` (read as untrusted); without it, the host name and the port
    of the helper's own configuration.

    Raises:
        SystemActionError: the staged file is unusable or the file cannot be written.
    """
    web = config["web"]
    fallback = Advertisement("", web["port"] or 80, bool(web["tls_cert"]))
    staged = config["system"]["advertise_file"]
    ad = read_staged(staged, fallback) if staged else fallback
    try:
        write_service(config["helper"]["avahi_service_file"], ad)
    except OSError as exc:
        raise SystemActionError(f"cannot write avahi's service file: {exc}") from None


# What an operation returns is ignored (reboot's command output, say).
OPERATIONS: dict[str, Callable[[Mapping[str, Any], CommandRunner], object]] = {
    "factory-default": lambda config, runner: factory_default(
        factory_plan(config), runner
    ),
    "apply-network": lambda config, runner: network_files(config).apply(runner),
    "rollback-network": lambda config, runner: network_files(config).rollback(runner),
    "set-time": _set_time,
    "reboot": lambda config, runner: runner.run(config["helper"]["reboot_command"]),
    "logs": write_logs,
    "update": lambda config, runner: updater(config, runner).run(),
    # At boot (its instance is enabled): an update the box restarted in finishes
    # or goes back; without a journal it does nothing.
    "update-recover": lambda config, runner: updater(config, runner).recover(),
    "advertise": advertise,
}
"""Operation name (the helper unit's instance name) -> what it does."""


def run_operation(
    operation: str, config: Mapping[str, Any], runner: CommandRunner | None = None
) -> None:
    """Run one privileged operation, logging its start and end.

    Raises:
        SystemActionError: the operation is unknown or failed.
    """
    if operation not in OPERATIONS:
        raise SystemActionError(
            f"unknown operation {operation!r}; use one of {', '.join(OPERATIONS)}"
        )
    runner = runner or CommandRunner(config["system"]["command_timeout_s"])
    logger.info("helper: %s", operation)
    OPERATIONS[operation](config, runner)
    logger.info("helper: %s done", operation)
