"""VALT fault matrix against the running daemon: it stays up, says what is wrong, never
acts twice, and works again within 35 s of VALT being back."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from conftest import SECRET_PASSWORD

from ivs_accessory.door.feedback import ALL_LEDS, LED_OFFLINE, pattern_for
from ivs_accessory.door.outcome import SETTLED_RESULTS
from ivs_accessory.valtsim import ValtSimulator

from .conftest import LONG
from .door import PIN_ROSA, PIN_WRONG, RECOVERIES, Door, pace, wait_until

RECOVERY_BOUND_S = 35
_ACTION = re.compile(
    r"rooms/\d+/(record/(start|stop|pause|resume|markers|comments)"
    r"|lock|unlock)|comment"
)

# The default run uses the shortest intervals the schema allows; IVS_LONG=1 also runs
# the whole matrix with the shipped defaults (60 s status refresh, 30 s re-login).
INTERVALS = {"short": {"status_refresh_s": 10, "failure_reauth_s": 5}}
if LONG:
    INTERVALS["defaults"] = {"status_refresh_s": 60, "failure_reauth_s": 30}


@dataclass(frozen=True)
class Fault:
    """A way VALT misbehaves; ``inject`` makes it so, ``restore`` brings VALT back."""

    name: str
    result: str  # what the person is shown: offline or error
    reason: str  # what the page shows (a pattern in status()["valt"]["last_error"])
    inject: Callable[[ValtSimulator], Any]
    restore: Callable[[ValtSimulator], Any] = field(
        default=lambda sim: sim.clear_faults()
    )


def _everything(**effect: Any) -> Callable[[ValtSimulator], Any]:
    return lambda sim: sim.inject(path="*", count=None, **effect)


def _down_over_http(sim: ValtSimulator) -> None:
    # As an operator would: the control API takes the server down and back up itself.
    answer = requests.post(
        f"{sim.url}/_sim/faults", json={"down": True, "duration_s": 2}, timeout=5
    )
    assert answer.status_code == 200


def _until_up(sim: ValtSimulator) -> None:
    wait_until(lambda: sim.is_up, 10, "the simulator coming back up")


FAULTS = [
    Fault("400", "error", r"answered 400 Bad Request", _everything(status=400)),
    Fault("401", "error", r"answered 401 Unauthorized", _everything(status=401)),
    Fault("404", "error", r"answered 404 Not Found", _everything(status=404)),
    Fault(
        "500", "error", r"answered 500 Internal Server Error", _everything(status=500)
    ),
    Fault("502", "error", r"answered 502 Bad Gateway", _everything(status=502)),
    Fault("503", "error", r"answered 503 Service Unavailable", _everything(status=503)),
    # Longer than the daemon's 1 s timeout; VALT still carries the request out later.
    Fault(
        "read timeout",
        "offline",
        r"did not answer within 1 s",
        _everything(delay_ms=2000),
    ),
    Fault(
        "dropped connection",
        "offline",
        r"closed the connection without answering",
        _everything(drop=True),
    ),
    Fault("malformed JSON", "error", r"not JSON", _everything(malformed=True)),
    Fault(
        "down then back",
        "offline",
        r"refused the connection",
        _down_over_http,
        _until_up,
    ),
]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("intervals", list(INTERVALS))
@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
def test_valt_fault_is_survived_shown_and_recovered(
    fault, intervals, make_sim, make_door
):
    sim = make_sim(version="6.6.0")
    door = make_door(sim.url, **INTERVALS[intervals])
    _warm_up(door)
    # Phase 1: VALT fails, comes back, and the daemon notices by itself (no input).
    failed = _fail(door, sim, fault)
    back = _restore(sim, fault)
    indicator_s = _indicator_recovers(door)
    after = door.pin(PIN_ROSA)
    assert after[0].result in SETTLED_RESULTS, after[0].message
    # Phase 2: the same again, but the person tries at once when VALT is back.
    again = _fail(door, sim, fault)
    back = _restore(sim, fault)
    first = door.pin(PIN_ROSA)
    # "Already recording" counts: a start VALT carried out after the door gave up on
    # its answer is the person's own, and must not be toggled off.
    assert first[0].result in SETTLED_RESULTS, (
        f"the first action after VALT came back: {first[0].message}"
    )
    action_s = first[2] - back
    assert action_s <= RECOVERY_BOUND_S
    _acted_at_most_once(sim, [failed, after, again, first])
    _record(fault.name, intervals, indicator_s, action_s)


@pytest.mark.parametrize("intervals", list(INTERVALS))
def test_refused_until_valt_starts(intervals, make_sim, make_door):
    """The box boots before VALT: connections are refused until it starts."""
    port = _free_port()
    door = make_door(f"http://127.0.0.1:{port}", **INTERVALS[intervals])
    wait_until(lambda: door.valt()["online"] is False, 10, "the first status refresh")
    failed = _check_failed(
        door, door.pin(PIN_ROSA), "offline", r"refused the connection"
    )
    sim = make_sim(version="6.6.0", port=port)
    indicator_s = _indicator_recovers(door)
    after = door.pin(PIN_ROSA)
    assert after[0].result == "started"
    sim.go_down()
    again = _check_failed(
        door, door.pin(PIN_ROSA), "offline", r"refused the connection"
    )
    sim.come_up()
    back = time.time()
    first = door.pin(PIN_ROSA)
    assert first[0].ok, first[0].message
    _acted_at_most_once(sim, [failed, after, again, first])
    _record("refused", intervals, indicator_s, first[2] - back)


@pytest.mark.parametrize("intervals", list(INTERVALS))
def test_dns_failure_until_the_address_is_fixed(intervals, make_sim, make_door):
    """A name that does not resolve. DNS cannot be repaired from a test, so VALT
    "comes back" the way an integrator fixes it: a new address saved and reloaded."""
    sim = make_sim(version="6.6.0")
    door = make_door(f"http://valt.invalid:{sim.port}", **INTERVALS[intervals])
    failed = _check_failed(
        door, door.pin(PIN_ROSA), "offline", r"could not be resolved"
    )
    door.reload(sim.url)
    back = time.time()
    indicator_s = _indicator_recovers(door)
    first = door.pin(PIN_ROSA)
    assert first[0].result == "started"
    _acted_at_most_once(sim, [failed, first])
    _record("DNS failure (fixed by reload)", intervals, indicator_s, first[2] - back)


def test_revoked_token_is_renewed_without_the_person_noticing(make_sim, make_door):
    """VALT forgets the token: the daemon logs in again and retries once, silently."""
    sim = make_sim(version="6.6.0")
    door = make_door(sim.url)
    _warm_up(door)
    sim.inject(path="rooms/1/record/*", revoke_token=True, count=1)
    outcome, began, shown = door.pin(PIN_ROSA)
    assert outcome.result == "started"
    seen = [
        (e["method"], e["path"], e["status"])
        for e in sim.requests()
        if began <= e["time"] <= shown and e["path"] != "rooms/1/status"
    ]
    assert seen == [
        ("POST", "rooms/1/record/start", 401),
        ("POST", "login", 200),
        ("GET", "admin/general", 200),
        ("POST", "rooms/1/record/start", 200),
    ]
    assert door.valt()["online"] and door.valt()["last_error"] is None


@pytest.mark.parametrize("intervals", list(INTERVALS))
def test_wrong_version_endpoint_after_an_unreadable_version(
    intervals, make_sim, make_door
):
    """VALT 5.2 answers 500 once while the daemon reads its version at login, so the
    daemon assumes the newest behaviour: 6.x comments (404 on 5.x) and the 6.5
    ``?cardNumber=`` lookup (ignored by 5.x, which lists every user)."""
    sim = make_sim(version="5.2.0")
    sim.inject(path="admin/general", status=500, count=1)
    door = make_door(sim.url, **INTERVALS[intervals])
    wait_until(lambda: door.valt()["online"], 10, "the first status refresh")
    back = sim.requests("admin/general")[0]["time"]  # the fault is spent: VALT is fine
    wrong = door.pin(PIN_WRONG)
    assert wrong[0].result == "denied", "a wrong PIN started a recording"
    started = door.pin(PIN_ROSA)
    assert started[0].result == "started" and started[0].user_id == 70
    marker = door.press("KEY_KPPLUS")
    if marker[0].result != "marked":
        _check_failed(
            door, marker, "error", r"404 Not Found.*does not exist on VALT 5\.2"
        )
    presses = [wrong, started, marker]
    while presses[-1][0].result != "marked":
        assert time.time() - back <= RECOVERY_BOUND_S, "markers still fail"
        pace(1)
        presses.append(door.press("KEY_KPPLUS"))
    _acted_at_most_once(sim, presses)
    _record("wrong-version endpoint", intervals, None, presses[-1][2] - back)


# -- steps ----------------------------------------------------------------------
def _warm_up(door: Door) -> None:
    """A start and a stop: user cached, room status known, a connection open."""
    assert door.pin(PIN_ROSA)[0].result == "started"
    assert door.pin(PIN_ROSA)[0].result == "stopped"


def _fail(door: Door, sim: ValtSimulator, fault: Fault) -> tuple:
    fault.inject(sim)
    return _check_failed(door, door.pin(PIN_ROSA), fault.result, fault.reason)


def _check_failed(door: Door, tried: tuple, result: str, reason: str) -> tuple:
    """The person is told, the keypad LED says so, systemd's STATUS and the page too."""
    outcome = tried[0]
    assert outcome.result == result, outcome.message
    assert door.service.is_healthy()
    # The offline/error rhythm flashes every LED; the steady Scroll Lock follows
    # offline.
    assert pattern_for(outcome) == "offline"
    assert door.keypad.lit_since(ALL_LEDS, tried[1]), door.keypad.led_log[-3:]
    if result == "offline":
        door.keypad.wait_leds(lambda leds: leds == {LED_OFFLINE})
    assert any(
        outcome.message in line for line in door.status_lines if "STATUS=" in line
    )
    shown = door.valt()
    assert re.search(reason, shown["last_error"] or ""), shown["last_error"]
    assert SECRET_PASSWORD not in shown["last_error"]
    assert "access_token" not in shown["last_error"]
    if result == "offline":
        assert shown["online"] is False
    return tried


