"""cheroot connections: a request deadline, a per-address cap, a lazy TLS handshake."""

from __future__ import annotations

import _pyio
import io
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cheroot import makefile, server, wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from ivs_accessory.web.hosts import network_key

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

    from ivs_accessory.web.serving import _CherootServer

logger = logging.getLogger(__name__)

# A request's TLS handshake, line, headers and body must all arrive within this,
# however the bytes trickle in: a slow client holds a thread for this long at most.
REQUEST_DEADLINE_S = 10
# Open connections per client address (IPv6: per /64). A browser opens about six.
PER_ADDRESS = 8
_HTTPS_ONLY = b"this page is served over HTTPS only: open it with https://\n"
_PLAIN_HTTP = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s"
    % (len(_HTTPS_ONLY), _HTTPS_ONLY)
)
_TOO_MANY = b"too many connections from your address; close some and try again\n"
_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(_TOO_MANY), _TOO_MANY)
)


class AddressSlots:
    """Open connections per client address (IPv6: per /64), at most ``limit`` each."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str, int] = {}
        self._lock = threading.Lock()

    def take(self, address: str) -> bool:
        """Count a new connection; False (nothing counted) when the address is full."""
        key = network_key(address)
        with self._lock:
            if self._open.get(key, 0) >= self.limit:
                return False
            self._open[key] = self._open.get(key, 0) + 1
        return True

    def give(self, address: str) -> None:
        """A counted connection closed."""
        key = network_key(address)
        with self._lock:
            left = self._open.get(key, 0) - 1
            if left > 0:
                self._open[key] = left
            else:
                self._open.pop(key, None)


class _DeadlineIO(socket.SocketIO):
    """Socket reads that fail once the connection's request is past its deadline.

    cheroot's own timeout starts again with every byte, so a client sending one
    header line every few seconds would hold a thread for ever.
    """

    def __init__(self, sock: socket.socket, connection: Connection) -> None:
        super().__init__(sock, "rb")
        self._socket = sock  # SocketIO keeps it too, but as an undeclared _sock
        self._connection = connection

    def readinto(self, buffer: WriteableBuffer) -> int | None:
        deadline = self._connection.deadline
        if deadline is None:
            return super().readinto(buffer)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")  # what cheroot answers with a 408
        idle = self._socket.gettimeout()
        self._socket.settimeout(min(left, idle or left))
        try:
            return super().readinto(buffer)
        finally:
            self._socket.settimeout(idle)


class _DeadlineReader(makefile.StreamReader):
    """cheroot's buffered reader over :class:`_DeadlineIO`."""

    def __init__(
        self, sock: socket.socket, connection: Connection, bufsize: int
    ) -> None:
        _pyio.BufferedReader.__init__(self, _DeadlineIO(sock, connection), bufsize)
        self.bytes_read = 0


class Connection(server.HTTPConnection):
    """A connection with a per-request deadline and a per-address slot.

    Also finishes a deferred TLS handshake (see :class:`LazyTLS`) within the
    deadline, on a worker thread instead of cheroot's accept loop.
    """

    deadline: float | None = None
    server: _CherootServer  # cheroot's stub leaves it Any

    def __init__(
        self,
        srv: _CherootServer,
        sock: socket.socket,
        make: Callable[[socket.socket, str, int], io.BufferedIOBase] = (
            makefile.MakeFile
        ),
    ) -> None:
        def files(
            sock: socket.socket,
            mode: str = "r",
            bufsize: int = _pyio.DEFAULT_BUFFER_SIZE,
        ) -> io.BufferedIOBase:
            if "r" in mode:
                return _DeadlineReader(sock, self, bufsize)
            return make(sock, mode, bufsize)

        super().__init__(srv, sock, files)
        try:
            self.peer, self.local_addr = sock.getpeername()[0], sock.getsockname()[0]
        except (OSError, IndexError, TypeError):  # a UNIX socket, or already gone
            self.peer, self.local_addr = "", ""
        self.counted = srv.slots.take(self.peer)
        self.shaken = not isinstance(sock, ssl.SSLSocket)

    def communicate(self) -> bool:
        deadline = self.deadline = time.monotonic() + self.server.request_deadline_s
        try:
            if not self.shaken and not self._handshake(deadline):
                return False
            # cheroot's stub leaves communicate() unannotated; it returns a bool.
            kept: bool = super().communicate()  # type: ignore[no-untyped-call]
            return kept
        finally:
            self.deadline = None

    def refuse(self) -> None:
        """Over the address's limit: say so in one write (not over TLS) and close."""
        if self.shaken:  # plain HTTP: a handshake would wait for the client
            try:
                self.socket.settimeout(1)
                self.socket.sendall(_REFUSED)
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        if self.counted:
            self.counted = False
            self.server.slots.give(self.peer)
        super().close()

    def _handshake(self, deadline: float) -> bool:
        self.socket.settimeout(max(0.001, deadline - time.monotonic()))
        try:
            self.socket.do_handshake()
        except (OSError, ValueError) as exc:
            logger.debug("web server: TLS handshake with %s failed: %s", self.peer, exc)
            if "http request" in str(exc).lower():
                self._plain_http_answer()
            return False
        finally:
            self.socket.settimeout(self.server.timeout)
        self.shaken = True
        return True

    def _plain_http_answer(self) -> None:
        """A browser spoke plain HTTP to the TLS port: tell it, unencrypted."""
        try:
            socket.socket.sendall(self.socket, _PLAIN_HTTP)
        except OSError:
            pass


class LazyTLS(BuiltinSSLAdapter):
    """TLS whose handshake waits for a worker thread (:class:`Connection`).

    cheroot shakes hands in its single accept loop, so one client that connects and
    sends nothing would stop every other connection for the whole timeout.
    """

    def wrap(self, sock: socket.socket) -> tuple[ssl.SSLSocket, dict[str, str]]:
        secure = self.context.wrap_socket(
            sock, do_handshake_on_connect=False, server_side=True
        )
        return secure, {"wsgi.url_scheme": "https", "HTTPS": "on"}


class Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, adding the box's address the request came in on."""

    # cheroot's stub gives the base Gateway.get_environ() "-> None" (it only raises
    # NotImplementedError) and leaves Gateway_10's, which builds the dict, unannotated.
    def get_environ(self) -> dict[str, Any]:  # type: ignore[override]
        environ: dict[str, Any] = super().get_environ()  # type: ignore[no-untyped-call]
        environ["ivs.local_addr"] = getattr(self.req.conn, "local_addr", "")
        return environ
