"""VALT login state: the token, the server version, and the seed's re-login timers."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from ivs_accessory.errors import (
    ValtAuthError,
    ValtError,
    ValtRejected,
    ValtUnavailable,
)
from ivs_accessory.valt import answers
from ivs_accessory.valt.models import NEWEST_KNOWN_VERSION, ServerVersion
from ivs_accessory.valt.transport import Transport

logger = logging.getLogger(__name__)

TimerFactory = Callable[[float, Callable[[], None]], threading.Timer]


def _daemon_timer(delay: float, function: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(delay, function)
    timer.daemon = True
    timer.name = "valt-relogin"
    return timer


class Session:
    """Holds the access token and logs in again on the seed's schedule.

    After a successful login the next one is due after ``success_reauth_time``
    (8 h); after a failure, or when a caller reports an error with
    :meth:`schedule_retry`, after ``failure_reauth_time`` (30 s). There is only ever
    one pending timer: scheduling cancels the previous one (reference §1.3).

    Args:
        transport: where to send ``login`` and ``admin/general``.
        username, password: the VALT account.
        auto_reauth: run the timers (False: log in only when asked).
        timer_factory: makes the timer thread; tests pass short-lived ones.
    """

    def __init__(
        self,
        transport: Transport,
        username: str,
        password: str,
        *,
        success_reauth_time: float = 28800,
        failure_reauth_time: float = 30,
        auto_reauth: bool = True,
        timer_factory: TimerFactory = _daemon_timer,
    ) -> None:
        self._transport = transport
        self.username = username
        self._password = password
        self.success_reauth_time = success_reauth_time
        self.failure_reauth_time = failure_reauth_time
        self.auto_reauth = auto_reauth
        self._timer_factory = timer_factory
        self._timer: threading.Timer | None = None
        self._running: threading.Thread | None = None
        self._lock = threading.RLock()
        self._closed = False
        self.token: str | None = None
        self.version: ServerVersion | None = None
        self.last_login: float | None = None
        self.last_error: str | None = None
        # What the page shows as the connection state: the last login's error (None
        # after a success) and whether any login has succeeded yet.
        self.login_error: ValtError | None = None
        self.logged_in = False

    @property
    def behaviour_version(self) -> ServerVersion:
        """The version that picks endpoints: the server's, or the newest we know."""
        return self.version or NEWEST_KNOWN_VERSION

    def login(self) -> str:
        """Log in now, read the version, schedule the next login; return the token.

        Raises:
            ValtError: the login failed (the token is dropped, a retry is scheduled).
        """
        with self._lock:
            self.last_login = time.time()
            try:
                data = self._transport.request(
                    "POST",
                    "login",
                    what=f"log in to VALT as '{self.username}'",
                    body=self.login_body(),
                )
                token = answers.token(data, self._transport.host)
            except ValtError as exc:
                self.login_error = exc
                self._failed(str(exc))
                raise
            self.token, self.login_error, self.logged_in = token, None, True
            self.version, settled = self._read_version(token)
            self.last_error = None
            # A version that could not be read for a reason that passes (5xx, no
            # answer) is read again at the next login, which then comes soon.
            self._schedule(
                self.success_reauth_time if settled else self.failure_reauth_time
            )
            logger.info(
                "Logged in to VALT %s as %s (server version %s)",
                self._transport.host,
                self.username,
                self.version or "unknown",
            )
            return token

    def login_body(self) -> dict[str, str]:
        """The JSON body of ``POST login`` (holds the password: never log it)."""
        return {"username": self.username, "password": self._password}

    def ensure_token(self) -> str:
        """Return the current token, logging in first when there is none."""
        with self._lock:
            return self.token or self.login()

    def drop_token(self, reason: str) -> None:
        """Forget the token (it was refused) without scheduling anything."""
        with self._lock:
            self.token = None
            self.last_error = reason

    def schedule_retry(self, reason: str, *, drop: bool = False) -> None:
        """Record an error and move the next login to ``failure_reauth_time`` from
        now."""
        with self._lock:
            if drop:
                self.token = None
            self.last_error = reason
            self._schedule(self.failure_reauth_time)

    def set_credentials(self, username: str, password: str) -> None:
        """Replace the account; the next call logs in with it."""
        with self._lock:
            self.username, self._password = username, password
            self.token = None

    def close(self) -> None:
        """Cancel the pending timer and wait for a running one; no thread is left."""
        with self._lock:
            self._closed = True
            threads = [t for t in (self._timer, self._running) if t is not None]
            self._timer = self._running = None
        for thread in threads:
            if isinstance(thread, threading.Timer):
                thread.cancel()
            if thread is not threading.current_thread():
                thread.join(timeout=self._transport.timeout * 2 + 1)

    def _failed(self, reason: str) -> None:
        self.token = None
        self.last_error = reason
        logger.warning(
            "VALT login failed: %s; retrying in %g s", reason, self.failure_reauth_time
        )
        self._schedule(self.failure_reauth_time)

    def _read_version(self, token: str) -> tuple[ServerVersion | None, bool]:
        """The server's version, and whether that is settled until the 8-hour login.

        Unsettled: it could not be read for a reason that may pass (no answer, a 5xx).
        A non-admin account can never read admin/general (reference §1.4): settled.
        """
        try:
            data = self._transport.request(
                "GET", "admin/general", what="read the VALT version", token=token
            )
            return answers.version(data, "read the VALT version"), True
        except ValtError as exc:
            passing = isinstance(exc, (ValtUnavailable, ValtAuthError)) or (
                isinstance(exc, ValtRejected) and exc.status >= 500
            )
            logger.warning(
                "Cannot read the VALT version (%s); assuming %s behaviour%s",
                exc,
                NEWEST_KNOWN_VERSION,
                f" until the next login in {self.failure_reauth_time:g} s"
                if passing
                else "",
            )
            return None, not passing

    def _schedule(self, delay: float) -> None:
        if not self.auto_reauth or self._closed:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._timer_factory(delay, self._on_timer)
        self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            if self._closed or self._timer is not threading.current_thread():
                return
            self._timer = None
            self._running = threading.current_thread()
        try:
            self.login()
        except ValtError:
            pass  # already logged and rescheduled by login()
        except Exception:  # noqa: BLE001 - top of a thread: log, never die silently
            logger.exception("Unexpected error while logging in to VALT")
