"""Discovery: avahi's service file for the page, the helper's op, the daemon's side."""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ivs_accessory.advertiser import Advertiser
from ivs_accessory.config import load
from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.avahi import (
    FALLBACK,
    MAX_NAME_BYTES,
    Advertisement,
    read_staged,
    render_service,
)
from ivs_accessory.system.helper import run_operation

DTD = Path("/usr/share/avahi/avahi-service.dtd")
TRICKY = 'Raum <A&B> "Süd" \u2013 %h'


def parsed(ad: Advertisement) -> ET.Element:
    return ET.fromstring(render_service(ad).encode("utf-8"))


def test_the_service_file_names_the_room_and_the_page():
    root = parsed(Advertisement(TRICKY, 8080, False))
    assert root.tag == "service-group"
    name = root.find("name")
    assert name.text == "IVS keypad \u2013 " + TRICKY  # escaped, and read back whole
    assert "replace-wildcards" not in name.attrib  # a room's %h stays as written
    service = root.find("service")
    assert [child.tag for child in service] == ["type", "port", "txt-record"]
    assert service.findtext("type") == "_http._tcp"
    assert service.findtext("port") == "8080"
    assert service.findtext("txt-record") == "path=/"


def test_a_page_served_over_tls_is_https():
    assert parsed(Advertisement("Room 1", 443, True)).findtext("service/type") == (
        "_https._tcp"
    )


def test_without_a_room_name_avahi_puts_in_the_host_name():
    name = parsed(Advertisement("", 80, False)).find("name")
    assert name.text == FALLBACK == "IVS keypad \u2013 %h"
    assert name.attrib == {"replace-wildcards": "yes"}


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        ("Room\n2\t(east)", "IVS keypad \u2013 Room 2 (east)"),
        ("  \x00 ", FALLBACK),
        ("\u00fc" * 40, "IVS keypad \u2013 " + "\u00fc" * 24),
        ("\U0001f600" * 20, "IVS keypad \u2013 " + "\U0001f600" * 12),
    ],
)
def test_names_are_one_line_within_63_bytes_cut_on_a_character(room, expected):
    name = Advertisement(room, 80, False).instance_name()
    assert name == expected
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES


