"""Served for real: cheroot, limits, HTTPS, daemon wiring, socket activation, demo."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from ivs_accessory.config import load
from ivs_accessory.service import Service
from ivs_accessory.web import WebServer, create_app, inherited_socket

from .helpers import PipeConsoles, write_box_config

COMMAND = [sys.executable, "-m", "ivs_accessory"]


@pytest.fixture
def served(box):
    server = WebServer(create_app(box.service), address="127.0.0.1", port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_served_page_answers_over_http(served):
    answer = requests.get(served.url + "login", timeout=5)
    assert answer.status_code == 200 and "Log in" in answer.text
    assert answer.headers["Server"] == "ivs-accessory"
    assert requests.get(served.url + "healthz", timeout=5).json()["status"] == "ok"


def test_oversized_body_and_headers_are_refused(served):
    big = requests.post(
        served.url + "login", data={"password": "x" * 100_000}, timeout=5
    )
    assert big.status_code == 413
    huge_header = requests.get(
        served.url + "login", headers={"X-Junk": "y" * 20_000}, timeout=5
    )
    assert huge_header.status_code in (413, 431)


def test_only_the_update_takes_a_file_sized_body(served):
    package = b"!<arch>\n" + bytes(1_000_000)
    # Not logged in: the page answers (the login) instead of refusing the size.
    taken = requests.post(
        served.url + "system/update", files={"package": ("a.deb", package)},
        allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert taken.status_code == 303 and "/login" in taken.headers["Location"]
    refused = requests.post(
        served.url + "system/password", files={"package": ("a.deb", package)},
        allow_redirects=False, timeout=10,
    )  # fmt: skip
    assert refused.status_code == 413
    too_big = requests.post(
        served.url + "system/update", data=bytes(30_000_000), timeout=30
    )
    assert too_big.status_code == 413


def test_stop_closes_the_port(box):
    server = WebServer(create_app(box.service), address="127.0.0.1", port=0)
    server.start()
    url = server.url
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "healthz", timeout=2)
    assert not any(t.name == "web" for t in threading.enumerate())


def test_https_with_a_certificate_and_secure_cookies(box, tls_files):
    ca, cert, key = tls_files
    server = WebServer(
        create_app(box.service, https=True),
        address="127.0.0.1",
        port=0,
        tls_cert=cert,
        tls_key=key,
    )
    server.start()
    try:
        assert server.url.startswith("https://127.0.0.1:")
        answer = requests.get(server.url + "login", verify=ca, timeout=5)
        assert answer.status_code == 200
        assert "Secure" in answer.headers["Set-Cookie"]
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(server.url + "login", timeout=5)  # an unknown CA is refused
    finally:
        server.stop()


def test_service_serves_the_page_from_config_and_stops_it(tmp_path, make_sim):
    sim = make_sim()
    path = write_box_config(tmp_path, sim.url)
    text = path.read_text().replace(
        "[web]\nenabled = false\n",
        "[web]\nenabled = true\naddress = 127.0.0.1\nport = 0\n",
    )
    path.write_text(text)
    service = Service(load(str(path)), source_factory=PipeConsoles())
    service.start()
    try:
        url = service.web.url
        assert requests.get(url + "login", timeout=5).status_code == 200
    finally:
        service.stop()
    assert service.web is None
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "healthz", timeout=2)


def test_service_without_its_page_when_disabled(box):
    assert box.service.config["web"]["enabled"] is False
    assert box.service.web is None


def test_service_runs_without_its_page_when_the_port_is_taken(
    tmp_path, make_sim, caplog
):
    sim = make_sim()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        path = write_box_config(tmp_path, sim.url)
        path.write_text(
            path.read_text().replace(
                "[web]\nenabled = false\n",
                f"[web]\naddress = 127.0.0.1\nport = {port}\n",
            )
        )
        consoles = PipeConsoles()
        service = Service(load(str(path)), source_factory=consoles)
        service.start()
        try:
            assert service.web is None and service.is_healthy()
            assert "the configuration page cannot start" in caplog.text
        finally:
            service.stop()


def test_stopping_on_a_passed_socket_leaves_no_connection_queued_for_systemd(box):
    import select

    # systemd keeps its own copy of a socket unit's listening socket; a connection
    # left queued there after we stop makes it start the service again.
    listener = socket.create_server(("127.0.0.1", 0))
    systemds_copy = socket.socket(fileno=os.dup(listener.fileno()))
    server = WebServer(create_app(box.service), sock=listener)
    server.start()
    assert requests.get(server.url + "healthz", timeout=5).status_code == 200
    server.stop()
    try:
        readable, _, _ = select.select([systemds_copy], [], [], 0.5)
        assert readable == [], "stopping the page left a connection for systemd"
        assert listener.fileno() == -1  # our copy is closed; systemd's still listens
        assert not any(t.name == "web" for t in threading.enumerate())
    finally:
        systemds_copy.close()


def test_inherited_socket_ignores_other_processes_and_clears_the_variables():
    env = {"LISTEN_FDS": "1", "LISTEN_PID": "1", "LISTEN_FDNAMES": "web"}
    assert inherited_socket("web", env, pid=2) is None
    assert env == {}
    env = {"LISTEN_FDS": "2", "LISTEN_PID": "7", "LISTEN_FDNAMES": "other:more"}
    assert inherited_socket("web", env, pid=7) is None
    assert (
        inherited_socket("web", {"LISTEN_FDS": "x", "LISTEN_PID": "7"}, pid=7) is None
    )
    assert inherited_socket("web", {}, pid=7) is None


# The daemon started the way systemd starts it: the socket unit's listening socket on
# descriptor 3 (LISTEN_FDS=1, LISTEN_FDNAMES=web) and LISTEN_PID naming the process
# itself, which only a program running in that process can know: this trampoline
# moves the socket to 3, sets LISTEN_PID to its own pid and execs the daemon.
_TRAMPOLINE = (
    "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); "
    "os.set_inheritable(3, True); os.environ['LISTEN_PID'] = str(os.getpid()); "
    "os.execv(sys.executable, "
    "[sys.executable, '-m', 'ivs_accessory'] + sys.argv[2:])"
)


def test_daemon_serves_the_socket_systemd_passes(tmp_path, make_sim):
    sim = make_sim()
    path = write_box_config(tmp_path, sim.url)
    # address/port say something else: the passed socket must win.
    path.write_text(
        path.read_text().replace(
            "[web]\nenabled = false\n", "[web]\naddress = 127.0.0.1\nport = 1\n"
        )
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    env = os.environ | {"LISTEN_FDS": "1", "LISTEN_FDNAMES": "web"}
    daemon = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _TRAMPOLINE,
            str(listener.fileno()),
            "run",
            "--config",
            str(path),
        ],
        pass_fds=[listener.fileno()],
        env=env,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()  # only the daemon holds it now
    try:
        line = ""
        while "configuration page at" not in line:
            line = daemon.stderr.readline()
            assert line, "the daemon ended before serving the page"
        answer = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert answer.status_code == 200 and answer.json()["version"]
    finally:
        daemon.terminate()
        assert daemon.wait(timeout=15) == 0


def test_demo_prints_the_page_url_and_the_login(tmp_path):
    demo = subprocess.Popen(
        COMMAND + ["demo"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        line = ""
        while not line.startswith("Configuration page:"):
            line = demo.stdout.readline()
            assert line, "the demo ended without printing the page's URL"
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert "admin / ivs-setup" in line
        assert requests.get(url + "login", timeout=5).status_code == 200
    finally:
        demo.stdin.close()
        assert demo.wait(timeout=20) == 0


# -- Slow clients (slowloris), the per-address cap, the Host check ---------------------


def connect(server: WebServer, source: str = "127.0.0.1") -> socket.socket:
    host, port = server.address
    sock = socket.create_connection(
        (host, port), timeout=10, source_address=(source, 0)
    )
    return sock


def answer_of(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (or 10 s pass)."""
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return data
        if not chunk:
            return data
        data += chunk


