"""Command line: parse args, set up logging, run a command, failures to exit codes."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence

from ivs_accessory import __version__

logger = logging.getLogger(__name__)

EX_CONFIG = 78  # sysexits.h; the unit sets RestartPreventExitStatus=78
DEFAULT_CONFIG = "/etc/ivs-accessory/accessory.conf"

# Our own package moves with -v/-q; third-party loggers (urllib3) stay one step quieter.
_LEVELS = [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]


def _journal_handler() -> logging.Handler | None:
    """journald's handler when stderr is connected to the journal (run by systemd)."""
    stream = os.environ.get("JOURNAL_STREAM", "")
    try:
        device, inode = (int(part) for part in stream.split(":"))
        info = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError):
        return None
    if (info.st_dev, info.st_ino) != (device, inode):
        return None
    try:
        from systemd.journal import JournalHandler
    except ImportError:
        return None
    handler: logging.Handler = JournalHandler(SYSLOG_IDENTIFIER="ivs-accessory")
    return handler


def setup_logging(verbosity: int) -> None:
    """Log to journald with structured fields under systemd, else to stderr without
    timestamps (journald or the terminal adds them)."""
    index = max(0, min(len(_LEVELS) - 1, 2 + verbosity))
    handler = _journal_handler()
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[max(0, index - 1)])
    logging.getLogger("ivs_accessory").setLevel(_LEVELS[index])


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="ivs-accessory",
        description="Keypad and card-reader accessory for VALT recording rooms.",
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}"
    )
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="count", default=0)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser("run", help="run the accessory daemon")
    run.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"default {DEFAULT_CONFIG}"
    )
    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION")
    check = config_commands.add_parser(
        "check", help="validate a config file (exit 78 if bad)"
    )
    check.add_argument("file")
    devices = commands.add_parser(
        "list-devices", help="input devices, serial ports and lamps to choose from"
    )
    devices.add_argument("--json", action="store_true", help="machine-readable output")
    demo = commands.add_parser("demo", help="simulator + daemon + console keypad")
    demo.add_argument(
        "--valt-version", default="6.6.0", help="VALT version to simulate"
    )
    demo.add_argument("--room", type=int, default=1)
    factory = commands.add_parser(
        "factory-default", help="restore the factory settings and reboot"
    )
    factory.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"default {DEFAULT_CONFIG}"
    )
    factory.add_argument(
        "--yes", action="store_true", help="do not ask for confirmation"
    )
    update = commands.add_parser(
        "update", help="install a new version from a package (.deb); rolls back"
    )
    update.add_argument("package", help="ivs-accessory_VERSION_all.deb")
    update.add_argument("--signature", help="its detached signature, if required")
    update.add_argument(
        "--allow-downgrade", action="store_true", help="accept an older version"
    )
    update.add_argument(
        "--config", default=DEFAULT_CONFIG, help=f"default {DEFAULT_CONFIG}"
    )
    _add_backup_commands(commands)
    system = commands.add_parser(
        "system", help="run one privileged operation (the root helper unit's command)"
    )
    system.add_argument(
        "operation",
        choices=_HelperOperations(),
        metavar="OPERATION",  # else argparse lists the choices while building
        help="one of: %(choices)s",
    )
    system.add_argument(
        "--config",
        help="a root-owned config for the helper (default: the packaged defaults only)",
    )
    commands.add_parser(
        "valt-sim",
        add_help=False,
        help="run the VALT simulator (same options as python -m ivs_accessory.valtsim)",
    )
    return parser


class _HelperOperations:
    """The root helper's operation names for argparse's ``choices``, read from
    system/helper.py only when a command line is checked against them or help is
    shown: the module and the four it imports are 0.24 MiB that ``run`` (the
    daemon) would otherwise keep (issue 12)."""

    def _names(self) -> list[str]:
        from ivs_accessory.system.helper import OPERATIONS

        return list(OPERATIONS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())


