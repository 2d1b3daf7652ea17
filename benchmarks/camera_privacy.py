"""Privacy with cameras: latency of privacy on, off and toggle through the door's
actions, VAPIX requests per camera, and the cost of one hung camera.

``python -m benchmarks.camera_privacy [--trials 20] [--cameras 3] [--deadline-s 1]``

The VALT simulator and Axis simulators run in this process on loopback; the time is
from the key's trigger to its outcome (VALT's lock and read-back included).
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Sequence

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.cameras.roster import CameraRoster, CameraSpec
from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Trigger
from ivs_accessory.door.privacy import RoomPrivacy
from ivs_accessory.door.room import RoomState
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valtsim import ValtSimulator

ACTIONS = ("privacy_on", "privacy_off", "privacy_toggle", "privacy_toggle")
_keys = itertools.count()


def measure(cameras: int, hung: bool, trials: int, deadline_s: float) -> None:
    """Print median and p95 per action, and the VAPIX requests of one camera."""
    sims = [AxisSimulator().start() for _ in range(cameras)]
    if hung:
        sims[-1].inject(hang=True)
    valt = ValtSimulator(version="6.6.0").start()
    client = ValtClient(valt.url, "admin", "admin", auto_reauth=False)
    specs = [
        CameraSpec(f"cam{i}", "127.0.0.1", "root", "pass", port=s.port)
        for i, s in enumerate(sims)
    ]
    privacy = RoomPrivacy(
        CameraRoster("config", specs, timeout_s=deadline_s), "refuse", 0
    )
    actions = Actions(
        client,
        RoomState(client, 1),
        UserDirectory(client),
        ActionSettings(room=1),
        Lockout(3, 30, 120),
        privacy=privacy,
    )
    actions.refresh()
    times: dict[str, list[float]] = {a: [] for a in ACTIONS}
    requests: dict[str, set[int]] = {a: set() for a in ACTIONS}
    try:
        for _ in range(trials):
            for action in ACTIONS:
                sims[0].clear_requests()
                began = time.perf_counter()
                # A key of its own each time: no repeat window between trials.
                key = f"KEY_{next(_keys)}"
                actions.trigger(Trigger("bench", action, key, time.monotonic()))
                times[action].append((time.perf_counter() - began) * 1000)
                requests[action].add(len(sims[0].requests()))
    finally:
        privacy.close()
        client.close()
        valt.stop()
        for sim in sims:
            sim.stop()
    for action, values in times.items():
        values.sort()
        p95 = values[max(0, round(len(values) * 0.95) - 1)]
        print(
            f"  {action:15s} median {statistics.median(values):7.1f} ms, "
            f"p95 {p95:7.1f} ms; VAPIX requests per camera {sorted(requests[action])}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.camera_privacy")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--deadline-s", type=float, default=1.0)
    args = parser.parse_args(argv)
    print(f"{args.cameras} healthy cameras on loopback, {args.trials} trials:")
    measure(args.cameras, False, args.trials, args.deadline_s)
    print(
        f"{args.cameras - 1} healthy + 1 hung (deadline {args.deadline_s:g} s), "
        f"{max(1, args.trials // 4)} trials:"
    )
    measure(args.cameras, True, max(1, args.trials // 4), args.deadline_s)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
