"""The vendor-documented ``ivs`` module, run as integrators' scripts use it."""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

import pytest
from conftest import SECRET_PASSWORD, SECRET_USER

from ivs_accessory import ivs
from ivs_accessory.errors import SystemActionError


@pytest.fixture
def vsim(make_sim, version):
    return make_sim(version=version)


@pytest.fixture
def v(vsim):
    conn = ivs.valt(vsim.url, SECRET_USER, SECRET_PASSWORD)
    vsim.clear_requests()
    yield conn
    conn.close()


def test_valt_authenticates_at_construction(vsim):
    conn = ivs.valt(vsim.url, SECRET_USER, SECRET_PASSWORD)
    try:
        assert re.fullmatch(r"[0-9a-f]{32}", conn.accesstoken)
        assert conn.username == SECRET_USER and conn.password == SECRET_PASSWORD
        assert conn.baseurl == vsim.url + "/api/v3/"
        assert conn.success_reauth_time == 28800 and conn.failure_reauth_time == 30
        assert conn.lastauthtime > 0
    finally:
        conn.close()


def test_valt_failed_authentication_leaves_token_zero(vsim):
    conn = ivs.valt(vsim.url, SECRET_USER, "wrong")
    try:
        assert conn.accesstoken == 0
        assert conn.errormsg == "Invalid Username or Password"
        vsim.clear_requests()
        assert conn.getroomstatus(1) == 0
        assert vsim.requests() == []  # no network while the token is 0
    finally:
        conn.close()


def test_valt_host_without_scheme_gets_http(vsim):
    host = urlsplit(vsim.url).netloc
    conn = ivs.valt(host, SECRET_USER, SECRET_PASSWORD)
    try:
        assert conn.baseurl == f"http://{host}/api/v3/"
        assert conn.getroomstatus(1) == 1
    finally:
        conn.close()


def test_recording_cycle_with_documented_returns(v, vsim):
    assert v.isrecording(1) is False
    assert v.getrecordingid(1) == 0
    rid = v.startrecording(1, "Interview", author=2)
    assert rid > 0
    assert vsim.requests()[-1]["body"] == {"name": "Interview", "author": 2}
    assert v.isrecording(1) is True
    assert v.getroomstatus(1) == 2
    assert v.getrecordingid(1) == rid
    assert v.pauserecording(1) == rid
    assert v.ispaused(1) is True and v.getroomstatus(1) == 3
    assert v.resumerecording(1) == rid
    assert v.ispaused(1) is False
    assert v.stoprecording(1) == rid
    assert v.getroomstatus(1) == 1


def test_startrecording_twice_returns_zero_and_keeps_token(v):
    assert v.startrecording(2, "First") > 0
    assert v.startrecording(2, "Second") == 0
    assert v.accesstoken != 0


def test_locking(v):
    assert v.islocked(3) is False
    assert v.lockroom(3) != 0
    assert v.islocked(3) is True and v.getroomstatus(3) == 4
    assert v.unlockroom(3) != 0
    assert v.getroomstatus(3) == 1


def test_prepared_is_five(v, vsim):
    vsim.set_room_status(2, "prepared")
    assert v.getroomstatus(2) == 5


def test_addmarker_documented_forms(make_sim, version):
    now = [0.0]
    sim = make_sim(version=version, clock=lambda: now[0])
    conn = ivs.valt(sim.url, SECRET_USER, SECRET_PASSWORD)
    try:
        rid = conn.startrecording(1, "Marked")
        now[0] += 9
        assert conn.getrecordingtime(1) == 9
        assert conn.addmarker(1, "Now") == 1
        assert conn.addmarker(1, "Later", "cyan", 4) == 1
        assert sorted(m["time"] for m in sim.state.markers(rid)) == [4, 9]
    finally:
        conn.close()


def test_addmarker_time_needs_colour_and_colour_must_be_known(v):
    v.startrecording(1, "Marked")
    with pytest.raises(ValueError, match="needs a colour"):
        v.addmarker(1, "x", markertime=3)
    with pytest.raises(ValueError, match="marker colour"):
        v.addmarker(1, "x", "pink")


def test_addmarker_without_recording_returns_zero(v):
    assert v.addmarker(2, "Nothing") == 0


def test_lists(v, vsim):
    rooms = v.getrooms()
    assert rooms[0] == {"id": 1, "name": "Interview Room 1"} and len(rooms) == 4
    assert v.getroomname(3) == "Simulation Lab"
    cams = v.getcameras(1)
    assert cams and all(isinstance(c, list) and len(c) == 3 for c in cams)
    schedule = v.getschedule(1)
    assert all(isinstance(s, list) and len(s) == 3 for s in schedule)
    assert schedule == sorted(schedule)
    assert v.getusername(2) == "asmith"
    assert v.getuserbycard("654321") == 3
    assert v.getuserbycard("000") == 0


