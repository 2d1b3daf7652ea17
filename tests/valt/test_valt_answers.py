"""The VALT client's answers: one deadline per call, a size cap, and shape checks so
that nothing but a ValtError ever leaves the client."""

from __future__ import annotations

import gc
import http.server
import threading
import time
from collections.abc import Callable

import pytest

from ivs_accessory.errors import ValtBadResponse, ValtError, ValtUnavailable
from ivs_accessory.valt.transport import MAX_ANSWER_BYTES, strict_json

# Every call of the client an accessory or the page makes, with its path.
CALLS = {
    "rooms/1/status": lambda c: c.room_status(1),
    "rooms/info/1": lambda c: c.room_info(1),
    "rooms/info": lambda c: c.rooms(),
    "rooms/1/record/start": lambda c: c.start(1, "Interview", author=2),
    "rooms/1/record/stop": lambda c: c.stop(1),
    "rooms/1/lock": lambda c: c.lock(1),
    "admin/users": lambda c: c.users(),
    "admin/users/2": lambda c: c.user(2),
    "admin/rooms/1/cameras": lambda c: c.cameras(1),
    "schedule": lambda c: c.schedules(1),
}
WRONG = [
    "<html><body>It worked</body></html>",
    "null",
    "[]",
    '"data"',
    '{"data": null}',
    '{"data": 7}',
    '{"data": {"id": 1e999}}',
    '{"data": {"id": "abc", "status": 5, "name": {}, "rooms": {"a": 1}}}',
    '{"data": [{"id": null}, {"id": true}, 3]}',
    '{"data": {"cameras": [{"id": 1.5}], "schedules": [{"start_at": "x"}]}}',
    '{"data": {"recording": {"id": 2, "time": -1e999}, "has_recording": true}}',
    '{"data": {"id": NaN}}',
    '{"data": {"id": Infinity}}',
    '{"data": {"id": 99999999999999999999999999}}',
    '{"data": ' * 5000 + "1" + "}" * 5000,
]


def wait_until(check: Callable[[], object], what: str, timeout: float = 10) -> None:
    """Wait (on an Event, checking every 10 ms) until ``check()`` is true."""
    tick, end = threading.Event(), time.monotonic() + timeout
    while not check():
        assert time.monotonic() < end, f"timed out waiting until {what}"
        tick.wait(0.01)


@pytest.fixture
def valt(make_sim, make_client):
    sim = make_sim(version="6.6.0")
    client = make_client(sim, timeout=2)
    client.login()
    return sim, client


@pytest.mark.parametrize("path", sorted(CALLS))
@pytest.mark.parametrize("answer", WRONG)
def test_a_wrong_answer_is_a_valt_error_never_anything_else(valt, path, answer):
    sim, client = valt
    sim.inject(path=path, body=answer)
    try:
        CALLS[path](client)
    except ValtError:
        pass  # anything else (KeyError, TypeError, OverflowError...) fails the test


@pytest.mark.parametrize(
    "answer, words",
    [
        ('{"data": {"id": "abc"}}', "has id = 'abc', not a whole number"),
        ('{"data": {"id": 1e999}}', "is out of range"),
        ('{"data": null}', "has data = None, not an object"),
        ("[]", "is [], not an object with 'data'"),
        ('{"data": {}}', "has no id"),
    ],
)
def test_the_error_names_what_was_wrong(valt, answer, words):
    sim, client = valt
    sim.inject(path="rooms/1/record/start", body=answer)
    with pytest.raises(ValtBadResponse, match="cannot start recording in room 1") as e:
        client.start(1, "Interview")
    assert words in str(e.value)


@pytest.mark.parametrize("text", ["NaN", "Infinity", "-Infinity", "1e999", "[1e400]"])
def test_strict_json_refuses_numbers_that_are_not_finite(text):
    with pytest.raises(ValueError):
        strict_json(text)


@pytest.mark.parametrize(
    "fault", [{"trickle_bps": 10}, {"trickle_bps": 1, "endless": True}]
)
def test_a_trickled_answer_ends_at_the_calls_deadline(valt, fault):
    # Socket timeouts bound each read, and a trickle never trips them: a 53-byte
    # answer at 1 byte/s once took 52 s with timeout 5, an endless one forever.
    sim, client = valt
    sim.inject(path="rooms/1/status", after=True, **fault)
    began = time.monotonic()
    with pytest.raises(ValtUnavailable, match="did not answer within 2 s") as e:
        client.room_status(1)
    assert e.value.reason == "no_response"
    assert time.monotonic() - began < 2 + 1  # the deadline, and a little for the cut
    assert client.room_status(1).value == "available"  # the next call is fine


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_an_oversized_answer_is_refused_and_memory_comes_back(valt):
    sim, client = valt
    client.room_status(1)
    gc.collect()
    before = _rss_kb()
    for size in (50_000_000, MAX_ANSWER_BYTES + 1):
        sim.inject(path="admin/users", body_bytes=size)
        with pytest.raises(ValtBadResponse, match="more than 1048576 bytes"):
            client.users()
    gc.collect()
    # A 50 MB answer once grew the daemon from 34 to 137 MB, and it stayed at 100.
    assert _rss_kb() - before < 8_000
    assert client.users()  # and the connection after it works


class _EndlessBody(http.server.BaseHTTPRequestHandler):
    """Answers 200 with no Content-Length and a body that does not end (until the
    client closes): the cap must apply to what arrives, not to a declared size."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        try:
            self.wfile.write(b'{"data": "')
            while True:
                self.wfile.write(b"x" * 65536)
        except OSError:
            pass

    def log_message(self, *args) -> None:
        pass


def test_an_answer_without_a_declared_length_is_capped_as_it_arrives(make_client):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _EndlessBody)
    server.daemon_threads = True
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    serving.start()
    try:
        transport = make_client(f"http://127.0.0.1:{server.server_port}").transport
        with pytest.raises(ValtBadResponse, match="more than 1048576 bytes"):
            transport.request("GET", "rooms/1/status", what="read the status")
    finally:
        server.shutdown()
        server.server_close()


def test_closing_the_client_cuts_a_call_in_progress(valt):
    sim, client = valt
    sim.inject(path="rooms/1/status", after=True, trickle_bps=1, endless=True)
    failed: list[BaseException] = []

    def call():
        try:
            client.room_status(1)
        except ValtError as exc:
            failed.append(exc)

    worker = threading.Thread(target=call)
    worker.start()
    wait_until(lambda: sim.requests("rooms/1/status"), "the call reached VALT")
    began = time.monotonic()
    client.close()
    worker.join(timeout=1)
    assert not worker.is_alive() and failed
    assert time.monotonic() - began < 1
