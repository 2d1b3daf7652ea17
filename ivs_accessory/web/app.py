"""WSGI app: ``create_app`` and its route table; login, status, health, metrics."""

from __future__ import annotations

import functools
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import bottle

from ivs_accessory.threads import Worker
from ivs_accessory.web import (
    backups,
    doorpage,
    enrolpage,
    maintenance,
    settings,
    updatepage,
)
from ivs_accessory.web.accounts import PasswordFileError, new_password_problem
from ivs_accessory.web.backend import PageService
from ivs_accessory.web.guard import guard
from ivs_accessory.web.live import status_view
from ivs_accessory.web.metrics import health
from ivs_accessory.web.page import (
    HERE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    Page,
    Route,
    json_response,
    safe_next,
    see_other,
)
from ivs_accessory.web.serving import END_STREAMS

logger = logging.getLogger(__name__)

# close() waits for the recovery through the trial's lock; this is for one that had
# not begun by then.
_RECOVERY_STOP_S = 1.0

FACTORY_REFUSED = (
    "The factory password is accepted only on the box itself, from a link-local "
    "address (a laptop cabled straight to the box) or for 15 minutes after a "
    "factory default. Log in from there, or restore the factory settings again."
)


class _ClosePlugin:
    """Lets ``app.close()`` (the server stopping) settle a pending network change and
    wait for the page's network threads."""

    name = "ivs-page-close"
    api = 2

    def __init__(self, page: Page) -> None:
        self.page = page

    def apply(
        self, callback: Callable[..., Any], route: bottle.Route
    ) -> Callable[..., Any]:
        return callback

    def close(self) -> None:
        self.page.door_streams.close()
        self.page.outcome_watch.detach()
        try:
            self.page.trial.close()
        finally:
            if self.page.recovery is not None:
                self.page.recovery.stop(_RECOVERY_STOP_S)


class _FriendlyErrors:
    """An unexpected exception in a route gives the page's own error page (with the
    layout and a banner) and one traceback in the log, never a bare 500."""

    name = "ivs-page-errors"
    api = 2

    def __init__(self, page: Page) -> None:
        self.page = page

    def apply(
        self, callback: Callable[..., Any], route: bottle.Route
    ) -> Callable[..., Any]:
        return _friendly(self.page, callback)


