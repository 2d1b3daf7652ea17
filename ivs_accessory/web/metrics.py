"""Monitoring without a library: the /healthz verdict, VALT timings over reloads."""

from __future__ import annotations

import threading
from typing import Any

from ivs_accessory import __version__
from ivs_accessory.safe_mode import first_of
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.timings import Timings


def health(status: dict[str, Any], network_pending: bool = False) -> dict[str, Any]:
    """``{"status": "ok" | "degraded", "reasons", "version"}`` from Service.status()."""
    reasons = []
    safe_mode = status.get("safe_mode")
    if safe_mode:
        # The same words as the STATUS line; VALT is not used, so no VALT reasons.
        reasons.append(f"safe mode: {first_of(safe_mode['errors'])}")
    if not status["dispatcher"]["alive"]:
        reasons.append("the input dispatcher is not running")
    if not safe_mode:
        reasons += _valt_reasons(status)
    if not status["sources"]:
        reasons.append("no input source is configured")
    for name, source in sorted(status["sources"].items()):
        if not source.get("connected"):
            reasons.append(
                f"input {name} is not connected"
                + (f": {source['last_error']}" if source.get("last_error") else "")
            )
    if network_pending:
        reasons.append("a network change waits for confirmation")
    return {
        "status": "degraded" if reasons else "ok",
        "reasons": reasons,
        "version": __version__,
        "uptime_s": round(status["uptime_s"], 1),
    }


def _valt_reasons(status: dict[str, Any]) -> list[str]:
    valt, reasons = status["valt"], []
    if not valt["configured"]:
        reasons.append("no VALT server is configured")
    elif valt["online"] is False:
        reasons.append(f"VALT is offline: {valt['last_error'] or 'no answer'}")
    if status["room"]["id"] is None:
        reasons.append("no VALT room is chosen")
    return reasons


class ValtTotals:
    """VALT request timings that survive the client being rebuilt by a reload.

    The client times its own requests; when the service swaps in a new client, the
    old one's last seen timings are kept, so the exported counters never go back.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: ValtClient | None = None
        self._seen = Timings()
        self._retired = Timings()

    def read(self, client: ValtClient | None) -> Timings:
        """The request timings over every client so far."""
        now = client.transport.timings.snapshot() if client else Timings()
        with self._lock:
            if client is not self._client:
                self._retired = self._retired + self._seen
                self._client = client
            self._seen = now
            return self._retired + now
