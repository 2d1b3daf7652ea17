"""Readiness after an update: the unit's state (systemctl show, scripted here: no
systemd on the test machine) and /healthz from a real HTTP server on loopback."""

from __future__ import annotations

import http.server
import json
import threading

import pytest
from conftest import FakeClock

from ivs_accessory.system.commands import CommandRunner
from ivs_accessory.system.package_checks import own_health_url
from ivs_accessory.system.readiness import STEADY_S, Readiness, fetch_health


class Systemctl(CommandRunner):
    """``systemctl show`` answering from a script of (ActiveState, MainPID)."""

    def __init__(self, states: list[tuple[str, str]]) -> None:
        super().__init__()
        self.states = states
        self.asked = 0

    def run(self, argv, *, timeout_s=None, cwd=None):
        assert argv[:2] == ["systemctl", "show"]
        state, pid = self.states[min(self.asked, len(self.states) - 1)]
        self.asked += 1
        return f"ActiveState={state}\nMainPID={pid}\n"


@pytest.fixture
def healthz():
    """A loopback server answering /healthz with ``answer["body"]`` and status."""
    answer = {"status": 200, "body": b'{"status": "ok"}'}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(answer["status"])
            self.end_headers()
            self.wfile.write(answer["body"])

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/healthz", answer
    finally:
        server.shutdown()
        server.server_close()


def readiness(states, fetch=lambda url: None):
    clock = FakeClock()
    return Readiness(Systemctl(states), fetch, clock=clock, pause=clock.advance)


def test_ready_once_active_and_steady_with_a_healthz_that_answers(healthz):
    url, _ = healthz
    check = readiness([("activating", "0"), ("active", "41")], fetch_health)
    assert check(url, 60) is None


def test_a_daemon_that_keeps_restarting_is_not_ready():
    # Active for a moment, each time with a new process: never steady.
    states = [("active", str(pid)) if pid % 2 else ("activating", "0")
              for pid in range(1000)]  # fmt: skip
    problem = readiness(states)("", 60)
    assert problem in (
        "ivs-accessory.service is activating",
        "ivs-accessory.service did not stay up for 5 s",
    )


def test_a_failed_unit_names_its_state():
    assert readiness([("failed", "0")])("", 60) == "ivs-accessory.service is failed"


def test_steady_means_steady_for_the_whole_window():
    ticks = int(STEADY_S / 0.5)
    states = [("active", "7")] * (ticks - 1) + [("failed", "0")] * 200
    assert readiness(states)("", 60) == "ivs-accessory.service is failed"


def test_degraded_counts_as_up_but_a_foreign_answer_does_not(healthz):
    url, answer = healthz
    answer.update(status=503, body=json.dumps({"status": "degraded"}).encode())
    assert fetch_health(url) is None  # VALT down is the site's state, not the update's
    answer.update(status=200, body=b"<html>someone else</html>")
    assert "answered" in fetch_health(url)
    assert "did not answer" in fetch_health("http://127.0.0.1:9/healthz")


def test_only_the_boxs_own_addresses_are_asked():
    assert own_health_url("http://127.0.0.1:8080/healthz")
    assert own_health_url("http://[::1]/healthz")
    assert own_health_url("https://localhost:8443/healthz")
    assert not own_health_url("http://192.0.2.99/healthz")  # TEST-NET: not ours
    assert not own_health_url("http://127.0.0.1/metrics")
    assert not own_health_url("file:///etc/shadow")
