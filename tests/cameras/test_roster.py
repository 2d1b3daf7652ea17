"""The room's cameras from VALT's list (kept a while) and from config sections."""

from __future__ import annotations

import pytest
from conftest import CAMERA_PASSWORD, FakeClock, valt_data_with_cameras

from ivs_accessory.cameras.roster import CameraRoster, CameraSpec, spec_from_login
from ivs_accessory.errors import ValtError
from ivs_accessory.valt.models import CameraLogin

LIST_PATH = "admin/rooms/1/cameras"


def valt_data(*cameras):
    return valt_data_with_cameras(list(cameras))


@pytest.fixture
def roster_of(make_client):
    made = []

    def make(valt, source="valt", configured=(), clock=None, list_s=3600):
        client = make_client(valt)

        def list_valt():
            specs = (spec_from_login(login) for login in client.camera_logins(1))
            return [s for s in specs if s is not None]

        roster = CameraRoster(
            source,
            configured,
            list_valt,
            list_s=list_s,
            timeout_s=2,
            clock=clock or FakeClock(),
        )
        made.append(roster)
        return roster

    try:
        yield make
    finally:
        for roster in made:
            roster.close()


def test_valts_list_is_read_once_and_kept(make_sim, make_camera, roster_of):
    a, b = make_camera(), make_camera()
    valt = make_sim(data=valt_data(("Desk", a, CAMERA_PASSWORD), ("Hall", b, "x")))
    clock = FakeClock()
    roster = roster_of(valt, clock=clock, list_s=60)
    cameras = roster.cameras()
    assert [(c.name, c.port) for c in cameras] == [("Desk", a.port), ("Hall", b.port)]
    assert roster.cameras() == cameras  # the same objects, no request
    assert len(valt.requests(LIST_PATH)) == 1
    clock.advance(61)
    roster.cameras()
    assert len(valt.requests(LIST_PATH)) == 2
    roster.credentials_refused()  # a camera refused the login VALT gave
    roster.cameras()
    assert len(valt.requests(LIST_PATH)) == 3
    assert roster.known() == cameras


def test_a_new_password_in_valt_gives_a_new_client_that_keeps_the_gain(
    make_sim, make_camera, roster_of
):
    a = make_camera()
    valt = make_sim(data=valt_data(("Desk", a, "old")))
    roster = roster_of(valt, list_s=0)
    [before] = roster.cameras()
    before.gain_before = "-3"
    valt.state.cameras[100]["password"] = CAMERA_PASSWORD
    [after] = roster.cameras()
    assert after is not before and after.has_password(CAMERA_PASSWORD)
    assert after.gain_before == "-3"


def test_an_old_list_serves_while_valt_cannot_be_asked(
    make_sim, make_camera, roster_of
):
    a = make_camera()
    valt = make_sim(data=valt_data(("Desk", a, CAMERA_PASSWORD)))
    clock = FakeClock()
    roster = roster_of(valt, clock=clock, list_s=3600)
    roster.cameras()
    clock.advance(3600)
    valt.inject(path=LIST_PATH, status=503, count=1)
    assert [c.name for c in roster.cameras()] == ["Desk"]
    assert "503" in roster.list_error
    clock.advance(59)
    roster.cameras()  # not asked again yet
    clock.advance(1)
    roster.cameras()  # a minute after the failure, not an hour
    assert len(valt.requests(LIST_PATH)) == 3 and roster.list_error is None


def test_without_any_list_a_valt_failure_is_raised(make_sim, roster_of):
    valt = make_sim()
    valt.inject(path=LIST_PATH, status=503)
    with pytest.raises(ValtError):
        roster_of(valt).cameras()


def test_a_section_wins_over_valts_entry_for_the_same_camera(
    make_sim, make_camera, roster_of
):
    a, b = make_camera(), make_camera()
    valt = make_sim(data=valt_data(("VALT name", a, "stale"), ("Hall", b, "x")))
    mine = CameraSpec("My desk cam", "127.0.0.1", "root", CAMERA_PASSWORD, port=a.port)
    roster = roster_of(valt, source="both", configured=[mine])
    names = [c.name for c in roster.cameras()]
    assert names == ["My desk cam", "Hall"]


def test_config_alone_never_asks_valt(make_sim, make_camera, roster_of):
    valt = make_sim()
    spec = CameraSpec("Desk", "127.0.0.1", "root", "pw", port=make_camera().port)
    roster = roster_of(valt, source="config", configured=[spec])
    assert [c.name for c in roster.cameras()] == ["Desk"]
    assert valt.requests(LIST_PATH) == []


@pytest.mark.parametrize(
    "ip, port, expected",
    [
        ("10.0.0.5", None, ("10.0.0.5", None, False)),
        ("10.0.0.5:8080", None, ("10.0.0.5", 8080, False)),
        ("10.0.0.5:8080", 81, ("10.0.0.5", 81, False)),
        ("http://cam.local:81", None, ("cam.local", 81, False)),
        ("https://cam.local", None, ("cam.local", None, True)),
        ("[fe80::1]:8080", None, ("fe80::1", 8080, False)),
        ("", None, None),
        ("10.0.0.5:99999", None, None),
    ],
)
def test_the_address_valt_lists_is_read_whatever_its_form(ip, port, expected):
    spec = spec_from_login(CameraLogin(7, "Cam", ip, "root", "pw", port))
    assert (spec.host, spec.port, spec.https) == expected if spec else expected is None


def test_the_password_stays_out_of_reprs():
    login = CameraLogin(7, "Cam", "10.0.0.5", "root", "hunter22")
    spec = spec_from_login(login)
    assert "hunter22" not in repr(login) + repr(spec)


def test_with_both_the_sections_serve_while_valt_cannot_be_asked(
    make_sim, make_camera, roster_of
):
    valt = make_sim()
    valt.inject(path=LIST_PATH, status=503)
    mine = CameraSpec("Desk", "127.0.0.1", "root", "pw", port=make_camera().port)
    roster = roster_of(valt, source="both", configured=[mine])
    assert [c.name for c in roster.cameras()] == ["Desk"]
    assert "503" in roster.list_error
