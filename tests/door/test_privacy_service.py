"""The whole daemon with cameras: keys typed on a console source, the VALT simulator
with the room's cameras, two Axis simulators; the audit log and the status."""

from __future__ import annotations

import json
import queue
import threading
from pathlib import Path

import pytest
from conftest import PipeConsoles, valt_data_with_cameras

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.config import load
from ivs_accessory.service import Service

CAMERA_PW = "Audit-Cam-Pw-5150"


@pytest.fixture
def daemon(tmp_path, make_sim):
    cams = [AxisSimulator(password=CAMERA_PW).start() for _ in range(2)]
    cams[1].inject(hang=True)  # Hall cam is dead
    names = ("Desk cam", "Hall cam")
    data = valt_data_with_cameras(
        [(name, sim, CAMERA_PW) for name, sim in zip(names, cams, strict=True)]
    )
    valt = make_sim(version="6.6.0", data=data)
    audit = tmp_path / "audit.log"
    path = tmp_path / "accessory.conf"
    path.write_text(
        f"[valt]\nserver = {valt.url}\nusername = admin\npassword = admin\nroom = 1\n"
        f"[logging]\naudit_file = {audit}\n[web]\nenabled = false\n"
        "[privacy]\ncameras = valt\non_start = clear\ncamera_timeout_s = 1\n"
        "camera_check_s = 0\n"
        "[bindings]\nKEY_F1 = privacy_on\nKEY_F2 = privacy_off\nKEY_F3 = preset:Wide\n"
        "[source:door]\nkind = console\n"
    )
    console = PipeConsoles()
    outcomes: queue.Queue = queue.Queue()
    service = Service(load(str(path)), source_factory=console, on_outcome=outcomes.put)
    service.start()
    try:
        yield service, console, outcomes, audit, cams
    finally:
        service.stop()
        for sim in cams:
            sim.stop()


def test_privacy_start_and_preset_are_audited_with_each_camera(daemon):
    service, console, outcomes, audit, cams = daemon
    console.type("door", "key KEY_F1")
    on = outcomes.get(timeout=10)
    assert on.message == (
        "Privacy on: room locked, 1 of 2 cameras; Hall cam: did not answer within 1 s"
    )
    status = service.status()["privacy"]
    assert status["state"] == "partial" and status["source"] == "valt"
    assert [(c["name"], c["private"]) for c in status["cameras"]] == [
        ("Desk cam", True),
        ("Hall cam", None),
    ]
    assert status["cameras"][1]["problem"] == "did not answer within 1 s"
    console.type("door", "123456")  # on_start = clear: privacy off, then the recording
    started = outcomes.get(timeout=10)
    assert started.result == "started"
    assert started.message.endswith("privacy off first: room unlocked, 1 of 1 camera")
    console.type("door", "key KEY_F3")
    moved = outcomes.get(timeout=10)
    assert moved.result == "partial" and cams[0].snapshot()["position"] == "Wide"
    entries = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(e["action"], e["result"]) for e in entries] == [
        ("privacy_on", "partial"),
        ("toggle", "started"),
        ("preset:Wide", "partial"),
    ]
    assert entries[0]["cameras"] == {
        "Desk cam": "ok",
        "Hall cam": "did not answer within 1 s",
    }
    assert entries[1]["cameras"] == {"Desk cam": "ok"}
    assert entries[0]["intent"] == "privacy_on" and entries[2]["intent"] == "preset"
    assert CAMERA_PW not in audit.read_text()


def test_stopping_the_daemon_leaves_no_camera_thread(daemon):
    service, console, outcomes, audit, cams = daemon
    console.type("door", "key KEY_F1")
    outcomes.get(timeout=10)
    service.stop()
    alive = [t.name for t in threading.enumerate() if t.name.startswith("camera-")]
    assert alive == []


def test_the_watchdog_allows_for_the_cameras_deadlines(tmp_path):
    from ivs_accessory.wiring import hung_after_s

    path = tmp_path / "a.conf"
    path.write_text(
        "[valt]\ntimeout_s = 5\n[privacy]\ncameras = valt\ncamera_timeout_s = 30\n"
    )
    # 8 VALT timeouts, and a toggle's read and set of the cameras (2 s of grace).
    assert hung_after_s(load(str(path))) == 8 * 5 + 2 * 30 + 2


def test_a_reload_keeps_what_the_door_knows_of_the_cameras_unless_they_change(
    daemon,
):
    service, console, outcomes, audit, cams = daemon
    console.type("door", "key KEY_F1")
    outcomes.get(timeout=10)
    before = service.dispatcher.actions.privacy
    service.reload(load(service.config.path))
    assert service.dispatcher.actions.privacy is before
    assert service.status()["privacy"]["cameras"][0]["private"] is True
    path = Path(service.config.path)
    path.write_text(
        path.read_text().replace("camera_timeout_s = 1", "camera_timeout_s = 2")
    )
    service.reload(load(service.config.path))
    after = service.dispatcher.actions.privacy
    assert after is not before and after.roster.timeout_s == 2
    assert before.roster.known() == []  # the old one's cameras were closed
