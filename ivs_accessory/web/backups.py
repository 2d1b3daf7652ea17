"""System -> Backup and restore: download a backup, upload one, preview, confirm."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import bottle

from ivs_accessory.backup.applying import apply_config, apply_time, network_changes
from ivs_accessory.backup.document import (
    MAX_BYTES,
    Backup,
    BoxFiles,
    decode,
    make_backup,
)
from ivs_accessory.backup.plan import PAGE_PASSWORD, Plan, make_plan
from ivs_accessory.backup.sealing import passphrase_problem
from ivs_accessory.errors import ConfigError, SystemActionError
from ivs_accessory.system.netconfig import parse_netplan
from ivs_accessory.web.maintenance import _expectation, _new_url
from ivs_accessory.web.page import Page, Route, see_other

logger = logging.getLogger(__name__)

UPLOAD_FIELD = "backup_file"
_PENDING = "restore"  # session key of the uploaded backup waiting for a confirmation


def _files(page: Page) -> BoxFiles | None:
    path = page.config.path
    return BoxFiles.of(page.config, path) if path is not None else None


def _backup_form(
    page: Page,
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    return page.render_form("backup.tpl", {}, errors, status, problems)


def backup_page(page: Page) -> bottle.HTTPResponse:
    return _backup_form(page)


def backup_download(page: Page) -> bottle.HTTPResponse:
    form = page.form()
    passphrase = form.get("passphrase", "")
    errors = page.password_error(shown_as="backup_password")
    if passphrase:
        problem = passphrase_problem(passphrase)
        if problem is None and passphrase != form.get("passphrase_again", ""):
            errors["passphrase_again"] = "does not match the passphrase"
        elif problem is not None:
            errors["passphrase"] = problem
    files = _files(page)
    if errors or files is None:
        problems = [] if files else ["the daemon runs without a configuration file"]
        return _backup_form(page, errors, 400, problems)
    try:
        data = make_backup(files, passphrase or None)
    except ConfigError as exc:
        return _backup_form(page, status=409, problems=[f"No backup: {exc}"])
    logger.info(
        "page: backup downloaded from %s (%s)",
        page.client_address(),
        "encrypted, with passwords" if passphrase else "without passwords",
    )
    day = datetime.date.today().isoformat()
    return bottle.HTTPResponse(
        data,
        headers={
            "Content-Type": "application/json",
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="ivs-accessory-{day}.json"',
        },
    )


def _uploaded() -> bytes | None:
    upload = bottle.request.files.get(UPLOAD_FIELD)
    if upload is None:
        return None
    data: bytes = upload.file.read(MAX_BYTES + 1)
    return data


def restore_upload(page: Page) -> bottle.HTTPResponse:
    files = _files(page)
    data = _uploaded()
    if data is None or files is None:
        errors = {UPLOAD_FIELD: "choose the backup file"} if files else {}
        return _backup_form(page, errors, 400)
    try:
        backup = decode(data, page.form().get("restore_passphrase") or None)
        plan = make_plan(backup, files)
    except ConfigError as exc:
        problems = ["The backup was refused; nothing was changed.", *exc.errors]
        if not exc.errors:
            problems.append(str(exc))
        return _backup_form(page, status=400, problems=problems)
    page.session().data[_PENDING] = backup
    return _preview(page, plan, backup)


def _preview(
    page: Page,
    plan: Plan,
    backup: Backup,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> bottle.HTTPResponse:
    return page.render_form(
        "restore.tpl",
        {},
        errors,
        status,
        changes=plan.shown(),
        has_changes=plan.has_changes,
        backup=backup,
        network=plan.network_summary if network_changes(plan) else "",
    )


def restore_confirm(page: Page) -> bottle.HTTPResponse:
    backup = page.session().data.get(_PENDING)
    files = _files(page)
    if not isinstance(backup, Backup) or files is None:
        return page.error_page(409, "No backup is waiting: upload it again.")
    try:
        # Checked again: the box may have changed since the preview.
        plan = make_plan(backup, files)
    except ConfigError as exc:
        page.session().data.pop(_PENDING, None)
        return _backup_form(page, status=409, problems=list(exc.errors) or [str(exc)])
    errors = page.password_error(shown_as="restore_password")
    if errors:
        return _preview(page, plan, backup, errors, 400)
    page.session().data.pop(_PENDING, None)
    return _restore(page, plan)


def _restore(page: Page, plan: Plan) -> bottle.HTTPResponse:
    previous = page.config
    try:
        # The lock the page's own saves hold: a form saved meanwhile must not mix
        # its line edits into the restored files.
        with page._save_lock:
            apply_config(plan, page.service.reload)
    except Exception as exc:  # whatever stopped it, the files are back as they were
        _back_to(page, previous)
        words = "; ".join(getattr(exc, "errors", None) or [str(exc)])
        return _backup_form(
            page, status=409, problems=[f"Nothing was restored: {words}"]
        )
    logger.warning("page: backup restored from %s", page.client_address())
    if plan.changes_in(PAGE_PASSWORD):
        # As a password change: whoever knew the old one is logged out.
        page.sessions.drop_others(page.session().token)
    problems = apply_time(plan, page.system())
    if network_changes(plan):
        return _network_trial(page, plan, problems)
    page.flash(
        "Backup restored; the daemon uses it now."
        + "".join(f" {p[0].upper()}{p[1:]}." for p in problems),
        "warn" if problems else "ok",
    )
    raise see_other("/system/backup")


def _back_to(page: Page, previous: Any) -> None:
    try:
        page.service.reload(previous)
    except Exception:  # the page must answer; the log says what broke
        logger.exception("page: cannot go back to the previous settings")


def _network_trial(page: Page, plan: Plan, problems: list[str]) -> bottle.HTTPResponse:
    """The restored network settings on trial, as the Network page does it."""
    assert plan.network_yaml is not None  # network_changes says so
    settings = parse_netplan(plan.network_yaml, "backup")
    values = {"mode": settings.mode, "address": settings.address}
    expect = _expectation(settings.interface, values)[0]
    web = page.config["web"]
    try:
        page.trial.begin(
            page.system(),
            plan.files.network_file,
            plan.network_yaml,
            web["network_confirm_s"],
            plan.network_summary,
            expect,
        )
    except (OSError, SystemActionError) as exc:
        page.flash(f"Backup restored, but the network settings were not: {exc}", "warn")
        raise see_other("/system/backup") from None
    return page.render(
        "network_pending.tpl",
        new_url=_new_url(page, values),
        summary=plan.network_summary,
        timeout_s=web["network_confirm_s"],
        problems=problems,
    )


ROUTES = (
    Route("GET", "/system/backup", backup_page),
    Route("POST", "/system/backup", backup_download),
    Route("POST", "/system/restore", restore_upload),
    Route("POST", "/system/restore/confirm", restore_confirm),
)
