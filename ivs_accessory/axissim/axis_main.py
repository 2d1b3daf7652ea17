"""Axis simulator CLI: ``python -m ivs_accessory.axissim``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ivs_accessory.axissim.axis_server import AxisSimulator


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
    done = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {s: signal.signal(s, finish) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"Axis camera simulator listening on {sim.url}", flush=True)
        print(
            f"control API: {sim.url}/_sim/requests, /_sim/state, /_sim/faults, "
            f"/_sim/config; digest user {args.username!r}",
            flush=True,
        )
        done.wait()
    finally:
        sim.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
