"""Network/System pages: password re-asked, traced commands, roll-back, downloads."""

from __future__ import annotations

import pytest

from ivs_accessory.config import load, save
from ivs_accessory.web.accounts import PasswordFile

from .helpers import ADMIN_PASSWORD
from .wsgi import WsgiClient, field_error

STATIC = {
    "mode": "static",
    "address": "192.0.2.10/24",
    "gateway": "192.0.2.1",
    "dns": "192.0.2.53 198.51.100.53",
    "password": ADMIN_PASSWORD,
}


def page_of(admin) -> object:
    return admin.app.config["ivs.page"]


# -- Network ---------------------------------------------------------------------------


def test_network_shows_dhcp_when_no_file_exists(admin):
    page = admin.get("/network").text
    assert '<option value="dhcp" selected>' in page and "eth0" in page


def test_network_change_needs_the_password_again(admin, box):
    answer = admin.post("/network", STATIC | {"password": "wrong"})
    assert answer.status == 400 and field_error(answer, "password") == "wrong password"
    assert not (box.folder / "network.yaml").exists() and box.trace == []


@pytest.mark.parametrize(
    "changes, field, words",
    [
        ({"address": "192.0.2.10"}, "address", "with its prefix length"),
        ({"address": "192.0.2.0/24"}, "address", "host address"),
        ({"address": "300.1.1.1/24"}, "address", "with its prefix length"),
        ({"address": ""}, "address", "a static address needs one"),
        ({"gateway": "198.51.100.1"}, "gateway", "must be in the address's network"),
        ({"dns": "one.example"}, "dns", "is not an address"),
        ({"mode": "bridge"}, "mode", "must be one of dhcp, static"),
    ],
)
def test_network_bad_input_is_refused_next_to_the_field(
    admin, box, changes, field, words
):
    answer = admin.post("/network", STATIC | changes)
    assert answer.status == 400 and words in (field_error(answer, field) or "")
    assert not (box.folder / "network.yaml").exists() and box.trace == []


def test_network_static_change_applies_and_is_kept_when_confirmed_from_the_new_address(
    admin, box, app
):
    answer = admin.post("/network", STATIC)
    assert answer.status == 200 and "http://192.0.2.10/network/confirm" in answer.text
    written = (box.folder / "network.yaml").read_text()
    assert "    eth0:\n      addresses:\n        - 192.0.2.10/24\n" in written
    assert "via: 192.0.2.1" in written and "- 198.51.100.53" in written
    assert box.trace == ["apply_network"]
    assert "Network change waiting for confirmation" in admin.get("/").text
    # The old address cannot confirm: that would not prove the new one works.
    assert admin.post("/network/confirm").status == 409
    at_new = WsgiClient(app, host="192.0.2.10", local="192.0.2.10")
    at_new.login(ADMIN_PASSWORD)
    assert at_new.get("/network/confirm").status == 200
    assert at_new.post("/network/confirm").location == "/network"
    trial = page_of(admin).trial
    assert trial.done.wait(10) and not trial.last_rolled_back()
    assert box.trace == ["apply_network"]
    assert (box.folder / "network.yaml").read_text() == written
    shown = admin.get("/network").text
    assert 'value="192.0.2.10/24"' in shown and 'value="192.0.2.1"' in shown


def test_network_change_rolls_back_without_confirmation(admin, box):
    (box.folder / "network.yaml").write_text(
        "network:\n  ethernets:\n    eth0:\n      dhcp4: true\n"
    )
    before = (box.folder / "network.yaml").read_text()
    save(box.config_path, {"web": {"network_confirm_s": "1"}})
    box.service.reload(load(str(box.config_path)))
    page = page_of(admin)
    assert admin.post("/network", STATIC).status == 200
    assert page.trial.done.wait(10)
    assert page.trial.last_rolled_back()
    assert box.trace == ["apply_network", "rollback_network"]
    assert (box.folder / "network.yaml").read_text() == before
    assert admin.post("/network/confirm").status == 409


def test_network_second_change_waits_for_the_first(admin, box):
    assert admin.post("/network", STATIC).status == 200
    again = admin.post("/network", STATIC | {"address": "192.0.2.11/24"})
    assert again.status == 400 and "waiting for confirmation" in again.text
    assert box.trace == ["apply_network"]


def test_network_dhcp_can_be_confirmed_from_any_address(admin, box):
    answer = admin.post("/network", {"mode": "dhcp", "password": ADMIN_PASSWORD})
    assert answer.status == 200 and "DHCP" in answer.text
    assert "dhcp4: true" in (box.folder / "network.yaml").read_text()
    assert admin.post("/network/confirm").location == "/network"


def test_network_apply_failure_restores_the_file(make_sim, tmp_path):
    from ivs_accessory.web import create_app

    from .helpers import set_admin_password, start_box

    failing = start_box(tmp_path, make_sim(), failing=("apply_network",))
    try:
        set_admin_password(failing.folder)
        client = WsgiClient(create_app(failing.service))
        client.login(ADMIN_PASSWORD)
        answer = client.post("/network", STATIC)
        assert answer.status == 400 and "The network was not changed" in answer.text
        assert not (failing.folder / "network.yaml").exists()
        assert failing.trace == ["apply_network"]
    finally:
        failing.service.stop()