class Trickler:
    """Slow clients: each sends a request line, then a header line every ``every_s``."""

    def __init__(self, socks: list[socket.socket], every_s: float = 0.3) -> None:
        self.socks = socks
        self.every_s = every_s
        self.stop = threading.Event()
        self.started = threading.Event()  # every socket has sent two lines
        self.thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Trickler:
        for sock in self.socks:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.thread.start()
        return self

    def _run(self) -> None:
        rounds = 0
        while not self.stop.wait(self.every_s):  # pacing, not synchronisation
            for sock in self.socks:
                try:
                    sock.sendall(b"X-Slow: 1\r\n")
                except OSError:
                    pass  # cut off: that is what the server should do
            rounds += 1
            if rounds == 2:
                self.started.set()

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(5)
        for sock in self.socks:
            sock.close()


def timed_get(server: WebServer, source: str, path: str = "/healthz") -> tuple:
    """(status line, seconds) for one request from ``source``."""
    began = time.monotonic()
    with connect(server, source) as sock:
        head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode())
        data = answer_of(sock)
    return data.split(b"\r\n", 1)[0], time.monotonic() - began


def test_slow_clients_from_one_address_do_not_starve_another_client(served):
    slow = [connect(served) for _ in range(12)]
    with Trickler(slow) as trickler:
        assert trickler.started.wait(10)
        status, seconds = timed_get(served, "127.0.0.2")
    assert status == b"HTTP/1.1 200 OK" and seconds < 2, (status, seconds)


