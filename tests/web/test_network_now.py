"""What the box uses now: its address, gateway, DNS and clock; a roll-back told once."""

from __future__ import annotations

import datetime
import json
import re
import subprocess

from ivs_accessory.web import create_app
from ivs_accessory.web.network import box_clock, local_zone, read_current_network

from .fakes import fake_network
from .helpers import ADMIN_PASSWORD, set_admin_password
from .wsgi import WsgiClient

IP_ADDR = json.dumps(
    [
        {
            "ifname": "eth0",
            "addr_info": [
                {"family": "inet", "local": "192.0.2.50", "prefixlen": 24},
                {
                    "family": "inet6",
                    "local": "fe80::1",
                    "prefixlen": 64,
                    "scope": "link",
                },
                {"family": "inet6", "local": "2001:db8::50", "prefixlen": 64},
            ],
        }
    ]
)
ROUTES = {
    "-4": json.dumps([{"dst": "default", "gateway": "192.0.2.1", "dev": "eth0"}]),
    "-6": "[]",
}


class FakeCommands:
    """Answers ``ip`` and ``resolvectl`` as a box with one static address would."""

    def __init__(self, resolvectl: str = "Link 2 (eth0): 192.0.2.53 192.0.2.54\n"):
        self.resolvectl = resolvectl
        self.ran: list[list[str]] = []

    def __call__(self, argv: list[str]) -> str:
        self.ran.append(argv)
        if argv[:2] == ["ip", "-j"] and argv[2] == "addr":
            return IP_ADDR
        if argv[:2] == ["ip", "-j"] and argv[3] == "route":
            return ROUTES[argv[2]]
        if argv[0] == "resolvectl":
            return self.resolvectl
        raise FileNotFoundError(argv[0])


def test_current_network_from_ip_and_resolved(tmp_path):
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("# stub\nnameserver 127.0.0.53\noptions edns0\n")
    run = FakeCommands()
    found = read_current_network("eth0", run=run, resolv_conf=str(resolv))
    assert found == {
        "addresses": ["192.0.2.50/24", "2001:db8::50/64"],
        "gateway": "192.0.2.1",
        "dns": ["192.0.2.53", "192.0.2.54"],
        "problem": "",
    }
    assert ["resolvectl", "dns", "eth0"] in run.ran


def test_current_network_reads_plain_resolv_conf_without_asking_resolved(tmp_path):
    resolv = tmp_path / "resolv.conf"
    resolv.write_text("nameserver 192.0.2.9\nnameserver 2001:db8::9\n")
    run = FakeCommands()
    found = read_current_network("eth0", run=run, resolv_conf=str(resolv))
    assert found["dns"] == ["192.0.2.9", "2001:db8::9"]
    assert not any(argv[0] == "resolvectl" for argv in run.ran)


def test_current_network_says_what_it_cannot_read(tmp_path):
    def broken(argv):
        raise subprocess.CalledProcessError(
            1, argv, "", 'Device "eth9" does not exist.'
        )

    found = read_current_network("eth9", run=broken, resolv_conf=str(tmp_path / "no"))
    assert found["addresses"] == [] and found["dns"] == []
    assert 'cannot read the address: Device "eth9" does not exist.' in found["problem"]


def test_current_network_of_this_machine_with_the_real_ip_command():
    found = read_current_network("lo")
    assert "127.0.0.1/8" in found["addresses"], found


def test_network_page_shows_what_is_in_use(box):
    set_admin_password(box.folder)
    reader = fake_network()
    client = WsgiClient(create_app(box.service, network=reader))
    client.login(ADMIN_PASSWORD)
    page = client.get("/network").text
    assert re.search(r'id="current-address">192\.0\.2\.50/24<', page)
    assert re.search(r'id="current-gateway">192\.0\.2\.1<', page)
    assert re.search(r'id="current-dns">192\.0\.2\.53<', page)
    assert reader.asked == ["eth0"]


def test_network_page_says_when_it_cannot_read_the_address(box):
    set_admin_password(box.folder)
    reader = fake_network(
        addresses=(), gateway="", problem="cannot read the address: x"
    )
    client = WsgiClient(create_app(box.service, network=reader))
    client.login(ADMIN_PASSWORD)
    page = client.get("/network").text
    assert 'id="current-address">none<' in page
    assert "cannot read the address: x" in page


def test_a_rolled_back_change_is_told_once_on_every_session(box, app, admin):
    answer = admin.post(
        "/network",
        {"mode": "static", "address": "192.0.2.77/24", "password": ADMIN_PASSWORD},
    )
    assert answer.status == 200
    app.config["ivs.page"].trial.close()  # nobody confirmed: rolled back
    assert box.trace == ["apply_network", "rollback_network"]
    first = admin.get("/time").text
    assert (
        "eth0: static 192.0.2.77/24) was not confirmed in time and was rolled back"
        in (first)
    )
    assert 'id="network-rolled-back"' in first
    assert 'id="network-rolled-back"' not in admin.get("/").text  # once
    network = admin.get("/network").text  # the Network page always says it
    assert 'id="last-rollback"' in network and 'id="network-rolled-back"' not in network
    other = WsgiClient(app)
    other.login(ADMIN_PASSWORD)
    assert 'id="network-rolled-back"' in other.get("/").text


def test_time_page_shows_the_box_clock_and_zone(admin):
    before = datetime.datetime.now().astimezone()
    page = admin.get("/time").text
    shown = re.search(r'id="clock-now"[^>]*>([^<]+)<', page).group(1)
    moment = datetime.datetime.strptime(shown, "%Y-%m-%d %H:%M:%S")
    assert abs(moment - before.replace(tzinfo=None)).total_seconds() < 5
    zone = re.search(r'id="clock-zone">([^<]+)<', page).group(1)
    assert zone == (local_zone() or before.tzname())


def test_box_clock_names_the_zone_from_the_localtime_link(tmp_path):
    link = tmp_path / "localtime"
    link.symlink_to("/usr/share/zoneinfo/Europe/Berlin")
    moment = datetime.datetime(2026, 7, 1, 12, 0, tzinfo=datetime.timezone.utc)
    clock = box_clock(moment, str(link))
    assert clock["zone"] == "Europe/Berlin"
    assert clock["epoch"] == moment.timestamp()
