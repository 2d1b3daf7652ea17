"""System -> Update: upload a package for the root helper to install; the result."""

from __future__ import annotations

import logging
from typing import Any

import bottle

from ivs_accessory import __version__
from ivs_accessory.errors import SystemActionError
from ivs_accessory.system import update_request
from ivs_accessory.web.page import Page, Route

logger = logging.getLogger(__name__)

PATH = "/system/update"  # one of page.UPLOAD_PATHS: its body is a file

RESULT_WORDS = {
    "updated": "Updated",
    "rolled back": "Not updated: the new version did not come up, so the box went back",
    "refused": "Not updated: the package was refused",
    "failed": "The update failed",
    "kept": "The box restarted during the update and kept its version",
}


def _form(
    page: Page,
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    result = update_request.last_result(page.config["system"])
    if result is not None:
        result["words"] = RESULT_WORDS.get(str(result["result"]), result["result"])
    return page.render_form(
        "update.tpl", {}, errors, status, problems, running=__version__, last=result
    )


def update_page(page: Page) -> bottle.HTTPResponse:
    return _form(page)


def update_upload(page: Page) -> bottle.HTTPResponse:
    """Stage the upload and start the helper; the box restarts, so the answer is
    the page that waits for it (the result shows here afterwards)."""
    errors = page.password_error()
    package = _upload("package")
    if package is None:
        errors["package"] = "choose the package file (.deb)"
    if errors:
        return _form(page, errors, 400)
    assert package is not None
    try:
        update_request.stage(
            page.config["system"],
            package,
            _upload("signature") or b"",
            allow_downgrade=page.form().get("allow_downgrade") == "true",
            health_url=update_request.health_url(
                page.config["web"],
                bottle.request.environ.get("SERVER_PORT", "80"),
                page.https,
            ),
        )
        page.system().update()
    except SystemActionError as exc:
        return _form(page, {"package": str(exc)}, 400)
    logger.warning(
        "page: update to a package of %d bytes requested from %s",
        len(package),
        page.client_address(),
    )
    return page.render("progress.tpl", title="Updating")


def _upload(name: str) -> bytes | None:
    """The bytes of an uploaded file field, or None when none was chosen."""
    try:
        upload: Any = bottle.request.files.get(name)
    except Exception:  # a body bottle cannot parse has no files
        return None
    if upload is None or not getattr(upload, "filename", ""):
        return None
    data: bytes = upload.file.read(update_request.MAX_PACKAGE_BYTES + 1)
    return data


ROUTES = (
    Route("GET", PATH, update_page),
    Route("POST", PATH, update_upload),
)