def _add_backup_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``backup``, ``restore`` and ``provision`` (README: Backup and restore)."""
    from ivs_accessory.backup.backup_cli import RELOAD_COMMAND

    backup = commands.add_parser(
        "backup", help="write the settings to a file (passwords only with a passphrase)"
    )
    backup.add_argument("out", metavar="OUT")
    for name, what in (
        ("restore", "show what a backup changes; apply it with --yes"),
        ("provision", "apply a backup without asking (a new box's first set-up)"),
    ):
        sub = commands.add_parser(name, help=what)
        sub.add_argument("file", metavar="FILE")
        if name == "restore":
            sub.add_argument("--yes", action="store_true", help="apply the changes")
        sub.add_argument(
            "--reload-command",
            default=RELOAD_COMMAND,
            help=f"makes the daemon read the files (default: {RELOAD_COMMAND})",
        )
    for sub in (backup, *(commands.choices[n] for n in ("restore", "provision"))):
        sub.add_argument(
            "--passphrase-file", help="a file whose first line is the passphrase"
        )
        sub.add_argument(
            "--config", default=DEFAULT_CONFIG, help=f"default {DEFAULT_CONFIG}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``ivs-accessory``; returns the process exit code."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "valt-sim" in argv:
        # argparse cannot hand options like --port through REMAINDER to another parser
        # (they are taken for its own), so split the command line here.
        at = argv.index("valt-sim")
        if all(word.startswith("-") for word in argv[:at]):
            args = parser.parse_args(argv[:at])
            setup_logging(args.verbose - args.quiet)
            from ivs_accessory import valtsim

            return valtsim.main(argv[at + 1 :])
    args = parser.parse_args(argv)
    setup_logging(args.verbose - args.quiet)
    if args.command == "run":
        from ivs_accessory.footprint import skip_charset_guessing

        skip_charset_guessing()  # before the daemon's modules import requests
        from ivs_accessory.daemon import run

        return run(args.config, verbosity=args.verbose - args.quiet)
    if args.command == "config" and args.config_command == "check":
        return config_check(args.file)
    if args.command == "list-devices":
        return list_devices(args.json)
    if args.command == "factory-default":
        return factory_default(args.config, args.yes)
    if args.command == "system":
        return system_operation(args.operation, args.config)
    if args.command == "update":
        return update_package(
            args.config, args.package, args.signature, args.allow_downgrade
        )
    if args.command in ("backup", "restore", "provision"):
        return backup_command(args)
    if args.command == "demo":
        from ivs_accessory.demo import run_demo

        return run_demo(valt_version=args.valt_version, room=args.room)
    parser.print_help()
    return 2


def backup_command(args: argparse.Namespace) -> int:
    """``backup``, ``restore`` or ``provision`` (see ``backup/backup_cli.py``)."""
    from ivs_accessory.backup import backup_cli

    if args.command == "backup":
        return backup_cli.backup(args.config, args.out, args.passphrase_file)
    return backup_cli.restore(
        args.config,
        args.file,
        args.passphrase_file,
        yes=getattr(args, "yes", False),
        provision=args.command == "provision",
        reload_command=args.reload_command,
    )


def config_check(path: str) -> int:
    """Print every error of a config file; 0 when valid, 78 when not.

    The same validator as ``run``, SIGHUP and the page: what it accepts, ``run``
    starts with; what it refuses, ``run`` runs in safe mode, with the same words.
    """
    from ivs_accessory.config import check_file, notes

    errors = check_file(path)
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    if errors:
        return EX_CONFIG
    for note in notes(path):
        print(f"{path}: note: {note}", file=sys.stderr)
    print(f"{path}: ok")
    return 0


def list_devices(as_json: bool) -> int:
    """Show the input devices and serial ports an installer can choose from."""
    from ivs_accessory.door.lamp_ids import lights
    from ivs_accessory.sources.devices import describe_devices

    found = describe_devices(lights=lights)
    if as_json:
        print(json.dumps(found, indent=2))
        return 0
    if not found:
        print(
            "no input devices, serial ports or lamps found (is the user in "
            "'input'/'dialout'?)"
        )
    for item in found:
        details = ", ".join(
            f"{k}={v}"
            for k, v in item.items()
            if k not in ("path", "name") and v not in (None, "", [], False)
        )
        print(f"{item.get('path')}  {item.get('name') or ''}  {details}")
    return 0


def factory_default(config_path: str, yes: bool) -> int:
    """Ask for the factory default (after a confirmation unless ``yes``).

    Like the page and the factory button, this only runs ``[system]
    factory_default_command``, which asks systemd to start the privileged helper:
    the same code path for every trigger, whoever calls it (root included).
    """
    from ivs_accessory.errors import SystemActionError
    from ivs_accessory.system.commands import SystemControl, system_settings

    if not yes:
        print(
            "This restores the factory settings (configuration, web password, network "
            "and time settings), keeps the audit log and reboots the box.",
            file=sys.stderr,
        )
        print("Type 'yes' to continue: ", end="", file=sys.stderr, flush=True)
        if sys.stdin.readline().strip().lower() != "yes":
            print("factory default cancelled; nothing was changed", file=sys.stderr)
            return 1
    try:
        SystemControl(system_settings(config_path)).factory_default()
    except SystemActionError as exc:
        logger.error("factory default could not be started: %s", exc)
        return 1
    print(
        "factory default started: the box restores its settings and reboots",
        file=sys.stderr,
    )
    return 0


def update_package(
    config_path: str,
    package: str,
    signature: str | None,
    allow_downgrade: bool,
    wait_s: float = 2400,  # the helper unit's TimeoutStartSec
) -> int:
    """Stage ``package`` and start the helper as the page does, then wait for its
    result and print it; 0 when the new version runs, 1 otherwise."""
    from ivs_accessory.config import load
    from ivs_accessory.errors import ConfigError, SystemActionError
    from ivs_accessory.system import update_request
    from ivs_accessory.system.commands import SystemControl

    try:
        config = load(config_path)
    except ConfigError as exc:
        logger.error("%s: %s; fix it first (ivs-accessory config check)",
                     config_path, exc)  # fmt: skip
        return EX_CONFIG
    web = config["web"]
    try:
        with open(package, "rb") as file:
            data = file.read(update_request.MAX_PACKAGE_BYTES + 1)
        sig = b""
        if signature:
            with open(signature, "rb") as file:
                sig = file.read(update_request.MAX_SIGNATURE_BYTES + 1)
        health = update_request.health_url(web, web["port"], bool(web["tls_cert"]))
        update_request.stage(
            config["system"], data, sig, allow_downgrade=allow_downgrade,
            health_url=health if web["enabled"] else "",
        )  # fmt: skip
        SystemControl(config["system"]).update()
    except (OSError, SystemActionError) as exc:
        logger.error("update not started: %s", exc)
        return 1
    print("update started; waiting for the box (up to a few minutes)", file=sys.stderr)
    result = update_request.wait_for_result(config["system"], wait_s)
    if result is None:
        logger.error("no result within %.0f s; see journalctl -u "
                     "ivs-accessory-helper@update", wait_s)  # fmt: skip
        return 1
    print(f"{result['result']}: version {result['version']}"
          + (f" ({result['reason']})" if result.get("reason") else ""))  # fmt: skip
    return 0 if result["result"] == "updated" else 1


def system_operation(operation: str, config_path: str | None) -> int:
    """The privileged helper: run one operation as root; 0, 1 (failed) or 78
    (config)."""
    from ivs_accessory.errors import ConfigError, SystemActionError
    from ivs_accessory.system.helper import load_trusted, run_operation

    try:
        run_operation(operation, load_trusted(config_path))
    except ConfigError as exc:
        for error in exc.errors:
            logger.error("config: %s", error)
        return EX_CONFIG
    except SystemActionError as exc:
        logger.error("%s failed: %s", operation, exc)
        return 1
    return 0
