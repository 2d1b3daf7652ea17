"""AxisSimulator: a camera's VAPIX endpoints on a real socket, behind digest auth,
with faults and a request log."""

from __future__ import annotations

import functools
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ivs_accessory.axissim.axis_control import control_answer
from ivs_accessory.axissim.axis_faults import AxisFault, FaultTable, check_fault
from ivs_accessory.axissim.axis_state import AxisState, Features
from ivs_accessory.axissim.digest import DigestGate
from ivs_accessory.axissim.vapix_routes import ROUTES, Reply, text
from ivs_accessory.threads import Worker

logger = logging.getLogger(__name__)

_JOIN_TIMEOUT_S = 5
# A hung answer ends when the simulator stops, or after this long at the latest.
_HANG_MAX_S = 600
MAX_BODY = 64 * 1024


class AxisSimulator:
    """One simulated Axis camera on loopback (or any address), for tests and demos.

    Args:
        host, port: where to listen; port 0 picks a free port (see :attr:`port`).
        username, password: the one account digest auth accepts.
        name: the model name it reports (``root.Brand.ProdFullName``).
        privacy_masks, ptz, audio: which features the model has; without privacy
            masks ``privacymask.cgi`` is 404, without PTZ ``ptz.cgi`` is.
        presets: the PTZ presets, in order (number 1 first).
        gain: the audio input gain before anyone mutes it.
        latency_ms: added to every VAPIX request.

    Use as a context manager, or call :meth:`start` and :meth:`stop`.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        username: str = "root",
        password: str = "pass",
        name: str = "AXIS Q6075 PTZ Network Camera (simulated)",
        privacy_masks: bool = True,
        ptz: bool = True,
        audio: bool = True,
        presets: tuple[str, ...] | list[str] = ("Home", "Wide", "Table"),
        gain: str = "12",
        latency_ms: float = 0,
    ) -> None:
        self.host, self.port = host, port
        self.latency_ms = latency_ms
        self.gate = DigestGate(username, password)
        self.state = AxisState(
            name, Features(privacy_masks, ptz, audio), list(presets), gain
        )
        self.faults = FaultTable()
        self._log: list[dict[str, Any]] = []
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._worker: Worker | None = None

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> AxisSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://host:port``, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> AxisSimulator:
        """Listen and serve in a background thread."""
        self._stopping.clear()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        server_class = type("_Server", (_Server,), {"address_family": family})
        self._server = server_class((self.host, self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._worker = Worker(
            functools.partial(self._server.serve_forever, poll_interval=0.1),
            f"axissim-{self.port}",
            on_stop=self._server.shutdown,
        )
        self._worker.start()
        return self

    def stop(self) -> None:
        """Stop serving: wake hung answers, cut open connections, join every thread."""
        self._stopping.set()
        server, worker = self._server, self._worker
        self._server = self._worker = None
        if server is None:
            return
        try:
            if worker is not None:
                worker.stop(_JOIN_TIMEOUT_S)
        finally:
            server.cut_connections()
            server.server_close()  # joins the connection threads

    # -- control from tests ------------------------------------------------------------
    def inject(self, **options: Any) -> int:
        """Add a fault (see :class:`AxisFault`); returns its id."""
        return self.faults.add(check_fault(options)).id

    def clear_faults(self) -> None:
        self.faults.clear()

    def set_password(self, password: str) -> None:
        """Change the camera's password (the old one is refused from now on)."""
        self.gate.password = password

    def set_features(self, **features: bool) -> None:
        """Switch model features (privacy_masks, ptz, audio); resets the camera."""
        for key, value in features.items():
            if key not in ("privacy_masks", "ptz", "audio"):
                raise ValueError(
                    f"unknown feature {key!r}; use privacy_masks, ptz, audio"
                )
            if not isinstance(value, bool):
                raise ValueError(f"feature {key!r} must be true or false")
            setattr(self.state.features, key, value)
        self.state.reset()

    def reset(self) -> None:
        """Factory state again; forget faults and the request log."""
        self.state.reset()
        self.faults.clear()
        self.clear_requests()

    def requests(self, path: str | None = None) -> list[dict[str, Any]]:
        """The VAPIX request log, oldest first, optionally for one exact path.

        Each entry: ``method``, ``path``, ``query``, ``user`` (who the digest
        proved, "" if nobody), ``status`` (None until answered, ``"dropped"``,
        ``"hung"``), ``fault`` (its id) and ``time``. Credentials never appear.
        """
        with self._log_lock:
            entries = [dict(e) for e in self._log]
        return [e for e in entries if path is None or e["path"] == path]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._log.clear()

    def snapshot(self) -> dict[str, Any]:
        """The camera's state for tests (masks, gain, PTZ, presets, position)."""
        return self.state.snapshot()

    # -- serving -----------------------------------------------------------------------
    def _record(self, method: str, path: str, query: dict[str, str]) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "user": "",
            "status": None,
            "fault": None,
            "time": time.time(),
        }
        with self._log_lock:
            self._log.append(entry)
        return entry

    def _serve_vapix(
        self, handler: _Handler, path: str, query: dict[str, str]
    ) -> Reply | None:
        """The answer to one VAPIX request, or None when it gets none."""
        entry = self._record(handler.command, path, query)
        if self.latency_ms and self._stopping.wait(self.latency_ms / 1000):
            return None
        user, stale = self.gate.check(
            handler.headers.get("Authorization"), handler.command, handler.path
        )
        fault = self.faults.take(path, logged_in=bool(user))
        if fault is not None:
            entry["fault"] = fault.id
        # A fault strikes before the login is checked: a client's first request
        # of a connection carries none (digest auth answers it with a challenge).
        if fault is not None and not (fault.refuse_credentials or fault.not_applied):
            early = self._fault_answer(fault, path, entry)
            if early is not None or fault.drop or fault.hang:
                return early
        refused = fault is not None and fault.refuse_credentials
        if refused or not user:
            handler.challenge = self.gate.challenge(stale=stale and not refused)
            return self._answer(entry, Reply(401, b"Unauthorized\n"))
        entry["user"] = user
        route = ROUTES.get(path)
        if route is None:
            return self._answer(entry, Reply(404, b"Not Found\n"))
        applied = fault is None or not fault.not_applied
        return self._answer(entry, route(self.state, query, applied))

    def _fault_answer(
        self, fault: AxisFault, path: str, entry: dict[str, Any]
    ) -> Reply | None:
        """What a fault answers instead of the endpoint (None: the endpoint's)."""
        if fault.hang:
            entry["status"] = "hung"
            self._stopping.wait(_HANG_MAX_S)
            return None
        if fault.drop:
            entry["status"] = "dropped"
            return None
        if fault.delay_ms and self._stopping.wait(fault.delay_ms / 1000):
            return None
        if fault.status is not None:
            return self._answer(entry, Reply(fault.status, b"Simulated failure\n"))
        if fault.error is not None:
            prefix = "# Error: " if path.endswith("param.cgi") else "Error:"
            return self._answer(entry, text(prefix + fault.error))
        return None

    @staticmethod
    def _answer(entry: dict[str, Any], reply: Reply) -> Reply:
        entry["status"] = reply.status
        return reply