@pytest.mark.skipif(
    not DTD.exists() or shutil.which("xmllint") is None,
    reason="avahi-daemon's DTD and xmllint (scripts/setup installs them)",
)
@pytest.mark.parametrize("room", [TRICKY, ""])
def test_the_file_is_valid_against_avahis_dtd(tmp_path, room):
    path = tmp_path / "ivs-accessory.service"
    path.write_text(render_service(Advertisement(room, 80, False)), encoding="utf-8")
    done = subprocess.run(
        ["xmllint", "--noout", "--dtdvalid", str(DTD), str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr


def avahi_lines(folder: Path, deadline_s: float = 20.0) -> list[str]:
    """Run avahi-daemon in private mount and network namespaces on ``folder``'s
    service files, until it has published them all (or failed); its log lines."""
    conf = folder / "avahi.conf"
    conf.write_text("[server]\nenable-dbus=no\nuse-ipv6=no\n[publish]\n"
                    "publish-hinfo=no\npublish-workstation=no\n")  # fmt: skip
    script = (
        f"mount -t tmpfs none /etc/avahi/services && cp {folder}/*.service "
        "/etc/avahi/services/ && ip link set lo up && mkdir -p /run/avahi-daemon && "
        f"exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f {conf}"
    )
    wanted = len(list(folder.glob("*.service")))
    process = subprocess.Popen(
        ["unshare", "--mount", "--net", "sh", "-c", script],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Raw reads: a buffered readline could hold lines select() no longer sees.
    output = b""
    end = time.monotonic() + deadline_s
    try:
        while time.monotonic() < end:
            ready, _, _ = select.select(
                [process.stdout], [], [], end - time.monotonic()
            )
            chunk = os.read(process.stdout.fileno(), 65536) if ready else b""
            if not chunk:
                break
            output += chunk
            if (
                output.count(b"successfully established") == wanted
                or b"ailed" in output
            ):
                break
    finally:
        process.terminate()
        process.wait(10)
    lines = output.decode("utf-8", "replace").splitlines()
    return lines


@pytest.mark.skipif(
    os.geteuid() != 0
    or shutil.which("avahi-daemon") is None
    or shutil.which("unshare") is None
    or not Path("/etc/avahi/services").is_dir(),
    reason="needs root, unshare and avahi-daemon (scripts/setup installs it)",
)
def test_avahi_daemon_publishes_the_file_under_the_rooms_name(tmp_path):
    (tmp_path / "room.service").write_text(
        render_service(Advertisement(TRICKY, 8080, False)), encoding="utf-8"
    )
    (tmp_path / "host.service").write_text(
        render_service(Advertisement("", 80, True)), encoding="utf-8"
    )
    lines = avahi_lines(tmp_path)
    text = "\n".join(lines)
    if "Failed to create server" in text or "Operation not permitted" in text:
        pytest.skip(f"avahi-daemon cannot run here: {lines[-1:]}")
    assert f'Service "IVS keypad \u2013 {TRICKY}"' in text, text
    host = f"IVS keypad \u2013 {os.uname().nodename.split('.')[0]}"
    assert f'Service "{host}"' in text, text


# -- the root helper's op --------------------------------------------------------------


def helper_config(tmp_path: Path):
    conf = tmp_path / "helper.conf"
    conf.write_text(
        f"[system]\nadvertise_file = {tmp_path / 'advertise.json'}\n\n"
        f"[helper]\navahi_service_file = {tmp_path / 'services' / 'ivs.service'}\n"
        "owner =\n\n[web]\nport = 8081\n"
    )
    return load(str(conf))


def test_the_helper_writes_what_the_daemon_staged(tmp_path):
    config = helper_config(tmp_path)
    (tmp_path / "advertise.json").write_text(
        json.dumps({"room": TRICKY, "port": 8443, "tls": True})
    )
    run_operation("advertise", config)
    written = tmp_path / "services" / "ivs.service"
    assert written.stat().st_mode & 0o777 == 0o644  # avahi reads it as its own user
    root = ET.fromstring(written.read_bytes())
    assert root.findtext("name") == "IVS keypad \u2013 " + TRICKY
    assert root.findtext("service/type") == "_https._tcp"
    assert root.findtext("service/port") == "8443"


def test_without_a_staged_file_the_helper_uses_the_host_name_and_its_port(tmp_path):
    run_operation("advertise", helper_config(tmp_path))
    root = ET.fromstring((tmp_path / "services" / "ivs.service").read_bytes())
    assert root.findtext("name") == FALLBACK
    assert root.findtext("service/port") == "8081"


@pytest.mark.parametrize(
    "staged",
    [
        '{"room": "x", "port": "80", "tls": false}',
        '{"room": "x", "port": 70000, "tls": false}',
        '{"room": "x", "port": 80, "tls": 1}',
        "<service-group/>",
        '{"room": "x"}',
    ],
)
def test_the_helper_refuses_a_staged_file_of_another_shape(tmp_path, staged):
    path = tmp_path / "advertise.json"
    path.write_text(staged)
    with pytest.raises(SystemActionError):
        read_staged(str(path), Advertisement("", 80, False))


def test_the_helper_does_not_follow_a_planted_link(tmp_path):
    secret = tmp_path / "root-only"
    secret.write_text('{"room": "x", "port": 80, "tls": false}')
    (tmp_path / "advertise.json").symlink_to(secret)
    with pytest.raises(SystemActionError):
        run_operation("advertise", helper_config(tmp_path))


# -- the daemon's side -----------------------------------------------------------------


def trace_command(tmp_path: Path, fail: Path | None = None) -> list[str]:
    script = tmp_path / "advertise-helper"
    lines = [
        "#!/bin/sh",
        f'cat "{tmp_path / "advertise.json"}" >> "{tmp_path / "trace"}"',
    ]
    if fail is not None:
        lines.append(f'[ -e "{fail}" ] && exit 4')
    script.write_text("\n".join(lines) + "\nexit 0\n")
    script.chmod(0o755)
    return [str(script)]


def test_the_daemon_asks_the_helper_only_when_the_name_or_port_changes(tmp_path):
    now = {"ad": Advertisement("Room 1", 80, False)}
    settings = {
        "advertise_file": str(tmp_path / "advertise.json"),
        "advertise_command": trace_command(tmp_path),
        "command_timeout_s": 10,
    }
    advertiser = Advertiser(lambda: now["ad"], lambda: settings)
    assert advertiser.update() is True
    assert advertiser.update() is False  # nothing changed: no helper
    now["ad"] = Advertisement("Room <2>", 80, False)
    assert advertiser.update() is True
    trace = (tmp_path / "trace").read_text().splitlines()
    assert [json.loads(line)["room"] for line in trace] == ["Room 1", "Room <2>"]


def test_a_failing_helper_is_asked_again_next_time(tmp_path):
    flag = tmp_path / "broken"
    flag.touch()
    settings = {
        "advertise_file": str(tmp_path / "advertise.json"),
        "advertise_command": trace_command(tmp_path, fail=flag),
        "command_timeout_s": 10,
    }
    advertiser = Advertiser(lambda: Advertisement("R", 80, False), lambda: settings)
    assert advertiser.update() is True
    flag.unlink()
    assert advertiser.update() is True  # tried again, and now it worked
    assert advertiser.update() is False


def test_no_page_or_no_command_means_no_advertisement(tmp_path):
    settings = {
        "advertise_file": str(tmp_path / "advertise.json"),
        "advertise_command": [],
        "command_timeout_s": 10,
    }
    assert Advertiser(lambda: None, lambda: settings).update() is False
    ad = Advertisement("R", 80, False)
    assert Advertiser(lambda: ad, lambda: settings).update() is False
    assert not (tmp_path / "advertise.json").exists()
