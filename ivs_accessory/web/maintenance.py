"""Network/System routes: trial network change, password, downloads, reboot, reset."""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any

import bottle

from ivs_accessory.errors import SystemActionError
from ivs_accessory.web import forms
from ivs_accessory.web.accounts import PasswordFileError, new_password_problem
from ivs_accessory.web.files import read_text
from ivs_accessory.web.network import NETWORK_FORM, netplan_yaml, read_netplan
from ivs_accessory.web.notices import rollback_words
from ivs_accessory.web.page import Page, Route, see_other

logger = logging.getLogger(__name__)

FACTORY_WORDS = "factory default"  # what must be typed to confirm a factory default
_MAX_DOWNLOAD = 20_000_000


# -- Network ---------------------------------------------------------------------------


def _current_network(page: Page) -> dict[str, str]:
    try:
        return read_netplan(read_text(page.config["system"]["network_file"]))
    except (OSError, UnicodeDecodeError):
        return read_netplan(None)


def _new_url(page: Page, values: dict[str, Any]) -> str | None:
    """Where the page will be after a static change (None for DHCP: not known)."""
    if values["mode"] != "static":
        return None
    address = str(ipaddress.ip_interface(values["address"]).ip)
    host = f"[{address}]" if ":" in address else address
    port = bottle.request.environ.get("SERVER_PORT", "80")
    scheme = "https" if page.https else "http"
    default = "443" if page.https else "80"
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def _expectation(interface: str, values: dict[str, Any]) -> tuple[str | None, str]:
    """(the host the confirmation must come from, or None; a summary in words)."""
    if values["mode"] != "static":
        return None, f"{interface}: DHCP"
    host = str(ipaddress.ip_interface(values["address"]).ip)
    return host, f"{interface}: static {values['address']}"


def _network_form(
    page: Page,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    interface = page.config["web"]["network_interface"]
    return page.render_form(
        "network.tpl",
        values,
        errors,
        status,
        problems,
        interface=interface,
        now=page.read_network(interface),
        rolled_back=rollback_words(page.trial.last_rollback()),
    )


def network_settings(page: Page) -> bottle.HTTPResponse:
    return _network_form(page, _current_network(page))


def network_apply(page: Page) -> bottle.HTTPResponse:
    raw, values, errors = forms.check_form(NETWORK_FORM, "network", page.form())
    errors |= page.password_error()
    if errors:
        return _network_form(page, raw, errors, 400)
    new_url = _new_url(page, values)
    try:
        summary = _begin_trial(page, values)
    except (OSError, SystemActionError) as exc:
        return _network_form(
            page, raw, {}, 400, [f"The network was not changed: {exc}"]
        )
    return page.render(
        "network_pending.tpl",
        new_url=new_url,
        summary=summary,
        timeout_s=page.config["web"]["network_confirm_s"],
    )


def _begin_trial(page: Page, values: dict[str, Any]) -> str:
    """Put the new settings on trial; returns the change in words."""
    web, system = page.config["web"], page.config["system"]
    expect, summary = _expectation(web["network_interface"], values)
    page.trial.begin(
        page.system(),
        system["network_file"],
        netplan_yaml(web["network_interface"], values),
        web["network_confirm_s"],
        summary,
        expect,
    )
    return summary


def _confirm_page(
    page: Page, status: int = 200, problem: str | None = None
) -> bottle.HTTPResponse:
    return page.render(
        "network_confirm.tpl",
        status=status,
        trial=page.trial.pending(),
        host=page.host() or "",
        problem=problem,
    )


def network_confirm_page(page: Page) -> bottle.HTTPResponse:
    return _confirm_page(page)


def network_confirm(page: Page) -> bottle.HTTPResponse:
    problem = page.trial.confirm(page.host())
    if problem:
        return _confirm_page(page, 409, problem=problem)
    page.flash("The new network settings are kept.")
    raise see_other("/network")


# -- System ----------------------------------------------------------------------------


def _download(text: str | bytes, filename: str) -> bottle.HTTPResponse:
    return bottle.HTTPResponse(
        text,
        headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


def _audit_text(path: str) -> str:
    """The audit log with its rotated files, oldest first."""
    parts = []
    for number in range(100, 0, -1):
        older = f"{path}.{number}"
        if os.path.exists(older):
            parts.append(read_text(older, _MAX_DOWNLOAD) or "")
    parts.append(read_text(path, _MAX_DOWNLOAD) or "")
    return "".join(parts)


def _system_form(
    page: Page,
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    return page.render_form(
        "system.tpl", {}, errors, status, problems, factory_words=FACTORY_WORDS
    )


def system_overview(page: Page) -> bottle.HTTPResponse:
    return _system_form(page)


def system_password(page: Page) -> bottle.HTTPResponse:
    errors = _password_change_errors(page, page.form())
    if errors:
        return _system_form(page, errors, 400)
    page.sessions.drop_others(page.session().token)
    page.flash("Password changed; other browsers are logged out.")
    raise see_other("/system")


def _password_change_errors(page: Page, form: dict[str, str]) -> dict[str, str]:
    """Why the password was not changed; {} when it was."""
    current, new = form.get("current", ""), form.get("new", "")
    errors = page.password_error("current") or new_password_problem(
        new, form.get("confirm", ""), current
    )
    if not errors:
        try:
            page.passwords.change(new)
        except PasswordFileError as exc:
            errors = {"new": str(exc)}
    return errors


def system_logs(page: Page) -> bottle.HTTPResponse:
    try:
        return _download(page.system().logs(), "ivs-accessory.log")
    except SystemActionError as exc:
        return _system_form(page, status=409, problems=[f"Cannot read the log: {exc}"])


def system_audit(page: Page) -> bottle.HTTPResponse:
    path = page.config["logging"]["audit_file"]
    try:
        return _download(_audit_text(path) if path else "", "audit.log")
    except (OSError, UnicodeDecodeError) as exc:
        problem = f"Cannot read the audit log: {exc}"
        return _system_form(page, status=409, problems=[problem])


def system_reboot(page: Page) -> bottle.HTTPResponse:
    errors = page.password_error(shown_as="reboot_password")
    if errors:
        return _system_form(page, errors, 400)
    return _run_and_wait(page, "reboot", "Restarting")


def system_factory_default(page: Page) -> bottle.HTTPResponse:
    errors = {}
    if page.form().get("words", "").strip().lower() != FACTORY_WORDS:
        errors["words"] = f"type {FACTORY_WORDS} to confirm"
    errors |= page.password_error(shown_as="factory_password")
    if errors:
        return _system_form(page, errors, 400)
    return _run_and_wait(page, "factory_default", "Restoring the factory settings")


def _run_and_wait(page: Page, operation: str, title: str) -> bottle.HTTPResponse:
    """Run a box-level operation; on success, the page that waits for the box."""
    try:
        getattr(page.system(), operation)()
    except SystemActionError as exc:
        return _system_form(page, status=409, problems=[f"{title} failed: {exc}"])
    logger.warning(
        "page: %s requested from %s", operation.replace("_", " "), page.client_address()
    )
    return page.render("progress.tpl", title=title)


ROUTES = (
    Route("GET", "/network", network_settings),
    Route("POST", "/network", network_apply),
    Route("GET", "/network/confirm", network_confirm_page),
    Route("POST", "/network/confirm", network_confirm),
    Route("GET", "/system", system_overview),
    Route("POST", "/system/password", system_password),
    Route("GET", "/system/logs.txt", system_logs),
    Route("GET", "/system/audit.log", system_audit),
    Route("POST", "/system/reboot", system_reboot),
    Route("POST", "/system/factory-default", system_factory_default),
)
