"""The door page served for real: its event stream, the pad end to end through the
daemon, and changes made in VALT itself reaching the screens within the interval."""

from __future__ import annotations

import json
import queue
import re
import threading

import pytest
import requests
from conftest import FakeClock

from ivs_accessory.config import load
from ivs_accessory.service import Service
from ivs_accessory.web import WebServer, create_app

from .helpers import PipeConsoles, start_box, write_box_config
from .sse import EventStream

PAD = "\n[door]\nkeypad = true\n"
ALICE, WRONG = "123456", "9000{}1"


def serve(service) -> WebServer:
    server = WebServer(create_app(service), address="127.0.0.1", port=0)
    server.start()
    return server


@pytest.fixture
def door_site(tmp_path, make_sim):
    """``door_site(extra=PAD) -> (box, url)``: a daemon and its page, served."""
    made = []

    def make(extra: str = PAD):
        box = start_box(tmp_path, make_sim(version="6.6.0"), extra=extra)
        server = serve(box.service)
        made.append((box, server))
        return box, server.url

    try:
        yield make
    finally:
        for box, server in made:
            server.stop()
            box.service.stop()


class Pad:
    """A browser on the box using the pad: the page's cookie and token, then PINs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        page = self.http.get(url + "door", timeout=10)
        found = re.search(r'name="door-csrf" content="([^"]+)"', page.text)
        self.token = found.group(1) if found else ""

    def type(self, pin: str, token: str | None = "page") -> requests.Response:
        headers = {"X-CSRF-Token": self.token if token == "page" else token or ""}
        if token is None:
            headers = {}
        return self.http.post(
            self.url + "door/pin", data={"pin": pin}, headers=headers, timeout=10
        )


def test_stream_sends_the_state_at_once_then_each_outcome(door_site):
    box, url = door_site("")
    with EventStream(url) as stream:
        assert stream.response.getheader("Content-Type").startswith("text/event-stream")
        first = stream.until(lambda e: e["state"] == "available")
        assert stream.retry_ms == 3000 and first["title"] == "Interview Room 1"
        box.consoles.type("door", ALICE)
        shown = stream.until(lambda e: e["outcome"] is not None)
        assert shown["state"] == "recording"
        assert shown["outcome"]["words"] == "Recording started for Alice Smith"
        assert shown["started_by"] == "Alice Smith" and shown["elapsed_s"] < 5
        gone = stream.until(lambda e: e["outcome"] is None)  # after 3 s
        assert gone["state"] == "recording" and gone["version"] > shown["version"]


def test_a_pin_on_the_pad_starts_a_recording_through_the_daemon(door_site):
    box, url = door_site()
    pad = Pad(url)
    assert pad.token
    with EventStream(url) as stream:
        stream.until(lambda e: e["state"] == "available")
        assert pad.type(ALICE).status_code == 202
        outcome = box.outcomes.get(timeout=10)
        assert (outcome.source, outcome.result) == ("touch", "started")
        assert box.sim.state.room_info(1)["status"] == "recording"
        shown = stream.until(lambda e: e["outcome"] is not None)
        assert shown["outcome"]["words"] == "Recording started for Alice Smith"
    audit = [json.loads(line) for line in (box.folder / "audit.log").open()]
    assert audit[-1]["source"] == "touch" and audit[-1]["result"] == "started"
    assert ALICE not in (box.folder / "audit.log").read_text()


def test_the_pads_wrong_pins_meet_the_doors_lockout(door_site):
    box, url = door_site()
    pad = Pad(url)
    results = []
    for attempt in range(5):
        assert pad.type(WRONG.format(attempt)).status_code == 202
        results.append(box.outcomes.get(timeout=10).result)
    assert results == ["denied"] * 5
    pad.type(ALICE)  # the right PIN, but the pad is locked out now
    locked = box.outcomes.get(timeout=10)
    assert (locked.source, locked.result) == ("touch", "locked_out")
    assert box.sim.state.room_info(1)["status"] == "available"
    box.consoles.type("door", ALICE)  # another keypad is not locked
    assert box.outcomes.get(timeout=10).result == "started"


def test_the_same_pin_twice_at_once_is_one_input(door_site):
    box, url = door_site()
    pad = Pad(url)
    pad.type(ALICE)
    pad.type(ALICE)
    results = sorted(box.outcomes.get(timeout=10).result for _ in range(2))
    assert results == ["repeat", "started"]


def test_a_client_outside_allowed_clients_is_refused(door_site):
    box, url = door_site(PAD + "allowed_clients = 10.0.0.0/8\n")
    pad = Pad(url)
    assert not pad.token  # the page offers no pad to this client
    answer = pad.type(ALICE, token="x" * 32)
    assert answer.status_code == 403
    assert "allowed_clients" in answer.json()["error"]
    assert box.service.panel.touch.pins == 0


def test_a_pin_without_the_token_is_refused(door_site):
    box, url = door_site()
    pad = Pad(url)
    assert pad.type(ALICE, token=None).status_code == 403
    assert pad.type(ALICE, token="not-the-token-but-long-enough").status_code == 403
    assert box.service.panel.touch.pins == 0


def test_screens_over_the_limit_get_the_state_and_come_back_later(tmp_path, make_sim):
    box = start_box(tmp_path, make_sim(version="6.6.0"))
    server = serve(box.service)
    server.app.config["ivs.page"].door_streams.limit = 2  # 12 on the box
    streams = [EventStream(server.url) for _ in range(2)]
    try:
        for stream in streams:
            stream.next()
        with EventStream(server.url) as third:
            assert third.next()["title"]  # the state, once
            assert third.retry_ms == 15_000
            assert third.next() is None  # ended: the browser comes back later
        assert box.service.panel.board.viewers == 2
    finally:
        for stream in streams:
            stream.close()
        server.stop()
        box.service.stop()


def test_stopping_the_page_ends_open_streams(tmp_path, make_sim):
    box = start_box(tmp_path, make_sim(version="6.6.0"))
    before = set(threading.enumerate())  # other tests' servers may still be ending
    server = serve(box.service)
    try:
        streams = [EventStream(server.url) for _ in range(3)]
        for stream in streams:
            stream.next()
        assert box.service.panel.board.viewers == 3
        server.stop()  # cheroot waits for its workers: the streams must end
        # A change may race the stop (the first screen starts the schedule read),
        # so a stream may carry one more state before its end.
        assert all(s.ended(within_s=5) <= 2 for s in streams)
        ours = [t for t in threading.enumerate() if t not in before]
        assert not any(t.name == "web" for t in ours)
    finally:
        server.stop()
        box.service.stop()


# -- changes made in VALT itself ------------------------------------------------------


class Turns:
    """A feedback sink counting the dispatcher's turns (each ends with a tick)."""

    def __init__(self) -> None:
        self.count = 0
        self.changed = threading.Condition()

    def show(self, outcome) -> None:
        pass

    def entry(self, source, length) -> None:
        pass

    def room(self, status, online) -> None:
        pass

    def tick(self, now) -> None:
        with self.changed:
            self.count += 1
            self.changed.notify_all()

    def wait(self, turns: int = 3) -> None:
        with self.changed:
            target = self.count + turns
            assert self.changed.wait_for(lambda: self.count >= target, 10)


