"""The simulator's HTTP transport: a threaded (optionally TLS) server, its handler."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ivs_accessory.valtsim.state import SimError

if TYPE_CHECKING:
    from ivs_accessory.valtsim.server import ValtSimulator

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v3/"
MAX_BODY = 1 << 20
_DISCARD_MAX = 16 * MAX_BODY  # larger refused bodies are cut off, connection reset
# Close idle keep-alive connections after this long, as a web server in front of
# VALT would.
IDLE_TIMEOUT_S = 300


class SimServer(ThreadingHTTPServer):
    """The listening socket: one daemon thread per connection, TLS when given."""

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
        # Clients that give up (read timeouts) or fail TLS are normal here; no
        # traceback.
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


class SimHandler(BaseHTTPRequestHandler):
    """One connection: reads requests and hands them to the simulator by path prefix."""

    protocol_version = "HTTP/1.1"
    server_version = "VALTSimulator"
    sys_version = ""
    # Answer garbage request lines with a full status line, not HTTP/0.9 style.
    default_request_version = "HTTP/1.0"
    timeout = IDLE_TIMEOUT_S
    # TCP_NODELAY: headers and body are separate writes, and with Nagle the body would
    # wait for the client's delayed ACK (40 ms) on a busy keep-alive connection.
    disable_nagle_algorithm = True
    server: SimServer

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

    # -- logging without tokens ------------------------------------------------------
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


def parse_body(raw: bytes) -> dict[str, Any]:
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


def tls_context(cert: str, key: str | None) -> ssl.SSLContext:
    """A server-side TLS context for the certificate chain ``cert`` and ``key``."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context
