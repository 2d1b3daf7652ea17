"""Command line: parse arguments, set up logging, run a command, map failures to exit codes."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from ivs_accessory import __version__

logger = logging.getLogger(__name__)

# Our own package moves with -v/-q; third-party loggers (urllib3) stay one step quieter.
_LEVELS = [logging.ERROR, logging.WARNING, logging.INFO, logging.DEBUG]


def setup_logging(verbosity: int) -> None:
    """Log to stderr without timestamps (journald adds them)."""
    index = max(0, min(len(_LEVELS) - 1, 2 + verbosity))
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
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-q", "--quiet", action="count", default=0)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    sim = commands.add_parser(
        "valt-sim", add_help=False,
        help="run the VALT simulator (same options as python -m ivs_accessory.valtsim)",
    )
    sim.add_argument("sim_args", nargs=argparse.REMAINDER)
    return parser


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

            return valtsim.main(argv[at + 1:])
    args = parser.parse_args(argv)
    setup_logging(args.verbose - args.quiet)
    parser.print_help()
    return 2
