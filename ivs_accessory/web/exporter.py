"""/metrics: the daemon's state as Prometheus metrics, through prometheus_client.

The page imports this module at the first scrape only (``exporter_for``), so a box
that nobody scrapes never loads prometheus_client. The metric names are documented in
README.md ("Fleet monitoring"); dashboards and alert rules depend on them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.metrics_core import Metric

from ivs_accessory import __version__
from ivs_accessory.valt.timings import Timings
from ivs_accessory.web.page import Page

PREFIX = "ivs_accessory_"
# What generate_latest writes. Not CONTENT_TYPE_LATEST: that says 1.0.0 since
# prometheus_client 0.22, while Debian 12's 0.16 says 0.0.4, for the same text.
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Every value a state label can take is exported, the current one as 1 and the others
# as 0, so a change of state is a change of value and not a series that goes stale.
VALT_STATES = (
    "connected",
    "connecting",
    "login_refused",
    "unreachable",
    "error",
    "not_configured",
)
LAMP_MEANINGS = (
    "recording",
    "paused",
    "locked",
    "available",
    "offline",
    "unknown",
    "blink",
    "starting",
)
PRIVACY_STATES = ("on", "off", "partial", "unknown")


@dataclass(frozen=True)
class Scrape:
    """What one scrape reads: ``Service.status()`` and what the page adds to it."""

    status: dict[str, Any]
    timings: Timings
    login_failing: bool
    trial_pending: bool


def read_page(page: Page) -> Scrape:
    """The daemon's state now, as the page sees it (VALT is never asked)."""
    client = page.service.client
    return Scrape(
        status=page.service.status(),
        timings=page.valt_totals.read(client),
        login_failing=client is not None and client.auth.login_error is not None,
        trial_pending=page.trial.pending() is not None,
    )


class DaemonCollector:
    """A custom collector: reads the daemon's state at each scrape.

    Counters the daemon keeps itself (outcomes, events, VALT timings) are counted at
    the event by their owners; this only turns a snapshot into metric families.
    """

    def __init__(self, read: Callable[[], Scrape]) -> None:
        self._read = read

    def collect(self) -> Iterator[Metric]:
        """The metric families of one snapshot."""
        scrape = self._read()
        status = scrape.status
        yield from _daemon(status)
        yield from _inputs(status["sources"])
        yield from _valt(scrape)
        yield from _lamp(status.get("lamp"))
        yield from _privacy(status.get("privacy"))
        yield _gauge(
            "network_trial_pending",
            "1 while a network change waits for confirmation (it rolls back if not).",
            int(scrape.trial_pending),
        )


