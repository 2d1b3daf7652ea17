"""Keep a started simulator serving in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Sequence
from types import FrameType


def serve_until_signalled(stop: Callable[[], None], banner: Sequence[str]) -> int:
    """Print ``banner``, wait for Ctrl-C or SIGTERM, then ``stop()``; return 0.

    The simulators' command lines (``python -m ivs_accessory.valtsim``, ``.axissim``)
    share this; the handlers they replace are put back afterwards, so a test may
    call it in-process.
    """
    done = threading.Event()

    def finish(signum: int, frame: FrameType | None) -> None:
        done.set()

    previous = {s: signal.signal(s, finish) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for line in banner:
            print(line, flush=True)
        done.wait()
    finally:
        stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
