"""VALT, Inputs, Time pages: errors by the field, atomic saves the daemon applies."""

from __future__ import annotations

import json
import socket

import pytest

from ivs_accessory.config import load
from ivs_accessory.system.timeconfig import TimeSettings, parse_time_settings
from ivs_accessory.web import create_app

from .helpers import (
    ADMIN_PASSWORD,
    SECRET_PASSWORD,
    SECRET_USER,
    set_admin_password,
    start_box,
)
from .wsgi import WsgiClient, field_error

VALT_FORM = {
    "server": "",
    "username": SECRET_USER,
    "timeout_s": "2",
    "verify_tls": "true",
    "ca_file": "",
    "room": "2",
    "recording_name": "Door recording",
    "marker_name": "Door",
    "marker_colour": "blue",
}


def valt_form(box, **changes):
    return VALT_FORM | {"server": box.sim.url} | changes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# -- VALT ------------------------------------------------------------------------------


def test_valt_save_writes_the_file_and_the_daemon_applies_it(admin, box):
    answer = admin.post("/valt", valt_form(box))
    assert answer.status == 303 and answer.location == "/valt"
    saved = load(str(box.config_path))
    assert saved["valt"]["room"] == 2 and saved["valt"]["marker_colour"] == "blue"
    assert saved["valt"]["password"] == SECRET_PASSWORD  # an empty field keeps it
    assert box.service.config["valt"]["room"] == 2  # reloaded, like SIGHUP
    assert box.config_path.stat().st_mode & 0o777 == 0o600
    assert "VALT settings saved and applied" in admin.get("/valt").text


def test_valt_page_never_shows_the_password_and_can_replace_or_clear_it(admin, box):
    page = admin.get("/valt")
    assert SECRET_PASSWORD not in page.text and 'placeholder="(unchanged)"' in page.text
    admin.post("/valt", valt_form(box, password="New-Secret-1"))
    assert load(str(box.config_path))["valt"]["password"] == "New-Secret-1"
    assert "New-Secret-1" not in admin.get("/valt").text
    admin.post("/valt", valt_form(box, clear_password="true"))
    assert load(str(box.config_path))["valt"]["password"] == ""


@pytest.mark.parametrize(
    "field, value, words",
    [
        ("timeout_s", "fast", "must be a number of seconds between 0.5 and 60"),
        ("timeout_s", "0", "must be a number of seconds between 0.5 and 60"),
        ("room", "kitchen", "must be a whole number between 1 and 1000000"),
        ("marker_colour", "pink", "must be one of white, gray, red"),
        ("ca_file", "certs/ca.pem", "must be an absolute path"),
        ("recording_name", "", "must not be empty"),
        ("server", "valt\n[web]\nport = 1", "must be a single line of text"),
    ],
)
def test_valt_bad_input_is_shown_next_to_the_field_and_nothing_is_saved(
    admin, box, field, value, words
):
    before = box.config_bytes()
    answer = admin.post("/valt", valt_form(box, **{field: value}))
    assert answer.status == 400
    assert words in (field_error(answer, field) or "")
    assert box.config_bytes() == before
    assert box.service.config["valt"]["room"] == 1


def test_valt_test_connection_lists_the_rooms(admin, box):
    before = box.config_bytes()
    result = admin.post("/valt/test", valt_form(box)).json()
    assert (
        result["ok"] is True
        and result["reason"] == "ok"
        and result["version"] == "6.6.0"
    )
    assert [r["id"] for r in result["rooms"]] == [1, 2, 3, 4]
    assert result["rooms"][0]["name"] == "Interview Room 1"
    # The test uses the form's values without saving them.
    assert box.config_bytes() == before


def test_valt_test_with_bad_credentials_says_so(admin, box):
    result = admin.post("/valt/test", valt_form(box, password="not-it")).json()
    assert result["ok"] is False and result["reason"] == "credentials"
    assert "refused the user name or password" in result["message"]
    assert "not-it" not in json.dumps(result)


