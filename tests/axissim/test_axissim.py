"""The Axis simulator over real HTTP: digest auth, param.cgi, privacymask.cgi,
ptz.cgi, faults, the control API and the command line."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys

import pytest
import requests
from conftest import CAMERA_PASSWORD
from requests.auth import HTTPBasicAuth, HTTPDigestAuth

from ivs_accessory.axissim.axis_faults import check_fault

PASSWORD = CAMERA_PASSWORD  # what make_camera gives each simulator
RIGHT = HTTPDigestAuth("root", PASSWORD)
PARAM = "/axis-cgi/param.cgi"
MASK = "/axis-cgi/privacymask.cgi"
PTZ = "/axis-cgi/com/ptz.cgi"


@pytest.fixture
def camera(make_camera):
    return make_camera()


def get(camera, path, auth=RIGHT, **params):
    return requests.get(camera.url + path, params=params, auth=auth, timeout=5)


# -- digest auth -------------------------------------------------------------------
def test_the_right_digest_login_is_served(camera):
    answer = get(camera, PARAM, action="list", group="Brand")
    assert answer.status_code == 200
    assert "root.Brand.Brand=AXIS" in answer.text
    first, second = camera.requests(PARAM.lstrip("/"))
    assert (first["status"], first["user"]) == (401, "")  # the challenge
    assert (second["status"], second["user"]) == (200, "root")


@pytest.mark.parametrize(
    "auth",
    [HTTPDigestAuth("root", "wrong"), HTTPDigestAuth("admin", PASSWORD), None],
    ids=["wrong password", "wrong user", "no login"],
)
def test_wrong_credentials_get_401_with_a_digest_challenge(camera, auth):
    answer = get(camera, PARAM, auth=auth, action="list")
    assert answer.status_code == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith("Digest ") and 'qop="auth"' in challenge
    assert "root.Brand" not in answer.text


def test_basic_auth_is_not_enough(camera):
    answer = get(camera, PARAM, auth=HTTPBasicAuth("root", PASSWORD), action="list")
    assert answer.status_code == 401


def test_a_changed_password_refuses_the_old_one(camera):
    camera.set_password("new-one")
    assert get(camera, PARAM, action="list").status_code == 401
    auth = HTTPDigestAuth("root", "new-one")
    assert get(camera, PARAM, auth=auth, action="list").status_code == 200


def test_the_log_never_holds_the_password_or_the_digest(camera):
    get(camera, PARAM, action="list")
    get(camera, PARAM, auth=HTTPDigestAuth("root", "wrong"), action="list")
    assert PASSWORD not in repr(camera.requests())
    assert "response" not in repr(camera.requests())


# -- param.cgi -----------------------------------------------------------------------
def test_param_update_changes_values_and_list_shows_them(camera):
    answer = get(
        camera,
        PARAM,
        action="update",
        **{
            "AudioSource.A0.InputGain": "mute",
            "root.PTZ.Various.V1.PanEnabled": "false",
        },
    )
    assert answer.text == "OK\n"
    listed = get(camera, PARAM, action="list", group="AudioSource.A0,PTZ.Various.V1")
    assert "root.AudioSource.A0.InputGain=mute" in listed.text
    assert "root.PTZ.Various.V1.PanEnabled=false" in listed.text
    assert "root.PTZ.Various.V1.TiltEnabled=true" in listed.text


@pytest.mark.parametrize(
    "changes",
    [
        {"AudioSource.A0.InputGain": "loud"},
        {"PTZ.Various.V1.PanEnabled": "no"},
        {"Nothing.Here": "1"},
        {"Properties.PTZ.PTZ": "no"},  # properties are read-only
    ],
)
def test_a_bad_update_changes_nothing(camera, changes):
    good = {"PTZ.Various.V1.TiltEnabled": "false"}  # valid, but not alone
    answer = get(camera, PARAM, action="update", **good, **changes)
    assert answer.status_code == 200 and answer.text.startswith("# Error: ")
    assert camera.snapshot()["gain"] == "12" and camera.snapshot()["ptz_enabled"]


def test_listing_an_unknown_group_is_an_error(camera):
    answer = get(camera, PARAM, action="list", group="Nope")
    assert answer.text == "# Error: Error -1 getting param in group 'Nope'\n"


def test_properties_say_what_the_model_has(make_camera):
    camera = make_camera(privacy_masks=False, ptz=False, audio=False)
    text = get(camera, PARAM, action="list", group="Properties").text
    assert "root.Properties.PrivacyMask.PrivacyMask=no" in text
    assert "root.Properties.PTZ.PTZ=no" in text
    assert "root.Properties.Audio.Audio=no" in text
    assert "AudioSource" not in get(camera, PARAM, action="list").text


# -- privacymask.cgi -----------------------------------------------------------------
def test_a_full_frame_mask_is_added_listed_and_removed(camera):
    added = get(camera, MASK, action="add", name="m1", width="100", height="100")
    assert (added.status_code, added.text) == (204, "")
    listed = get(camera, MASK, query="listpxjson")
    assert listed.headers["Content-Type"] == "application/json"
    [mask] = listed.json()["listpx"]
    assert (mask["name"], mask["enabled"]) == ("m1", True)
    assert mask["position"][0] == {"x": 0, "y": 0}
    assert mask["position"][2] == {"x": 1920, "y": 1080}
    params = get(camera, PARAM, action="list", group="Image.I0.Overlay.MaskWindows")
    assert "MaskWindows.M0.Name=m1" in params.text
    assert get(camera, MASK, action="remove", name="m1").status_code == 204
    assert get(camera, MASK, query="listpxjson").json() == {"listpx": []}


@pytest.mark.parametrize(
    "params, said",
    [
        ({"action": "add", "name": "m1", "width": "10", "height": "10"}, "exists"),
        ({"action": "add", "name": "m2", "width": "101", "height": "10"}, "range"),
        ({"action": "add", "name": "m2", "height": "10"}, "width: required"),
        ({"action": "add", "width": "10", "height": "10"}, "name"),
        ({"action": "remove", "name": "m9"}, "no mask named 'm9'"),
        ({"action": "explode"}, "unknown value: explode"),
    ],
)
def test_bad_mask_commands_are_refused_with_an_error_line(camera, params, said):
    get(camera, MASK, action="add", name="m1", width="50", height="50")
    answer = get(camera, MASK, **params)
    assert answer.status_code == 200 and answer.text.startswith("Error:")
    assert said in answer.text


def test_disable_all_and_enable_all(camera):
    get(camera, MASK, action="add", name="m1", width="50", height="50")
    get(camera, MASK, action="disable_all")
    assert camera.snapshot()["masks"][0]["enabled"] is False
    get(camera, MASK, action="enable_all")
    assert camera.snapshot()["masks"][0]["enabled"] is True


def test_a_model_without_masks_has_no_privacymask_cgi(make_camera):
    camera = make_camera(privacy_masks=False)
    assert get(camera, MASK, query="listpxjson").status_code == 404


# -- ptz.cgi -------------------------------------------------------------------------
def test_presets_are_listed_as_vapix_words_them(make_camera):
    camera = make_camera(presets=["Home", "Door view"])
    answer = get(camera, PTZ, query="presetposall")
    assert answer.text == (
        "Preset Positions for camera 1\npresetposno1=Home\npresetposno2=Door view\n"
    )


def test_goto_preset_moves_and_refuses_what_it_cannot(camera):
    assert get(camera, PTZ, gotoserverpresetname="Wide").status_code == 204
    assert camera.snapshot()["position"] == "Wide"
    unknown = get(camera, PTZ, gotoserverpresetname="Nowhere")
    assert unknown.text == "Error:no preset named 'Nowhere'\n"
    get(camera, PARAM, action="update", **{"PTZ.Various.V1.PanEnabled": "false"})
    disabled = get(camera, PTZ, gotoserverpresetname="Home")
    assert disabled.text.startswith("Error:PTZ control is disabled")
    assert camera.snapshot()["position"] == "Wide"


def test_a_fixed_camera_has_no_ptz_cgi(make_camera):
    camera = make_camera(ptz=False)
    assert get(camera, PTZ, query="presetposall").status_code == 404


# -- faults --------------------------------------------------------------------------
def test_refuse_credentials_answers_401_to_the_right_login(camera):
    camera.inject(refuse_credentials=True, count=2)
    assert get(camera, PARAM, action="list").status_code == 401
    assert get(camera, PARAM, action="list").status_code == 200  # used up


def test_not_applied_answers_success_and_changes_nothing(camera):
    camera.inject(not_applied=True)
    added = get(camera, MASK, action="add", name="m1", width="100", height="100")
    assert added.status_code == 204
    updated = get(
        camera, PARAM, action="update", **{"AudioSource.A0.InputGain": "mute"}
    )
    assert updated.text == "OK\n"
    assert camera.snapshot()["masks"] == [] and camera.snapshot()["gain"] == "12"


def test_status_and_error_faults_follow_the_path(camera):
    camera.inject(path="axis-cgi/privacymask.cgi", status=404)
    camera.inject(path="axis-cgi/param.cgi", error="Error setting 'x' to 'y'!")
    assert get(camera, MASK, query="listpxjson").status_code == 404
    assert (
        get(camera, PARAM, action="list").text == "# Error: Error setting 'x' to 'y'!\n"
    )
    assert get(camera, PTZ, query="presetposall").status_code == 200


def test_drop_closes_the_connection_without_an_answer(camera):
    camera.inject(drop=True, count=1)
    with pytest.raises(requests.ConnectionError):
        get(camera, PARAM, action="list")
    assert get(camera, PARAM, action="list").status_code == 200


def test_hang_never_answers_and_stop_ends_it(make_camera):
    camera = make_camera()
    camera.inject(hang=True, path="axis-cgi/param.cgi")
    with pytest.raises(requests.ReadTimeout):
        requests.get(
            camera.url + PARAM, params={"action": "list"}, auth=RIGHT, timeout=0.5
        )
    hung = [e for e in camera.requests() if e["status"] == "hung"]
    assert len(hung) == 1  # before the login was even asked for
    camera.stop()  # wakes the hung answer and joins its thread
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", camera.port)) != 0


def test_delay_answers_late_but_answers(camera):
    camera.inject(delay_ms=50, count=1)
    assert get(camera, PARAM, action="list").status_code == 200


@pytest.mark.parametrize(
    "options, said",
    [
        ({}, "exactly one effect"),
        ({"hang": True, "drop": True}, "exactly one effect"),
        ({"status": 99}, "HTTP status"),
        ({"drop": True, "count": 0}, "at least 1"),
        ({"drop": True, "colour": "red"}, "unknown fault option"),
    ],
)
def test_bad_faults_are_refused_with_the_reason(options, said):
    with pytest.raises(ValueError, match=said):
        check_fault(options)


# -- control API ---------------------------------------------------------------------
def test_the_control_api_needs_no_login_and_drives_the_camera(camera):
    url = camera.url + "/_sim/"
    fault = requests.post(url + "faults", json={"refuse_credentials": True}, timeout=5)
    assert fault.json() == {"id": 1}
    assert requests.get(url + "faults", timeout=5).json()["faults"][0]["id"] == 1
    assert get(camera, PARAM, action="list").status_code == 401
    requests.delete(url + "faults", timeout=5)
    assert get(camera, PARAM, action="list").status_code == 200
    logged = requests.get(
        url + "requests", params={"path": "axis-cgi/param.cgi"}, timeout=5
    )
    assert [e["status"] for e in logged.json()["requests"]][-1] == 200
    state = requests.get(url + "state", timeout=5).json()
    assert state["gain"] == "12" and state["presets"] == ["Home", "Wide", "Table"]
    config = requests.post(url + "config", json={"ptz": False}, timeout=5)
    assert config.json()["features"]["ptz"] is False
    assert get(camera, PTZ, query="presetposall").status_code == 404
    requests.post(url + "config", json={"password": "other"}, timeout=5)
    assert get(camera, PARAM, action="list").status_code == 401
    assert requests.post(url + "reset", timeout=5).json() == {"reset": True}
    assert camera.requests() == []


@pytest.mark.parametrize(
    "method, path, body, status",
    [
        ("GET", "nothing", None, 404),
        ("POST", "faults", {"drop": True, "hang": True}, 400),
        ("POST", "config", {"zoom": True}, 400),
        ("POST", "config", {"ptz": "yes"}, 400),
        ("POST", "faults", [1, 2], 400),
    ],
)
def test_the_control_api_refuses_bad_requests_in_json(
    camera, method, path, body, status
):
    answer = requests.request(method, f"{camera.url}/_sim/{path}", json=body, timeout=5)
    assert answer.status_code == status and "error" in answer.json()


# -- command line --------------------------------------------------------------------
def test_command_line_serves_on_a_free_port_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "ivs_accessory.axissim", "--port", "0", "--no-ptz"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        found = re.fullmatch(r"Axis camera simulator listening on (http://\S+)\n", line)
        assert found, line
        url = found.group(1)
        answer = requests.get(
            url + PTZ,
            params={"query": "presetposall"},
            auth=HTTPDigestAuth("root", "pass"),
            timeout=5,
        )
        assert answer.status_code == 404
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
