"""Privacy and presets end to end: the VALT simulator, three Axis simulators (one
faulty), the door's actions; partial successes named, starts refused or cleared."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import FakeClock, valt_data_with_cameras

from ivs_accessory.axissim import AxisSimulator
from ivs_accessory.cameras.roster import CameraRoster, CameraSpec, spec_from_login
from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Presented, Trigger
from ivs_accessory.door.privacy import RoomPrivacy
from ivs_accessory.door.room import RoomState

PW = "Cam-Pw-99"
ALICE = "123456"
WRITES = ("add", "remove", "update")


@pytest.fixture
def cameras():
    """Desk cam and Wall cam (PTZ), Hall cam: three Axis simulators."""
    sims = {
        name: AxisSimulator(password=PW).start()
        for name in ("Desk cam", "Wall cam", "Hall cam")
    }
    try:
        yield sims
    finally:
        for sim in sims.values():
            sim.stop()


def valt_for(make_sim, cameras, passwords=None):
    """A VALT 6.6 simulator listing the cameras in room 1 with their logins."""
    listed = [
        (name, sim, (passwords or {}).get(name, PW)) for name, sim in cameras.items()
    ]
    return make_sim(version="6.6.0", data=valt_data_with_cameras(listed))


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def door(make_client, clock):
    """``door(valt, source=..., on_start=...)``: warmed-up Actions with privacy."""
    made = []

    def make(valt, source="valt", on_start="refuse", configured=(), check_s=0):
        client = make_client(valt)

        def list_valt():
            specs = (spec_from_login(login) for login in client.camera_logins(1))
            return [s for s in specs if s is not None]

        roster = CameraRoster(source, configured, list_valt, timeout_s=1.0, clock=clock)
        privacy = RoomPrivacy(roster, on_start, check_s, clock)
        made.append(privacy)
        actions = Actions(
            client,
            RoomState(client, 1, 60, clock),
            UserDirectory(client, 60, clock),
            ActionSettings(room=1),
            Lockout(3, 30, 120),
            clock,
            privacy=privacy,
        )
        actions.refresh()  # logged in, the room read: a running daemon
        actions.directory.find(ALICE)
        valt.clear_requests()
        return actions

    try:
        yield make
    finally:
        for privacy in made:
            privacy.close()
        left = [t.name for t in threading.enumerate() if t.name.startswith("camera-")]
        assert left == [] or all(n == "camera-deadline" for n in left)


def press(actions, clock, action):
    clock.advance(3)  # past the repeat window
    return actions.trigger(Trigger("keypad", action, f"KEY_{action}", clock()))


def pin(actions, clock, value=ALICE):
    clock.advance(3)
    return actions.present(Presented("keypad", "pin", value, clock()))


def private(sim):
    snap = sim.snapshot()
    masked = [m["name"] for m in snap["masks"]] == ["ivs-accessory-privacy"]
    return masked and snap["gain"] == "mute" and snap["ptz_enabled"] is False


def public(sim):
    snap = sim.snapshot()
    return snap["masks"] == [] and snap["gain"] == "12" and snap["ptz_enabled"]


def wrote(sim):
    return [e for e in sim.requests() if e["query"].get("action") in WRITES]


def paths(valt):
    return [r["path"] for r in valt.requests()]


# -- privacy on / off ----------------------------------------------------------------
def test_privacy_on_locks_the_room_and_every_camera(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    outcome = press(actions, clock, "privacy_on")
    assert outcome.result == "privacy_on"
    assert outcome.message == "Privacy on: room locked, 3 of 3 cameras"
    assert outcome.cameras == (
        ("Desk cam", "ok"),
        ("Wall cam", "ok"),
        ("Hall cam", "ok"),
    )
    assert all(private(sim) for sim in cameras.values())
    assert valt.state.room_info(1)["status"] == "locked"
    # The camera list once, the lock, its read-back.
    assert paths(valt) == ["admin/rooms/1/cameras", "rooms/1/lock", "rooms/1/status"]
    assert outcome.requests == 3


def test_a_partial_success_names_the_camera(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras, passwords={"Hall cam": "stale"})
    outcome = press(door(valt), clock, "privacy_on")
    assert outcome.result == "partial"
    assert outcome.message == (
        "Privacy on: room locked, 2 of 3 cameras; Hall cam: refused the credentials"
    )
    assert outcome.cameras[2] == ("Hall cam", "refused the credentials")
    assert private(cameras["Desk cam"]) and private(cameras["Wall cam"])
    assert public(cameras["Hall cam"])


@pytest.mark.parametrize(
    "fault, features, said",
    [
        ({"hang": True}, {}, "did not answer within 1 s"),
        ({}, {"privacy_masks": False}, "has no privacy masks; nothing was changed"),
        (
            {"not_applied": True, "path": "axis-cgi/privacymask.cgi"},
            {},
            "accepted but did not apply the privacy mask",
        ),
        ({"status": 500, "path": "axis-cgi/param.cgi"}, {}, "answered HTTP 500"),
    ],
    ids=["hangs", "no masks", "not applied", "fails"],
)
def test_a_faulty_camera_is_named_and_the_door_goes_on(
    make_sim, cameras, door, clock, fault, features, said
):
    hall = cameras["Hall cam"]
    if features:
        hall.set_features(**features)
    if fault:
        hall.inject(**fault)
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    began = time.monotonic()
    outcome = press(actions, clock, "privacy_on")
    assert time.monotonic() - began < 1.0 + 2.0  # one camera deadline at most
    assert outcome.result == "partial"
    assert outcome.message.endswith(f"2 of 3 cameras; Hall cam: {said}")
    assert pin(actions, clock, "654321").result == "busy"  # the door still answers


def test_privacy_off_is_the_reverse_and_costs_no_camera_list(
    make_sim, cameras, door, clock
):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    press(actions, clock, "privacy_on")
    valt.clear_requests()
    outcome = press(actions, clock, "privacy_off")
    assert outcome.result == "privacy_off"
    assert outcome.message == "Privacy off: room unlocked, 3 of 3 cameras"
    assert all(public(sim) for sim in cameras.values())  # the gain came back too
    assert paths(valt) == ["rooms/1/unlock", "rooms/1/status"]


def test_privacy_on_in_a_recording_room_touches_no_camera(
    make_sim, cameras, door, clock
):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    valt.set_room_status(1, "recording")
    clock.advance(11)  # what the door knew is stale
    outcome = press(actions, clock, "privacy_on")
    assert (outcome.result, outcome.message) == ("busy", "Room is recording")
    assert all(wrote(sim) == [] for sim in cameras.values())


def test_when_valt_is_down_the_cameras_still_go_private(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    actions.privacy.roster.cameras()  # the list is known
    valt.inject(path="rooms/*", status=503, count=5)
    clock.advance(11)
    outcome = press(actions, clock, "privacy_on")
    assert outcome.result == "partial"
    assert outcome.message.startswith("Privacy on: room not locked (VALT error")
    assert all(private(sim) for sim in cameras.values())


# -- the toggle ----------------------------------------------------------------------
def test_toggle_turns_privacy_on_then_off(make_sim, cameras, door, clock):
    actions = door(valt_for(make_sim, cameras))
    assert press(actions, clock, "privacy_toggle").result == "privacy_on"
    assert press(actions, clock, "privacy_toggle").result == "privacy_off"
    assert all(public(sim) for sim in cameras.values())


def test_toggle_completes_privacy_a_camera_lost(make_sim, cameras, door, clock):
    """Locked in VALT, one camera unmasked in its own web page: the toggle decides
    on what it reads now and completes privacy; it never takes it off."""
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    press(actions, clock, "privacy_on")
    cameras["Wall cam"].state.reset()  # someone undid privacy at the camera
    outcome = press(actions, clock, "privacy_toggle")
    assert (outcome.result, outcome.intent) == ("privacy_on", "privacy_on")
    assert all(private(sim) for sim in cameras.values())


def test_toggle_completes_privacy_when_valt_unlocked_the_room(
    make_sim, cameras, door, clock
):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    press(actions, clock, "privacy_on")
    valt.set_room_status(1, "available")  # unlocked in VALT's own UI
    clock.advance(11)
    outcome = press(actions, clock, "privacy_toggle")
    assert outcome.result == "privacy_on"
    assert valt.state.room_info(1)["status"] == "locked"


def test_a_dead_camera_does_not_keep_privacy_on(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    press(actions, clock, "privacy_on")
    hall = cameras["Hall cam"]
    hall.inject(hang=True)
    hall.clear_requests()
    outcome = press(actions, clock, "privacy_toggle")
    assert outcome.intent == "privacy_off" and outcome.result == "partial"
    assert "Hall cam: did not answer" in outcome.message
    # Read once (it hung), then left alone: one deadline, not two.
    assert [e["status"] for e in hall.requests()] == ["hung"]
    assert public(cameras["Desk cam"]) and public(cameras["Wall cam"])


def test_toggle_in_a_recording_room_takes_a_private_camera_out(
    make_sim, cameras, door, clock
):
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    press(actions, clock, "privacy_on")
    valt.set_room_status(1, "recording")  # VALT's own UI, around the door
    clock.advance(11)
    outcome = press(actions, clock, "privacy_toggle")
    assert outcome.intent == "privacy_off"
    assert all(public(sim) for sim in cameras.values())


# -- a recording start while privacy is on -------------------------------------------
def test_refuse_a_start_while_privacy_is_on(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras)
    actions = door(valt, on_start="refuse")
    press(actions, clock, "privacy_on")
    valt.clear_requests()
    outcome = pin(actions, clock)
    assert outcome.result == "busy"
    assert outcome.message == (
        "Privacy is on (room locked; Desk cam, Wall cam, Hall cam in privacy); "
        "turn privacy off first"
    )
    assert "rooms/1/record/start" not in paths(valt)


def test_refuse_names_private_cameras_in_an_unlocked_room(
    make_sim, cameras, door, clock
):
    valt = valt_for(make_sim, cameras)
    actions = door(valt, on_start="refuse")
    press(actions, clock, "privacy_on")
    valt.set_room_status(1, "available")
    clock.advance(11)
    outcome = pin(actions, clock)
    assert outcome.message.startswith("Privacy is on (Desk cam, Wall cam, Hall cam")


def test_clear_takes_privacy_off_then_starts(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras)
    actions = door(valt, on_start="clear")
    press(actions, clock, "privacy_on")
    valt.clear_requests()
    outcome = pin(actions, clock)
    assert outcome.result == "started"
    assert outcome.message == (
        "Recording started for Alice Smith; privacy off first: room unlocked, "
        "3 of 3 cameras"
    )
    assert all(public(sim) for sim in cameras.values())
    assert paths(valt) == ["rooms/1/unlock", "rooms/1/status", "rooms/1/record/start"]
    assert dict(outcome.cameras) == {n: "ok" for n in cameras}


def test_clear_starts_even_when_a_camera_is_dead(make_sim, cameras, door, clock):
    valt = valt_for(make_sim, cameras)
    actions = door(valt, on_start="clear")
    press(actions, clock, "privacy_on")
    cameras["Hall cam"].inject(hang=True)
    outcome = pin(actions, clock)
    assert outcome.result == "started"
    assert outcome.message.endswith(
        "2 of 3 cameras; Hall cam: did not answer within 1 s"
    )


def test_without_cameras_refuse_keeps_valts_words(make_sim, door, clock):
    valt = make_sim(version="6.6.0")
    actions = door(valt, source="none")
    assert press(actions, clock, "privacy_on").message == "Room locked"
    outcome = pin(actions, clock)
    assert (outcome.result, outcome.message) == ("busy", "Room is locked in VALT")
    assert press(actions, clock, "privacy_off").message == "Room unlocked"


def test_without_cameras_clear_unlocks_the_room_to_start(make_sim, door, clock):
    valt = make_sim(version="6.6.0")
    actions = door(valt, source="none", on_start="clear")
    press(actions, clock, "privacy_toggle")
    outcome = pin(actions, clock)
    assert outcome.result == "started"
    assert outcome.message.endswith("; privacy off first: room unlocked")


# -- presets -------------------------------------------------------------------------
def test_a_preset_moves_the_ptz_cameras_and_skips_a_fixed_one(
    make_sim, cameras, door, clock
):
    cameras["Hall cam"].set_features(ptz=False)
    valt = valt_for(make_sim, cameras)
    actions = door(valt)
    outcome = press(actions, clock, "preset:Wide")
    assert (outcome.result, outcome.message) == (
        "moved",
        "Cameras to preset Wide: 2 of 2 cameras",
    )
    assert cameras["Desk cam"].snapshot()["position"] == "Wide"
    assert outcome.cameras[2] == ("Hall cam", "is not a PTZ camera")
    valt.clear_requests()
    press(actions, clock, "preset:Home")
    assert valt.requests() == []  # presets cost VALT nothing once the list is known


def test_a_camera_without_the_preset_is_named(make_sim, cameras, door, clock):
    cameras["Wall cam"].stop()
    cameras["Wall cam"] = AxisSimulator(password=PW, presets=["Home"]).start()
    actions = door(valt_for(make_sim, cameras))
    outcome = press(actions, clock, "preset:Wide")
    assert outcome.result == "partial"
    assert outcome.message == (
        "Preset Wide: 2 of 3 cameras; Wall cam: has no preset 'Wide'"
    )


def test_no_preset_while_privacy_is_on(make_sim, cameras, door, clock):
    actions = door(valt_for(make_sim, cameras))
    press(actions, clock, "privacy_on")
    outcome = press(actions, clock, "preset:Wide")
    assert outcome.result == "busy" and outcome.message.startswith("Privacy is on")
    assert cameras["Desk cam"].snapshot()["position"] == "Home"


def test_presets_need_cameras(make_sim, door, clock):
    outcome = press(
        door(make_sim(version="6.6.0"), source="none"), clock, "preset:Wide"
    )
    assert outcome.result == "not_configured"


# -- config cameras, the background check, status --------------------------------------
def test_config_cameras_and_the_background_check(make_sim, cameras, door, clock):
    valt = make_sim(version="6.6.0")
    configured = [
        CameraSpec(name, "127.0.0.1", "root", PW, port=sim.port)
        for name, sim in cameras.items()
    ]
    actions = door(valt, source="config", configured=configured, check_s=60)
    assert actions.privacy.wait_checked(5)
    status = actions.privacy.status()
    assert status["state"] == "off" and status["source"] == "config"
    assert [c["private"] for c in status["cameras"]] == [False, False, False]
    for sim in cameras.values():
        sim.state.add_mask("ivs-accessory-privacy", 100, 100, (50, 50))
        sim.state.update_params(
            {"AudioSource.A0.InputGain": "mute"}
            | {f"PTZ.Various.V1.{a}Enabled": "false" for a in ("Pan", "Tilt", "Zoom")}
        )
    clock.advance(61)
    actions.refresh()
    assert actions.privacy.wait_checked(5)
    assert actions.privacy.status()["state"] == "on"
    assert "admin/rooms/1/cameras" not in paths(valt)


def test_the_keypad_flickers_for_a_partial_success():
    from ivs_accessory.door.feedback import pattern_for
    from ivs_accessory.door.outcome import Outcome

    def pattern(result):
        return pattern_for(Outcome(result, action="privacy_on", message="", source="k"))

    assert [pattern(r) for r in ("privacy_on", "privacy_off", "moved")] == ["good"] * 3
    assert pattern("partial") == "offline"  # the error flicker: look at the cameras