def _restore(sim: ValtSimulator, fault: Fault) -> float:
    # A delayed request is still running in the simulator; let it finish first.
    wait_until(
        lambda: all(e["status"] is not None for e in sim.requests()),
        10,
        "the simulator finishing its delayed requests",
    )
    fault.restore(sim)
    return time.time()


def _indicator_recovers(door: Door) -> float:
    """Seconds until the page shows VALT online with no error, without any input."""
    seconds = wait_until(
        lambda: door.valt()["online"] is True and door.valt()["last_error"] is None,
        RECOVERY_BOUND_S,
        "the status page showing VALT online again",
    )
    door.keypad.wait_leds(lambda leds: LED_OFFLINE not in leds)
    return seconds


def _acted_at_most_once(sim: ValtSimulator, inputs: list[tuple]) -> None:
    """Each input sent its action to VALT at most once (a resend only after a 401)."""
    log = sim.requests()
    for outcome, began, shown in inputs:
        sent = [
            e
            for e in log
            if began <= e["time"] <= shown
            and e["method"] == "POST"
            and _ACTION.fullmatch(e["path"])
        ]
        assert len([e for e in sent if e["status"] != 401]) <= 1, (outcome.result, sent)


def _record(
    name: str, intervals: str, indicator_s: float | None, action_s: float
) -> None:
    RECOVERIES.append(
        {
            "fault": name,
            "intervals": intervals,
            "indicator_s": None if indicator_s is None else round(indicator_s, 2),
            "first_action_s": round(action_s, 2),
        }
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
