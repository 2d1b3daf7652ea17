"""System -> Backup and restore: download, upload, preview, confirm; refusals."""

from __future__ import annotations

import json
import re

import pytest
import requests

from ivs_accessory.web import WebServer, create_app

from .helpers import ADMIN_PASSWORD, SECRET_PASSWORD, set_admin_password
from .wsgi import WsgiClient, field_error

PASSPHRASE = "a long passphrase for the page"
BOUNDARY = "ivs-test-boundary"


def multipart(fields: dict[str, str], data: bytes) -> bytes:
    """A browser's file upload: the text fields and the file ``backup_file``."""
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="backup_file"; '
        f'filename="box.json"\r\nContent-Type: application/json\r\n\r\n'.encode()
        + data
        + b"\r\n"
    )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def upload(admin, data: bytes, csrf: bool = True, **fields: str):
    form = dict(fields)
    if csrf:
        form["csrf"] = admin.csrf()
    return admin.request(
        "POST",
        "/system/restore",
        body=multipart(form, data),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


def download(admin, passphrase: str = "") -> bytes:
    answer = admin.post(
        "/system/backup",
        {"password": ADMIN_PASSWORD, "passphrase": passphrase,
         "passphrase_again": passphrase},
    )  # fmt: skip
    assert answer.status == 200, answer.text
    assert answer.header("Cache-Control") == "no-store"
    assert "attachment" in answer.header("Content-Disposition")
    return answer.body


def set_timeout(box, value: str) -> None:
    text = box.config_path.read_text()
    box.config_path.write_text(re.sub(r"timeout_s = \S+", f"timeout_s = {value}", text))


def test_the_system_page_links_to_backup_and_restore(admin):
    assert 'href="/system/backup"' in admin.get("/system").text
    page = admin.get("/system/backup")
    assert page.status == 200
    assert 'enctype="multipart/form-data"' in page.text


def test_a_backup_needs_the_page_password(admin):
    answer = admin.post("/system/backup", {"password": "wrong"})
    assert answer.status == 400
    assert field_error(answer, "backup_password")


def test_download_without_passphrase_has_no_password(admin):
    data = download(admin)
    assert SECRET_PASSWORD.encode() not in data
    assert json.loads(data)["secrets"] is False


def test_upload_preview_and_confirm_restore_the_settings(admin, box):
    data = download(admin, PASSPHRASE)
    set_timeout(box, "7")
    box.service.reload(_load(box))
    preview = upload(admin, data, restore_passphrase=PASSPHRASE)
    assert preview.status == 200, preview.text
    assert "[valt] timeout_s" in preview.text
    assert "[valt] password" in preview.text and "unchanged" in preview.text
    assert SECRET_PASSWORD not in preview.text and PASSPHRASE not in preview.text
    assert box.service.config["valt"]["timeout_s"] == 7  # not yet
    wrong = admin.post("/system/restore/confirm", {"password": "wrong"})
    assert wrong.status == 400 and field_error(wrong, "restore_password")
    done = admin.post("/system/restore/confirm", {"password": ADMIN_PASSWORD})
    assert done.status == 303 and done.location == "/system/backup", done.text
    assert box.service.config["valt"]["timeout_s"] == 2  # the daemon uses it now
    assert "timeout_s = 2" in box.config_path.read_text()
    assert box.config_path.stat().st_mode & 0o777 == 0o600
    again = admin.post("/system/restore/confirm", {"password": ADMIN_PASSWORD})
    assert again.status == 409  # the upload was used up


def _load(box):
    from ivs_accessory.config import load

    return load(str(box.config_path))


@pytest.mark.parametrize(
    ("make", "passphrase", "words"),
    [
        (lambda d: d, "not the passphrase", "wrong passphrase"),
        (lambda d: d, "", "give the passphrase"),
        (lambda d: d[: len(d) // 2], PASSPHRASE, "cut short"),
        (lambda d: b"hello", "", "not an ivs-accessory backup"),
    ],
)
def test_a_bad_upload_is_refused_and_changes_nothing(
    admin, box, make, passphrase, words
):
    data = make(download(admin, PASSPHRASE))
    before = box.config_bytes()
    answer = upload(admin, data, restore_passphrase=passphrase)
    assert answer.status == 400
    assert words in answer.text
    assert box.config_bytes() == before


def test_an_invalid_value_is_refused_naming_the_setting(admin, box):
    content = json.loads(download(admin))
    content["config"]["main"] = content["config"]["main"].replace(
        "timeout_s = 2", "timeout_s = soon"
    )
    before = box.config_bytes()
    answer = upload(admin, json.dumps(content).encode())
    assert answer.status == 400
    assert "[valt] timeout_s = &#039;soon&#039;" in answer.text
    assert box.config_bytes() == before


def test_an_upload_without_the_csrf_token_is_refused(admin, box):
    answer = upload(admin, download(admin), csrf=False)
    assert answer.status == 403


def test_the_flow_over_loopback_http(box):
    """The same steps from a real HTTP client to the served page."""
    set_admin_password(box.folder)
    server = WebServer(create_app(box.service), address="127.0.0.1", port=0)
    server.start()
    try:
        browser = requests.Session()
        login = browser.get(server.url + "login", timeout=5)
        token = re.search(r'name="csrf" value="([^"]+)"', login.text).group(1)
        browser.post(
            server.url + "login",
            data={"csrf": token, "username": "admin", "password": ADMIN_PASSWORD},
            timeout=5,
        )
        page = browser.get(server.url + "system/backup", timeout=5)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', page.text).group(1)
        backup = browser.post(
            server.url + "system/backup",
            data={"csrf": csrf, "password": ADMIN_PASSWORD},
            timeout=5,
        )
        assert backup.status_code == 200
        set_timeout(box, "9")
        preview = browser.post(
            server.url + "system/restore",
            data={"csrf": csrf},
            files={"backup_file": ("box.json", backup.content, "application/json")},
            timeout=5,
        )
        assert preview.status_code == 200, preview.text
        assert "timeout_s" in preview.text
        done = browser.post(
            server.url + "system/restore/confirm",
            data={"csrf": csrf, "password": ADMIN_PASSWORD},
            timeout=5,
        )
        assert done.status_code == 200 and "Backup restored" in done.text
        assert "timeout_s = 2" in box.config_path.read_text()
    finally:
        server.stop()


def test_no_password_or_passphrase_reaches_the_log(admin, box, caplog):
    caplog.set_level("DEBUG", logger="ivs_accessory")
    data = download(admin, PASSPHRASE)
    set_timeout(box, "7")
    upload(admin, data, restore_passphrase=PASSPHRASE)
    upload(admin, data, restore_passphrase="a wrong passphrase here")
    admin.post("/system/restore/confirm", {"password": ADMIN_PASSWORD})
    assert "backup restored" in caplog.text
    for secret in (PASSPHRASE, SECRET_PASSWORD, ADMIN_PASSWORD, "a wrong passphrase"):
        assert secret not in caplog.text


def test_restoring_another_page_password_logs_other_browsers_out(admin, box, app):
    data = download(admin, PASSPHRASE)
    other = "another admin password"
    set_admin_password(box.folder, other)
    second = WsgiClient(app)
    assert second.login(other).status == 303
    assert upload(admin, data, restore_passphrase=PASSPHRASE).status == 200
    done = admin.post("/system/restore/confirm", {"password": other})
    assert done.status == 303, done.text
    assert admin.get("/system").status == 200
    assert second.get("/system").status == 303  # its session is gone
    assert WsgiClient(app).login(ADMIN_PASSWORD).status == 303


def test_the_served_page_is_advertised_with_its_port_and_the_rooms_name(box):
    from types import SimpleNamespace

    from ivs_accessory.advertiser import page_advertisement

    server = WebServer(create_app(box.service), address="127.0.0.1", port=0)
    server.start()
    try:
        box.service.dispatcher.refresh_soon()
        box.rooms.wait(lambda status, online: online)  # the room has been read
        name = box.service.status()["room"]["name"]
        assert name  # the simulator's room 1 has one
        running = SimpleNamespace(web=server, status=box.service.status)
        ad = page_advertisement(running)
        assert ad.port == server.address[1] and ad.tls is False
        assert ad.room == name
    finally:
        server.stop()
    assert page_advertisement(SimpleNamespace(web=None)) is None


def test_restored_time_is_applied_and_a_network_change_goes_on_trial(admin, box, app):
    content = json.loads(download(admin))
    content["time"] = {"timezone": "Europe/Berlin", "ntp_servers": "192.0.2.123"}
    content["network"] = {
        "mode": "static",
        "address": "192.0.2.50/24",
        "gateway": "192.0.2.1",
        "dns": "192.0.2.53",
    }
    preview = upload(admin, json.dumps(content).encode())
    assert preview.status == 200, preview.text
    assert "[network] address" in preview.text and "rolled back unless" in preview.text
    done = admin.post("/system/restore/confirm", {"password": ADMIN_PASSWORD})
    assert done.status == 200, done.text
    assert "eth0: static 192.0.2.50/24" in done.text
    assert "http://192.0.2.50/network/confirm" in done.text
    assert box.trace == ["apply_time", "apply_network"]
    assert "timezone = Europe/Berlin" in (box.folder / "time.conf").read_text()
    assert "192.0.2.50/24" in (box.folder / "network.yaml").read_text()
    assert (
        app.config["ivs.page"].trial.pending()["summary"]
        == "eth0: static 192.0.2.50/24"
    )
