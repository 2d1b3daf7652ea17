"""System -> Update on the page: the upload, its checks, the helper started, the
result shown; and every other path held to a form's size."""

from __future__ import annotations

import json
import secrets

import pytest

from ivs_accessory.web.page import MAX_FORM_BYTES

from .helpers import ADMIN_PASSWORD
from .wsgi import field_error

# The start of every .deb: an ar archive whose first member is debian-binary.
DEB = b"!<arch>\ndebian-binary   1764000000  0     0     100644  4         `\n2.0\n"


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]):
    """(body, content type) as a browser sends a form with files."""
    boundary = "----ivs" + secrets.token_hex(8)
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n".encode()
        )
    for name, (filename, data) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
            .encode() + data + b"\r\n"
        )  # fmt: skip
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(admin, files, **fields):
    form = {"csrf": admin.csrf(), "password": ADMIN_PASSWORD} | fields
    body, kind = multipart(form, files)
    return admin.request("POST", "/system/update", body=body, content_type=kind)


def test_the_system_page_links_to_the_update(admin):
    assert 'href="/system/update"' in admin.get("/system").text
    page = admin.get("/system/update").text
    assert 'enctype="multipart/form-data"' in page and "Last update" not in page


def test_an_upload_is_staged_for_the_helper_which_is_started(admin, box):
    answer = upload(
        admin,
        {"package": ("ivs-accessory_2.0_all.deb", DEB), "signature": ("x.sig", b"S")},
        allow_downgrade="true",
    )
    assert answer.status == 200 and "Updating" in answer.text
    staged = box.folder / "update"
    assert (staged / "update.deb").read_bytes() == DEB
    assert (staged / "update.deb.sig").read_bytes() == b"S"
    assert (staged / "update.deb").stat().st_mode & 0o777 == 0o600
    request = json.loads((staged / "request.json").read_text())
    assert request["allow_downgrade"] is True
    assert request["health_url"].startswith("http://127.0.0.1:")
    assert request["health_url"].endswith("/healthz")
    assert box.trace == ["update"]


@pytest.mark.parametrize(
    ("files", "password", "field", "words"),
    [
        ({}, ADMIN_PASSWORD, "package", "choose the package file"),
        ({"package": ("notes.txt", b"hello")}, ADMIN_PASSWORD, "package",
         "not a Debian package"),
        ({"package": ("a.deb", DEB)}, "wrong", "password", "wrong password"),
    ],
    ids=["no-file", "not-deb", "password"],
)  # fmt: skip
def test_a_bad_upload_is_refused_next_to_its_field(
    admin, box, files, password, field, words
):
    answer = upload(admin, files, password=password)
    assert answer.status == 400 and words in (field_error(answer, field) or "")
    assert box.trace == [] and not (box.folder / "update" / "update.deb").exists()


def test_an_upload_without_the_csrf_token_is_refused(admin, box):
    body, kind = multipart({"password": ADMIN_PASSWORD}, {"package": ("a.deb", DEB)})
    answer = admin.request("POST", "/system/update", body=body, content_type=kind)
    assert answer.status == 403 and box.trace == []


def test_the_helpers_result_is_shown(admin, box):
    (box.folder / "update-result.json").write_text(json.dumps({
        "result": "rolled back", "version": "1.0", "seconds": 71.2,
        "reason": "version 2.0 did not become healthy within 60 s: "
        "ivs-accessory.service is failed",
    }))  # fmt: skip
    page = admin.get("/system/update").text
    assert "the new version did not come up, so the box went back" in page
    assert "It runs 1.0." in page and "ivs-accessory.service is failed" in page


def test_a_body_larger_than_a_form_is_refused_elsewhere(admin, box):
    big = {"csrf": admin.csrf(), "current": "x" * (MAX_FORM_BYTES + 1)}
    assert admin.post("/system/password", big).status == 413
    chunked = admin.request(
        "POST", "/system/password", form={"a": "b"},
        headers={"Transfer-Encoding": "chunked"},
    )  # fmt: skip
    assert chunked.status == 411
