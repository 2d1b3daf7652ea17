"""/healthz reasons from a real daemon and hand-made snapshots; VALT timing totals."""

from __future__ import annotations

import math

from ivs_accessory.valt.timings import TimingRecorder
from ivs_accessory.web.metrics import ValtTotals, health


def snapshot(**changes):
    status = {
        "valt": {
            "server": "v",
            "configured": True,
            "online": True,
            "version": "6.6.0",
            "last_error": None,
            "requests": 3,
        },
        "room": {"id": 1, "status": "available"},
        "sources": {"door": {"connected": True, "reconnects": 2}},
        "dispatcher": {
            "alive": True,
            "events": 7,
            "dropped": 0,
            "outcomes": {"started": 2, "denied": 1},
        },
        "uptime_s": 12.5,
    }
    for key, value in changes.items():
        status[key] = value
    return status


def test_health_ok_and_each_degraded_reason():
    assert health(snapshot())["status"] == "ok"
    bad = health(
        snapshot(
            valt={"configured": True, "online": False, "last_error": "refused"},
            room={"id": None, "status": None},
            sources={"door": {"connected": False, "last_error": "unplugged"}},
            dispatcher={"alive": False},
        ),
        network_pending=True,
    )
    assert bad["status"] == "degraded"
    assert bad["reasons"] == [
        "the input dispatcher is not running",
        "VALT is offline: refused",
        "no VALT room is chosen",
        "input door is not connected: unplugged",
        "a network change waits for confirmation",
    ]


class FakeTransport:
    def __init__(self, seconds):
        self.timings = TimingRecorder()
        for each in seconds:
            self.timings.observe(each)


class FakeClient:
    def __init__(self, *seconds):
        self.transport = FakeTransport(seconds)


def test_valt_totals_never_go_back_when_the_client_is_rebuilt():
    totals = ValtTotals()
    old = FakeClient(0.5, 0.5)
    assert (totals.read(old).count, totals.read(old).seconds) == (2, 1.0)
    new = FakeClient(0.25, 0.25)
    assert (totals.read(new).count, totals.read(new).seconds) == (4, 1.5)
    both = totals.read(None)
    assert (both.count, both.seconds) == (4, 1.5)
    assert both.cumulative()[-1] == (math.inf, 4)


def test_healthz_from_the_running_daemon(browser, box):
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    assert browser.get("/healthz").json()["status"] == "ok"
    box.sim.inject(down=True)
    box.consoles.type("door", "654321")
    assert box.outcomes.get(timeout=10).result == "offline"
    health_now = browser.get("/healthz").json()
    assert (
        health_now["status"] == "degraded"
        and "VALT is offline" in health_now["reasons"][0]
    )
    box.sim.come_up()
