"""The VAPIX client against the Axis simulator: privacy with read-back, presets,
digest auth, refused credentials, deadlines, missing features, not applied."""

from __future__ import annotations

import logging
import time

import pytest

from ivs_accessory.cameras.camera_ops import (
    MASK_NAME,
    NotPtz,
    goto_preset,
    read_privacy,
    set_privacy,
)
from ivs_accessory.cameras.fanout import run_all
from ivs_accessory.errors import (
    CameraAuthError,
    CameraNotApplied,
    CameraRefused,
    CameraUnavailable,
    CameraUnsupported,
)

from .conftest import CAMERA_PASSWORD


def privacy(camera, on):
    with camera.operation():
        return set_privacy(camera, on)


def state(camera):
    with camera.operation():
        return read_privacy(camera)


# -- privacy -------------------------------------------------------------------------
def test_privacy_on_masks_mutes_and_locks_ptz_and_reads_it_back(
    make_camera, make_vapix
):
    sim = make_camera()
    camera = make_vapix(sim)
    reading = privacy(camera, True)
    assert reading.private and not reading.public
    snap = sim.snapshot()
    [mask] = snap["masks"]
    assert (mask["name"], mask["enabled"]) == (MASK_NAME, True)
    assert mask["position"][2] == {"x": 1920, "y": 1080}  # the whole frame
    assert snap["gain"] == "mute" and snap["ptz_enabled"] is False
    assert state(camera) == reading
    # Digest auth, never a password in a URL or the log.
    assert {e["user"] for e in sim.requests() if e["status"] != 401} == {"root"}


def test_privacy_off_restores_the_gain_the_camera_had(make_camera, make_vapix):
    sim = make_camera(gain="-6")
    camera = make_vapix(sim)
    privacy(camera, True)
    reading = privacy(camera, False)
    assert reading.public
    snap = sim.snapshot()
    assert snap["masks"] == [] and snap["gain"] == "-6" and snap["ptz_enabled"]


def test_after_a_restart_the_gain_goes_back_to_0_db(make_camera, make_vapix):
    sim = make_camera(gain="-6")
    privacy(make_vapix(sim), True)
    privacy(make_vapix(sim), False)  # a new client does not know the old gain
    assert sim.snapshot()["gain"] == "0"


def test_privacy_twice_changes_nothing_the_second_time(make_camera, make_vapix):
    sim = make_camera()
    camera = make_vapix(sim)
    privacy(camera, True)
    sim.clear_requests()
    privacy(camera, True)
    writes = [
        e
        for e in sim.requests()
        if e["query"].get("action") in ("add", "remove", "update")
    ]
    assert writes == [] and len(sim.snapshot()["masks"]) == 1


def test_masks_of_the_integrator_stay(make_camera, make_vapix):
    sim = make_camera()
    sim.state.add_mask("Window", 10, 10, (20, 20))
    camera = make_vapix(sim)
    privacy(camera, True)
    privacy(camera, False)
    assert [m["name"] for m in sim.snapshot()["masks"]] == ["Window"]


def test_a_camera_without_masks_is_left_as_it_is(make_camera, make_vapix):
    sim = make_camera(privacy_masks=False)
    with pytest.raises(CameraUnsupported, match="has no privacy masks"):
        privacy(make_vapix(sim), True)
    snap = sim.snapshot()
    assert snap["gain"] == "12" and snap["ptz_enabled"] is True


def test_a_fixed_camera_without_audio_is_private_with_its_mask_alone(
    make_camera, make_vapix
):
    sim = make_camera(ptz=False, audio=False)
    reading = privacy(make_vapix(sim), True)
    assert reading.private and (reading.muted, reading.ptz_enabled) == (None, None)


@pytest.mark.parametrize(
    "path, said",
    [
        ("axis-cgi/privacymask.cgi", "the privacy mask"),
        ("axis-cgi/param.cgi", "the audio mute and the PTZ lock"),
    ],
)
def test_accepted_but_not_applied_is_caught_by_the_read_back(
    make_camera, make_vapix, path, said
):
    sim = make_camera()
    sim.inject(not_applied=True, path=path)
    with pytest.raises(CameraNotApplied, match=f"accepted but did not apply {said}$"):
        privacy(make_vapix(sim), True)


def test_not_applied_on_the_way_out_is_caught_too(make_camera, make_vapix):
    sim = make_camera()
    camera = make_vapix(sim)
    privacy(camera, True)
    sim.inject(not_applied=True, path="axis-cgi/privacymask.cgi")
    with pytest.raises(CameraNotApplied, match="the mask's removal"):
        privacy(camera, False)


# -- failures ------------------------------------------------------------------------
def test_wrong_credentials_are_refused(make_camera, make_vapix):
    sim = make_camera()
    with pytest.raises(CameraAuthError, match="^refused the credentials$"):
        privacy(make_vapix(sim, password="wrong"), True)
    assert sim.snapshot()["masks"] == []


