"""ValtSimulator: the server's lifecycle, fault injection, and serving the API."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from ivs_accessory.threads import Worker
from ivs_accessory.valtsim import routes
from ivs_accessory.valtsim.chunks import Answer, json_answer
from ivs_accessory.valtsim.control import serve_control
from ivs_accessory.valtsim.data import check_data, default_data
from ivs_accessory.valtsim.faults import Fault, FaultTable, check_fault, check_forbidden
from ivs_accessory.valtsim.handler import (
    Connections,
    SimHandler,
    SimServer,
    tls_context,
)
from ivs_accessory.valtsim.requestlog import RequestLog
from ivs_accessory.valtsim.state import ForbiddenTransition, SimError, SimState

logger = logging.getLogger(__name__)

# Two days: the vendor's log shows the same token coming back for about that long.
DEFAULT_TOKEN_LIFETIME_S = 172800
# How long stop() waits for the accept loop, then for the threads serving connections.
_JOIN_TIMEOUT_S = 5


class ValtSimulator:
    """A stateful VALT server on a real socket, with fault injection.

    Args:
        host, port: where to listen; port 0 picks a free port (see :attr:`url`).
        version: the VALT version reported and simulated (5.x, 6.4, 6.5, 6.6...).
        data: seed data (default :func:`default_data`).
        latency_ms: added to every API request.
        token_lifetime_s: tokens are refused (401) this long after they were issued.
        reset_time_on_resume: resume restarts the recording time at 0.
        marker_colours: allow-list for marker colours (None: any non-empty string).
        tls_cert, tls_key: serve HTTPS with this certificate chain and key.
        clock: monotonic seconds for recording time and token expiry (tests pass
            their own to move time).
        card_numbers_listed: user objects carry ``card_number`` (default: before
            6.5 only; whether 6.5+ servers list it is unknown).
        forbidden: how forbidden room transitions are answered: ``"409"``,
            ``"400"`` or ``"500"`` with ``{"error": ...}``, or ``"200"`` with what a
            success would look like (see :meth:`set_forbidden`).

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        version: str = "6.6.0",
        data: dict[str, Any] | None = None,
        latency_ms: float = 0,
        token_lifetime_s: float = DEFAULT_TOKEN_LIFETIME_S,
        reset_time_on_resume: bool = False,
        marker_colours: list[str] | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        card_numbers_listed: bool | None = None,
        forbidden: str = "409",
    ) -> None:
        self.host = host
        self._forbidden = check_forbidden(forbidden)
        self.port = port
        self.latency_ms = latency_ms
        self.state = SimState(
            check_data(data if data is not None else default_data()),
            version=version,
            clock=clock,
            token_lifetime_s=token_lifetime_s,
            reset_time_on_resume=reset_time_on_resume,
            marker_colours=marker_colours,
            card_numbers_listed=card_numbers_listed,
        )
        self.faults = FaultTable(time.monotonic)
        self._tls = tls_context(tls_cert, tls_key) if tls_cert else None
        self._log = RequestLog()
        self._connections = Connections()
        self._server: SimServer | None = None
        self._worker: Worker | None = None
        self._stopping = threading.Event()
        self._up_timer: threading.Timer | None = None
        self._life_lock = threading.RLock()

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> ValtSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://host:port`` (or https), without a trailing slash."""
        scheme = "https" if self._tls else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    @property
    def version(self) -> str:
        return self.state.version_text

    @property
    def is_up(self) -> bool:
        return self._server is not None

    def start(self) -> ValtSimulator:
        """Listen and serve in a background thread."""
        self._stopping.clear()
        self._listen()
        return self

    def stop(self) -> None:
        """Stop serving, cut open connections, wake any delayed or trickled answer,
        and wait for the threads that served them."""
        with self._life_lock:
            self._stopping.set()
            if self._up_timer is not None:
                self._up_timer.cancel()
                self._up_timer = None
            self._close_server()
        left = self._connections.join(_JOIN_TIMEOUT_S)
        if left:
            logger.warning("VALT simulator threads still running after stop: %s", left)

    def go_down(self, keep: socket.socket | None = None) -> None:
        """Stop listening (connections are refused) and cut open connections; same port.

        ``keep`` is the connection that asked over the control API: it gets its answer,
        then closes.
        """
        with self._life_lock:
            self._close_server(keep)
        logger.info("VALT simulator on port %s is down", self.port)

    def come_up(self) -> None:
        """Listen again on the same port after :meth:`go_down`."""
        with self._life_lock:
            if self._up_timer is not None:
                self._up_timer.cancel()
                self._up_timer = None
            if self._server is None and not self._stopping.is_set():
                self._listen()
        logger.info("VALT simulator on port %s is up", self.port)

    def _listen(self) -> None:
        with self._life_lock:
            if self._server is not None:
                return
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            server_class = type("SimServer", (SimServer,), {"address_family": family})
            self._server = server_class(
                (self.host, self.port), SimHandler, self, self._tls, self._connections
            )
            self.port = self._server.server_address[1]
            # shutdown() returns once serve_forever() has: the join is then at once.
            self._worker = Worker(
                functools.partial(self._server.serve_forever, poll_interval=0.1),
                f"valtsim-{self.port}",
                on_stop=self._server.shutdown,
            )
            self._worker.start()

    def _close_server(self, keep: socket.socket | None = None) -> None:
        """Raises ThreadStuckError if the accept loop outlives the join."""
        server, worker = self._server, self._worker
        self._server = self._worker = None
        if server is None:
            return
        try:
            if worker is not None:
                worker.stop(_JOIN_TIMEOUT_S)
        finally:
            server.server_close()
            self._connections.cut(keep)

    # -- inspection and control from tests ---------------------------------------------
    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The API request log (oldest first), optionally for one path pattern.

        Each entry: ``method``, ``path``, ``query`` (no token), ``body`` (password
        masked), ``user``, ``time`` (time.time() when it came in), ``status`` (what
        was answered or is being answered, ``"dropped"``, or None), ``fault`` (the
        id of the fault that hit it, if one did), ``answered`` (time.time() when the
        whole answer had been sent, None if it never was), ``changed`` (room actions:
        whether the state changed; None for other requests) and ``acted``
        (time.time() when a room action changed the state, else None).
        """
        return self._log.entries(path)

    def clear_requests(self) -> None:
        self._log.clear()

    def inject(
        self, *, down: bool = False, _keep: socket.socket | None = None, **options: Any
    ) -> int:
        """Add a fault (see :class:`Fault`); returns its id.

        ``down=True`` takes the whole server down now, and back up after
        ``duration_s`` if given.
        """
        if down:
            duration = options.pop("duration_s", None)
            if options:
                raise ValueError(f"'down' takes only duration_s, not {sorted(options)}")
            self.go_down(_keep)
            if duration is not None:
                with self._life_lock:
                    self._up_timer = threading.Timer(float(duration), self.come_up)
                    self._up_timer.daemon = True
                    self._up_timer.start()
            return 0
        return self.faults.add(check_fault(options)).id

    def clear_faults(self) -> None:
        self.faults.clear()

    @property
    def forbidden(self) -> str:
        """How forbidden room transitions are answered (see :meth:`set_forbidden`)."""
        return self._forbidden

    def set_forbidden(self, mode: str | int) -> None:
        """Answer forbidden room transitions with ``mode`` from now on.

        ``"409"``, ``"400"``, ``"500"``: that status and ``{"error": "room N is ...;
        cannot ..."}``. ``"200"``: nothing changes, and the answer looks like a
        success: ``{"data": {"id": <the room's recording id or null>}}``, or for a
        6.x ``comment`` the comment object with ``"id": null``.

        Raises:
            ValueError: for another mode.
        """
        self._forbidden = check_forbidden(mode)

    def wait_connections(self, at_most: int = 0, timeout: float = 5.0) -> bool:
        """Wait until at most ``at_most`` client connections are open (their
        serving threads done with them); False if that took longer than
        ``timeout``."""
        return self._connections.wait(at_most, timeout)

    def reset(self) -> None:
        """Seed data again; forget tokens, recordings, faults and the request log.

        Settings chosen at construction or later (version, latency, the
        ``forbidden`` mode) stay as they are.
        """
        self.state.reset()
        self.faults.clear()
        self.clear_requests()

    def set_room_status(self, room: int, status: str) -> None:
        """Change a room as others would (any string; unknown ones test clients)."""
        self.state.set_room_status(room, status)

    def token_for(self, username: str) -> str | None:
        return self.state.token_for(username)

    # -- the API -----------------------------------------------------------------------
    def _serve_api(
        self, handler: SimHandler, path: str, query_text: str, raw: bytes
    ) -> None:
        query = dict(parse_qsl(query_text, keep_blank_values=True))
        token = query.pop("access_token", None)
        entry, body, user = self._log.record(
            self.state, handler.command, path, query, raw, token
        )
        if self.latency_ms and self._stopping.wait(self.latency_ms / 1000):
            return
        fault = self.faults.take(handler.command, path)
        if fault is not None:
            entry["fault"] = fault.id
            if not fault.after and self._apply_fault(handler, fault, user, entry):
                return
        answer = self._carry_out(handler.command, path, query, body, token, entry)
        if fault is not None and fault.after:
            self._apply_fault(handler, fault, user, entry, answer)
        else:
            self._send(handler, entry, answer)

    def _carry_out(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: dict[str, Any] | SimError,
        token: str | None,
        entry: dict[str, Any],
    ) -> Answer:
        """Do what the request asks; its answer."""
        try:
            if isinstance(body, SimError):
                raise body
            status, payload = 200, self._call(method, path, query, body, token)
            if entry["changed"] is not None:
                # A room action that returned has changed the room: each refuses
                # (raises) rather than succeed with nothing to do.
                entry["changed"], entry["acted"] = True, time.time()
        except ForbiddenTransition as exc:
            status, payload = self._refusal(exc)
        except SimError as exc:
            status, payload = exc.status, {"error": exc.message}
        except Exception:  # a simulator bug must still answer in JSON
            logger.exception("simulator error in %s %s", method, path)
            status, payload = 500, {"error": "internal simulator error"}
        return json_answer(status, payload)

    def _refusal(self, exc: ForbiddenTransition) -> tuple[int, Any]:
        if self._forbidden == "200":
            return 200, exc.success_answer
        return int(self._forbidden), {"error": exc.message}

    def _call(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        body: dict[str, Any],
        token: str | None,
    ) -> Any:
        route, groups = routes.find(self.state, method, path)
        request = routes.ApiRequest(method, path, query, body)
        if route.auth:
            request.user = self.state.user_for_token(token)
            if route.admin and not request.user.get("admin"):
                raise SimError(403, f"{path} needs an admin account")
        return route.handler(self.state, request, **groups)

    def _apply_fault(
        self,
        handler: SimHandler,
        fault: Fault,
        user: dict[str, Any] | None,
        entry: dict[str, Any],
        done: Answer | None = None,
    ) -> bool:
        """Apply an injected fault; True when it answered (or dropped) the request.

        ``done`` is the answer of the request when it was carried out first
        (``after``); None when the fault comes before it.
        """
        if fault.delay_ms and self._stopping.wait(fault.delay_ms / 1000):
            handler.close_connection = True
            return True
        if fault.revoke_token:
            self.state.revoke_tokens(user["id"] if user else None)
        if fault.drop:
            entry["status"] = "dropped"
            handler.close_connection = True
            return True
        answer = fault.own_answer() or done
        if answer is None and not fault.endless:
            return False  # a delay or revocation before the request: now do it
        self._send(handler, entry, answer, fault)
        return True

    def _send(
        self,
        handler: SimHandler,
        entry: dict[str, Any],
        answer: Answer | None,
        fault: Fault | None = None,
    ) -> None:
        """Send the answer as the fault says (trickled, endless) or at full speed."""
        pace = fault.trickle_bps if fault is not None else None
        if fault is not None and fault.endless:
            status = answer.status if answer is not None else fault.status or 200
            entry["status"] = status
            handler.trickle_endless(status, pace or 1, self._stopping)
            return
        assert answer is not None
        entry["status"] = answer.status

        def mark() -> None:
            entry["answered"] = time.time()

        if pace is not None:
            sent = handler.trickle_answer(answer, pace, self._stopping, mark)
        else:
            sent = handler.send_answer(answer, mark)
        if not sent:
            entry["answered"] = None

    # -- the control API -------------------------------------------------------------
    def _serve_control(
        self, handler: SimHandler, path: str, query_text: str, raw: bytes
    ) -> None:
        # The handler calls back into the simulator for both prefixes; the control
        # endpoints themselves live in control.py.
        serve_control(self, handler, path, query_text, raw)