@pytest.fixture
def valt_ui(tmp_path, make_sim):
    """``valt_ui(extra) -> (sim, service, url, clock, turns)``: a daemon on a fake
    clock, its page served for real; the simulator is changed as VALT's UI would."""
    made = []

    def make(extra: str):
        sim = make_sim(version="6.6.0")
        path = write_box_config(tmp_path, sim.url, extra=extra)
        clock, turns = FakeClock(), Turns()
        service = Service(
            load(str(path)),
            source_factory=PipeConsoles(),
            feedback=[turns],
            clock=clock,
        )
        service.start()
        server = serve(service)
        made.append((service, server))
        return sim, service, server.url, clock, turns

    try:
        yield make
    finally:
        for service, server in made:
            server.stop()
            service.stop()


def start_in_valts_ui(sim) -> None:
    """Start a recording through the simulator's control API, not the door."""
    answer = requests.post(
        f"{sim.url}/_sim/rooms/1/status", json={"status": "recording"}, timeout=10
    )
    answer.raise_for_status()


def status_reads(sim) -> int:
    return len([r for r in sim.requests() if r["path"] == "rooms/1/status"])


@pytest.mark.parametrize(
    "extra",
    [
        "\n[door]\nscreen = true\n",  # a kiosk by the door
        "",  # no screen configured, but this page is open: it counts
    ],
    ids=["screen", "page-open"],
)
def test_a_recording_started_in_valt_shows_within_10_s(valt_ui, extra):
    sim, service, url, clock, turns = valt_ui(extra)
    with EventStream(url) as stream:
        stream.until(lambda e: e["state"] == "available")
        reads = status_reads(sim)
        start_in_valts_ui(sim)
        clock.advance(10)
        shown = stream.until(lambda e: e["state"] == "recording")
        assert shown["started_by"] is None  # not started at this door
        assert status_reads(sim) == reads + 1


def test_an_explicit_refresh_interval_is_kept_with_a_screen(valt_ui):
    sim, service, url, clock, turns = valt_ui(
        "\n[door]\nscreen = true\n\n[mapping]\nstatus_refresh_s = 30\n"
    )
    with EventStream(url) as stream:
        stream.until(lambda e: e["state"] == "available")
        reads = status_reads(sim)
        start_in_valts_ui(sim)
        clock.advance(10)
        turns.wait()  # the dispatcher looked at least once since
        assert status_reads(sim) == reads
        clock.advance(20)
        stream.until(lambda e: e["state"] == "recording")
        assert status_reads(sim) == reads + 1


def test_without_screen_or_page_the_room_is_read_every_minute(valt_ui):
    sim, service, url, clock, turns = valt_ui("")
    turns.wait()
    reads = status_reads(sim)
    clock.advance(59)
    turns.wait()
    assert status_reads(sim) == reads
    clock.advance(1)
    turns.wait()
    assert status_reads(sim) == reads + 1


def test_door_page_works_in_safe_mode(tmp_path, make_sim):
    from ivs_accessory.safe_mode import start_config

    sim = make_sim(version="6.6.0")
    path = write_box_config(tmp_path, sim.url.replace("http://", "htps://"))
    config, safe_mode = start_config(str(path))
    outcomes: queue.Queue = queue.Queue()
    service = Service(
        config,
        safe_mode=safe_mode,
        source_factory=PipeConsoles(),
        on_outcome=outcomes.put,
    )
    service.start()
    server = serve(service)
    try:
        assert requests.get(server.url + "door", timeout=10).status_code == 200
        with EventStream(server.url) as stream:
            shown = stream.until(lambda e: e["state"] == "not_configured")
        assert shown["detail"] == "Configuration invalid"
    finally:
        server.stop()
        service.stop()