def test_stopping_the_page_rolls_back_an_unconfirmed_change(admin, box, app):
    assert admin.post("/network", STATIC).status == 200
    app.close()
    assert box.trace == ["apply_network", "rollback_network"]
    assert not (box.folder / "network.yaml").exists()


# -- System ----------------------------------------------------------------------------


def test_system_password_change_needs_the_current_one(admin, box, app):
    wrong = admin.post(
        "/system/password",
        {"current": "nope", "new": "another-pass-1", "confirm": "another-pass-1"},
    )
    assert wrong.status == 400 and field_error(wrong, "current") == "wrong password"
    mismatch = admin.post(
        "/system/password",
        {"current": ADMIN_PASSWORD, "new": "another-pass-1", "confirm": "x"},
    )
    assert field_error(mismatch, "confirm") == "does not match the new password"
    other = WsgiClient(app)
    other.login(ADMIN_PASSWORD)
    done = admin.post(
        "/system/password",
        {
            "current": ADMIN_PASSWORD,
            "new": "another-pass-1",
            "confirm": "another-pass-1",
        },
    )
    assert done.location == "/system"
    assert PasswordFile(str(box.folder / "web-password")).verify("another-pass-1")
    assert admin.get("/").status == 200  # this browser stays logged in
    assert other.get("/").status == 303  # the others are logged out


def test_system_logs_download_runs_the_logs_command(admin, box):
    answer = admin.get("/system/logs.txt")
    assert answer.status == 200 and "INFO ivs_accessory: a log line" in answer.text
    assert "attachment" in answer.header("Content-Disposition")
    assert box.trace == ["logs"]


def test_system_logs_download_reads_the_file_the_helper_wrote(admin, box):
    written = box.folder / "service-log.txt"
    helper = box.folder / "bin" / "start-logs-helper"
    helper.write_text(f"#!/bin/sh\nprintf 'INFO from the journal\\n' > {written}\n")
    helper.chmod(0o755)
    system = page_of(admin).config["system"]
    system.update(logs_command=[str(helper)], logs_file=str(written))
    answer = admin.get("/system/logs.txt")
    assert answer.status == 200 and answer.text == "INFO from the journal\n"
    written.unlink()
    system.update(logs_command=["true"])
    failed = admin.get("/system/logs.txt")
    assert failed.status == 409 and "Cannot read the log" in failed.text


def test_system_audit_download_has_rotated_files_first(admin, box):
    box.consoles.type("door", "123456")
    box.outcomes.get(timeout=10)
    (box.folder / "audit.log.1").write_text('{"old": true}\n')
    text = admin.get("/system/audit.log").text
    assert text.startswith('{"old": true}\n') and '"result":"started"' in text
    assert "123456" not in text


def test_reboot_needs_the_password_and_runs_the_command(admin, box):
    assert admin.post("/system/reboot", {"password": "nope"}).status == 400
    assert box.trace == []
    answer = admin.post("/system/reboot", {"password": ADMIN_PASSWORD})
    assert answer.status == 200 and 'id="progress"' in answer.text
    assert box.trace == ["reboot"]


def test_factory_default_needs_the_typed_words_and_the_password(admin, box):
    no_words = admin.post(
        "/system/factory-default", {"words": "yes", "password": ADMIN_PASSWORD}
    )
    assert no_words.status == 400 and "type factory default" in field_error(
        no_words, "words"
    )
    no_password = admin.post(
        "/system/factory-default", {"words": "factory default", "password": "x"}
    )
    assert field_error(no_password, "factory_password") == "wrong password"
    assert box.trace == []
    answer = admin.post(
        "/system/factory-default",
        {"words": " Factory Default ", "password": ADMIN_PASSWORD},
    )
    assert answer.status == 200 and "Restoring the factory settings" in answer.text
    assert box.trace == ["factory_default"]


def test_failing_reboot_command_is_reported_not_a_crash(make_sim, tmp_path):
    from ivs_accessory.web import create_app

    from .helpers import set_admin_password, start_box

    failing = start_box(tmp_path, make_sim(), failing=("reboot",))
    try:
        set_admin_password(failing.folder)
        client = WsgiClient(create_app(failing.service))
        client.login(ADMIN_PASSWORD)
        answer = client.post("/system/reboot", {"password": ADMIN_PASSWORD})
        assert answer.status == 409 and "helper unit not found" in answer.text
    finally:
        failing.service.stop()


def test_wrong_passwords_on_system_forms_count_towards_the_lockout(admin, box):
    for _ in range(5):
        admin.post("/system/reboot", {"password": "guess"})
    locked = admin.post("/system/reboot", {"password": ADMIN_PASSWORD})
    assert "too many wrong passwords" in locked.text and box.trace == []
