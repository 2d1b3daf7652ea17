"""The simulator's HTTP side: a threaded server, the API dispatcher, the /_sim/ control API."""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ivs_accessory.valtsim import routes
from ivs_accessory.valtsim.data import check_data, default_data
from ivs_accessory.valtsim.faults import Fault, FaultTable, check_fault
from ivs_accessory.valtsim.state import STATUSES, SimError, SimState

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v3/"
MAX_BODY = 1 << 20
_DISCARD_MAX = 16 * MAX_BODY  # larger refused bodies are cut off, connection reset
# Close idle keep-alive connections after this long, as a web server in front of VALT would.
IDLE_TIMEOUT_S = 300
# Two days: the vendor's log shows the same token coming back for about that long.
DEFAULT_TOKEN_LIFETIME_S = 172800
_MASK = "***"
_SECRET_FIELDS = ("password",)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 resets bursts of connections (many accessories
    # starting together); web servers in front of VALT queue hundreds.
    request_queue_size = 512

    def __init__(
        self, address, handler, sim: ValtSimulator, tls: ssl.SSLContext | None
    ) -> None:
        self.sim = sim
        self.tls = tls
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self):
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake happens in the handler thread, so one slow client cannot
            # hold up the accept loop.
            sock = self.tls.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def handle_error(self, request, client_address) -> None:
        # Clients that give up (read timeouts) or fail TLS are normal here; no traceback.
        logger.debug(
            "connection from %s ended with an error", client_address[0], exc_info=True
        )

    def close_connections(self, keep: socket.socket | None = None) -> None:
        """Cut every open connection (but ``keep``), as a server going away would."""
        with self.connections_lock:
            open_now = [s for s in self.connections if s is not keep]
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VALTSimulator"
    sys_version = ""
    # Answer garbage request lines with a full status line, not HTTP/0.9 style.
    default_request_version = "HTTP/1.0"
    timeout = IDLE_TIMEOUT_S
    # TCP_NODELAY: headers and body are separate writes, and with Nagle the body would
    # wait for the client's delayed ACK (40 ms) on a busy keep-alive connection.
    disable_nagle_algorithm = True
    server: _Server

    # -- connection bookkeeping -----------------------------------------------------
    def setup(self) -> None:
        with self.server.connections_lock:
            self.server.connections.add(self.request)
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.connections.discard(self.request)

    # -- logging without tokens ---------------------------------------------------------
    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        # Only the path: the query holds the token. Garbage requests have neither.
        path = urlsplit(getattr(self, "path", "") or "").path
        logger.debug("%s %s -> %s", getattr(self, "command", None), path, code)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http: " + format, *args)

    def send_error(
        self, code: int, message: str | None = None, explain: str | None = None
    ) -> None:
        # http.server's own errors (bad request line, unsupported method) as JSON too.
        self.close_connection = True
        self._send_json(code, {"error": message or self.responses.get(code, ("",))[0]})

    # -- dispatch ---------------------------------------------------------------------
    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        try:
            raw = self._read_body()
        except SimError as exc:
            self.close_connection = True
            self._send_json(exc.status, {"error": exc.message})
            return
        if parts.path.startswith(API_PREFIX):
            self.server.sim._serve_api(
                self, parts.path[len(API_PREFIX) :], parts.query, raw
            )
        elif parts.path.startswith("/_sim/"):
            self.server.sim._serve_control(
                self, parts.path[len("/_sim/") :], parts.query, raw
            )
        else:
            self._send_json(
                404,
                {
                    "error": f"no endpoint {parts.path}; the API is under "
                    f"{API_PREFIX} and the control API under /_sim/"
                },
            )

    def _read_body(self) -> bytes:
        length_text = self.headers.get("Content-Length") or "0"
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raise SimError(
                411, "send a Content-Length; chunked bodies are not supported"
            )
        try:
            length = int(length_text)
        except ValueError:
            raise SimError(400, "Content-Length is not a number") from None
        if length < 0 or length > MAX_BODY:
            self._discard(length)
            raise SimError(413, f"the body must be at most {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    def _discard(self, length: int) -> None:
        """Read and drop a body we refuse (up to a limit), so the client can finish
        sending and read the answer: closing with unread data resets the connection."""
        left = min(length, _DISCARD_MAX)
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                return
            left -= len(chunk)

    def _send_json(self, status: int, payload: Any) -> None:
        self._send_raw(status, json.dumps(payload).encode())

    def _send_raw(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if getattr(self, "command", None) != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            # The client gave up (for example after its read timeout).
            self.close_connection = True


def _parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a request body; empty means ``{}`` (reference §1.1)."""
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise SimError(400, "the body is not JSON") from None
    if not isinstance(body, dict):
        raise SimError(400, "the body must be a JSON object")
    return body


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
        )
        self.faults = FaultTable(time.monotonic)
        self._tls = _tls_context(tls_cert, tls_key) if tls_cert else None
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._up_timer: threading.Timer | None = None
        self._life_lock = threading.RLock()

    # -- lifecycle --------------------------------------------------------------------
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
            server_class = type("_Server", (_Server,), {"address_family": family})
            self._server = server_class(
                (self.host, self.port), _Handler, self, self._tls
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

    # -- inspection and control from tests ----------------------------------------------
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
        """Add a fault (see :class:`~ivs_accessory.valtsim.faults.Fault`); returns its id.

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
        """Change a room as someone else would (any string; unknown ones test clients)."""
        self.state.set_room_status(room, status)

    def token_for(self, username: str) -> str | None:
        return self.state.token_for(username)

    # -- the API ------------------------------------------------------------------------
    def _serve_api(
        self, handler: _Handler, path: str, query_text: str, raw: bytes
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
            body = _parse_body(raw)
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
        handler: _Handler,
        fault: Fault,
        user: dict[str, Any] | None,
        entry: dict[str, Any],
    ) -> bool:
        """Apply an injected fault; True when it has answered (or dropped) the request."""
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

    # -- the control API ------------------------------------------------------------------
    def _serve_control(
        self, handler: _Handler, path: str, query_text: str, raw: bytes
    ) -> None:
        try:
            body = _parse_body(raw)
            status, payload = (
                200,
                self._control(handler, path.rstrip("/"), query_text, body),
            )
        except SimError as exc:
            status, payload = exc.status, {"error": exc.message}
        except (ValueError, TypeError) as exc:
            status, payload = 400, {"error": str(exc)}
        handler._send_json(status, payload)

    def _control(
        self, handler: _Handler, path: str, query_text: str, body: dict[str, Any]
    ) -> Any:
        method = handler.command
        query = dict(parse_qsl(query_text))
        if (method, path) == ("GET", "requests"):
            return {"requests": self.requests(query.get("path"))}
        if (method, path) == ("DELETE", "requests"):
            self.clear_requests()
            return {"cleared": True}
        if (method, path) == ("POST", "reset"):
            self.reset()
            return {"reset": True}
        if (method, path) == ("GET", "state"):
            return self.state.snapshot()
        if (method, path) == ("GET", "faults"):
            return {"faults": self.faults.active()}
        if (method, path) == ("DELETE", "faults"):
            self.clear_faults()
            return {"cleared": True}
        if (method, path) == ("POST", "faults"):
            if body.get("down") and body.get("duration_s") is None:
                raise SimError(
                    400,
                    "'down' over HTTP needs 'duration_s', or nothing "
                    "could bring the server back",
                )
            if body.get("down"):
                handler.close_connection = True
                return {"id": self.inject(_keep=handler.request, **body)}
            return {"id": self.inject(**body)}
        room_status = re.fullmatch(r"rooms/([0-9]+)/status", path)
        if room_status and method == "POST":
            status = body.get("status")
            if not isinstance(status, str) or not status:
                raise SimError(
                    400, f"'status' must be a string such as {list(STATUSES)}"
                )
            self.set_room_status(int(room_status.group(1)), status)
            return self.state.room_info(int(room_status.group(1)))
        raise SimError(
            404,
            f"no control endpoint {method} /_sim/{path}; see "
            "GET /_sim/requests, /_sim/state, /_sim/faults",
        )


def _tls_context(cert: str, key: str | None) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
