"""/healthz reasons and /metrics text, from a real daemon and hand-made snapshots."""

from __future__ import annotations

import re

from ivs_accessory.web.metrics import ValtTotals, health, prometheus

SAMPLE = re.compile(
    r'^[a-z_]+(\{[a-z_]+="[^"\\]*(\\.[^"\\]*)*"(,[a-z_]+="[^"]*")*\})? '
    r"-?[0-9.e+]+$"
)


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


def test_metrics_text_is_valid_exposition_format():
    text = prometheus(snapshot(sources={'odd"name\\': {"connected": True}}), (5, 0.25))
    for line in text.splitlines():
        assert (
            line.startswith("# HELP ")
            or line.startswith("# TYPE ")
            or SAMPLE.match(line)
        ), line
    assert 'ivs_accessory_actions_total{result="started"} 2' in text
    assert "ivs_accessory_valt_request_duration_seconds_sum 0.25" in text
    assert "ivs_accessory_valt_request_duration_seconds_count 5" in text
    assert 'ivs_accessory_source_connected{source="odd\\"name\\\\"} 1' in text


class FakeTransport:
    def __init__(self):
        self.request_seconds = 0.0


class FakeClient:
    def __init__(self, count, seconds):
        self.request_count = count
        self.transport = FakeTransport()
        self.transport.request_seconds = seconds


def test_valt_totals_never_go_back_when_the_client_is_rebuilt():
    totals = ValtTotals()
    old = FakeClient(10, 1.0)
    assert totals.read(old) == (10, 1.0)
    new = FakeClient(2, 0.5)
    assert totals.read(new) == (12, 1.5)
    assert totals.read(None) == (12, 1.5)


def test_healthz_and_metrics_from_the_running_daemon(browser, box):
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    assert browser.get("/healthz").json()["status"] == "ok"
    text = browser.get("/metrics").text
    assert 'ivs_accessory_actions_total{result="started"} 1' in text
    assert "ivs_accessory_input_events_total 1" in text
    assert 'ivs_accessory_source_connected{source="door"} 1' in text
    count = int(re.search(r"valt_request_duration_seconds_count (\d+)", text).group(1))
    assert count == box.service.client.request_count > 0
    box.sim.inject(down=True)
    box.consoles.type("door", "654321")
    assert box.outcomes.get(timeout=10).result == "offline"
    health_now = browser.get("/healthz").json()
    assert (
        health_now["status"] == "degraded"
        and "VALT is offline" in health_now["reasons"][0]
    )
    box.sim.come_up()
