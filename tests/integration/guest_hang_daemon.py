"""Test-only daemon entry for the VM: `ivs-accessory run`, plus a way to hang its
dispatcher.

The VM test points the installed unit's ExecStart at this file (a drop-in), so the
daemon under test is the real ``daemon.run`` with one extra feedback sink. That sink's
``tick`` runs on the dispatcher thread; after SIGUSR1 it blocks for good, exactly as
a VALT call that never returns would. Nothing in the package can do this: the hang
exists only in this file, which production never runs.

``hung_after_s`` is lowered from its default (8 VALT timeouts, at least 30 s) so
the test does not wait minutes for the watchdog; the drop-in lowers WatchdogSec for
the same reason.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from ivs_accessory import cli, daemon


class HangOnSignal:
    """A feedback sink that blocks the dispatcher thread after SIGUSR1."""

    def __init__(self) -> None:
        self.wanted = threading.Event()
        signal.signal(signal.SIGUSR1, lambda signum, frame: self.wanted.set())

    def tick(self, now: float) -> None:
        if self.wanted.is_set():
            print(
                "guest_hang_daemon: dispatcher hanging now", file=sys.stderr, flush=True
            )
            threading.Event().wait()  # never set: the dispatcher thread is stuck

    def show(self, outcome) -> None:
        pass

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status, online) -> None:
        pass


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--hung-after-s", type=float, default=2.0)
    args = parser.parse_args()
    cli.setup_logging(0)
    options = {"feedback": [HangOnSignal()], "hung_after_s": args.hung_after_s}
    return daemon.run(args.config, service_options=options)


if __name__ == "__main__":
    sys.exit(main())
