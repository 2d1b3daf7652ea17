"""The command line as a user or systemd runs it: real processes, real signals, a real notify socket."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

COMMAND = [sys.executable, "-m", "ivs_accessory"]


def config_text(tmp_path, server, room=1):
    return (f"[valt]\nserver = {server}\nusername = admin\npassword = admin\nroom = {room}\n"
            f"timeout_s = 2\n\n[logging]\naudit_file = {tmp_path / 'audit.log'}\n\n"
            "[web]\nenabled = false\n\n"  # the page has its own tests (tests/web)
            "[source:door]\nkind = console\n")


@pytest.fixture
def notify_socket(tmp_path):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(20)
    yield sock, path
    sock.close()


def wait_for(sock, wanted: bytes) -> list[bytes]:
    """Read notify messages until ``wanted`` arrives; returns them all."""
    seen = []
    while not seen or seen[-1] != wanted:
        seen.append(sock.recv(4096))
    return seen


def test_config_check_reports_every_error_and_exits_78(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[valt]\ntiemout_s = 5\nroom = kitchen\n\n[mapp]\nmode = pin\n")
    result = subprocess.run(COMMAND + ["config", "check", str(bad)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 78
    assert "did you mean 'timeout_s'" in result.stderr
    assert "room" in result.stderr and "[mapp]" in result.stderr
    assert len(result.stderr.strip().splitlines()) >= 3


def test_config_check_accepts_the_factory_template(tmp_path):
    result = subprocess.run(COMMAND + ["config", "check", "config/accessory.conf"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_run_with_a_bad_config_exits_78_listing_errors(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[valt]\ntimeout_s = never\n[source:x]\nkind = keyboard\n")
    result = subprocess.run(COMMAND + ["run", "--config", str(bad)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 78
    assert "timeout_s" in result.stderr and "keyboard" in result.stderr


def test_daemon_notifies_reloads_on_sighup_and_stops_on_sigterm(tmp_path, make_sim,
                                                                notify_socket):
    sock, notify_path = notify_socket
    sim = make_sim(version="6.6.0")
    config = tmp_path / "accessory.conf"
    config.write_text(config_text(tmp_path, sim.url, room=1))
    daemon = subprocess.Popen(COMMAND + ["run", "--config", str(config)],
                              stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=os.environ | {"NOTIFY_SOCKET": notify_path})
    try:
        wait_for(sock, b"READY=1")
        daemon.stdin.write("123456\n")
        daemon.stdin.flush()
        messages = wait_for(sock, b"STATUS=room 1 recording; last: Recording started for "
                                  b"Alice Smith")
        assert messages
        config.write_text(config_text(tmp_path, sim.url, room=2))
        daemon.send_signal(signal.SIGHUP)
        assert b"RELOADING=1" in wait_for(sock, b"READY=1")
        daemon.stdin.write("654321\n")
        daemon.stdin.flush()
        wait_for(sock, b"STATUS=room 2 recording; last: Recording started for Bob Jones")
        began = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
        assert time.monotonic() - began < 2.5
        assert b"STOPPING=1" in wait_for(sock, b"STOPPING=1")
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    errors = daemon.stderr.read()
    audit = [json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()]
    assert [(a["room"], a["result"]) for a in audit] == [(1, "started"), (2, "started")]
    for secret in ("123456", "654321"):  # PINs never reach logs or the audit file
        assert secret not in errors and secret not in (tmp_path / "audit.log").read_text()


def test_demo_runs_simulator_daemon_and_console_until_eof():
    result = subprocess.run(COMMAND + ["demo"], input="123456\ncard 654321\nnonsense\n",
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "0004921746  Carol Nguyen" in result.stdout
    lines = [line for line in result.stdout.splitlines() if line.startswith(("OK", "--"))]
    assert lines[0].startswith("OK Recording started for Alice Smith")
    assert lines[1].startswith("OK Recording stopped by Bob Jones")
    assert "cannot read 'nonsense'" in result.stderr


@pytest.mark.parametrize(("level", "flags", "shown"), [
    ("warning", [], False), ("warning", ["-v"], True), ("info", [], True),
    ("info", ["-q"], False)])
def test_logging_level_from_config_unless_flags_choose(tmp_path, make_sim, notify_socket,
                                                       level, flags, shown):
    sock, notify_path = notify_socket
    config = tmp_path / "accessory.conf"
    text = config_text(tmp_path, make_sim(version="6.6.0").url)
    config.write_text(text.replace("[logging]\n", f"[logging]\nlevel = {level}\n"))
    daemon = subprocess.Popen(COMMAND + flags + ["run", "--config", str(config)],
                              stdin=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=os.environ | {"NOTIFY_SOCKET": notify_path})
    try:
        wait_for(sock, b"READY=1")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
    assert ("INFO ivs_accessory.service: accessory started" in daemon.stderr.read()) is shown
