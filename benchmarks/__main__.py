"""python -m benchmarks: run the benchmarks, print the table, write the JSON results."""

from __future__ import annotations

import argparse
import datetime
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import door, flows, idle, idle_door, lamp, latency, report, resources
from benchmarks.harness import ROOT, machine

SECTIONS = ("requests", "latency", "idle", "idle_door", "resources", "door", "lamp")
QUICK = {
    "trials": 3,
    "accessories": 5,
    "idle_minutes": 2,
    "events": 300,
    "ready_trials": 1,
    "p99_trials": 20,
    "idle_trials": 2,
    "door_trials": 3,
    "door_events": 110,
    "door_answers": 20,
    "lamp_trials": 3,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Requests, latency, idle load and resources of the daemon "
        "against the VALT simulator on loopback, next to the vendor's way.",
    )
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections (default: {','.join(SECTIONS)})",
    )
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=25,
        help="latency the simulator adds to every request (default 25)",
    )
    parser.add_argument(
        "--trials",
        type=int,
        default=50,
        help="latency trials per action and actor (default 50)",
    )
    parser.add_argument(
        "--latency-valt",
        default="5.2.0",
        metavar="VERSION",
        help="VALT version of the latency benchmark (default 5.2.0, where the "
        "vendor's PIN flow works; 6.5+ needs --card-numbers-listed)",
    )
    parser.add_argument(
        "--card-numbers-listed",
        action="store_true",
        help="the simulator lists card numbers on 6.5+ too",
    )
    parser.add_argument(
        "--accessories",
        type=int,
        default=200,
        help="daemons in the idle benchmark (default 200)",
    )
    parser.add_argument(
        "--idle-minutes",
        type=float,
        default=10,
        help="simulated minutes of idle time (default 10)",
    )
    parser.add_argument(
        "--idle-step-s",
        type=float,
        default=5,
        help="simulated seconds per clock step (default 5)",
    )
    parser.add_argument(
        "--events",
        type=int,
        default=10000,
        help="input events for the memory figure (default 10000)",
    )
    parser.add_argument(
        "--ready-trials",
        type=int,
        default=10,
        help="process starts timed to READY (default 10)",
    )
    parser.add_argument(
        "--p99-trials",
        type=int,
        default=1000,
        help="in-process events for the event -> request p99 (default 1000)",
    )
    parser.add_argument(
        "--idle-trials",
        type=int,
        default=10,
        help="trials of each flow on a door idle for an hour (default 10)",
    )
    parser.add_argument(
        "--door-trials",
        type=int,
        default=100,
        help="outcomes timed to 10 door screens (default 100)",
    )
    parser.add_argument(
        "--door-events",
        type=int,
        default=2000,
        help="input events before the door page's RSS figure (default 2000)",
    )
    parser.add_argument(
        "--door-answers",
        type=int,
        default=200,
        help="GET /door timed with 10 screens following (default 200)",
    )
    parser.add_argument(
        "--lamp-trials",
        type=int,
        default=100,
        help="PIN toggles timed from outcome to lamp write (default 100)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny parameters: checks that everything runs, figures mean little",
    )
    parser.add_argument(
        "--note",
        default="",
        help="a remark stored with the results, e.g. 'shared machine'",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "results",
        help="folder for the JSON results (default benchmarks/results)",
    )
    parser.add_argument("--no-json", action="store_true", help="print only")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.quick:
        for key, value in QUICK.items():
            setattr(args, key, value)
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        print(
            f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}",
            file=sys.stderr,
        )
        return 2
    # The daemons' own INFO lines would drown the progress; warnings still show.
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    results = run(args, wanted)
    print(report.table(results))
    if not args.no_json:
        print(f"\nresults written to {report.write_json(results, args.out)}")
    return 0


def run(args: argparse.Namespace, wanted: list[str]) -> dict[str, Any]:
    """Run the ``wanted`` sections; returns the results with machine and commands."""

    def progress(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    results: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"
        ),
        "machine": machine(),
        "note": args.note,
        "commands": commands(args),
        "parameters": {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()
        },
    }
    if "requests" in wanted:
        progress("requests per action ...")
        results["requests"] = flows.run(args.latency_ms, progress)
    if "latency" in wanted:
        progress("latency ...")
        results["latency"] = latency.run(
            args.latency_ms,
            args.trials,
            progress,
            args.latency_valt,
            args.card_numbers_listed,
        )
    if "idle" in wanted:
        progress("idle load ...")
        results["idle"] = idle.run(
            args.accessories,
            args.idle_minutes,
            args.idle_step_s,
            args.latency_ms,
            progress,
        )
    if "idle_door" in wanted:
        progress("a door idle for an hour ...")
        results["idle_door"] = idle_door.run(
            args.latency_ms, args.idle_trials, progress
        )
    if "resources" in wanted:
        progress("resources ...")
        results["resources"] = {
            "ready": resources.ready_time(args.ready_trials, progress, args.latency_ms),
            "memory": resources.memory(args.events, progress),
            "event_to_request": latency.event_to_request(
                args.latency_ms, args.p99_trials, progress
            ),
        }
    if "door" in wanted:
        progress("the door page with 10 screens ...")
        results["door"] = door.run(
            args.latency_ms,
            args.door_trials,
            args.door_events,
            args.door_answers,
            progress,
        )
    if "lamp" in wanted:
        progress("lamp ...")
        results["lamp"] = lamp.run(args.latency_ms, args.lamp_trials, progress)
    results["machine_end"] = machine()
    return results


def commands(args: argparse.Namespace) -> dict[str, str]:
    """The command that reproduces each section with these parameters."""
    base = f"python -m benchmarks --latency-ms {args.latency_ms:g}"
    return {
        "requests": f"{base} --only requests",
        "latency": f"{base} --only latency --trials {args.trials}"
        + (
            f" --latency-valt {args.latency_valt}"
            if args.latency_valt != "5.2.0"
            else ""
        )
        + (" --card-numbers-listed" if args.card_numbers_listed else ""),
        "idle": f"{base} --only idle --accessories {args.accessories} "
        f"--idle-minutes {args.idle_minutes:g} --idle-step-s {args.idle_step_s:g}",
        "idle_door": f"{base} --only idle_door --idle-trials {args.idle_trials}",
        "resources": f"{base} --only resources --events {args.events} "
        f"--ready-trials {args.ready_trials} --p99-trials {args.p99_trials}",
        "door": f"{base} --only door --door-trials {args.door_trials} "
        f"--door-events {args.door_events} --door-answers {args.door_answers}",
        "lamp": f"{base} --only lamp --lamp-trials {args.lamp_trials}",
    }


if __name__ == "__main__":
    sys.exit(main())