def test_valt_test_with_nothing_listening_says_unreachable(admin, box):
    port = free_port()
    result = admin.post(
        "/valt/test",
        valt_form(box, server=f"http://127.0.0.1:{port}", password=SECRET_PASSWORD),
    ).json()
    assert result["ok"] is False and result["reason"] == "unreachable"
    assert "cannot be reached" in result["message"]


def test_valt_test_with_an_unverified_certificate_says_tls(admin, make_sim, tls_files):
    _, cert, key = tls_files
    sim = make_sim(tls_cert=cert, tls_key=key)
    form = VALT_FORM | {"server": sim.url, "password": SECRET_PASSWORD}
    result = admin.post("/valt/test", form).json()
    assert result["reason"] == "tls" and "ca_file" in result["message"]
    trusted = admin.post("/valt/test", form | {"ca_file": tls_files[0]}).json()
    assert trusted["ok"] is True


def test_valt_test_against_a_server_that_is_not_valt_says_version(admin, box):
    # Every answer, not one: the daemon's own client may read the version first.
    box.sim.inject(path="admin/general", malformed=True, count=None)
    result = admin.post("/valt/test", valt_form(box)).json()
    assert result["ok"] is False and result["reason"] == "version"


def test_valt_test_with_invalid_fields_marks_them(admin, box):
    result = admin.post("/valt/test", valt_form(box, timeout_s="soon")).json()
    assert result["reason"] == "invalid" and "timeout_s" in result["errors"]


# -- Inputs ----------------------------------------------------------------------------


def inputs_form(**changes):
    form = {
        "mode": "both",
        "pin_length": "6",
        "entry_timeout_ms": "10000",
        "repeat_window_ms": "2000",
        "hold_ms": "1500",
        "busy_action": "busy",
        "match_reading": "decimal",
        "max_failures": "5",
        "base_s": "30",
        "max_s": "900",
        "sname_0": "door",
        "skind_0": "console",
        "bkey_0": "KEY_KPPLUS",
        "bgesture_0": "tap",
        "baction_0": "marker",
        "bkey_1": "KEY_KPASTERISK",
        "bgesture_1": "hold",
        "baction_1": "privacy_toggle",
    }
    form.update(changes)
    return {k: v for k, v in form.items() if v is not None}


def test_inputs_binding_change_is_applied_by_the_running_daemon(admin, box):
    answer = admin.post("/inputs", inputs_form(bkey_2="KEY_KPMINUS", baction_2="start"))
    assert answer.status == 303, answer.text
    assert box.service.config.bindings[("KEY_KPMINUS", "tap")] == "start"
    box.consoles.type("door", "key minus")
    outcome = box.outcomes.get(timeout=10)
    assert outcome.action == "start" and outcome.result == "started"
    assert box.sim.state.room_info(1)["status"] == "recording"


def test_inputs_removing_a_default_binding_keeps_it_removed(admin, box):
    answer = admin.post("/inputs", inputs_form(bkey_0=None, baction_0=None))
    assert answer.status == 303
    assert ("KEY_KPPLUS", "tap") not in load(str(box.config_path)).bindings
    assert ("KEY_KPASTERISK", "hold") in box.service.config.bindings


def test_inputs_mapping_and_lockout_are_saved(admin, box):
    admin.post("/inputs", inputs_form(pin_length="4", max_failures="3", mode="pin"))
    config = box.service.config
    assert config["mapping"]["pin_length"] == 4 and config["mapping"]["mode"] == "pin"
    assert config["lockout"]["max_failures"] == 3


