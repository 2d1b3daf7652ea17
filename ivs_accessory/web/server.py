"""Serve the page in the daemon: cheroot on its own thread, HTTPS, socket activation."""

from __future__ import annotations

import _pyio
import logging
import os
import socket
import ssl
import threading
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from cheroot import makefile, server, wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from ivs_accessory.web.hosts import network_key

logger = logging.getLogger(__name__)

SD_LISTEN_FDS_START = 3  # sd_listen_fds(3): passed sockets start at this descriptor
_LISTEN_VARS = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")

# Limits: the page's forms are a few kilobytes; anything far larger is not a browser.
MAX_HEADER_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
CONNECTION_TIMEOUT_S = 10  # a client that sends nothing for this long is dropped
# A request's TLS handshake, line, headers and body must all arrive within this,
# however the bytes trickle in: a slow client holds a thread for this long at most.
REQUEST_DEADLINE_S = 10
# Open connections per client address (IPv6: per /64). A browser opens about six.
PER_ADDRESS = 8
# Twice what one address may hold: one client, however slow, leaves threads free.
THREADS = 2 * PER_ADDRESS
_JOIN_TIMEOUT_S = 6
_REFUSED = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
    b"Connection: close\r\nContent-Length: 43\r\n\r\n"
    b"too many connections from your address\r\n\r\n"
)


def inherited_socket(
    name: str = "web",
    environ: MutableMapping[str, str] | None = None,
    pid: int | None = None,
) -> socket.socket | None:
    """The listening socket systemd passed under ``name``, or None.

    Reads ``LISTEN_FDS``/``LISTEN_PID``/``LISTEN_FDNAMES`` (sd_listen_fds_with_names)
    and removes them, as ``sd_listen_fds(1)`` does, so neither child processes nor
    cheroot (which would take descriptor 3 on its own) see them again. A single
    socket without a name is taken too.
    """
    environ = os.environ if environ is None else environ
    values = {var: environ.pop(var, None) for var in _LISTEN_VARS}
    try:
        count = int(values["LISTEN_FDS"] or "0")
        owner = int(values["LISTEN_PID"] or "0")
    except ValueError:
        return None
    if count < 1 or owner != (os.getpid() if pid is None else pid):
        return None
    names = (values["LISTEN_FDNAMES"] or "").split(":")[:count]
    if name in names:
        index = names.index(name)
    elif count == 1 and names in ([""], ["unknown"]):
        index = 0
    else:
        logger.warning(
            "systemd passed sockets %s but none named %r; binding our own", names, name
        )
        return None
    descriptor = SD_LISTEN_FDS_START + index
    os.set_inheritable(descriptor, False)  # commands we run must not hold the port
    return socket.socket(fileno=descriptor)


class _AddressSlots:
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

    def __init__(self, sock: socket.socket, connection: _Connection) -> None:
        super().__init__(sock, "rb")
        self._connection = connection

    def readinto(self, buffer) -> int | None:
        deadline = self._connection.deadline
        if deadline is None:
            return super().readinto(buffer)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("timed out")  # what cheroot answers with a 408
        idle = self._sock.gettimeout()
        self._sock.settimeout(min(left, idle or left))
        try:
            return super().readinto(buffer)
        finally:
            self._sock.settimeout(idle)


class _DeadlineReader(makefile.StreamReader):
    """cheroot's buffered reader over :class:`_DeadlineIO`."""

    def __init__(self, sock, connection: _Connection, bufsize: int) -> None:
        _pyio.BufferedReader.__init__(self, _DeadlineIO(sock, connection), bufsize)
        self.bytes_read = 0


class _Connection(server.HTTPConnection):
    """A connection with a per-request deadline and a per-address slot.

    Also finishes a deferred TLS handshake (see :class:`_LazyTLS`) within the
    deadline, on a worker thread instead of cheroot's accept loop.
    """

    deadline: float | None = None

    def __init__(self, srv, sock, make=makefile.MakeFile) -> None:
        def files(sock, mode="r", bufsize=_pyio.DEFAULT_BUFFER_SIZE):
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
        self.deadline = time.monotonic() + self.server.request_deadline_s
        try:
            if not self.shaken and not self._handshake():
                return False
            return super().communicate()
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

    def _handshake(self) -> bool:
        self.socket.settimeout(max(0.001, self.deadline - time.monotonic()))
        try:
            self.socket.do_handshake()
        except (OSError, ValueError) as exc:
            logger.debug("web server: TLS handshake with %s failed: %s", self.peer, exc)
            return False
        finally:
            self.socket.settimeout(self.server.timeout)
        self.shaken = True
        return True


class _LazyTLS(BuiltinSSLAdapter):
    """TLS whose handshake waits for a worker thread (:class:`_Connection`).

    cheroot shakes hands in its single accept loop, so one client that connects and
    sends nothing would stop every other connection for the whole timeout.
    """

    def wrap(self, sock):
        secure = self.context.wrap_socket(
            sock, do_handshake_on_connect=False, server_side=True
        )
        return secure, {"wsgi.url_scheme": "https", "HTTPS": "on"}


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI gateway, adding the box's address the request came in on."""

    def get_environ(self):
        environ = super().get_environ()
        environ["ivs.local_addr"] = getattr(self.req.conn, "local_addr", "")
        return environ