class _Server(ThreadingHTTPServer):
    """One thread per connection; every thread is joined on close."""

    daemon_threads = False
    block_on_close = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        handler: type[BaseHTTPRequestHandler],
        sim: AxisSimulator,
    ) -> None:
        self.sim = sim
        self.open: set[socket.socket] = set()
        self.open_lock = threading.Lock()
        super().__init__(address, handler)

    def cut_connections(self) -> None:
        """Shut every open connection down, so its thread's read returns."""
        with self.open_lock:
            sockets = list(self.open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that give up (their deadline) are normal here: no traceback.
        logger.debug("connection from %s ended with an error", client_address[0])


class _Handler(BaseHTTPRequestHandler):
    """One connection: the control API under /_sim/, VAPIX under /axis-cgi/."""

    protocol_version = "HTTP/1.1"
    server_version = "AxisSimulator"
    sys_version = ""
    timeout = 60  # an idle keep-alive connection is closed after this long
    disable_nagle_algorithm = True
    server: _Server
    challenge = ""

    def setup(self) -> None:
        super().setup()
        with self.server.open_lock:
            self.server.open.add(self.connection)

    def finish(self) -> None:
        with self.server.open_lock:
            self.server.open.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("axissim: " + format, *args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.lstrip("/")
        raw = self._body()
        if raw is None:
            return
        sim = self.server.sim
        if path.startswith("_sim/"):
            self._send(control_answer(sim, self.command, path[5:], parts.query, raw))
            return
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        if self.command == "POST" and raw:
            # VAPIX CGIs take their arguments as a form body too.
            query.update(parse_qsl(raw.decode("latin-1"), keep_blank_values=True))
        reply = sim._serve_vapix(self, path, query)
        if reply is None:
            self.close_connection = True  # dropped, hung or stopping: no answer
            return
        self._send(reply)

    def _body(self) -> bytes | None:
        length = self.headers.get("Content-Length") or "0"
        if not length.isdigit() or int(length) > MAX_BODY:
            self.close_connection = True
            self._send(Reply(413, b"Request body too large\n"))
            return None
        return self.rfile.read(int(length)) if int(length) else b""

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            if reply.status == 401 and self.challenge:
                self.send_header("WWW-Authenticate", self.challenge)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:
            self.close_connection = True  # the client left first
