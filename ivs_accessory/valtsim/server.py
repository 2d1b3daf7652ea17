"""ValtSimulator: the server's lifecycle, its request log, fault injection, the API."""

from __future__ import annotations

import fnmatch
import logging
import socket
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from ivs_accessory.valtsim import routes
from ivs_accessory.valtsim.control import serve_control
from ivs_accessory.valtsim.data import check_data, default_data
from ivs_accessory.valtsim.faults import Fault, FaultTable, check_fault
from ivs_accessory.valtsim.handler import SimHandler, SimServer, parse_body, tls_context
from ivs_accessory.valtsim.state import SimError, SimState

logger = logging.getLogger(__name__)

# Two days: the vendor's log shows the same token coming back for about that long.
DEFAULT_TOKEN_LIFETIME_S = 172800
_MASK = "***"
_SECRET_FIELDS = ("password",)


def _masked(body: Any) -> Any:
    if isinstance(body, dict):
        return {k: (_MASK if k in _SECRET_FIELDS else v) for k, v in body.items()}
    return body


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
    ) -> None:
        self.host = host
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
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None
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
        """Stop serving, cut open connections, and wake any delayed request."""
        with self._life_lock:
            self._stopping.set()
            if self._up_timer is not None:
                self._up_timer.cancel()
                self._up_timer = None
            self._close_server()

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
                (self.host, self.port), SimHandler, self, self._tls
            )
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                kwargs={"poll_interval": 0.1},
                name=f"valtsim-{self.port}",
                daemon=True,
            )
            self._thread.start()

    def _close_server(self, keep: socket.socket | None = None) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections(keep)
        if thread is not None:
            thread.join(timeout=5)

    # -- inspection and control from tests ---------------------------------------------
    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The API request log (oldest first), optionally for one path pattern."""
        with self._log_lock:
            entries = list(self._log)
        if path is not None:
            entries = [e for e in entries if fnmatch.fnmatchcase(e["path"], path)]
        return entries

    def clear_requests(self) -> None:
        with self._log_lock:
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

    def reset(self) -> None:
        """Seed data again; forget tokens, recordings, faults and the request log."""
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
        method = handler.command
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "body": None,
            "status": None,
            "time": time.time(),
            "user": None,
        }
        try:
            body = parse_body(raw)
            entry["body"] = _masked(body) if raw.strip() else None
        except SimError as exc:
            entry["body"] = raw[:200].decode("utf-8", "replace")
            body = exc
        user = self.state.peek_user(token)
        if user is not None:
            entry["user"] = user["name"]
        elif path == "login" and isinstance(body, dict):
            entry["user"] = body.get("username")
        with self._log_lock:
            self._log.append(entry)

        if self.latency_ms and self._stopping.wait(self.latency_ms / 1000):
            return
        fault = self.faults.take(method, path)
        if fault is not None:
            if self._apply_fault(handler, fault, user, entry):
                return
        try:
            if isinstance(body, SimError):
                raise body
            status, payload = 200, self._call(method, path, query, body, token)
        except SimError as exc:
            status, payload = exc.status, {"error": exc.message}
        except Exception:  # a simulator bug must still answer in JSON
            logger.exception("simulator error in %s %s", method, path)
            status, payload = 500, {"error": "internal simulator error"}
        entry["status"] = status
        handler._send_json(status, payload)

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
    ) -> bool:
        """Apply an injected fault; True when it answered (or dropped) the request."""
        entry["fault"] = fault.id
        if fault.delay_ms and self._stopping.wait(fault.delay_ms / 1000):
            handler.close_connection = True
            return True
        if fault.revoke_token:
            self.state.revoke_tokens(user["id"] if user else None)
            return False
        if fault.drop:
            entry["status"] = "dropped"
            handler.close_connection = True
            return True
        if fault.malformed:
            entry["status"] = 200
            handler._send_raw(200, b'{"data": {"status": "avail')
            return True
        if fault.status is not None:
            entry["status"] = fault.status
            handler._send_json(
                fault.status, {"error": f"injected fault {fault.status}"}
            )
            return True
        return False

    # -- the control API -------------------------------------------------------------
    def _serve_control(
        self, handler: SimHandler, path: str, query_text: str, raw: bytes
    ) -> None:
        # The handler calls back into the simulator for both prefixes; the control
        # endpoints themselves live in control.py.
        serve_control(self, handler, path, query_text, raw)
