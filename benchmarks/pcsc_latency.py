"""Card on the reader to CardRead: card_pcsc against a private pcscd and vpcd.

Usage: .venv/bin/python -m benchmarks.pcsc_latency [--trials N]
Needs what the PC/SC tests need (scripts/setup-pcsc). The clock starts when the
virtual card is connected to vpcd (it is on the reader) and stops when the source
emits its CardRead; pcscd polls vpcd every 0.4 s, so most of the figure is that poll.
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

from ivs_accessory.sources.base import create_source
from tests.sources import pcsc_rig
from tests.sources.pcsc_rig import WAIT_S, Card, Pcscd


def measure(trials: int, workdir: Path) -> list[float]:
    """Seconds from each card's arrival to its CardRead, for ``trials`` cards."""
    daemon = Pcscd(
        workdir, os.environ["PCSCLITE_CSOCK_NAME"], pcsc_rig.free_port_pair()
    )
    daemon.start()
    events: queue.Queue[object] = queue.Queue()
    source = create_source("nfc", {"kind": "card_pcsc", "reader": "first"})
    source.start(events.put)
    times = []
    try:
        assert source.wait_status(lambda s: s["connected"], WAIT_S)
        for n in range(trials):
            card = Card(workdir, daemon.port, "--uid", f"{n + 1:08X}")
            start = time.monotonic()
            events.get(timeout=WAIT_S)
            times.append(time.monotonic() - start)
            card.remove()
            assert source.wait_status(lambda s: not s["card_present"], WAIT_S)
    finally:
        source.close()
        daemon.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    reason = pcsc_rig.missing()
    if reason:
        sys.exit(f"pcsc_latency: {reason}")
    with tempfile.TemporaryDirectory(prefix="ivs-pcsc-bench-") as tmp:
        # Before the first PC/SC call: libpcsclite reads it once.
        os.environ["PCSCLITE_CSOCK_NAME"] = os.path.join(tmp, "pcscd.comm")
        times = sorted(measure(args.trials, Path(tmp)))
    p90 = times[max(0, round(0.9 * len(times)) - 1)]
    print(
        f"card_pcsc insert -> CardRead, {len(times)} cards: "
        f"median {statistics.median(times) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms, "
        f"min {times[0] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
