"""/metrics from prometheus_client: scraped over loopback, parsed, moved by events."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ivs_accessory.config import load
from ivs_accessory.door.lamp_memory import MemoryLights
from ivs_accessory.service import Service
from ivs_accessory.valt.timings import TimingRecorder
from ivs_accessory.web import WebServer, create_app
from ivs_accessory.web.exporter import MetricsExporter, Scrape

from .helpers import (
    ADMIN_PASSWORD,
    PipeConsoles,
    set_admin_password,
    start_box,
    write_box_config,
)
from .wsgi import WsgiClient


class Served:
    """The page of a service, served by the daemon's own server on 127.0.0.1."""

    def __init__(self, service: Service) -> None:
        self.app = create_app(service, devices=lambda: [])
        self.server = WebServer(self.app, address="127.0.0.1", port=0)
        self.server.start()

    def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every sample of /metrics as ``{(name, sorted labels): value}``."""
        answer = requests.get(self.server.url + "metrics", timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.text)
            for s in family.samples
        }

    def types(self) -> dict[str, str]:
        text = requests.get(self.server.url + "metrics", timeout=10).text
        return {f.name: f.type for f in text_string_to_metric_families(text)}


@pytest.fixture
def served(tmp_path, make_sim) -> Iterator[tuple[Served, object]]:
    box = start_box(tmp_path, make_sim(version="6.6.0"))
    page = None
    try:
        page = Served(box.service)
        yield page, box
    finally:
        if page is not None:
            page.server.stop()
        box.service.stop()


def one(samples, name, **labels) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def test_metrics_follow_an_outcome_and_valt_going_down(served):
    page, box = served
    before = page.scrape()
    assert ("ivs_accessory_actions_total", (("result", "started"),)) not in before
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    after = page.scrape()
    assert one(after, "ivs_accessory_actions_total", result="started") == 1
    assert one(after, "ivs_accessory_input_events_total") == 1
    assert one(after, "ivs_accessory_source_connected", source="door") == 1
    assert one(after, "ivs_accessory_valt_up") == 1
    assert one(after, "ivs_accessory_valt_state", state="connected") == 1
    assert one(after, "ivs_accessory_valt_login_failing") == 0
    assert one(after, "ivs_accessory_network_trial_pending") == 0
    assert one(after, "ivs_accessory_info", version=_version()) == 1
    sent = box.service.client.request_count
    assert sent > 0
    assert one(after, "ivs_accessory_valt_requests_total") == sent
    assert one(after, "ivs_accessory_valt_request_duration_seconds_count") == sent
    assert (
        one(after, "ivs_accessory_valt_request_duration_seconds_bucket", le="+Inf")
        == sent
    )
    assert one(after, "ivs_accessory_valt_request_duration_seconds_sum") > 0

    box.sim.inject(down=True)
    box.consoles.type("door", "654321")
    assert box.outcomes.get(timeout=10).result == "offline"
    down = page.scrape()
    assert one(down, "ivs_accessory_valt_up") == 0
    assert one(down, "ivs_accessory_valt_state", state="unreachable") == 1
    assert one(down, "ivs_accessory_actions_total", result="offline") == 1
    assert one(down, "ivs_accessory_valt_request_duration_seconds_count") > sent
    box.sim.come_up()


def _version() -> str:
    from ivs_accessory import __version__

    return __version__


def test_metric_types_are_the_documented_ones(served):
    types = served[0].types()
    assert types["ivs_accessory_actions"] == "counter"
    assert types["ivs_accessory_valt_request_duration_seconds"] == "histogram"
    assert types["ivs_accessory_valt_up"] == "gauge"
    assert types["ivs_accessory_source_connected"] == "gauge"
    assert types["ivs_accessory_info"] == "gauge"  # info is a gauge in text 0.0.4


def test_histogram_buckets_never_go_down(served):
    page, box = served
    box.consoles.type("door", "123456")
    assert box.outcomes.get(timeout=10).result == "started"
    samples = page.scrape()
    buckets = sorted(
        (float(dict(labels)["le"]), value)
        for (name, labels), value in samples.items()
        if name == "ivs_accessory_valt_request_duration_seconds_bucket"
    )
    counts = [value for _, value in buckets]
    assert counts == sorted(counts) and counts[-1] > 0


def test_a_refused_login_shows_as_login_failing(tmp_path, make_sim):
    box = start_box(tmp_path, make_sim(version="6.6.0"), password="wrong-password")
    page = Served(box.service)
    try:
        box.consoles.type("door", "123456")
        box.outcomes.get(timeout=10)
        samples = page.scrape()
        assert one(samples, "ivs_accessory_valt_login_failing") == 1
        assert one(samples, "ivs_accessory_valt_state", state="login_refused") == 1
        assert one(samples, "ivs_accessory_valt_state", state="connected") == 0
    finally:
        page.server.stop()
        box.service.stop()


def test_a_network_change_on_trial_is_pending_until_confirmed(served):
    page, box = served
    set_admin_password(box.folder)
    admin = WsgiClient(page.app)
    assert admin.login(ADMIN_PASSWORD).status == 303
    answer = admin.post(
        "/network",
        {"mode": "static", "address": "192.0.2.77/24", "password": ADMIN_PASSWORD},
    )
    assert answer.status == 200
    assert one(page.scrape(), "ivs_accessory_network_trial_pending") == 1
    page.app.config["ivs.page"].trial.close()  # nobody confirmed: rolled back
    assert one(page.scrape(), "ivs_accessory_network_trial_pending") == 0


def test_lamp_connected_and_what_it_shows(tmp_path, make_sim):
    sim = make_sim(version="6.6.0")
    sim.state.set_room_status(1, "recording")
    path = write_box_config(tmp_path, sim.url, extra="\n[lamp]\nenabled = true\n")
    lights = MemoryLights()
    service = Service(load(str(path)), open_light=lights, source_factory=PipeConsoles())
    service.start()
    page = Served(service)
    try:
        assert lights.wait_for(lambda seen: seen.shown == (255, 0, 0))
        samples = page.scrape()
        assert one(samples, "ivs_accessory_lamp_connected") == 1
        assert one(samples, "ivs_accessory_lamp_showing", meaning="recording") == 1
        assert one(samples, "ivs_accessory_lamp_showing", meaning="available") == 0
    finally:
        page.server.stop()
        service.stop()


def test_no_lamp_and_no_cameras_no_such_series(served):
    names = {name for name, _ in served[0].scrape()}
    assert "ivs_accessory_lamp_connected" not in names
    assert "ivs_accessory_privacy_state" not in names


def scrape_of(**status_changes) -> dict:
    status = {
        "valt": {"online": None, "state": "connecting"},
        "sources": {'odd"name\\': {"connected": True, "reconnects": 2}},
        "dispatcher": {"alive": True, "events": 0, "dropped": 0, "outcomes": {}},
        "uptime_s": 3.0,
        "lamp": None,
        "privacy": None,
    } | status_changes
    recorder = TimingRecorder()
    for seconds in (0.004, 0.01, 0.3, 30.0):
        recorder.observe(seconds)
    exporter = MetricsExporter(
        lambda: Scrape(status, recorder.snapshot(), False, False)
    )
    text = exporter.render().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_exporter_escapes_labels_and_counts_into_buckets():
    samples = scrape_of()
    assert one(samples, "ivs_accessory_source_connected", source='odd"name\\') == 1
    assert one(samples, "ivs_accessory_valt_up") == -1
    bucket = "ivs_accessory_valt_request_duration_seconds_bucket"
    assert one(samples, bucket, le="0.01") == 2  # 0.004 and 0.01 (le is inclusive)
    assert one(samples, bucket, le="0.5") == 3
    assert one(samples, bucket, le="10.0") == 3
    assert one(samples, bucket, le="+Inf") == 4


def test_exporter_privacy_per_camera_leaves_out_the_unknown():
    privacy = {
        "state": "partial",
        "cameras": [
            {"name": "Desk", "private": True},
            {"name": "Hall", "private": None},
        ],
    }
    samples = scrape_of(privacy=privacy)
    assert one(samples, "ivs_accessory_privacy_state", state="partial") == 1
    assert one(samples, "ivs_accessory_privacy_state", state="on") == 0
    assert one(samples, "ivs_accessory_camera_private", camera="Desk") == 1
    assert ("ivs_accessory_camera_private", (("camera", "Hall"),)) not in samples


def test_the_daemon_loads_prometheus_client_only_when_scraped():
    # A fresh interpreter: this one has imported prometheus_client already.
    code = (
        "import sys\n"
        "import ivs_accessory.daemon, ivs_accessory.service, ivs_accessory.web\n"
        "import ivs_accessory.web.app, ivs_accessory.web.page\n"
        "print('prometheus_client' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_every_exported_metric_is_in_the_readme_table():
    lamp = {"connected": False, "showing": "starting"}
    privacy = {"state": "on", "cameras": [{"name": "Desk", "private": True}]}
    dispatcher = {"alive": True, "events": 1, "dropped": 0, "outcomes": {"denied": 1}}
    samples = scrape_of(lamp=lamp, privacy=privacy, dispatcher=dispatcher)
    exported = {
        re.sub(r"_seconds_(bucket|sum|count)$", "_seconds", name) for name, _ in samples
    }
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = set(re.findall(r"^\| `(ivs_accessory_[a-z_]+)` \|", readme, re.MULTILINE))
    assert exported == table
