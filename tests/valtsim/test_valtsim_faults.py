"""The simulator's server behaviours for doors to survive: refusals, late, bad, big,
slow and endless answers, over real sockets."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from ivs_accessory.valtsim import ValtSimulator
from ivs_accessory.valtsim.chunks import padded_answer
from ivs_accessory.valtsim.main import build_parser

from .test_valtsim import api, token

START = {"name": "Interview"}
MARKER = {"event": "Check", "time": 3, "color": "red"}
MB = 1 << 20


def no_id(rid):
    return {"data": {"id": None}}


def its_id(rid):
    return {"data": {"id": rid}}


def comment_body(rid):
    return {"recordId": rid, "recordTime": 3, "type": "simple", "message": "m"}


# name: (version, actions first, the forbidden one, its 200-mode answer from the
# recording id the first start made)
FORBIDDEN = {
    "start while recording": (
        "6.6.0",
        [("rooms/1/record/start", START)],
        ("rooms/1/record/start", START),
        its_id,
    ),
    "start while locked": (
        "6.6.0",
        [("rooms/1/lock", {})],
        ("rooms/1/record/start", START),
        no_id,
    ),
    "stop with no recording": ("6.6.0", [], ("rooms/1/record/stop", {}), no_id),
    "pause when not recording": ("6.6.0", [], ("rooms/1/record/pause", {}), no_id),
    "pause when paused": (
        "6.6.0",
        [("rooms/1/record/start", START), ("rooms/1/record/pause", {})],
        ("rooms/1/record/pause", {}),
        its_id,
    ),
    "resume when not paused": (
        "6.6.0",
        [("rooms/1/record/start", START)],
        ("rooms/1/record/resume", {}),
        its_id,
    ),
    "lock while recording": (
        "6.6.0",
        [("rooms/1/record/start", START)],
        ("rooms/1/lock", {}),
        its_id,
    ),
    "unlock when not locked": ("6.6.0", [], ("rooms/1/unlock", {}), no_id),
    "marker when not recording (5.x)": (
        "5.2.0",
        [],
        ("rooms/1/record/markers", MARKER),
        no_id,
    ),
    "room comment when not recording (6.x)": (
        "6.4.0",
        [],
        ("rooms/1/record/comments", MARKER),
        no_id,
    ),
    "comment on an ended recording": (
        "6.6.0",
        [("rooms/1/record/start", START), ("rooms/1/record/stop", {})],
        ("comment", comment_body),
        lambda rid: {"id": None} | comment_body(rid),
    ),
}


def fixed_sim(make_sim, **options):
    """A simulator whose clock stands still, so that snapshots compare equal."""
    return make_sim(clock=lambda: 50.0, **options)


def connect(sim, method, path, body=b"", tok=None):
    """A raw socket that has sent one API request."""
    sock = socket.create_connection(("127.0.0.1", sim.port), timeout=5)
    query = f"?access_token={tok}" if tok else ""
    head = (
        f"{method} /api/v3/{path}{query} HTTP/1.1\r\nHost: sim\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock.sendall(head.encode() + body)
    return sock


def read_for(sock, deadline_s):
    """What arrives before the server closes or the deadline passes; and whether
    the server closed."""
    end, got = time.monotonic() + deadline_s, b""
    while (left := end - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            piece = sock.recv(65536)
        except TimeoutError:
            break
        if not piece:
            return got, True
        got += piece
    return got, False


def serving_threads(sim):
    return [
        t
        for t in threading.enumerate()
        if t.name == f"valtsim-{sim.port}-conn" and t.is_alive()
    ]


# -- forbidden transitions -------------------------------------------------------------
@pytest.mark.parametrize("mode", ["409", "400", "500", "200"])
@pytest.mark.parametrize("case", list(FORBIDDEN))
def test_forbidden_transition_changes_nothing_and_answers_as_configured(
    make_sim, mode, case
):
    version, first, (path, body), success = FORBIDDEN[case]
    sim = fixed_sim(make_sim, version=version, forbidden=mode)
    t = token(sim)
    rid = None
    for step, step_body in first:
        status, payload = api(sim, "POST", step, step_body, t)
        assert status == 200, payload
        rid = rid or payload["data"]["id"]
    before = sim.state.snapshot()
    status, payload = api(sim, "POST", path, body(rid) if callable(body) else body, t)
    assert sim.state.snapshot() == before
    assert status == int(mode)
    if mode == "200":
        assert payload == success(rid)
    else:
        assert list(payload) == ["error"]
        assert re.match(r"room 1 is [^;]+; cannot ", payload["error"]), payload
    *done, refused = [e for e in sim.requests() if e["path"] != "login"]
    assert [e["changed"] for e in done] == [True] * len(first)
    assert all(e["acted"] is not None for e in done)
    assert (refused["changed"], refused["acted"], refused["status"]) == (
        False,
        None,
        int(mode),
    )
    assert refused["answered"] >= refused["time"]


def test_forbidden_mode_changes_at_run_time_and_survives_reset(make_sim):
    sim = make_sim(forbidden="400")
    assert api(sim, "POST", "rooms/1/record/stop", {}, token(sim))[0] == 400
    sim.set_forbidden(200)  # a number works too
    assert sim.forbidden == "200"
    sim.reset()
    assert sim.forbidden == "200"
    t = token(sim)
    assert api(sim, "POST", "rooms/1/unlock", {}, t) == (200, {"data": {"id": None}})
    sim.set_forbidden("409")
    assert api(sim, "POST", "rooms/1/unlock", {}, t)[0] == 409


@pytest.mark.parametrize("mode", ["302", "404", 409.0, True, None, ""])
def test_forbidden_mode_must_be_one_of_four(make_sim, mode):
    with pytest.raises(ValueError, match="one of 409, 400, 500, 200"):
        ValtSimulator(forbidden=mode)
    sim = make_sim()
    with pytest.raises(ValueError, match="forbidden='200'"):
        sim.set_forbidden(mode)
    assert sim.forbidden == "409"


def test_forbidden_mode_over_the_control_api(make_sim):
    sim = make_sim()
    config = f"{sim.url}/_sim/config"
    assert requests.get(config, timeout=5).json() == {"forbidden": "409"}
    answer = requests.post(config, json={"forbidden": "200"}, timeout=5)
    assert (answer.status_code, answer.json()) == (200, {"forbidden": "200"})
    assert api(sim, "POST", "rooms/2/record/stop", {}, token(sim))[0] == 200
    for body, message in [
        ({"forbidden": "302"}, "is not one of 409, 400, 500, 200"),
        ({"forbiden": "500"}, "unknown config key.*'forbiden'.*use \\['forbidden'\\]"),
    ]:
        answer = requests.post(config, json=body, timeout=5)
        assert answer.status_code == 400
        assert re.search(message, answer.json()["error"])
    assert sim.forbidden == "200"


def test_forbidden_on_the_command_line():
    assert build_parser().parse_args([]).forbidden == "409"
    assert build_parser().parse_args(["--forbidden", "500"]).forbidden == "500"
    process = subprocess.Popen(
        [sys.executable, "-m", "ivs_accessory.valtsim", "--port", "0"]
        + ["--forbidden", "200"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = re.search(r"listening on (http://\S+)", process.stdout.readline())[1]
        t = requests.post(
            f"{url}/api/v3/login",
            json={"username": "admin", "password": "admin"},
            timeout=5,
        ).json()["data"]["access_token"]
        answer = requests.post(
            f"{url}/api/v3/rooms/1/record/stop",
            params={"access_token": t},
            json={},
            timeout=5,
        )
        assert (answer.status_code, answer.json()) == (200, {"data": {"id": None}})
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_bad_forbidden_on_the_command_line_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--forbidden", "418"])
    assert exited.value.code == 2
    assert "--forbidden" in capsys.readouterr().err


# -- the request log -------------------------------------------------------------------
def test_log_says_what_changed_and_when_it_was_answered(make_sim):
    sim = make_sim()
    t = token(sim)
    api(sim, "POST", "rooms/1/record/start", START, t)
    api(sim, "GET", "rooms/1/status", token=t)
    api(sim, "POST", "rooms/1/record/start", START, t)
    login, started, status, refused = sim.requests()
    assert [e["changed"] for e in sim.requests()] == [None, True, None, False]
    assert started["time"] <= started["acted"] <= started["answered"]
    assert login["acted"] is None and status["acted"] is None
    assert all(e["answered"] >= e["time"] for e in (login, status, refused))
    over_http = requests.get(f"{sim.url}/_sim/requests", timeout=5).json()
    assert over_http["requests"][1]["changed"] is True


def test_a_fault_that_replaces_an_action_changes_nothing(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/record/start", status=503)
    assert api(sim, "POST", "rooms/1/record/start", START, t)[0] == 503
    assert sim.state.room_info(1)["status"] == "available"
    entry = sim.requests("rooms/1/record/start")[0]
    assert (entry["changed"], entry["status"], entry["fault"]) == (False, 503, 1)


# -- after: act, then answer -----------------------------------------------------------
def test_after_delay_acts_then_answers_late(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/record/start", after=True, delay_ms=300)
    status, payload = api(sim, "POST", "rooms/1/record/start", START, t)
    assert (status, payload) == (200, {"data": {"id": 1001}})
    entry = sim.requests("rooms/1/record/start")[0]
    assert entry["changed"] is True
    assert entry["answered"] - entry["acted"] >= 0.3


def test_after_delay_answers_after_the_client_gave_up(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/record/start", after=True, delay_ms=400)
    with connect(
        sim, "POST", "rooms/1/record/start", json.dumps(START).encode(), t
    ) as s:
        assert read_for(s, 0.1) == (b"", False)  # the client gives up here
        gave_up = time.time()
        late, _ = read_for(s, 5)  # but the socket stays open to see what comes
    assert late.startswith(b"HTTP/1.1 200 ") and late.endswith(b'{"id": 1001}}')
    entry = sim.requests("rooms/1/record/start")[0]
    assert entry["acted"] < gave_up < entry["answered"]
    assert sim.state.room_info(1)["status"] == "recording"


@pytest.mark.parametrize(
    "fault, status, body",
    [
        ({"status": 503}, 503, b'{"error": "injected fault 503"}'),
        ({"body": "<html>busy</html>"}, 200, b"<html>busy</html>"),
        ({"body": "null", "status": 502}, 502, b"null"),
        ({"malformed": True}, 200, b'{"data": {"status": "avail'),
    ],
)
def test_after_answers_badly_although_it_was_done(make_sim, fault, status, body):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/record/start", after=True, **fault)
    answer = requests.post(
        f"{sim.url}/api/v3/rooms/1/record/start",
        params={"access_token": t},
        json=START,
        timeout=5,
    )
    assert (answer.status_code, answer.content) == (status, body)
    assert sim.state.room_info(1)["status"] == "recording"
    entry = sim.requests("rooms/1/record/start")[0]
    assert (entry["changed"], entry["status"]) == (True, status)
    assert entry["acted"] <= entry["answered"]


def test_after_drop_acts_then_closes_without_an_answer(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/lock", after=True, drop=True)
    with connect(sim, "POST", "rooms/1/lock", b"{}", t) as s:
        assert read_for(s, 5) == (b"", True)
    assert sim.state.room_info(1)["status"] == "locked"
    entry = sim.requests("rooms/1/lock")[0]
    assert (entry["changed"], entry["status"], entry["answered"]) == (
        True,
        "dropped",
        None,
    )


def test_without_after_drop_does_nothing(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/lock", drop=True)
    with connect(sim, "POST", "rooms/1/lock", b"{}", t) as s:
        assert read_for(s, 5) == (b"", True)
    assert sim.state.room_info(1)["status"] == "available"
    assert sim.requests("rooms/1/lock")[0]["changed"] is False


# -- bad answers -----------------------------------------------------------------------
@pytest.mark.parametrize("path", ["rooms/1/status", "admin/users", "rooms/info/1"])
@pytest.mark.parametrize(
    "body",
    [
        "null",
        "[]",
        '{"data": null}',
        '{"data": {"id": 1e999}}',
        '{"data": {"id": "abc"}}',
        '{"data": {"status": 5}}',
        "",
    ],
)
def test_body_is_sent_as_is_on_read_paths(make_sim, path, body):
    sim = make_sim()
    sim.inject(path=path, body=body)
    answer = requests.get(
        f"{sim.url}/api/v3/{path}", params={"access_token": token(sim)}, timeout=5
    )
    assert answer.status_code == 200
    assert answer.content == body.encode()
    assert answer.headers["Content-Type"] == "application/json"
    assert sim.requests(path)[0]["status"] == 200


def test_body_with_status_and_content_type(make_sim):
    sim = make_sim()
    html = "<html><body>Bad gateway – é</body></html>"
    sim.inject(path="rooms/*", body=html, status=502, content_type="text/html")
    answer = requests.get(
        f"{sim.url}/api/v3/rooms/1/status",
        params={"access_token": token(sim)},
        timeout=5,
    )
    assert (answer.status_code, answer.headers["Content-Type"]) == (502, "text/html")
    assert answer.content == html.encode()


@pytest.mark.parametrize("size", [1, 21, 22, 1000, 200_000])
def test_padded_answer_is_valid_json_of_the_size(size):
    answer = padded_answer(200, size)
    text = b"".join(answer.chunks)
    assert len(text) == answer.length == max(size, 21)
    assert set(json.loads(text)["data"]["pad"]) <= {"x"}


def _rss_kb(field):
    with open("/proc/self/status") as status:
        return int(re.search(rf"{field}:\s+(\d+) kB", status.read())[1])


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")  # resets VmHWM, the peak resident size
        return True
    except OSError:
        return False


def test_body_bytes_streams_50_mb_without_holding_it(make_sim):
    size = 50 * MB
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/info/1", body_bytes=size)
    before = _rss_kb("VmRSS")
    peak_known = _reset_peak_rss()
    received = xs = 0
    head = tail = b""
    with requests.get(
        f"{sim.url}/api/v3/rooms/info/1",
        params={"access_token": t},
        stream=True,
        timeout=30,
    ) as answer:
        assert answer.headers["Content-Length"] == str(size)
        for chunk in answer.iter_content(65536):
            head = head or chunk[:18]
            tail = (tail + chunk)[-3:]
            received += len(chunk)
            xs += chunk.count(b"x")
    assert (received, head, tail) == (size, b'{"data": {"pad": "', b'"}}')
    assert xs == size - 21
    grown_kb = _rss_kb("VmHWM" if peak_known else "VmRSS") - before
    assert grown_kb < 8 * 1024, f"RSS grew by {grown_kb} kB while sending 50 MB"
    entry = sim.requests("rooms/info/1")[0]
    assert entry["status"] == 200 and entry["answered"] is not None


# -- trickled and endless answers ------------------------------------------------------
def test_trickle_sends_the_whole_answer_at_the_pace(make_sim):
    sim = make_sim()
    t = token(sim)
    bps = 400
    sim.inject(path="rooms/1/status", after=True, trickle_bps=bps)
    started = time.monotonic()
    with connect(sim, "GET", "rooms/1/status", tok=t) as s:
        answer, closed = read_for(s, 10)
    elapsed = time.monotonic() - started
    head, _, body = answer.partition(b"\r\n\r\n")
    assert closed and head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert json.loads(body) == {"data": {"status": "available"}}
    # The first tick's bytes go at once, the rest at the pace: an instant answer
    # cannot meet this bound.
    assert elapsed >= (len(answer) - bps * 0.05) / bps > 0.3
    entry = sim.requests("rooms/1/status")[0]
    assert entry["answered"] - entry["time"] >= (len(answer) - bps * 0.05) / bps


def test_a_client_with_a_deadline_sees_a_trickle_arrive_slowly(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/status", status=503, trickle_bps=20)
    with connect(sim, "GET", "rooms/1/status", tok=t) as s:
        got, closed = read_for(s, 1.0)
    assert not closed
    assert 1 <= len(got) <= 20 * 1.0 + 2  # far from the ~170 bytes of the answer
    assert b"HTTP/1.1 503 Service Unavailable".startswith(got)
    assert sim.wait_connections(0, timeout=5)  # the simulator saw the client leave
    entry = sim.requests("rooms/1/status")[0]
    assert (entry["status"], entry["answered"]) == (503, None)


def test_after_trickle_acts_first(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/record/start", after=True, trickle_bps=1000)
    with connect(
        sim, "POST", "rooms/1/record/start", json.dumps(START).encode(), t
    ) as s:
        answer, closed = read_for(s, 10)
    assert closed and answer.endswith(b'{"data": {"id": 1001}}')
    entry = sim.requests("rooms/1/record/start")[0]
    assert entry["changed"] is True
    assert entry["answered"] - entry["acted"] >= (len(answer) - 50) / 1000


@pytest.mark.parametrize("after, state", [(False, "available"), (True, "recording")])
def test_endless_answer_never_completes_until_the_client_leaves(make_sim, after, state):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/record/start", endless=True, trickle_bps=200, after=after)
    with connect(
        sim, "POST", "rooms/1/record/start", json.dumps(START).encode(), t
    ) as s:
        got, closed = read_for(s, 0.6)
    assert not closed
    assert got.startswith(b"HTTP/1.1 200 OK\r\nX-Trickle: x")
    assert b"\r\n\r\n" not in got and len(got) <= 200 * 0.6 + 10
    assert sim.wait_connections(0, timeout=5)
    for thread in serving_threads(sim):
        thread.join(5)
    assert serving_threads(sim) == []
    assert sim.state.room_info(1)["status"] == state
    entry = sim.requests("rooms/1/record/start")[0]
    assert (entry["changed"], entry["answered"]) == (after, None)


def test_stop_ends_an_endless_trickle_promptly(make_sim):
    sim = make_sim()
    t = token(sim)
    sim.inject(path="rooms/1/status", endless=True, trickle_bps=1, status=504)
    with connect(sim, "GET", "rooms/1/status", tok=t) as s:
        assert read_for(s, 0.3)[0].startswith(b"H")  # the trickle is under way
        threads = serving_threads(sim)
        assert threads
        started = time.monotonic()
        sim.stop()
        took = time.monotonic() - started
        rest, closed = read_for(s, 5)
    # A trickle that slept between its bytes would hold stop() for up to a second.
    assert took < 0.6, f"stop() took {took:.2f} s"
    assert not any(thread.is_alive() for thread in threads)
    assert serving_threads(sim) == []
    assert closed and b"\r\n\r\n" not in rest


# -- validation ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "options, message",
    [
        ({"after": True}, "needs an effect"),
        ({"after": "yes", "status": 500}, "'after' must be true or false"),
        ({"body": 5}, "'body' must be a string"),
        ({"body": "x", "drop": True}, "one effect of drop"),
        ({"body": "x", "body_bytes": 10}, "one effect of drop"),
        ({"status": 500, "drop": True}, "'status' goes with 'body' or 'body_bytes'"),
        ({"status": 500, "content_type": "text/html"}, "goes with 'body'"),
        ({"body": "x", "content_type": "text/html\r\nX: y"}, "header value"),
        ({"body_bytes": 0}, "'body_bytes' must be a whole number"),
        ({"body_bytes": 1.5}, "'body_bytes' must be a whole number"),
        ({"body_bytes": True}, "'body_bytes' must be a whole number"),
        ({"trickle_bps": 0, "status": 500}, "'trickle_bps' must be a number"),
        ({"trickle_bps": "fast", "status": 500}, "'trickle_bps' must be a number"),
        ({"trickle_bps": float("inf"), "after": True}, "'trickle_bps' must be"),
        ({"trickle_bps": 10}, "add 'after': true"),
        ({"trickle_bps": 10, "drop": True}, "'drop' and 'revoke_token' send none"),
        ({"endless": True, "status": 500}, "'endless' needs 'trickle_bps'"),
        ({"endless": True, "trickle_bps": 5, "body": "x"}, "never reaches its body"),
        ({"endless": 1, "trickle_bps": 5}, "'endless' must be true or false"),
    ],
)
def test_bad_fault_options_are_refused_with_the_fix(make_sim, options, message):
    sim = make_sim()
    with pytest.raises(ValueError, match=re.escape(message)):
        sim.inject(**options)
    if float("inf") not in options.values():  # JSON has no infinity
        answer = requests.post(f"{sim.url}/_sim/faults", json=options, timeout=5)
        assert answer.status_code == 400
        assert message in answer.json()["error"]
    assert sim.faults.active() == []


@pytest.mark.parametrize(
    "options",
    [
        {"body": "<html/>", "status": 502, "content_type": "text/html"},
        {"body_bytes": 1000, "status": 500, "after": True},
        {"trickle_bps": 2.5, "after": True},
        {"trickle_bps": 100, "malformed": True},
        {"endless": True, "trickle_bps": 1},
        {"endless": True, "trickle_bps": 1, "status": 503, "after": True},
        {"revoke_token": True, "after": True},
        {"delay_ms": 10, "after": True, "count": None, "duration_s": 5},
    ],
)
def test_fault_options_are_accepted_over_the_control_api(make_sim, options):
    sim = make_sim()
    answer = requests.post(f"{sim.url}/_sim/faults", json=options, timeout=5)
    assert answer.status_code == 200, answer.text
    (shown,) = requests.get(f"{sim.url}/_sim/faults", timeout=5).json()["faults"]
    assert shown["id"] == answer.json()["id"]
    assert {k: shown[k] for k in options} == options
