"""Simulator CLI: ``python -m ivs_accessory.valtsim``, ``ivs-accessory valt-sim``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ivs_accessory.simserve import serve_until_signalled
from ivs_accessory.valtsim.data import SimDataError, load_data
from ivs_accessory.valtsim.faults import FORBIDDEN_MODES
from ivs_accessory.valtsim.simulator import DEFAULT_TOKEN_LIFETIME_S, ValtSimulator
from ivs_accessory.valtsim.state import parse_version


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="valt-sim",
        description=(
            "Serve a simulated VALT REST API v3 (with a control API under /_sim/)."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    parser.add_argument(
        "--version",
        default="6.6.0",
        dest="valt_version",
        help="VALT version to simulate, e.g. 5.2.0, 6.4.0, 6.5.0, 6.6.0",
    )
    parser.add_argument(
        "--data", metavar="FILE.json", help="users, rooms, cameras, ..."
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="delay added to every API request"
    )
    parser.add_argument(
        "--token-lifetime-s", type=float, default=DEFAULT_TOKEN_LIFETIME_S
    )
    parser.add_argument(
        "--reset-time-on-resume",
        action="store_true",
        help="resume restarts the recording time at 0",
    )
    parser.add_argument(
        "--marker-colours",
        metavar="LIST",
        help="comma-separated colours 5.x markers accept (default: any)",
    )
    parser.add_argument(
        "--card-numbers-listed",
        action="store_true",
        help="6.5+ user lists carry card_number too (unknown on real servers)",
    )
    parser.add_argument(
        "--forbidden",
        choices=FORBIDDEN_MODES,
        default="409",
        help="status for forbidden room transitions (start while recording, ...); "
        "200 answers as if it worked and changes nothing",
    )
    parser.add_argument("--tls-cert", metavar="PEM", help="serve HTTPS with this chain")
    parser.add_argument("--tls-key", metavar="PEM", help="private key for --tls-cert")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code (2 for bad arguments or data)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        parse_version(args.valt_version)
        data = load_data(args.data) if args.data else None
    except (ValueError, SimDataError) as exc:
        print(f"valt-sim: {exc}", file=sys.stderr)
        return 2
    colours = (
        [c.strip() for c in args.marker_colours.split(",")]
        if args.marker_colours
        else None
    )
    try:
        sim = ValtSimulator(
            args.host,
            args.port,
            version=args.valt_version,
            data=data,
            latency_ms=args.latency_ms,
            token_lifetime_s=args.token_lifetime_s,
            reset_time_on_resume=args.reset_time_on_resume,
            card_numbers_listed=args.card_numbers_listed or None,
            marker_colours=colours,
            forbidden=args.forbidden,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
        )
        sim.start()
    except OSError as exc:
        print(
            f"valt-sim: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return serve_until_signalled(
        sim.stop,
        [
            f"VALT simulator {sim.version} listening on {sim.url}",
            f"control API: {sim.url}/_sim/requests, /_sim/state, /_sim/faults, "
            "/_sim/config; log in as admin/admin",
        ],
    )