def test_a_camera_that_refuses_the_right_credentials(make_camera, make_vapix):
    sim = make_camera()
    sim.inject(refuse_credentials=True)
    with pytest.raises(CameraAuthError):
        state(make_vapix(sim))


def test_a_hung_camera_ends_at_the_deadline(make_camera, make_vapix):
    sim = make_camera()
    sim.inject(hang=True, path="axis-cgi/privacymask.cgi")
    camera = make_vapix(sim, timeout_s=0.5)
    began = time.monotonic()
    with pytest.raises(CameraUnavailable, match=r"^did not answer within 0\.5 s$"):
        privacy(camera, True)
    # The whole operation (several requests) has one deadline; generous margin.
    assert time.monotonic() - began < 0.5 + 1.5


def test_a_slow_camera_is_cut_at_the_deadline_of_the_operation(make_camera, make_vapix):
    sim = make_camera()
    sim.inject(delay_ms=400)  # every request: the whole operation is far too slow
    with pytest.raises(CameraUnavailable, match="did not answer within 1 s"):
        privacy(make_vapix(sim, timeout_s=1.0), True)


def test_a_camera_that_is_off_refuses_the_connection(make_camera, make_vapix):
    sim = make_camera()
    camera = make_vapix(sim)
    sim.stop()
    with pytest.raises(CameraUnavailable, match="refused the connection"):
        state(camera)


def test_an_error_line_is_a_refusal_in_the_cameras_words(make_camera, make_vapix):
    sim = make_camera()
    sim.inject(error="Internal error 17", path="axis-cgi/privacymask.cgi")
    with pytest.raises(CameraRefused, match="^refused: Internal error 17$"):
        privacy(make_vapix(sim), True)


def test_an_http_error_is_a_refusal(make_camera, make_vapix):
    sim = make_camera()
    sim.inject(status=500, path="axis-cgi/param.cgi")
    with pytest.raises(CameraRefused, match="answered HTTP 500"):
        state(make_vapix(sim))


def test_a_dropped_connection_is_named(make_camera, make_vapix):
    sim = make_camera()
    sim.inject(drop=True)
    with pytest.raises(CameraUnavailable, match="closed the connection"):
        state(make_vapix(sim))


# -- presets -------------------------------------------------------------------------
def test_presets_are_listed_and_gone_to(make_camera, make_vapix):
    sim = make_camera(presets=["Home", "Door view"])
    camera = make_vapix(sim)
    with camera.operation():
        assert camera.presets() == ["Home", "Door view"]
        goto_preset(camera, "Door view")
    assert sim.snapshot()["position"] == "Door view"


def test_a_fixed_camera_and_an_unknown_preset(make_camera, make_vapix):
    fixed = make_vapix(make_camera(ptz=False))
    with pytest.raises(NotPtz), fixed.operation():
        goto_preset(fixed, "Wide")
    ptz = make_vapix(make_camera())
    with (
        pytest.raises(CameraUnsupported, match="has no preset 'Nowhere'"),
        ptz.operation(),
    ):
        goto_preset(ptz, "Nowhere")


# -- many cameras at once ------------------------------------------------------------
def test_every_camera_at_once_each_under_its_deadline(make_camera, make_vapix):
    good, hung, wrong = make_camera(), make_camera(), make_camera()
    hung.inject(hang=True)
    cameras = [
        make_vapix(good, "Desk cam", timeout_s=1.0),
        make_vapix(hung, "Hall cam", timeout_s=1.0),
        make_vapix(wrong, "Wall cam", timeout_s=1.0, password="nope"),
    ]
    began = time.monotonic()
    results = run_all(cameras, lambda camera: set_privacy(camera, True))
    assert time.monotonic() - began < 1.0 + 1.5  # one deadline, not three
    assert [(r.name, r.ok, r.detail) for r in results] == [
        ("Desk cam", True, ""),
        ("Hall cam", False, "did not answer within 1 s"),
        ("Wall cam", False, "refused the credentials"),
    ]
    assert results[0].reading.private and results[2].auth_failed
    assert good.snapshot()["masks"]


def test_no_password_reaches_a_log_or_a_repr(make_camera, make_vapix, caplog):
    caplog.set_level(logging.DEBUG)
    sim = make_camera()
    sim.inject(refuse_credentials=True, count=1)
    camera = make_vapix(sim)
    results = run_all([camera], lambda c: set_privacy(c, True))
    results += run_all([camera], lambda c: set_privacy(c, True))
    assert [r.ok for r in results] == [False, True]
    assert CAMERA_PASSWORD not in caplog.text
    assert CAMERA_PASSWORD not in repr(camera) + repr(results)