def _friendly(page: Page, callback: Callable[..., Any]) -> Callable[..., Any]:
    def answer(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except bottle.BottleException:  # redirects and error answers are answers
            raise
        except Exception:
            logger.exception(
                "page: %s %s failed", bottle.request.method, bottle.request.path
            )
            raise page.failure_page() from None

    return answer


class _PageApp(bottle.Bottle):  # type: ignore[misc]
    """The page's application: every answer leaves with the security headers.

    Set where the answer leaves, not in an after_request hook: bottle 0.12 (Debian 12)
    copies an answer raised by the guard or an error page over the hook's headers.
    """

    def wsgi(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        wanted = self.config["ivs.page"].security_headers()
        names = {name.lower() for name in wanted}

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() not in names]
            return start_response(status, kept + list(wanted.items()), *exc_info)

        return super().wsgi(environ, start)


def create_app(
    service: PageService,
    *,
    https: bool = False,
    clock: Callable[[], float] = time.monotonic,
    devices: Callable[[], list[dict[str, Any]]] | None = None,
    network: Callable[[str], dict[str, Any]] | None = None,
) -> bottle.Bottle:
    """The page as a WSGI application for ``service`` (see :class:`~.page.Page`).

    Args:
        service: the running daemon's Service.
        https: the page is served over TLS (Secure cookies).
        clock: monotonic seconds (session expiry, login lockout).
        devices: lists present input devices (default: ``describe_devices``).
        network: reads an interface's current addresses (default:
            ``read_current_network``).
    """
    app = _PageApp(catchall=True)
    page = Page(service, https=https, clock=clock, devices=devices, network=network)
    app.install(_ClosePlugin(page))
    app.install(_FriendlyErrors(page))
    app.add_hook("before_request", _friendly(page, functools.partial(guard, page)))
    for code, handler in ERROR_PAGES:
        app.error(code)(_bound(handler, page))
    for route in ROUTES:
        app.route(route.path, route.method, _bound(route.handler, page))
    app.config["ivs.page"] = page
    # WebServer.stop() calls it first: door screens' streams hold worker threads.
    app.config[END_STREAMS] = page.door_streams.close
    _start_recovery(page)
    return app


def _bound(handler: Callable[..., Any], page: Page) -> Callable[..., Any]:
    """``handler`` as a bottle callback: ``page`` comes before bottle's arguments."""

    # A closure, not functools.partial: bottle looks through closures for the
    # handler, so a route prints as <GET /valt -> ...settings:valt_page>.
    def callback(*args: Any, **kwargs: Any) -> Any:
        return handler(page, *args, **kwargs)

    return callback


def _start_recovery(page: Page) -> None:
    # A change left on trial by a daemon that died is rolled back; in a thread, since
    # the root helper's netplan apply takes a while and the page must not wait. No
    # stop hook: a roll-back is not cut short.
    page.recovery = Worker(
        page.trial.recover,
        "network-recover",
        args=(page.system(), page.config["system"]["network_file"]),
    )
    page.recovery.start()


def not_found(page: Page, error: bottle.HTTPError) -> bottle.HTTPResponse:
    return page.render(
        "message.tpl",
        status=404,
        title="Not found",
        message="There is no such page on this box.",
    )


def failed(page: Page, error: bottle.HTTPError) -> bottle.HTTPResponse:
    # Only what escapes the routes' own guard (_friendly) gets here.
    logger.error(
        "page: %s %s failed: %s\n%s",
        bottle.request.method,
        bottle.request.path,
        error.exception,
        error.traceback or "",
    )
    return page.failure_page()


ERROR_PAGES = ((404, not_found), (500, failed))


# -- login, logout, password -----------------------------------------------------------


def _login_form(page: Page, status: int = 200, error: str = "") -> bottle.HTTPResponse:
    token = _login_token()
    bottle.response.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=page.https,
        path="/login",
    )
    return page.render(
        "login.tpl",
        status=status,
        login_csrf=token,
        error=error,
        next=safe_next(bottle.request.query.get("next") or page.form().get("next")),
    )


def _login_token() -> str:
    # Reuse the browser's token: another tab (or a favicon fetch) loading the
    # login page must not invalidate a form that is already open.
    token = bottle.request.get_cookie(LOGIN_COOKIE) or ""
    if (
        not 20 <= len(token) <= 64
        or not token.replace("-", "").replace("_", "").isalnum()
    ):
        token = secrets.token_urlsafe(24)
    return token


def login_page(page: Page) -> bottle.HTTPResponse:
    return _login_form(page)


def login(page: Page) -> bottle.HTTPResponse:
    form = page.form()
    cookie = bottle.request.get_cookie(LOGIN_COOKIE) or ""
    if not cookie or not secrets.compare_digest(cookie, form.get("csrf", "")[:200]):
        return _login_form(page, 403, "The login form expired; please try again.")
    problem = page.check_password(
        form.get("password", ""), page.login_matches(form.get("username", ""))
    )
    if problem:
        return _login_form(page, *_login_refusal(problem))
    try:
        must_change = page.passwords.read().must_change
    except PasswordFileError as exc:
        return _login_form(page, 503, str(exc))
    if must_change and not page.factory_login_allowed():
        logger.warning("page: factory password refused from %s", page.client_address())
        return _login_form(page, 403, FACTORY_REFUSED)
    _log_in(page, must_change)
    raise see_other("/password" if must_change else safe_next(form.get("next")))


def _login_refusal(problem: str) -> tuple[int, str]:
    """(status, words) for a refused password."""
    if problem == "wrong password":
        return 401, "Wrong user name or password."
    status = 429 if problem.startswith("too many") else 401
    return status, problem[0].upper() + problem[1:] + "."


def _log_in(page: Page, must_change: bool) -> None:
    """A new session, its cookie set and the login form's token dropped."""
    session = page.sessions.create(must_change)
    logger.info("page: admin logged in from %s", page.client_address())
    bottle.response.set_cookie(
        SESSION_COOKIE,
        session.token,
        httponly=True,
        samesite="strict",
        secure=page.https,
        path="/",
    )
    bottle.response.delete_cookie(LOGIN_COOKIE, path="/login")


