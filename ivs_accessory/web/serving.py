"""Serve the page in the daemon: cheroot on its own thread, HTTPS, socket activation."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, MutableMapping
from typing import Any, cast

from cheroot import server, wsgi

from ivs_accessory.threads import Worker
from ivs_accessory.web.backend import PageService
from ivs_accessory.web.connection import (
    PER_ADDRESS,
    REQUEST_DEADLINE_S,
    AddressSlots,
    Connection,
    Gateway,
    LazyTLS,
)
from ivs_accessory.web.eventstream import MAX_STREAMS

logger = logging.getLogger(__name__)

SD_LISTEN_FDS_START = 3  # sd_listen_fds(3): passed sockets start at this descriptor
_LISTEN_VARS = ("LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")

# Limits: the page's forms are a few kilobytes; anything far larger is not a browser.
MAX_HEADER_BYTES = 16 * 1024
# Any request's body (the update upload's); the guard holds other paths to a form's
# size (page.MAX_FORM_BYTES).
MAX_BODY_BYTES = 24 * 1000 * 1000
CONNECTION_TIMEOUT_S = 10  # a client that sends nothing for this long is dropped
# Twice what one address may hold: one client, however slow, leaves threads free;
# plus one for each door screen's event stream, which holds its thread while open.
THREADS = 2 * PER_ADDRESS + MAX_STREAMS
# The app's config key of a callable that ends long-lived answers (event streams):
# cheroot's stop waits for every worker, and a stream only ends when told.
END_STREAMS = "ivs.end_streams"
_JOIN_TIMEOUT_S = 6


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


class _CherootServer(wsgi.Server):
    """cheroot's server, logging through our logger and able to serve a given socket."""

    inherited: socket.socket | None = None
    ConnectionClass = Connection
    request_deadline_s: float = REQUEST_DEADLINE_S
    slots: AddressSlots

    def process_conn(self, conn: server.HTTPConnection) -> None:
        # In the accept loop: a connection over its address's limit never waits
        # for (or holds) a worker thread.
        if isinstance(conn, Connection) and not conn.counted:
            conn.refuse()
        else:
            super().process_conn(conn)

    def bind(
        self,
        family: int,
        type: int,  # noqa: A002 (cheroot's signature)
        proto: int = 0,
    ) -> socket.socket:
        if self.inherited is None:
            # cheroot's stub leaves its return unannotated: the bound socket.
            return cast(socket.socket, super().bind(family, type, proto))
        sock = self.inherited
        if self.ssl_adapter is not None:
            sock = self.ssl_adapter.bind(sock)
        self.socket = sock
        # cheroot's stub leaves this static method unannotated.
        self.bind_addr = self.resolve_real_bind_addr(sock)  # type: ignore[no-untyped-call]
        return sock

    def stop(self) -> None:
        if self.inherited is None:
            super().stop()
            return
        # The socket is shared with systemd's socket unit. cheroot wakes its accept
        # loop by connecting to its own socket; that connection would stay queued
        # after we stop, and systemd would start the service again to answer it. The
        # loop polls every few milliseconds anyway, so stop without the wake-up.
        sock, self.socket = self.socket, None
        try:
            super().stop()
        finally:
            if sock is not None:
                sock.close()

    def error_log(
        self, msg: str = "", level: int = logging.INFO, traceback: bool = False
    ) -> None:
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
        self._server.slots = AddressSlots(per_address)
        self._server.gateway = Gateway
        if tls_cert:
            self._server.ssl_adapter = LazyTLS(tls_cert, tls_key or tls_cert)
        # cheroot's stop() ends serve(); it runs on stop() even when start() did not.
        self._worker = Worker(self._serve, "web", on_stop=self._server.stop)

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
        self._worker.start()
        logger.info("configuration page at %s", self.url)
        if self._announce is not None:
            self._announce(self.url)

    def stop(self) -> None:
        """Stop accepting, finish requests in hand (seconds at most), close the app.

        Raises:
            ThreadStuckError: the server thread did not end in time (the app is
                closed all the same).
        """
        try:
            self._end_streams()
            self._worker.stop(_JOIN_TIMEOUT_S)
        finally:
            close = getattr(self.app, "close", None)
            if close is not None:
                close()

    def _end_streams(self) -> None:
        config = getattr(self.app, "config", None)
        end = config.get(END_STREAMS) if isinstance(config, dict) else None
        if callable(end):
            end()

    def _serve(self) -> None:
        try:
            self._server.serve()
        except Exception:
            logger.exception("the configuration page stopped serving")


def page_for(
    service: PageService,
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
