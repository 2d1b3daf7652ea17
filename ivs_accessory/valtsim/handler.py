"""The simulator's HTTP transport: a threaded (optionally TLS) server, its handler."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ivs_accessory.valtsim.chunks import Answer, Trickle, client_gone, raw_answer
from ivs_accessory.valtsim.state import SimError

if TYPE_CHECKING:
    from ivs_accessory.valtsim.simulator import ValtSimulator

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v3/"
MAX_BODY = 1 << 20
_DISCARD_MAX = 16 * MAX_BODY  # larger refused bodies are cut off, connection reset
# Close idle keep-alive connections after this long, as a web server in front of
# VALT would.
IDLE_TIMEOUT_S = 300


def _nothing() -> None:
    pass


class Connections:
    """The client connections a simulator has open, and the threads serving them.

    It outlives each listening socket (go_down/come_up), so that stopping can cut and
    join every connection, and tests can wait for a client's connection to end.
    """

    def __init__(self) -> None:
        self._open: dict[socket.socket, threading.Thread] = {}
        self._changed = threading.Condition()

    def opened(self, sock: socket.socket, thread: threading.Thread) -> None:
        with self._changed:
            self._open[sock] = thread

    def closed(self, sock: socket.socket) -> None:
        with self._changed:
            self._open.pop(sock, None)
            self._changed.notify_all()

    def sockets(self) -> list[socket.socket]:
        with self._changed:
            return list(self._open)

    def wait(self, at_most: int, timeout: float) -> bool:
        """Wait until at most ``at_most`` are open; False if that took too long."""
        with self._changed:
            return self._changed.wait_for(lambda: len(self._open) <= at_most, timeout)

    def cut(self, keep: socket.socket | None = None) -> None:
        """Shut down every connection but ``keep``, as a server going away would."""
        for sock in self.sockets():
            if sock is keep:
                continue
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def join(self, timeout: float) -> list[str]:
        """Wait for the serving threads to end; the names of those still running."""
        deadline = time.monotonic() + timeout
        with self._changed:
            threads = [
                t for t in self._open.values() if t is not threading.current_thread()
            ]
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t.name for t in threads if t.is_alive()]


class SimServer(ThreadingHTTPServer):
    """The listening socket: one daemon thread per connection, TLS when given."""

    daemon_threads = True
    allow_reuse_address = True
    # socketserver's backlog of 5 resets bursts of connections (many accessories
    # starting together); web servers in front of VALT queue hundreds.
    request_queue_size = 512

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[socketserver.BaseRequestHandler],
        sim: ValtSimulator,
        tls: ssl.SSLContext | None,
        connections: Connections,
    ) -> None:
        self.sim = sim
        self.tls = tls
        self.connections = connections
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Registered here, in the accept loop, so that a connection accepted just
        # before shutdown() is known to whoever cuts and joins them afterwards.
        # A plain thread, not a Worker: one per connection, ended by cutting its
        # socket, and Connections joins them all under one deadline.
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"valtsim-{self.server_address[1]}-conn",
            daemon=True,
        )
        self.connections.opened(request, thread)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self.connections.closed(request)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake happens in the handler thread, so one slow client cannot
            # hold up the accept loop.
            sock = self.tls.wrap_socket(
                sock, server_side=True, do_handshake_on_connect=False
            )
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (read timeouts) or fail TLS are normal here; no
        # traceback.
        logger.debug(
            "connection from %s ended with an error", client_address[0], exc_info=True
        )


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

    # -- connection set-up -----------------------------------------------------------
    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(10)
            self.request.do_handshake()
        super().setup()

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

    def _send_json(self, status: int, payload: Any) -> bool:
        return self._send_raw(status, json.dumps(payload).encode())

    def _send_raw(self, status: int, body: bytes) -> bool:
        return self.send_answer(raw_answer(status, body))

    def send_answer(
        self, answer: Answer, on_last: Callable[[], Any] = _nothing
    ) -> bool:
        """Send the answer at full speed; False when the client was gone first.

        ``on_last`` is called just before the last bytes go out, so that whoever
        holds the whole answer can see it was sent.
        """
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(answer.length))
            if self.close_connection:
                self.send_header("Connection", "close")
            if not answer.length:
                on_last()
            self.end_headers()
            if getattr(self, "command", None) == "HEAD":
                return True
            write = _marking_last(self.wfile.write, answer.length, on_last)
            for chunk in answer.chunks:
                write(chunk)
        except OSError:
            # The client gave up (for example after its read timeout), or the
            # simulator cut the connection.
            self.close_connection = True
            return False
        return True

    def trickle_answer(
        self,
        answer: Answer,
        bps: float,
        stopping: threading.Event,
        on_last: Callable[[], Any] = _nothing,
    ) -> bool:
        """Send the whole answer, head included, at ``bps`` bytes per second."""
        head = self._head(answer.status, answer.content_type, answer.length)
        write = _marking_last(self.wfile.write, len(head) + answer.length, on_last)
        return self._trickle(write, bps, stopping).send(
            itertools.chain([head], answer.chunks)
        )

    def trickle_endless(
        self, status: int, bps: float, stopping: threading.Event
    ) -> None:
        """A status line, then a header line that never ends, at ``bps``; returns
        when the simulator stops or the client leaves."""
        self._trickle(self.wfile.write, bps, stopping).send_endless(
            self._status_line(status) + b"X-Trickle: "
        )

    def _trickle(
        self, write: Callable[[bytes], Any], bps: float, stopping: threading.Event
    ) -> Trickle:
        self.close_connection = True
        return Trickle(write, bps, stopping, lambda: client_gone(self.connection))

    def _status_line(self, status: int) -> bytes:
        self.log_request(status)
        reason = self.responses.get(status, ("",))[0]
        return f"{self.protocol_version} {status} {reason}\r\n".encode("latin-1")

    def _head(self, status: int, content_type: str, length: int) -> bytes:
        headers = (
            f"Server: {self.version_string()}\r\n"
            f"Date: {self.date_time_string()}\r\n"
            f"Content-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n"
            "Connection: close\r\n\r\n"
        )
        return self._status_line(status) + headers.encode("latin-1")


def _marking_last(
    write: Callable[[bytes], Any], total: int, on_last: Callable[[], Any]
) -> Callable[[bytes], Any]:
    """``write`` that calls ``on_last`` before the write that completes ``total``."""
    left = total

    def marked(piece: bytes) -> Any:
        nonlocal left
        left -= len(piece)
        if left <= 0 and piece:
            on_last()
        return write(piece)

    return marked


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
