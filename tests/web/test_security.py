"""The LAN attacker's holes (issue 11 C), in-process: password, Host, throttle, ..."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest

from ivs_accessory.web import create_app
from ivs_accessory.web.accounts import FACTORY_PASSWORD, PasswordFile

from .helpers import ADMIN_PASSWORD, SECRET_PASSWORD, set_admin_password
from .wsgi import WsgiClient, field_error

NEW_PASSWORD = "another-pass-1"
TEMPLATE = Path(__file__).resolve().parents[2] / "config" / "web-password"


def page_of(client: WsgiClient):
    return client.app.config["ivs.page"]


def set_web(client: WsgiClient, **values) -> None:
    """Change keys of the running config's [web] section (as a reload would)."""
    page_of(client).config["web"].update(values)


# -- 9: POST /password only for the forced first change --------------------------------


def test_password_route_refuses_a_session_that_need_not_change_it(admin, box):
    answer = admin.post("/password", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert answer.status == 403 and "System page" in answer.text
    store = PasswordFile(str(box.folder / "web-password"))
    assert store.verify(ADMIN_PASSWORD) and not store.verify(NEW_PASSWORD)
    assert admin.get("/password").location == "/system"


def test_password_route_still_takes_the_forced_first_change(browser, box):
    assert browser.login(FACTORY_PASSWORD).location == "/password"
    assert browser.get("/password").status == 200
    done = browser.post("/password", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status == 303 and done.location == "/"
    assert PasswordFile(str(box.folder / "web-password")).verify(NEW_PASSWORD)
    # Once changed, the same session cannot use the short route a second time.
    again = browser.post(
        "/password", {"new": "third-pass-3", "confirm": "third-pass-3"}
    )
    assert again.status == 403
    assert PasswordFile(str(box.folder / "web-password")).verify(NEW_PASSWORD)


def test_system_password_change_without_the_current_one_is_refused(admin, box):
    answer = admin.post(
        "/system/password", {"new": NEW_PASSWORD, "confirm": NEW_PASSWORD}
    )
    assert answer.status == 400 and field_error(answer, "current")
    assert PasswordFile(str(box.folder / "web-password")).verify(ADMIN_PASSWORD)


# -- 10: the saved VALT password never goes to another server --------------------------


class Listener:
    """A TCP server on loopback that records every byte it is sent (no answer)."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.received = bytearray()
        self.connections = 0
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with conn:
                conn.settimeout(0.5)
                self._drain(conn)

    def _drain(self, conn: socket.socket) -> None:
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                return
            if not data:
                return
            self.received += data

    def close(self) -> None:
        self.stopping.set()
        self.thread.join(5)
        self.server.close()


@pytest.fixture
def listener():
    started = Listener()
    try:
        yield started
    finally:
        started.close()


VALT_FORM = {
    "username": "keypad",
    "timeout_s": "1",
    "verify_tls": "on",
    "room": "1",
    "recording_name": "Accessory Recording",
    "marker_name": "Accessory Comment",
    "marker_colour": "red",
}


def test_valt_test_with_a_new_server_asks_for_the_password_again(admin, listener):
    server = f"http://127.0.0.1:{listener.port}"
    answer = admin.post("/valt/test", VALT_FORM | {"server": server, "password": ""})
    result = answer.json()
    assert result["ok"] is False and result["reason"] == "invalid"
    assert "password again" in result["errors"]["password"]
    listener.close()
    assert SECRET_PASSWORD.encode() not in listener.received
    assert listener.connections == 0


def test_valt_test_with_a_new_server_uses_the_typed_password(admin, listener):
    server = f"http://127.0.0.1:{listener.port}"
    admin.post("/valt/test", VALT_FORM | {"server": server, "password": "typed-pw"})
    listener.close()
    assert listener.connections >= 1
    assert SECRET_PASSWORD.encode() not in listener.received


def test_valt_save_with_a_new_server_and_no_password_keeps_nothing(
    admin, box, listener
):
    before = box.config_bytes()
    server = f"http://127.0.0.1:{listener.port}"
    answer = admin.post("/valt", VALT_FORM | {"server": server, "password": ""})
    assert answer.status == 400
    assert "password again" in field_error(answer, "password")
    assert box.config_bytes() == before
    listener.close()
    assert SECRET_PASSWORD.encode() not in listener.received


def test_valt_same_server_written_differently_keeps_the_saved_password(admin, box):
    host_port = box.sim.url.split("://", 1)[1].rstrip("/")
    answer = admin.post(
        "/valt", VALT_FORM | {"server": "HTTP://" + host_port.upper(), "password": ""}
    )
    assert answer.status == 303
    assert page_of(admin).config["valt"]["password"] == SECRET_PASSWORD
    # Without a scheme a server means https (issue 11): that would be another one.
    same = f"http://{host_port}/"
    result = admin.post("/valt/test", VALT_FORM | {"server": same}).json()
    assert result["ok"] is True, result


# -- 12: Host header and the factory password ------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:80",
        "127.0.0.1.evil.example",
        "",
        "[::1",
        "0.0.0.0",
        "0.0.0.0:80",
        "[::]",
    ],
)
def test_a_foreign_host_header_is_refused(app, host):
    client = WsgiClient(app, host=host)
    for path in ("/login", "/", "/healthz"):
        answer = client.get(path)
        assert answer.status == 400, (host, path)
        assert "allowed_hosts" in answer.text
        assert answer.header("X-Frame-Options") == "DENY"


def test_a_rebinding_page_cannot_log_in_with_the_factory_password(app, box):
    client = WsgiClient(app, host="rebind.evil.example")
    page = client.get("/login")
    assert page.status == 400
    answer = client.request(
        "POST",
        "/login",
        form={"csrf": "x" * 32, "username": "admin", "password": FACTORY_PASSWORD},
        headers={"Cookie": "ivs_login=" + "x" * 32},
    )
    assert answer.status == 400 and "ivs_session" not in client.cookies


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "127.0.0.1:8080",
        "[::1]",
        "[::1]:80",
        socket.gethostname(),
        socket.gethostname().upper() + ".local",
    ],
)
def test_the_box_own_names_are_accepted(app, host):
    assert WsgiClient(app, host=host).get("/login").status == 200


def test_allowed_hosts_adds_names(app):
    client = WsgiClient(app, host="door-7.rooms.example.org")
    assert client.get("/login").status == 400
    set_web(client, allowed_hosts="other.example  door-7.rooms.example.org")
    assert client.get("/login").status == 200


def test_an_address_of_this_machine_is_accepted_and_others_are_not(app):
    # 127.0.0.2 is a local address (all of 127/8 is), 192.0.2.1 is nobody's.
    assert WsgiClient(app, host="127.0.0.2").get("/login").status == 200
    assert WsgiClient(app, host="192.0.2.1").get("/login").status == 400


def factory_password_file(box, age_s: float = 0) -> None:
    """The factory template as a reset leaves it, written ``age_s`` seconds ago."""
    path = box.folder / "web-password"
    path.write_text(TEMPLATE.read_text())
    moment = time.time() - age_s
    os.utime(path, (moment, moment))


@pytest.mark.parametrize("remote", ["127.0.0.1", "::1", "169.254.10.20", "fe80::5"])
def test_factory_password_works_from_loopback_and_link_local(app, box, remote):
    factory_password_file(box, age_s=3600)
    client = WsgiClient(app, remote=remote)
    assert client.login(FACTORY_PASSWORD).location == "/password"


@pytest.mark.parametrize("remote", ["192.168.1.40", "2001:db8::7", "::ffff:10.0.0.9"])
def test_factory_password_is_refused_from_the_lan_long_after_a_reset(app, box, remote):
    factory_password_file(box, age_s=3600)
    client = WsgiClient(app, remote=remote)
    answer = client.login(FACTORY_PASSWORD)
    assert answer.status == 403 and "ivs_session" not in client.cookies
    assert "factory password" in answer.text and "link-local" in answer.text


def test_factory_password_works_from_the_lan_just_after_a_reset(app, box):
    factory_password_file(box, age_s=60)
    client = WsgiClient(app, remote="192.168.1.40")
    assert client.login(FACTORY_PASSWORD).location == "/password"


def test_a_missing_password_file_counts_as_long_ago(app, box):
    assert not (box.folder / "web-password").exists()
    client = WsgiClient(app, remote="192.168.1.40")
    assert client.login(FACTORY_PASSWORD).status == 403
    assert WsgiClient(app).login(FACTORY_PASSWORD).location == "/password"


def test_a_changed_password_works_from_anywhere(app, box):
    set_admin_password(box.folder)
    long_ago = time.time() - 3600
    os.utime(box.folder / "web-password", (long_ago, long_ago))
    client = WsgiClient(app, remote="192.168.1.40")
    assert client.login(ADMIN_PASSWORD).location == "/"


# -- 14: login throttle: global, atomic, bounded ---------------------------------------


def test_guesses_spread_over_many_addresses_hit_a_global_limit(app, box, clock):
    set_admin_password(box.folder)
    checked = refused = 0
    for n in range(40):
        client = WsgiClient(app, remote=f"10.1.{n}.1")
        for _ in range(4):
            status = client.login("guess-" + str(n)).status
            checked += status == 401
            refused += status == 429
    assert checked <= 10 and refused == 160 - checked
    admin = WsgiClient(app, remote="10.9.9.9")
    busy = admin.login(ADMIN_PASSWORD)
    assert busy.status == 429 and "try again in" in busy.text
    clock.advance(10)
    assert admin.login(ADMIN_PASSWORD).location == "/"


def test_ipv6_addresses_of_one_network_share_a_lockout(app, box):
    set_admin_password(box.folder)
    for n in range(5):
        WsgiClient(app, remote=f"2001:db8:1:2::{n + 1:x}").login("guess")
    assert (
        WsgiClient(app, remote="2001:db8:1:2::99").login(ADMIN_PASSWORD).status == 429
    )
    assert WsgiClient(app, remote="2001:db8:1:3::1").login(ADMIN_PASSWORD).status == 303


def test_parallel_guesses_get_no_more_checks_than_serial_ones(app, box):
    set_admin_password(box.folder)
    clients = [WsgiClient(app, remote="10.0.0.66") for _ in range(16)]
    forms = []
    for client in clients:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        forms.append({"csrf": token, "username": "admin", "password": "guess"})
    start = threading.Barrier(len(clients))
    statuses: list[int] = []

    def guess(client: WsgiClient, form: dict) -> None:
        start.wait(10)
        statuses.append(client.request("POST", "/login", form=form).status)

    threads = [
        threading.Thread(target=guess, args=pair)
        for pair in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(statuses) == 16
    assert statuses.count(401) == 5 and statuses.count(429) == 11


# -- 15: the lows ----------------------------------------------------------------------


def test_hsts_only_over_tls(box, clock):
    plain = WsgiClient(create_app(box.service, clock=clock))
    assert plain.get("/login").header("Strict-Transport-Security") is None
    tls = WsgiClient(create_app(box.service, https=True, clock=clock))
    assert "max-age=" in tls.get("/login").header("Strict-Transport-Security")


def test_metrics_are_local_only_by_default(app):
    assert WsgiClient(app).get("/metrics").status == 200
    assert WsgiClient(app, remote="::1").get("/metrics").status == 200
    remote = WsgiClient(app, remote="192.168.1.40")
    answer = remote.get("/metrics")
    assert answer.status == 403 and "metrics_access" in answer.text


def test_metrics_behind_the_login_or_open(admin, app):
    set_web(admin, metrics_access="login")
    assert WsgiClient(app).get("/metrics").status == 303  # to the login
    assert admin.get("/metrics").status == 200
    set_web(admin, metrics_access="open")
    assert WsgiClient(app, remote="192.168.1.40").get("/metrics").status == 200


def test_a_session_ends_after_twelve_hours_however_busy(admin, clock):
    for _ in range(12 * 4):
        clock.advance(890)
        assert admin.get("/").status == 200, clock.now
    clock.advance(890)
    assert admin.get("/").location == "/login"


def test_background_polls_do_not_keep_a_session_alive(admin, clock):
    for _ in range(8):
        clock.advance(100)
        assert admin.get("/status.json").status == 200
        assert admin.get("/inputs/events.json").status == 200
    clock.advance(150)  # 950 s after the last page the person opened
    assert admin.get("/status.json").status == 401


def test_time_change_needs_the_password_again(admin, box):
    form = {"timezone": "Europe/Berlin", "ntp_servers": ""}
    answer = admin.post("/time", form | {"password": "wrong"})
    assert answer.status == 400 and field_error(answer, "password") == "wrong password"
    assert not (box.folder / "time.conf").exists() and box.trace == []
    done = admin.post("/time", form | {"password": ADMIN_PASSWORD})
    assert done.status == 303 and box.trace == ["apply_time"]


@pytest.mark.parametrize(
    "path", ["/valt\r\nX-Evil: 1", "/\r\n", "/login\r\nSet-Cookie: a=b", "/x\ny"]
)
def test_cr_lf_in_a_path_is_a_plain_400_not_a_traceback(browser, path, caplog):
    answer = browser.get(path)
    assert answer.status == 400
    assert answer.header("X-Frame-Options") == "DENY"
    assert answer.header("X-Evil") is None and answer.header("Set-Cookie") is None
    assert "Traceback" not in caplog.text