class _CherootServer(wsgi.Server):
    """cheroot's server, logging through our logger and able to serve a given socket."""

    inherited: socket.socket | None = None
    ConnectionClass = _Connection
    request_deadline_s: float = REQUEST_DEADLINE_S
    slots: _AddressSlots

    def process_conn(self, conn) -> None:
        # In the accept loop: a connection over its address's limit never waits
        # for (or holds) a worker thread.
        if isinstance(conn, _Connection) and not conn.counted:
            conn.refuse()
        else:
            super().process_conn(conn)

    def bind(self, family, type, proto=0):  # noqa: A002 (cheroot's signature)
        if self.inherited is None:
            return super().bind(family, type, proto)
        sock = self.inherited
        if self.ssl_adapter is not None:
            sock = self.ssl_adapter.bind(sock)
        self.socket = sock
        self.bind_addr = self.resolve_real_bind_addr(sock)
        return sock

    def stop(self):
        if self.inherited is None:
            return super().stop()
        # The socket is shared with systemd's socket unit. cheroot wakes its accept
        # loop by connecting to its own socket; that connection would stay queued
        # after we stop, and systemd would start the service again to answer it. The
        # loop polls every few milliseconds anyway, so stop without the wake-up.
        sock, self.socket = self.socket, None
        try:
            return super().stop()
        finally:
            if sock is not None:
                sock.close()

    def error_log(self, msg="", level=logging.INFO, traceback=False):
        # cheroot reports client mistakes (bad TLS hellos, timeouts) too: debug only.
        logger.log(
            logging.ERROR if level >= logging.ERROR else logging.DEBUG,
            "web server: %s",
            msg,
            exc_info=traceback,
        )


class WebServer:
    """The page's HTTP(S) server, running in a thread of the daemon.

    Args:
        app: the WSGI application (``create_app(...)``); ``close()``d on stop.
        address, port: where to listen (port 0 picks a free one); ignored with ``sock``.
        tls_cert, tls_key: PEM files for HTTPS (``tls_key`` may be None when the
            certificate file holds the key).
        sock: an already listening socket (systemd socket activation).
        announce: called with the page's URL once it listens (the demo prints it).
        request_deadline_s: a request (TLS handshake, line, headers, body) must
            arrive within this; tests shorten it.
        per_address: open connections allowed per client address.
    """

    def __init__(
        self,
        app: Any,
        *,
        address: str = "0.0.0.0",
        port: int = 80,
        tls_cert: str | None = None,
        tls_key: str | None = None,
        sock: socket.socket | None = None,
        announce: Callable[[str], object] | None = None,
        request_deadline_s: float = REQUEST_DEADLINE_S,
        per_address: int = PER_ADDRESS,
    ) -> None:
        self.app = app
        self.https = bool(tls_cert)
        self._announce = announce
        self._server = _CherootServer(
            (address, port),
            app,
            numthreads=THREADS,
            server_name="ivs-accessory",
            max=THREADS,
            timeout=CONNECTION_TIMEOUT_S,
            shutdown_timeout=3,
        )
        self._server.max_request_header_size = MAX_HEADER_BYTES
        self._server.max_request_body_size = MAX_BODY_BYTES
        self._server.inherited = sock
        self._server.request_deadline_s = request_deadline_s
        self._server.slots = _AddressSlots(per_address)
        self._server.gateway = _Gateway
        if tls_cert:
            self._server.ssl_adapter = _LazyTLS(tls_cert, tls_key or tls_cert)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """(host, port) actually listened on (after :meth:`start`)."""
        host, port = self._server.bind_addr[:2]
        return host, port

    @property
    def url(self) -> str:
        """The page's URL as a browser on this machine can open it."""
        host, port = self.address
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        scheme = "https" if self.https else "http"
        default = 443 if self.https else 80
        return f"{scheme}://{host}" + ("" if port == default else f":{port}") + "/"

    def start(self) -> None:
        """Listen (OSError at once if the port is taken), then serve on a thread."""
        self._server.prepare()
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._thread.start()
        logger.info("configuration page at %s", self.url)
        if self._announce is not None:
            self._announce(self.url)

    def stop(self) -> None:
        """Stop accepting, finish requests in hand (seconds at most), close the app."""
        try:
            self._server.stop()
        finally:
            thread, self._thread = self._thread, None
            if thread is not None:
                thread.join(_JOIN_TIMEOUT_S)
                if thread.is_alive():
                    logger.error("the web server thread did not stop in time")
            close = getattr(self.app, "close", None)
            if close is not None:
                close()

    def _serve(self) -> None:
        try:
            self._server.serve()
        except Exception:
            logger.exception("the configuration page stopped serving")


def page_for(
    service: Any,
    *,
    announce: Callable[[str], object] | None = None,
    environ: MutableMapping[str, str] | None = None,
) -> WebServer:
    """The page for a :class:`~ivs_accessory.service.Service`, from ``[web]``.

    A socket passed by systemd (named ``web``) wins over ``address``/``port``.
    """
    from ivs_accessory.web.app import create_app

    web = service.config["web"]
    https = bool(web["tls_cert"])
    return WebServer(
        create_app(service, https=https),
        address=web["address"],
        port=web["port"],
        tls_cert=web["tls_cert"] or None,
        tls_key=web["tls_key"] or None,
        sock=inherited_socket("web", environ),
        announce=announce,
    )