def test_inputs_add_and_remove_sources(admin, box):
    answer = admin.post(
        "/inputs",
        inputs_form(
            sname_1="reader",
            skind_1="card_serial",
            sport_1="/dev/ttyUSB7",
            sbaud_1="19200",
            sframing_1="line",
        ),
    )
    assert answer.status == 303, answer.text
    saved = load(str(box.config_path)).sources
    assert saved["reader"] == {
        "kind": "card_serial",
        "port": "/dev/ttyUSB7",
        "baud": 19200,
        "framing": "line",
    }
    assert set(box.service.config.sources) == {"door", "reader"}
    admin.post(
        "/inputs",
        inputs_form(
            sname_1="reader",
            skind_1="card_serial",
            sport_1="/dev/ttyUSB7",
            sremove_1="true",
        ),
    )
    assert set(load(str(box.config_path)).sources) == {"door"}


def test_inputs_add_a_pcsc_reader_by_part_of_its_name(admin, box):
    form = inputs_form(sname_1="nfc", skind_1="card_pcsc", sreader_1="ACR122")
    answer = admin.post("/inputs", form)
    assert answer.status == 303, answer.text
    assert load(str(box.config_path)).sources["nfc"] == {
        "kind": "card_pcsc",
        "reader": "ACR122",
    }
    page = admin.get("/inputs").text
    assert 'name="sreader_' in page and 'value="ACR122"' in page
    # A refused form shows the reader as it was typed.
    form = inputs_form(sname_1="nfc2", skind_1="card_pcsc", sreader_1="uTrust")
    answer = admin.post("/inputs", form | {"pin_length": "-1"})
    assert answer.status == 400 and 'value="uTrust"' in answer.text


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"pin_length": "-1"}, "pin_length", "between 0 and 32"),
        ({"max_s": "10"}, "max_s", "must be at least base_s"),
        ({"bkey_2": "KEY_NOPE", "baction_2": "start"}, "bkey_2", "unknown key name"),
        (
            {"bkey_2": "KEY_KPMINUS", "baction_2": "explode"},
            "baction_2",
            "must be one of",
        ),
        ({"bkey_2": "KEY_KPPLUS", "baction_2": "stop"}, "bkey_2", "bound twice"),
        ({"sname_1": "card", "skind_1": "card_hid"}, "sdevice_1", "say which reader"),
        ({"sname_1": "nfc", "skind_1": "card_pcsc"}, "sreader_1", "part of the reader"),
        ({"sname_1": "bad name!", "skind_1": "console"}, "sname_1", "letters, digits"),
        ({"sname_1": "x", "skind_1": "teleport"}, "skind_1", "must be one of"),
    ],
)
def test_inputs_bad_rows_are_refused_with_the_reason_and_nothing_saved(
    admin, box, changes, field, words
):
    before = box.config_bytes()
    answer = admin.post("/inputs", inputs_form(**changes))
    assert answer.status == 400
    assert words in answer.text
    assert box.config_bytes() == before


def test_inputs_page_offers_the_devices_present(box, clock):
    present = [
        {
            "path": "/dev/input/event7",
            "name": "USB Keypad",
            "kind": "keypad",
            "selector": "usb:1234:5678",
            "by_id": [],
        },
        {
            "path": "/dev/ttyUSB0",
            "name": "Reader",
            "kind": "serial",
            "selector": "/dev/serial/by-id/usb-reader",
            "by_id": [],
        },
        {
            "path": "/dev/hidraw3",
            "name": "LUXAFOR FLAG",
            "kind": "light",
            "selector": "usb:04d8:f372",
            "by_id": [],
        },
    ]
    set_admin_password(box.folder)
    client = WsgiClient(create_app(box.service, clock=clock, devices=lambda: present))
    client.login(ADMIN_PASSWORD)
    page = client.get("/inputs").text
    assert '<option value="usb:1234:5678">USB Keypad' in page
    assert '<option value="/dev/serial/by-id/usb-reader">Reader' in page
    # A light is listed among the devices present, for [lamp] device, but not
    # offered as an input.
    assert '<option value="usb:04d8:f372">' not in page
    assert "<code>usb:04d8:f372</code>" in page


