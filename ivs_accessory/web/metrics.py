"""Monitoring: /healthz (ok or degraded, with reasons), /metrics (Prometheus text)."""

from __future__ import annotations

import threading
from typing import Any

from ivs_accessory import __version__
from ivs_accessory.safe_mode import first_of
from ivs_accessory.valt.client import ValtClient

_PREFIX = "ivs_accessory_"


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
    """VALT request counters that survive the client being rebuilt by a reload.

    The client counts its own requests; when the service swaps in a new client, the
    old one's last seen numbers are kept, so the exported counters never go back.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: ValtClient | None = None
        self._seen = (0, 0.0)
        self._retired = (0, 0.0)

    def read(self, client: ValtClient | None) -> tuple[int, float]:
        """(requests, seconds spent) over every client so far."""
        now = (
            (client.request_count, client.transport.request_seconds)
            if client
            else (0, 0.0)
        )
        with self._lock:
            if client is not self._client:
                self._retired = (
                    self._retired[0] + self._seen[0],
                    self._retired[1] + self._seen[1],
                )
                self._client = client
            self._seen = now
            return self._retired[0] + now[0], self._retired[1] + now[1]


def _label(value: Any) -> str:
    text = str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return f'"{text}"'


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: list[tuple[dict[str, Any], float]],
    ) -> None:
        self.lines += [
            f"# HELP {_PREFIX}{name} {help_text}",
            f"# TYPE {_PREFIX}{name} {kind}",
        ]
        for labels, value in samples:
            shown = ",".join(f"{k}={_label(v)}" for k, v in labels.items())
            self.lines.append(
                f"{_PREFIX}{name}{{{shown}}} {value:g}"
                if shown
                else f"{_PREFIX}{name} {value:g}"
            )

    def summary(self, name: str, help_text: str, count: int, total: float) -> None:
        self.lines += [
            f"# HELP {_PREFIX}{name} {help_text}",
            f"# TYPE {_PREFIX}{name} summary",
            f"{_PREFIX}{name}_sum {total:g}",
            f"{_PREFIX}{name}_count {count:g}",
        ]


def prometheus(status: dict[str, Any], valt: tuple[int, float]) -> str:
    """The exposition text for one Service.status() snapshot and the VALT totals."""
    out = _Text()
    d, sources = status["dispatcher"], status["sources"]
    out.metric(
        "info",
        "gauge",
        "Version of the accessory software.",
        [({"version": __version__}, 1)],
    )
    out.metric(
        "uptime_seconds",
        "gauge",
        "Seconds since the daemon started.",
        [({}, status["uptime_s"])],
    )
    out.metric(
        "actions_total",
        "counter",
        "Input outcomes by result (started, denied, ...).",
        [({"result": r}, n) for r, n in sorted(d["outcomes"].items())],
    )
    out.metric(
        "input_events_total",
        "counter",
        "Input events received from every source.",
        [({}, d["events"])],
    )
    out.metric(
        "input_events_dropped_total",
        "counter",
        "Input events dropped (queue full).",
        [({}, d["dropped"])],
    )
    out.metric(
        "source_connected",
        "gauge",
        "1 while the input source has its device.",
        [
            ({"source": n}, 1 if s.get("connected") else 0)
            for n, s in sorted(sources.items())
        ],
    )
    out.metric(
        "source_reconnects_total",
        "counter",
        "Times the input source reopened its device.",
        [
            ({"source": n}, s.get("reconnects", 0) or 0)
            for n, s in sorted(sources.items())
        ],
    )
    out.metric(
        "valt_requests_total", "counter", "HTTP requests sent to VALT.", [({}, valt[0])]
    )
    out.summary(
        "valt_request_duration_seconds",
        "Time VALT took to answer (latency).",
        valt[0],
        valt[1],
    )
    online = status["valt"]["online"]
    out.metric(
        "valt_up",
        "gauge",
        "1 when VALT answered last, 0 when not, -1 unknown.",
        [({}, -1 if online is None else int(online))],
    )
    out.metric(
        "healthy",
        "gauge",
        "1 when the dispatcher runs (the watchdog's check).",
        [({}, int(d["alive"]))],
    )
    return "\n".join(out.lines) + "\n"
