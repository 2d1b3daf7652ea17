"""``[privacy]``, ``[camera:NAME]`` and ``preset:NAME`` bindings: valid forms, every
error with its fix, secrets hidden, safe mode's fallback."""

from __future__ import annotations

import pytest

from ivs_accessory.config import load
from ivs_accessory.config.camera_schema import CAMERA_SCHEMA, CameraHost
from ivs_accessory.config.lastgood import fallback
from ivs_accessory.config.types import Boolean, Integer, Secret, String

from .helpers import PASSWORD, errors_of, write

CAMERA = (
    "[privacy]\ncameras = config\n\n"
    "[camera:Hall cam]\naddress = 192.168.1.20\nport = 8080\n"
    f"username = operator\npassword = {PASSWORD}\n"
)


def test_a_camera_section_is_read_with_its_defaults(tmp_path):
    cfg = load(write(tmp_path / "a.conf", CAMERA))
    assert cfg["privacy"] == {
        "cameras": "config",
        "on_start": "refuse",
        "camera_timeout_s": 5.0,
        "camera_list_s": 3600,
        "camera_check_s": 300,
    }
    assert cfg.cameras == {
        "Hall cam": {
            "address": "192.168.1.20",
            "port": 8080,
            "https": False,
            "verify_tls": True,
            "username": "operator",
            "password": PASSWORD,
        }
    }


def test_the_camera_password_is_never_shown(tmp_path):
    cfg = load(write(tmp_path / "a.conf", CAMERA))
    shown = cfg.redacted()["camera:Hall cam"]
    assert shown["password"] == "********" and PASSWORD not in repr(cfg.redacted())


def test_no_cameras_by_default(tmp_path):
    cfg = load(write(tmp_path / "a.conf", "[valt]\nroom = 1\n"))
    assert cfg["privacy"]["cameras"] == "none" and cfg.cameras == {}


@pytest.mark.parametrize(
    "address, expected",
    [
        ("cam-1.example.org", "cam-1.example.org"),
        ("fe80::1", "fe80::1"),
        ("[fe80::1]", "fe80::1"),
    ],
)
def test_camera_addresses(tmp_path, address, expected):
    text = CAMERA.replace("192.168.1.20", address)
    assert load(write(tmp_path / "a.conf", text)).cameras["Hall cam"]["address"] == (
        expected
    )


@pytest.mark.parametrize(
    "address, words",
    [
        ("http://192.168.1.20", "the camera's address alone"),
        ("root:pw@192.168.1.20", "the camera's address alone"),
        ("192.168.1.20:8080", "write the port as its own key: port = 8080"),
        ("bad host!", "must be a host name or an IP address"),
        ("", "must not be empty, e.g. 192.168.1.20"),
    ],
)
def test_a_bad_address_says_what_to_write(tmp_path, address, words):
    text = CAMERA.replace("192.168.1.20", address)
    [error] = errors_of(write(tmp_path / "a.conf", text))
    assert error.startswith("[camera:Hall cam] address") and words in error


def test_a_password_typed_wrong_is_not_quoted_back(tmp_path):
    text = CAMERA.replace(f"password = {PASSWORD}", f"password = {PASSWORD}\x01")
    [error] = errors_of(write(tmp_path / "a.conf", text))
    assert error.startswith("[camera:Hall cam] password:") and PASSWORD not in error


@pytest.mark.parametrize(
    "text, words",
    [
        ("[camera:a/b]\naddress = 10.0.0.1\n", "a camera name has 1 to 40 letters"),
        (
            "[camera:x]\naddress = 10.0.0.1\nadress = 10.0.0.2\n",
            "unknown key 'adress' in [camera:x]; did you mean 'address'?",
        ),
        ("[camra:x]\naddress = 10.0.0.1\n", "did you mean [camera:x]?"),
        ("[camera:x]\nport = 10.0.0.1\n", "[camera:x] address is missing"),
        (
            "[privacy]\ncameras = config\n",
            "[privacy] cameras = config: there is no [camera:NAME] section",
        ),
        ("[privacy]\non_start = clean\n", "must be one of refuse, clear"),
        ("[privacy]\ncameras = axis\n", "must be one of none, valt, config, both"),
    ],
)
def test_camera_errors_name_the_fix(tmp_path, text, words):
    errors = errors_of(write(tmp_path / "a.conf", text))
    assert any(words in e for e in errors), errors


def wrong_value(field) -> str:
    if isinstance(field, (Integer, Boolean)):
        return "many"
    if isinstance(field, CameraHost):
        return "not a host!"
    assert isinstance(field, (String, Secret))
    return "x" * 2000


@pytest.mark.parametrize(("key", "field"), sorted(CAMERA_SCHEMA.items()))
def test_every_camera_key_refuses_a_value_of_the_wrong_kind(tmp_path, key, field):
    text = "[camera:x]\naddress = 10.0.0.1\n" if key != "address" else "[camera:x]\n"
    [error] = errors_of(
        write(tmp_path / "a.conf", text + f"{key} = {wrong_value(field)}\n")
    )
    assert error.startswith(f"[camera:x] {key}")


def test_a_bad_camera_section_leaves_safe_mode_the_last_good_cameras(tmp_path):
    path = write(tmp_path / "a.conf", "[camera:x]\naddress = no way\n")
    assert fallback(path).config.cameras == {}


# -- bindings ------------------------------------------------------------------------
def test_privacy_and_preset_bindings(tmp_path):
    text = (
        "[bindings]\nKEY_F1 = privacy_on\nKEY_F2 = privacy_off\n"
        "KEY_F3 = preset:Door view\nKEY_F4 = Preset:Wide\n"
    )
    cfg = load(write(tmp_path / "a.conf", text))
    assert cfg.bindings == {
        ("KEY_F1", "tap"): "privacy_on",
        ("KEY_F2", "tap"): "privacy_off",
        ("KEY_F3", "tap"): "preset:Door view",
        ("KEY_F4", "tap"): "preset:Wide",
    }


@pytest.mark.parametrize(
    "value, words",
    [
        ("preset:", "name the preset after 'preset:'"),
        ("preset:a:b", "may not contain ':'"),
        ("preset:" + "x" * 32, "at most 31 characters"),
        ("presets", "or preset:NAME"),
    ],
)
def test_a_bad_preset_binding_says_why(tmp_path, value, words):
    [error] = errors_of(write(tmp_path / "a.conf", f"[bindings]\nKEY_F1 = {value}\n"))
    assert error.startswith("[bindings] KEY_F1") and words in error