class MetricsExporter:
    """A private registry (not prometheus_client's global one) with the collector."""

    def __init__(self, read: Callable[[], Scrape]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(DaemonCollector(read))

    def render(self) -> bytes:
        """The exposition text (format 0.0.4) of one scrape."""
        return generate_latest(self.registry)


def exporter_for(page: Page) -> MetricsExporter:
    """The page's exporter, made at its first scrape."""
    exporter = page.exporter
    if exporter is None:
        # Two first scrapes at once may each make one; both read the same state and
        # the page's ValtTotals, so whichever is kept gives the same numbers.
        exporter = page.exporter = MetricsExporter(lambda: read_page(page))
    assert isinstance(exporter, MetricsExporter)
    return exporter


def _name(name: str) -> str:
    return PREFIX + name


def _gauge(name: str, help_text: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(_name(name), help_text, value=value)


def _labelled(
    kind: type[GaugeMetricFamily] | type[CounterMetricFamily],
    name: str,
    help_text: str,
    label: str,
    values: Iterable[tuple[str, float]],
) -> Metric:
    family = kind(_name(name), help_text, labels=[label])
    for key, value in values:
        family.add_metric([key], value)
    return family


def _states(
    name: str, help_text: str, label: str, states: tuple[str, ...], current: str
) -> Metric:
    known = states if current in states else (*states, current)
    return _labelled(
        GaugeMetricFamily,
        name,
        help_text,
        label,
        ((state, int(state == current)) for state in known),
    )


def _daemon(status: dict[str, Any]) -> Iterator[Metric]:
    d = status["dispatcher"]
    yield InfoMetricFamily(
        "ivs_accessory",
        "Version of the accessory software.",
        value={"version": __version__},
    )
    yield _gauge(
        "uptime_seconds", "Seconds since the daemon started.", status["uptime_s"]
    )
    yield _gauge(
        "healthy",
        "1 while the input dispatcher runs (the watchdog's check).",
        int(d["alive"]),
    )
    yield _labelled(
        CounterMetricFamily,
        "actions",
        "Input outcomes by result (started, stopped, denied, offline, ...).",
        "result",
        sorted(d["outcomes"].items()),
    )
    yield CounterMetricFamily(
        _name("input_events"), "Input events received from every source.", d["events"]
    )
    yield CounterMetricFamily(
        _name("input_events_dropped"),
        "Input events dropped because the queue was full.",
        d["dropped"],
    )


def _inputs(sources: dict[str, dict[str, Any]]) -> Iterator[Metric]:
    named = sorted(sources.items())
    yield _labelled(
        GaugeMetricFamily,
        "source_connected",
        "1 while the input source has its device, else 0.",
        "source",
        ((n, int(bool(s.get("connected")))) for n, s in named),
    )
    yield _labelled(
        CounterMetricFamily,
        "source_reconnects",
        "Times the input source reopened its device.",
        "source",
        ((n, s.get("reconnects", 0) or 0) for n, s in named),
    )


def _valt(scrape: Scrape) -> Iterator[Metric]:
    valt, timings = scrape.status["valt"], scrape.timings
    online = valt["online"]
    yield _gauge(
        "valt_up",
        "1 when VALT answered the last call, 0 when it did not, -1 not known yet.",
        -1 if online is None else int(online),
    )
    yield _states(
        "valt_state",
        "The connection to VALT in one word: 1 for the state it is in.",
        "state",
        VALT_STATES,
        valt.get("state") or "not_configured",
    )
    yield _gauge(
        "valt_login_failing",
        "1 while the last login to VALT failed (refused or not answered).",
        int(scrape.login_failing),
    )
    yield CounterMetricFamily(
        _name("valt_requests"), "HTTP requests sent to VALT.", timings.count
    )
    yield HistogramMetricFamily(
        _name("valt_request_duration_seconds"),
        "Time VALT took to answer a request, failed ones included.",
        buckets=[(_le(bound), n) for bound, n in timings.cumulative()],
        sum_value=timings.seconds,
    )


def _le(bound: float) -> str:
    # As prometheus_client's own histograms write bounds: "0.5", "10.0", "+Inf".
    return "+Inf" if math.isinf(bound) else repr(bound)


def _lamp(lamp: dict[str, Any] | None) -> Iterator[Metric]:
    if lamp is None:
        return  # no [lamp]: no lamp series at all
    yield _gauge(
        "lamp_connected",
        "1 while the USB lamp is open, else 0.",
        int(lamp["connected"]),
    )
    yield _states(
        "lamp_showing",
        "What the lamp shows: 1 for the meaning of its colour now.",
        "meaning",
        LAMP_MEANINGS,
        lamp["showing"],
    )


def _privacy(privacy: dict[str, Any] | None) -> Iterator[Metric]:
    if privacy is None or privacy.get("state") is None:
        return  # no cameras known for the room
    yield _states(
        "privacy_state",
        "The room's cameras' privacy as last read back: 1 for the state.",
        "state",
        PRIVACY_STATES,
        privacy["state"],
    )
    yield _labelled(
        GaugeMetricFamily,
        "camera_private",
        "1 when the camera's privacy is on, 0 when off (absent while not known).",
        "camera",
        (
            (c["name"], int(c["private"]))
            for c in privacy["cameras"]
            if c["private"] is not None
        ),
    )