def test_unknown_room_is_zero_and_keeps_token(v):
    assert v.getroomstatus(99) == 0
    assert v.errormsg == "Invalid Room, User, or Recording ID"
    assert v.accesstoken != 0


@pytest.mark.parametrize(
    "fault, message",
    [
        ({"status": 500}, "An Unknown Error Occurred"),
        ({"status": 502}, "VALT Server Offline"),
        ({"drop": True}, "Server Did Not Respond"),
        ({"malformed": True}, "An Unknown Error Occurred"),
    ],
)
def test_errors_drop_token_and_relogin_recovers(v, vsim, fault, message):
    vsim.inject(path="rooms/1/status", count=1, **fault)
    assert v.getroomstatus(1) == 0
    assert v.errormsg == message
    assert v.accesstoken == 0
    assert v.isrecording(1) == 2  # at once, without the network
    v.auth()
    assert v.getroomstatus(1) == 1 and v.errormsg is None


def test_server_down_then_back(v, vsim):
    vsim.go_down()
    assert v.isrecording(1) == 2
    assert v.errormsg == "Server Address Unreachable"
    vsim.come_up()
    v.auth()
    assert v.isrecording(1) is False


def test_function_form_getroomstatus(v, vsim):
    host = urlsplit(vsim.url).netloc
    assert ivs.getroomstatus(False, host, v.accesstoken, 1) == 1
    v.startrecording(1, "Fn")
    assert ivs.getroomstatus(False, host, v.accesstoken, 1) == 2
    assert ivs.getroomstatus(False, host, "0" * 32, 1) == 0


def test_function_form_creategroup(v, vsim):
    host = urlsplit(vsim.url).netloc
    gid = ivs.creategroup(
        False,
        host,
        v.accesstoken,
        "Residents",
        1,
        2,
        rooms=[1],
        retention_type="until",
        retention_until="12-31-2027",
    )
    assert gid > 0
    body = vsim.requests()[-1]["body"]
    assert body["retention"] == {"type": "until", "until": "12-31-2027"}
    assert body["template"] == {"information": 1, "comment": 2}
    assert v.creategroup("Method form", 1, 2) > 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"retention_type": "forever"},
        {"retention_type": "until", "retention_until": "31-12-2027"},
    ],
)
def test_function_form_creategroup_validates(kwargs):
    with pytest.raises(ValueError):
        ivs.creategroup(False, "127.0.0.1:1", "x", "G", 1, 2, **kwargs)


def test_log_appends_timestamped_lines(tmp_path):
    path = tmp_path / "ivs.log"
    ivs.log("first", str(path))
    ivs.log("second", str(path))
    lines = path.read_text().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d first", lines[0])
    assert lines[1].endswith(" second")


def test_log_is_whole_lines_from_many_threads(tmp_path):
    path = str(tmp_path / "ivs.log")

    def write(n):
        for i in range(200):
            ivs.log(f"thread {n} line {i} " + "x" * 200, path)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    lines = open(path).read().splitlines()
    assert len(lines) == 1600
    assert all(
        re.fullmatch(r"\S+ \S+ thread \d line \d+ x{200}", line) for line in lines
    )


def test_log_default_file_is_beside_the_program(tmp_path, monkeypatch):
    program = tmp_path / "myscript.py"
    monkeypatch.setattr("sys.argv", [str(program)])
    ivs.log("hello")
    assert (tmp_path / "ivs.log").read_text().endswith(" hello\n")


def test_valt_logpath_receives_lifecycle_lines(vsim, tmp_path):
    path = tmp_path / "audit.log"
    conn = ivs.valt(vsim.url, SECRET_USER, SECRET_PASSWORD, logpath=str(path))
    try:
        conn.startrecording(1, "Logged")
    finally:
        conn.close()
    text = path.read_text()
    assert "Authenticated to VALT" in text and "Recording Logged started" in text
    assert SECRET_PASSWORD not in text


def test_factorydefault_runs_the_configured_factory_default_command(tmp_path):
    trace = tmp_path / "trace"
    script = tmp_path / "start-helper"
    script.write_text(f'#!/bin/sh\necho "$@" >> {trace}\n')
    script.chmod(0o755)
    conf = tmp_path / "accessory.conf"
    conf.write_text(f"[system]\nfactory_default_command = {script} factory-default\n")
    assert ivs.factorydefault(str(conf)) is None
    assert trace.read_text() == "factory-default\n"
    conf.write_text(f"[system]\nfactory_default_command = {tmp_path}/missing\n")
    with pytest.raises(SystemActionError, match="not found"):
        ivs.factorydefault(str(conf))
