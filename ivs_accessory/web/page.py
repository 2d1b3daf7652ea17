"""Shared by routes: service, sessions, password checks, templates, saving a form."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, cast
from urllib.parse import urlsplit

import bottle

from ivs_accessory import __version__
from ivs_accessory.config import Config
from ivs_accessory.system.commands import SystemControl
from ivs_accessory.threads import Worker
from ivs_accessory.web.accounts import (
    FACTORY_WINDOW_S,
    USERNAME,
    PasswordFile,
    PasswordFileError,
    Session,
    Sessions,
)
from ivs_accessory.web.backend import PageService
from ivs_accessory.web.eventstream import DoorStreams
from ivs_accessory.web.forms import Errors, Form, read_form
from ivs_accessory.web.hosts import is_local_peer
from ivs_accessory.web.metrics import ValtTotals
from ivs_accessory.web.network import read_current_network
from ivs_accessory.web.notices import notices
from ivs_accessory.web.outcomes import OutcomeWatch
from ivs_accessory.web.ratelimit import TokenBucket
from ivs_accessory.web.saving import save_and_apply
from ivs_accessory.web.throttle import LoginThrottle
from ivs_accessory.web.trial import NetworkTrial
from ivs_accessory.web.widgets import Widgets

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "ivs_session"
LOGIN_COOKIE = "ivs_login"  # the login form's CSRF token (double-submit)
CSRF_FIELD, CSRF_HEADER = "csrf", "X-CSRF-Token"
# Browsers keep this for a year; it is sent only by a page served over TLS.
HSTS = "max-age=31536000"
# A form is a few kilobytes. These paths take a file, posted as multipart (their text
# fields count, CSRF included), up to serving.MAX_BODY_BYTES, which cheroot enforces
# for every request: a backup to restore (web.backups), a package (web.updatepage).
MAX_FORM_BYTES = 64 * 1024
UPLOAD_PATHS = ("/system/restore", "/system/update")
NAV = [
    ("/", "Status"),
    ("/valt", "VALT"),
    ("/inputs", "Inputs"),
    ("/network", "Network"),
    ("/time", "Time"),
    ("/system", "System"),
]
_SECURITY_HEADERS = {
    # connect-src is open: after a network change the page probes the new address.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; "
    "style-src 'self'; img-src 'self' data:; connect-src *; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class Route(NamedTuple):
    """One row of a route table; ``create_app`` installs every row."""

    method: str
    path: str
    handler: Callable[..., Any]  # handler(page, **path_arguments) -> a response


def see_other(location: str) -> bottle.HTTPResponse:
    """A 303 to a path on this page, keeping cookies set so far (raise it).

    The Location is relative, so a strange Host header can never break it.
    """
    result = bottle.response.copy(cls=bottle.HTTPResponse)
    result.status = 303
    result.body = ""
    result.set_header("Location", location)
    return result


def json_response(payload: Any, status: int = 200) -> bottle.HTTPResponse:
    """A JSON answer that is never cached."""
    return bottle.HTTPResponse(
        json.dumps(payload),
        status=status,
        headers={"Content-Type": "application/json", "Cache-Control": "no-store"},
    )


def plain_response(status: int, text: str) -> bottle.HTTPResponse:
    """A short text answer (refusals before any page or session is involved)."""
    return bottle.HTTPResponse(
        text + "\n",
        status=status,
        headers={
            "Content-Type": "text/plain; charset=utf-8",
            "Cache-Control": "no-store",
        },
    )


def _flash_parts(flash: Any) -> tuple[str, str] | None:
    """(message, level) of a flash; a plain message is ``ok``."""
    if flash is None:
        return None
    return (flash, "ok") if isinstance(flash, str) else tuple(flash)


def safe_next(target: str | None) -> str:
    """A local path to go to after login; anything else (other hosts) gives ``/``."""
    if (
        not target
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or any(ord(c) < 32 for c in target)
    ):
        return "/"
    return target


class Page:
    """State shared by the routes of one app.

    Args:
        service: the running :class:`~ivs_accessory.service.Service` (see
            :class:`~.backend.PageService` for what the page uses).
        https: served over TLS (the session cookie gets ``Secure``).
        clock: monotonic seconds for sessions and the login throttle.
        devices: lists the input devices and serial ports present.
        network: reads an interface's current addresses, gateway and DNS servers
            (default: ``read_current_network``).
    """

    def __init__(
        self,
        service: PageService,
        *,
        https: bool = False,
        clock: Callable[[], float] = time.monotonic,
        devices: Callable[[], list[dict[str, Any]]] | None = None,
        network: Callable[[str], dict[str, Any]] | None = None,
    ) -> None:
        self.service = service
        self.https = https
        self.clock = clock
        self.sessions = Sessions(
            lambda: self.config["web"]["session_idle_s"],
            clock,
            max_s=lambda: self.config["web"]["session_max_s"],
        )
        self.throttle = LoginThrottle(clock=clock)
        self.trial = NetworkTrial(clock)
        self.recovery: Worker | None = None  # see create_app
        self.valt_totals = ValtTotals()
        self.exporter: Any = None  # web/exporter.py's, made at the first scrape
        self.devices = devices
        self.read_network = network or read_current_network
        self.outcome_watch = OutcomeWatch()  # results for the live input view
        self.outcome_watch.attach(service.dispatcher)
        self.door_streams = DoorStreams()  # the door screens' event streams
        # PINs from the door page's pad: 10 at once, then one every 2 s (wrong
        # ones also meet the door's lockout).
        self.door_rate = TokenBucket(10, 2.0, clock)
        self.started = time.time()
        self._save_lock = threading.Lock()
        self._last_refresh = -float("inf")
        self._views = [str(HERE / "views")]

    # -- shared objects ----------------------------------------------------------------
    @property
    def config(self) -> Config:
        return self.service.config

    @property
    def passwords(self) -> PasswordFile:
        return PasswordFile(self.config["web"]["password_file"])

    def system(self) -> SystemControl:
        """The system operations as the current ``[system]`` section configures them."""
        return SystemControl(self.config["system"])

    def refresh_room_soon(self) -> None:
        """Ask the daemon for a fresh room status, at most every ``status_poll_s``."""
        now = self.clock()
        every = self.config["web"]["status_poll_s"]
        dispatcher = self.service.dispatcher
        if dispatcher is not None and now - self._last_refresh >= every * 0.8:
            self._last_refresh = now
            dispatcher.refresh_soon()

    # -- requests ----------------------------------------------------------------------
    @staticmethod
    def form() -> Form:
        """The posted form as text fields (cached per request); {} for a bad body."""
        environ = bottle.request.environ
        path = bottle.request.path
        if "ivs.form" not in environ:
            kind = environ.get("CONTENT_TYPE", "")
            try:
                pairs = (
                    []
                    if kind.startswith("multipart/") and path not in UPLOAD_PATHS
                    else list(bottle.request.POST.allitems())
                )
            except Exception:  # a body bottle cannot parse is no form at all
                pairs = []
            environ["ivs.form"] = read_form(
                [(k, v) for k, v in pairs if isinstance(v, str)]
            )
        return cast(Form, environ["ivs.form"])  # put there just above

    @staticmethod
    def client_address() -> str:
        # The peer, never X-Forwarded-For: a client could claim any address there.
        return bottle.request.environ.get("REMOTE_ADDR") or "unknown"

    @staticmethod
    def host() -> str | None:
        """The host name or address the browser used (the Host header), or None."""
        header: str = bottle.request.environ.get("HTTP_HOST", "")
        try:
            return urlsplit("//" + header).hostname
        except ValueError:
            return None

    @staticmethod
    def session() -> Session:
        # The guard puts it there before any route that needs a login.
        return cast(Session, bottle.request.environ["ivs.session"])

    @staticmethod
    def _session_or_none() -> Session | None:
        """The request's session, or None on a page without a login (see guard)."""
        return cast("Session | None", bottle.request.environ.get("ivs.session"))

    def check_password(self, password: str, right_user: bool = True) -> str | None:
        """None when ``password`` is the admin password, else why not (throttled).

        Args:
            right_user: False when the login form named another user: the try
                fails, but only after the same work as a real check.
        """
        address = self.client_address()
        verdict = self.throttle.begin(address)
        if verdict.wait_s > 0:
            where = " on this box" if verdict.global_limit else ""
            return (
                f"too many wrong passwords{where}; try again in {verdict.wait_s:.0f} s"
            )
        try:
            right = self.passwords.verify(password) and right_user
        except PasswordFileError as exc:
            self.throttle.succeeded(address)  # not a guess: the box is broken
            logger.error("page: %s", exc)
            return str(exc)
        if right:
            self.throttle.succeeded(address)
            return None
        locked = verdict.locks_s
        return "wrong password" + (f"; locked for {locked:.0f} s" if locked else "")

    def password_error(
        self, field: str = "password", shown_as: str | None = None
    ) -> Errors:
        """{shown_as: why} when the posted ``field`` is not the admin password, else
        {} (throttled like a login; ``shown_as`` defaults to ``field``)."""
        wrong = self.check_password(self.form().get(field, ""))
        return {shown_as or field: wrong} if wrong else {}

    def factory_login_allowed(self) -> bool:
        """May this client log in with the factory password?

        Only from this box (loopback) or its own cable (link-local), or within
        FACTORY_WINDOW_S of the password file being written (a factory default).
        """
        if is_local_peer(self.client_address()):
            return True
        age = self.passwords.age_s()
        return age is not None and abs(age) <= FACTORY_WINDOW_S

    def login_matches(self, username: str) -> bool:
        return username.strip() == USERNAME

    # -- responses ---------------------------------------------------------------------
    def render(
        self, name: str, status: int = 200, **values: Any
    ) -> bottle.HTTPResponse:
        """A template with what every page shows (nav, banners, message)."""
        session = self._session_or_none()
        flash = session.data.pop("flash", None) if session else None
        values.setdefault("w", Widgets())
        if "notices" not in values:
            values["notices"] = self.notices(session) if session else None
        body = bottle.template(
            name,
            template_lookup=self._views,
            nav=NAV,
            path=bottle.request.path,
            session=session,
            csrf=session.csrf if session else "",
            flash=_flash_parts(flash),
            pending=self.trial.pending() if session else None,
            version=__version__,
            **values,
        )
        result = bottle.response.copy(
            cls=bottle.HTTPResponse
        )  # keeps cookies set so far
        result.status = status
        # A field shown back as typed may hold undecodable bytes (lone surrogates).
        result.body = body.encode("utf-8", "replace")
        result.set_header("Content-Type", "text/html; charset=utf-8")
        result.set_header("Cache-Control", "no-store")
        return result

    def render_form(
        self,
        name: str,
        values: dict[str, str] | None = None,
        errors: Errors | None = None,
        status: int = 200,
        problems: list[str] | None = None,
        warnings: dict[str, str] | None = None,
        **extra: Any,
    ) -> bottle.HTTPResponse:
        """A form's template: fields as ``values`` with ``errors`` and ``warnings``
        next to them, ``problems`` (not about one field) in the banner above."""
        return self.render(
            name,
            status=status,
            w=Widgets(values, errors, warnings),
            problems=problems or [],
            **extra,
        )

    def notices(self, session: Session) -> dict[str, Any]:
        """The banners of every page: safe mode, VALT failing, a rolled-back change."""
        return notices(
            self.service.status(),
            self.trial.last_rollback(),
            session.data,
            bottle.request.path,
        )

    def failure_page(self) -> bottle.HTTPResponse:
        """The page for an unexpected error: the layout, a banner, a way back."""
        words = (
            "Something went wrong on the box while answering this page; the "
            "daemon logged the details (System: download the daemon's log). Try "
            "again, or go back to the status page."
        )
        try:
            return self.render(
                "message.tpl",
                status=500,
                title="Something went wrong",
                message="",
                problems=[words],
                notices=None,
            )
        except Exception:  # the layout itself failed: plain words, still no traceback
            logger.exception("page: the error page failed too")
            return bottle.HTTPResponse(
                f'<!doctype html><title>Error</title><p role="alert">{words}'
                '<p><a href="/">Status</a>',
                status=500,
                headers={"Content-Type": "text/html; charset=utf-8"},
            )

    def error_page(self, status: int, message: str) -> bottle.HTTPResponse:
        return self.render(
            "message.tpl", status=status, title="Not done", message=message
        )

    def flash(self, message: str, level: str = "ok") -> None:
        """A message shown once on the next page of this session.

        ``level`` is ``ok`` (green), ``warn`` (amber) or ``bad`` (red).
        """
        session = self._session_or_none()
        if session is not None:
            session.data["flash"] = (message, level)

    def warn_fields(self, warnings: dict[str, str]) -> None:
        """Warnings shown next to fields on the next page of this session."""
        session = self._session_or_none()
        if session is not None and warnings:
            session.data["warnings"] = dict(warnings)

    def take_warnings(self) -> dict[str, str]:
        """The warnings :meth:`warn_fields` left for this page (once)."""
        session = self._session_or_none()
        return session.data.pop("warnings", {}) if session is not None else {}

    def security_headers(self) -> dict[str, str]:
        """The headers every answer carries (HSTS only over TLS)."""
        if self.https:
            return {**_SECURITY_HEADERS, "Strict-Transport-Security": HSTS}
        return dict(_SECURITY_HEADERS)

    # -- saving ------------------------------------------------------------------------
    def save(self, changes: dict[str, Any]) -> list[str]:
        """Save ``changes`` and reload the daemon, or write nothing (see
        :func:`~.saving.save_and_apply`). Returns the problems in words; [] on
        success."""
        with self._save_lock:
            problems = save_and_apply(self.service, self.config.path, changes)
        if not problems:
            logger.info("page: saved %s", ", ".join(f"[{s}]" for s in changes))
        return problems