def test_a_slow_client_is_cut_off_after_the_deadline(box):
    server = WebServer(
        create_app(box.service), address="127.0.0.1", port=0, request_deadline_s=1.0
    )
    server.start()
    try:
        began = time.monotonic()
        with Trickler([connect(server)], every_s=0.2) as trickler:
            data = answer_of(trickler.socks[0])
        seconds = time.monotonic() - began
    finally:
        server.stop()
    assert data.startswith(b"HTTP/1.1 408") and 0.9 < seconds < 4, (data, seconds)


def test_a_slow_body_is_cut_off_after_the_deadline(box):
    server = WebServer(
        create_app(box.service), address="127.0.0.1", port=0, request_deadline_s=1.0
    )
    server.start()
    stop = threading.Event()
    try:
        with connect(server) as sock:
            sock.sendall(
                b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 500\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n\r\n"
            )
            began = time.monotonic()

            def trickle() -> None:
                while not stop.wait(0.2):
                    try:
                        sock.sendall(b"a")
                    except OSError:
                        return

            thread = threading.Thread(target=trickle, daemon=True)
            thread.start()
            data = answer_of(sock)
            seconds = time.monotonic() - began
            stop.set()
            thread.join(5)
    finally:
        server.stop()
    assert seconds < 4, (data, seconds)
    assert not data or data.split(b" ", 2)[1] in (b"403", b"408"), data


def test_connections_over_the_per_address_cap_are_refused(box):
    server = WebServer(
        create_app(box.service), address="127.0.0.1", port=0, per_address=3
    )
    server.start()
    try:
        held = [connect(server) for _ in range(3)]
        with connect(server) as extra:
            refused = answer_of(extra)
        status, seconds = timed_get(server, "127.0.0.2")
        for sock in held:
            sock.close()
    finally:
        server.stop()
    assert refused.startswith(b"HTTP/1.1 503") and b"too many connections" in refused
    assert status == b"HTTP/1.1 200 OK" and seconds < 2


def test_the_served_page_refuses_a_foreign_host_and_knows_its_local_address(box):
    seen = []

    def app(environ, start_response):
        seen.append(environ.get("ivs.local_addr"))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    server = WebServer(app, address="127.0.0.1", port=0)
    server.start()
    try:
        status, _ = timed_get(server, "127.0.0.1")
    finally:
        server.stop()
    assert status == b"HTTP/1.1 200 OK" and seen == ["127.0.0.1"]


def test_the_served_page_refuses_a_foreign_host(served):
    answer = requests.get(served.url + "login", headers={"Host": "evil.example"})
    assert answer.status_code == 400 and "allowed_hosts" in answer.text
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert requests.get(served.url + "login", timeout=5).status_code == 200


def test_cr_lf_in_a_served_path_is_a_plain_400(served, caplog):
    with connect(served) as sock:
        sock.sendall(
            b"GET /valt%0d%0aSet-Cookie:%20a=b HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Connection: close\r\n\r\n"
        )
        data = answer_of(sock)
    assert data.startswith(b"HTTP/1.1 400") and b"Set-Cookie: a=b" not in data
    assert b"X-Frame-Options: DENY" in data and "Traceback" not in caplog.text


def test_a_silent_tls_client_does_not_stop_the_others(box, tls_files):
    ca, cert, key = tls_files
    server = WebServer(
        create_app(box.service, https=True),
        address="127.0.0.1",
        port=0,
        tls_cert=cert,
        tls_key=key,
    )
    server.start()
    try:
        with connect(server):  # connects, never starts the TLS handshake
            began = time.monotonic()
            answer = requests.get(server.url + "healthz", verify=ca, timeout=8)
            seconds = time.monotonic() - began
    finally:
        server.stop()
    assert answer.status_code == 200 and seconds < 3, seconds
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_to_the_tls_page_is_told_to_use_https(box, tls_files):
    _, cert, key = tls_files
    server = WebServer(
        create_app(box.service, https=True),
        address="127.0.0.1",
        port=0,
        tls_cert=cert,
        tls_key=key,
    )
    server.start()
    try:
        url = server.url.replace("https://", "http://")
        answer = requests.get(url + "login", timeout=5)
    finally:
        server.stop()
    assert answer.status_code == 400 and "https://" in answer.text