def logout(page: Page) -> bottle.HTTPResponse:
    page.sessions.drop(page.session().token)
    bottle.response.delete_cookie(SESSION_COOKIE, path="/")
    raise see_other("/login")


def password_page(page: Page) -> bottle.HTTPResponse:
    if not page.session().must_change:
        raise see_other("/system")
    return page.render_form("password.tpl")


def change_password(page: Page) -> bottle.HTTPResponse:
    # Only the forced first change skips the current password: anyone else
    # holding a session (a borrowed browser, a stolen cookie) must know it.
    if not page.session().must_change:
        return page.error_page(
            403,
            "Change the password on the System page; it asks for the current one.",
        )
    errors = _first_password_errors(page, page.form())
    if errors:
        return page.render_form("password.tpl", {}, errors, 400)
    session = page.session()
    session.must_change = False
    page.sessions.drop_others(session.token)
    page.flash("Password changed. Keep it somewhere safe.")
    raise see_other("/")


def _first_password_errors(page: Page, form: dict[str, str]) -> dict[str, str]:
    """Why the factory password was not replaced; {} when it was."""
    new, confirm = form.get("new", ""), form.get("confirm", "")
    errors = new_password_problem(new, confirm, "")
    try:
        if not errors and page.passwords.verify(new):
            errors = {"new": "must differ from the current password"}
        if not errors:
            page.passwords.change(new)
    except PasswordFileError as exc:
        errors = {"new": str(exc)}
    return errors


# -- safe mode -------------------------------------------------------------------------


def restore_last_good(page: Page) -> bottle.HTTPResponse:
    try:
        page.service.restore_last_good()
    except Exception as exc:  # the daemon's words are what the installer needs
        logger.error("page: going back to the last good configuration: %s", exc)
        return page.error_page(
            409, f"The last configuration that worked could not be restored: {exc}"
        )
    logger.warning(
        "page: the last good configuration restored from %s", page.client_address()
    )
    page.flash("The last configuration that worked is back in use.")
    raise see_other("/")


# -- status, health, metrics, static ---------------------------------------------------


def status(page: Page) -> bottle.HTTPResponse:
    page.refresh_room_soon()
    return page.render(
        "status.tpl",
        s=status_view(page.service),
        poll_s=page.config["web"]["status_poll_s"],
    )


def status_json(page: Page) -> bottle.HTTPResponse:
    page.refresh_room_soon()
    return json_response(status_view(page.service))


def healthz(page: Page) -> bottle.HTTPResponse:
    return json_response(
        health(page.service.status(), page.trial.pending() is not None)
    )


def metrics(page: Page) -> bottle.HTTPResponse:
    # Imported at the first scrape: prometheus_client is memory that a box nobody
    # scrapes need not carry (README, "Fleet monitoring", gives the figure).
    from ivs_accessory.web.exporter import CONTENT_TYPE, exporter_for

    body = exporter_for(page).render()
    return bottle.HTTPResponse(body, headers={"Content-Type": CONTENT_TYPE})


def favicon(page: Page) -> bottle.HTTPResponse:
    return bottle.HTTPResponse(status=204)


def static(page: Page, name: str) -> bottle.HTTPResponse:
    # Set afterwards: static_file() takes headers= only from bottle 0.13 (Debian 12
    # ships 0.12.23).
    answer = bottle.static_file(name, root=str(HERE / "static"))
    if answer.status_code < 400:
        answer.set_header("Cache-Control", "max-age=300")
    return answer


# -- the route table -------------------------------------------------------------------

ROUTES = (
    Route("GET", "/login", login_page),
    Route("POST", "/login", login),
    Route("POST", "/logout", logout),
    Route("GET", "/password", password_page),
    Route("POST", "/password", change_password),
    Route("GET", "/", status),
    Route("GET", "/status.json", status_json),
    Route("GET", "/healthz", healthz),
    Route("GET", "/metrics", metrics),
    Route("GET", "/favicon.ico", favicon),
    Route("GET", "/static/<name:re:[a-z]+\\.(css|js)>", static),
    Route("POST", "/safe-mode/restore", restore_last_good),
    *settings.ROUTES,
    *maintenance.ROUTES,
    *backups.ROUTES,
    *doorpage.ROUTES,
    *enrolpage.ROUTES,
    *updatepage.ROUTES,
)
