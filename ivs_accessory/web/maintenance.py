"""Network/System routes: trial network change, password, downloads, reboot, reset."""

from __future__ import annotations

import ipaddress
import logging
import os

import bottle

from ivs_accessory.errors import SystemActionError
from ivs_accessory.web import forms
from ivs_accessory.web.accounts import PasswordFileError, new_password_problem
from ivs_accessory.web.files import read_text
from ivs_accessory.web.network import NETWORK_FORM, netplan_yaml, read_netplan
from ivs_accessory.web.notices import rollback_words
from ivs_accessory.web.page import Page, see_other
from ivs_accessory.web.widgets import Widgets

logger = logging.getLogger(__name__)

FACTORY_WORDS = "factory default"  # what must be typed to confirm a factory default
_MAX_DOWNLOAD = 20_000_000


def add_routes(app: bottle.Bottle, page: Page) -> None:
    """Register the Network and System routes on ``app``."""
    _network_routes(app, page)
    _system_routes(app, page)


# -- Network ---------------------------------------------------------------------------


def _current_network(page: Page) -> dict[str, str]:
    try:
        return read_netplan(read_text(page.config["system"]["network_file"]))
    except (OSError, UnicodeDecodeError):
        return read_netplan(None)


def _new_url(page: Page, values: dict) -> str | None:
    """Where the page will be after a static change (None for DHCP: not known)."""
    if values["mode"] != "static":
        return None
    address = str(ipaddress.ip_interface(values["address"]).ip)
    host = f"[{address}]" if ":" in address else address
    port = bottle.request.environ.get("SERVER_PORT", "80")
    scheme = "https" if page.https else "http"
    default = "443" if page.https else "80"
    return f"{scheme}://{host}" + ("" if port == default else f":{port}")


def _expectation(interface: str, values: dict) -> tuple[str | None, str]:
    """(the host the confirmation must come from, or None; a summary in words)."""
    if values["mode"] != "static":
        return None, f"{interface}: DHCP"
    host = str(ipaddress.ip_interface(values["address"]).ip)
    return host, f"{interface}: static {values['address']}"


def _network_routes(app: bottle.Bottle, page: Page) -> None:
    def network_page(
        values: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
        problems: list[str] | None = None,
    ) -> bottle.HTTPResponse:
        interface = page.config["web"]["network_interface"]
        return page.render(
            "network.tpl",
            status=status,
            w=Widgets(values, errors),
            interface=interface,
            now=page.read_network(interface),
            rolled_back=rollback_words(page.trial.last_rollback()),
            problems=problems or [],
        )

    @app.get("/network")
    def network_settings():
        return network_page(_current_network(page), {})

    @app.post("/network")
    def network_apply():
        form = page.form()
        raw = {k: form.get(k, "") for k in NETWORK_FORM}
        values, errors = NETWORK_FORM.validate("network", raw)
        errors = {
            k: forms.field_message(m, "network", k, raw.get(k))
            for k, m in errors.items()
        }
        wrong = page.check_password(form.get("password", ""))
        if wrong:
            errors["password"] = wrong
        if errors:
            return network_page(raw, errors, 400)
        web, system = page.config["web"], page.config["system"]
        new_url = _new_url(page, values)
        expect, summary = _expectation(web["network_interface"], values)
        try:
            page.trial.begin(
                page.system(),
                system["network_file"],
                netplan_yaml(web["network_interface"], values),
                web["network_confirm_s"],
                summary,
                expect,
            )
        except (OSError, SystemActionError) as exc:
            return network_page(raw, {}, 400, [f"The network was not changed: {exc}"])
        return page.render(
            "network_pending.tpl",
            new_url=new_url,
            summary=summary,
            timeout_s=web["network_confirm_s"],
        )

    @app.get("/network/confirm")
    def network_confirm_page():
        return page.render(
            "network_confirm.tpl", trial=page.trial.pending(), host=page.host() or ""
        )

    @app.post("/network/confirm")
    def network_confirm():
        problem = page.trial.confirm(page.host())
        if problem:
            return page.render(
                "network_confirm.tpl",
                status=409,
                trial=page.trial.pending(),
                host=page.host() or "",
                problem=problem,
            )
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


def _system_routes(app: bottle.Bottle, page: Page) -> None:
    def system_page(
        errors: dict[str, str] | None = None,
        status: int = 200,
        problems: list[str] | None = None,
    ) -> bottle.HTTPResponse:
        return page.render(
            "system.tpl",
            status=status,
            w=Widgets({}, errors or {}),
            problems=problems or [],
            factory_words=FACTORY_WORDS,
        )

    @app.get("/system")
    def system_overview():
        return system_page()

    @app.post("/system/password")
    def system_password():
        form = page.form()
        current, new = form.get("current", ""), form.get("new", "")
        wrong = page.check_password(current)
        errors = (
            {"current": wrong}
            if wrong
            else new_password_problem(new, form.get("confirm", ""), current)
        )
        if not errors:
            try:
                page.passwords.change(new)
            except PasswordFileError as exc:
                errors = {"new": str(exc)}
        if errors:
            return system_page(errors, 400)
        page.sessions.drop_others(page.session().token)
        page.flash("Password changed; other browsers are logged out.")
        raise see_other("/system")

    @app.get("/system/logs.txt")
    def system_logs():
        try:
            return _download(page.system().logs(), "ivs-accessory.log")
        except SystemActionError as exc:
            return system_page(status=409, problems=[f"Cannot read the log: {exc}"])

    @app.get("/system/audit.log")
    def system_audit():
        path = page.config["logging"]["audit_file"]
        try:
            return _download(_audit_text(path) if path else "", "audit.log")
        except (OSError, UnicodeDecodeError) as exc:
            return system_page(
                status=409, problems=[f"Cannot read the audit log: {exc}"]
            )

    @app.post("/system/reboot")
    def system_reboot():
        wrong = page.check_password(page.form().get("password", ""))
        if wrong:
            return system_page({"reboot_password": wrong}, 400)
        return _run_and_wait(page, "reboot", "Restarting")

    @app.post("/system/factory-default")
    def system_factory_default():
        form = page.form()
        errors = {}
        if form.get("words", "").strip().lower() != FACTORY_WORDS:
            errors["words"] = f"type {FACTORY_WORDS} to confirm"
        wrong = page.check_password(form.get("password", ""))
        if wrong:
            errors["factory_password"] = wrong
        if errors:
            return system_page(errors, 400)
        return _run_and_wait(page, "factory_default", "Restoring the factory settings")


def _run_and_wait(page: Page, operation: str, title: str) -> bottle.HTTPResponse:
    """Run a box-level operation; on success, the page that waits for the box."""
    try:
        getattr(page.system(), operation)()
    except SystemActionError as exc:
        return page.render(
            "system.tpl",
            status=409,
            w=Widgets(),
            problems=[f"{title} failed: {exc}"],
            factory_words=FACTORY_WORDS,
        )
    logger.warning(
        "page: %s requested from %s", operation.replace("_", " "), page.client_address()
    )
    return page.render("progress.tpl", title=title)