def test_inputs_page_survives_a_failing_device_list(box, clock):
    def broken():
        raise OSError("sysfs is gone")

    set_admin_password(box.folder)
    client = WsgiClient(create_app(box.service, clock=clock, devices=broken))
    client.login(ADMIN_PASSWORD)
    page = client.get("/inputs")
    assert page.status == 200 and "cannot list devices: sysfs is gone" in page.text


def test_live_events_are_masked(admin, box):
    # Events are recorded in order as they arrive, so once the PIN's outcome is in,
    # the key and the card before it are recorded too.
    box.consoles.type("door", "key 5")
    box.consoles.type("door", "hold star 2")
    box.consoles.type("door", "card 0004921746")
    box.consoles.type("door", "123456")
    box.outcomes.get(timeout=10)
    box.outcomes.get(timeout=10)
    box.outcomes.get(timeout=10)
    events = admin.get("/inputs/events.json").json()["events"]
    text = json.dumps(events)
    assert "0004921746" not in text and "123456" not in text and "KEY_KP5" not in text
    assert [e["detail"] for e in events] == [
        "code of 6 digits",
        "decimal card ****1746 (10 characters)",
        "KEY_KPASTERISK",
        "KEY_KPASTERISK held 2.0 s (released)",
        "digit",
    ]
    newest = events[0]["seq"]
    assert admin.get(f"/inputs/events.json?after={newest}").json()["events"] == []
    assert admin.get("/inputs/events.json?after=x").status == 200


# -- Time ------------------------------------------------------------------------------


def test_time_save_writes_the_file_and_applies_it(admin, box):
    answer = admin.post(
        "/time",
        {
            "timezone": "Europe/Berlin",
            "ntp_servers": "ntp1.example.org, 192.0.2.5",
            "password": ADMIN_PASSWORD,
        },
    )
    assert answer.status == 303
    text = (box.folder / "time.conf").read_text()
    assert parse_time_settings(text) == TimeSettings(
        "Europe/Berlin", ("ntp1.example.org", "192.0.2.5")
    )
    assert box.trace == ["apply_time"]
    page = admin.get("/time").text
    assert 'value="Europe/Berlin"' in page and "Time settings applied" in page


@pytest.mark.parametrize(
    "form, field",
    [
        ({"timezone": "Mars/Olympus", "ntp_servers": ""}, "timezone"),
        ({"timezone": "../../etc/passwd", "ntp_servers": ""}, "timezone"),
        ({"timezone": "Etc/UTC", "ntp_servers": "bad_host!"}, "ntp_servers"),
    ],
)
def test_time_bad_input_is_refused(admin, box, form, field):
    answer = admin.post("/time", form | {"password": ADMIN_PASSWORD})
    assert answer.status == 400 and field_error(answer, field)
    assert not (box.folder / "time.conf").exists() and box.trace == []


def test_time_apply_failure_is_reported(make_sim, tmp_path):
    failing = start_box(tmp_path, make_sim(), failing=("apply_time",))
    try:
        set_admin_password(failing.folder)
        client = WsgiClient(create_app(failing.service))
        client.login(ADMIN_PASSWORD)
        answer = client.post(
            "/time",
            {"timezone": "Etc/UTC", "ntp_servers": "", "password": ADMIN_PASSWORD},
        )
        assert answer.status == 400
        assert "not applied" in answer.text and "exit code 3" in answer.text
    finally:
        failing.service.stop()


def test_inputs_keeps_a_preset_binding_the_list_of_actions_lacks(admin, box):
    answer = admin.post(
        "/inputs", inputs_form(bkey_2="KEY_F3", baction_2="preset:Door view")
    )
    assert answer.status == 303, answer.text
    assert box.service.config.bindings[("KEY_F3", "tap")] == "preset:Door view"
    # The page offers it again, selected, so the next save keeps it.
    assert "<option selected>preset:Door view</option>" in admin.get("/inputs").text
