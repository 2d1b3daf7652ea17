"""Axis simulator CLI: ``python -m ivs_accessory.axissim``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ivs_accessory.axissim.axis_server import AxisSimulator
from ivs_accessory.simserve import serve_until_signalled


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="axis-sim",
        description="Serve a simulated Axis camera's VAPIX endpoints (param.cgi, "
        "privacymask.cgi, com/ptz.cgi) behind digest auth, with a control API "
        "under /_sim/.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8080, help="0 picks a free port")
    parser.add_argument("--username", default="root")
    parser.add_argument(
        "--password", default="pass", help="the camera password (a test value)"
    )
    parser.add_argument("--name", default="AXIS Q6075 PTZ Network Camera (simulated)")
    parser.add_argument(
        "--presets", default="Home,Wide,Table", help="comma-separated PTZ presets"
    )
    parser.add_argument("--no-ptz", action="store_true", help="a fixed camera")
    parser.add_argument(
        "--no-privacy-masks", action="store_true", help="a model without masks"
    )
    parser.add_argument("--no-audio", action="store_true", help="no audio input")
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="delay added to every request"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run until SIGINT/SIGTERM; returns the exit code."""
    args = build_parser().parse_args(argv)
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    sim = AxisSimulator(
        args.host,
        args.port,
        username=args.username,
        password=args.password,
        name=args.name,
        privacy_masks=not args.no_privacy_masks,
        ptz=not args.no_ptz,
        audio=not args.no_audio,
        presets=presets,
        latency_ms=args.latency_ms,
    )
    try:
        sim.start()
    except OSError as exc:
        print(
            f"axis-sim: cannot listen on {args.host}:{args.port}: "
            f"{exc.strerror or exc}",
            file=sys.stderr,
        )
        return 1
    return serve_until_signalled(
        sim.stop,
        [
            f"Axis camera simulator listening on {sim.url}",
            f"control API: {sim.url}/_sim/requests, /_sim/state, /_sim/faults, "
            f"/_sim/config; digest user {args.username!r}",
        ],
    )
