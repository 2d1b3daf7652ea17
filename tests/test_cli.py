"""The CLI as a user or systemd runs it: real processes, signals, notify socket."""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import notified
from public_install import AS_NOBODY

COMMAND = [sys.executable, "-m", "ivs_accessory"]


def config_text(tmp_path, server, room=1):
    return (
        f"[valt]\nserver = {server}\nusername = admin\npassword = admin\n"
        f"room = {room}\n"
        f"timeout_s = 2\n\n[logging]\naudit_file = {tmp_path / 'audit.log'}\n\n"
        "[web]\nenabled = false\n\n"  # the page has its own tests (tests/web)
        "[source:door]\nkind = console\n"
    )


@contextlib.contextmanager
def daemon_process(args: list[str], **options) -> Iterator[subprocess.Popen]:
    """The daemon in a subprocess: killed if the test leaves it running; whatever it
    wrote to stderr is then ``daemon.errors``, which must hold no traceback."""
    options.setdefault("stderr", subprocess.PIPE)
    options.setdefault("text", True)
    daemon = subprocess.Popen(args, **options)
    try:
        yield daemon
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()
        daemon.errors = daemon.stderr.read() if daemon.stderr else ""
    assert "Traceback" not in daemon.errors


def test_config_check_reports_every_error_and_exits_78(tmp_path):
    bad = tmp_path / "bad.conf"
    bad.write_text("[valt]\ntiemout_s = 5\nroom = kitchen\n\n[mapp]\nmode = pin\n")
    result = subprocess.run(
        COMMAND + ["config", "check", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 78
    assert "did you mean 'timeout_s'" in result.stderr
    assert "room" in result.stderr and "[mapp]" in result.stderr
    assert len(result.stderr.strip().splitlines()) >= 3


def test_config_check_accepts_the_factory_template(tmp_path):
    result = subprocess.run(
        COMMAND + ["config", "check", "config/accessory.conf"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthz(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as r:
        return json.loads(r.read())


BAD_SERVER = "htps://valt.example.org"


def safe_mode_config(tmp_path, port: int, server: str = BAD_SERVER) -> str:
    """A file with two errors whose [web] is valid: the page serves on ``port``."""
    return (
        f"[valt]\nserver = {server}\ntimeout_s = never\n\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\n\n"
        f"[web]\naddress = 127.0.0.1\nport = {port}\n"
        f"password_file = {tmp_path / 'web-password'}\n\n"
        "[source:door]\nkind = console\n"
    )


def test_run_with_a_bad_config_stays_up_in_safe_mode(tmp_path, notify_socket):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    port = free_port()
    config = tmp_path / "accessory.conf"
    config.write_text(safe_mode_config(tmp_path, port))
    check = subprocess.run(
        COMMAND + ["config", "check", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 78
    errors = [line.split(": ", 1)[1] for line in check.stderr.splitlines()]
    assert len(errors) == 2 and "did you mean https://?" in errors[0]
    with daemon_process(
        COMMAND + ["run", "--config", str(config)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"NOTIFY_SOCKET": notify_path},
    ) as daemon:
        messages = notified(sock, b"READY=1")
        # The same words as `config check`: one validator.
        assert f"STATUS=safe mode: {errors[0]} (+1 more)".encode() in messages
        health = healthz(port)
        assert health["status"] == "degraded"
        assert health["reasons"][0] == f"safe mode: {errors[0]} (+1 more)"
        daemon.stdin.write("123456\n")  # refused without asking VALT
        daemon.stdin.flush()
        config.write_text(config_text(tmp_path, "", room=1))
        daemon.send_signal(signal.SIGHUP)
        assert b"STATUS=configuration valid again; safe mode ended" in notified(
            sock, b"READY=1"
        )
        assert not any(r.startswith("safe mode") for r in healthz(port)["reasons"])
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    log = daemon.errors
    assert "Traceback" not in log
    for error in errors:  # each error logged once
        assert log.count(error) == 1, log
    audit = (tmp_path / "audit.log").read_text()
    assert '"result":"not_configured"' in audit and "Configuration invalid" in audit


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe[valt]\n",
        b"[valt]\nroom = 1\x00\n",
        b"room = 1\n",
        b"[valt]\n" + b"x" * 2_000_000 + b"\n",
        b"[valt]\nroom = 1\n[valt]\nroom = 1\nroom = 2\n",
        None,  # missing
        "directory",
    ],
    ids=["not-utf8", "nul", "no-header", "huge", "duplicates", "missing", "directory"],
)
def test_run_never_exits_with_a_traceback(tmp_path, notify_socket, content):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    config = tmp_path / "accessory.conf"
    if content == "directory":
        config.mkdir()
    elif content is not None:
        config.write_bytes(content)
    # Where the file says nothing usable, the drop-ins over the defaults serve.
    dropin = tmp_path / "accessory.conf.d"
    dropin.mkdir()
    port = free_port()
    (dropin / "web.conf").write_text(
        f"[web]\naddress = 127.0.0.1\nport = {port}\n"
        f"password_file = {tmp_path / 'web-password'}\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\n"
    )
    with daemon_process(
        COMMAND + ["run", "--config", str(config)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"NOTIFY_SOCKET": notify_path},
    ) as daemon:
        messages = notified(sock, b"READY=1")
        assert any(m.startswith(b"STATUS=safe mode: ") for m in messages)
        assert healthz(port)["reasons"][0].startswith("safe mode: ")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root to run the daemon as a user who cannot read the file",
)
def test_run_with_an_unreadable_file_serves_the_page_in_safe_mode(
    public_tmp_path, nobody_python
):
    # pytest's own folders are root's alone: the daemon's user could not even reach
    # the drop-in. This one it may pass through (0711), without listing it.
    public_tmp_path.chmod(0o711)
    unreadable_file_in_safe_mode(public_tmp_path, nobody_python)


def unreadable_file_in_safe_mode(tmp_path: pathlib.Path, python: Path) -> None:
    port = free_port()
    config = tmp_path / "accessory.conf"
    config.write_text("[valt]\nroom = 1\n")
    config.chmod(0o600)  # root's: the daemon's user cannot read it
    dropin = tmp_path / "accessory.conf.d"
    dropin.mkdir(mode=0o755)
    (dropin / "web.conf").write_text(
        f"[web]\naddress = 127.0.0.1\nport = {port}\n"
        f"password_file = {tmp_path / 'web-password'}\n"
    )
    (dropin / "web.conf").chmod(0o644)
    # The daemon's user cannot use this checkout's venv (it may lie under /root or in
    # a 0700 folder): it runs a copy that every user can read.
    command = [str(python), "-m", "ivs_accessory"]
    with daemon_process(
        [*AS_NOBODY, *command, "run", "--config", str(config)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd="/",
    ) as daemon:
        lines = []
        while not lines or "safe mode:" not in lines[-1]:
            lines.append(daemon.stderr.readline())
            assert lines[-1], "the daemon ended: " + "".join(lines)
        reasons = healthz(port)["reasons"]
        assert reasons[0] == f"safe mode: cannot read {config}: Permission denied"
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    assert "Traceback" not in "".join(lines) + daemon.errors


# systemd's way of passing the page's socket (see tests/web/test_serving.py): this
# trampoline puts it on descriptor 3, sets LISTEN_PID to its own pid and execs.
_TRAMPOLINE = (
    "import os, sys; fd = int(sys.argv[1]); os.dup2(fd, 3); "
    "os.set_inheritable(3, True); os.environ['LISTEN_PID'] = str(os.getpid()); "
    "os.execv(sys.executable, "
    "[sys.executable, '-m', 'ivs_accessory'] + sys.argv[2:])"
)


def test_safe_mode_serves_the_socket_systemd_passes_and_feeds_the_watchdog(
    tmp_path, notify_socket
):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    config = tmp_path / "accessory.conf"
    # No valid [web]: the packaged defaults (port 80) apply, the passed socket wins.
    config.write_text(
        f"[valt]\nserver = {BAD_SERVER}\n[web]\nport = eighty\n"
        f"[logging]\naudit_file = {tmp_path / 'audit.log'}\n"
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    with daemon_process(
        [sys.executable, "-c", _TRAMPOLINE, str(listener.fileno())]
        + ["run", "--config", str(config)],
        pass_fds=[listener.fileno()],
        env=os.environ
        | {
            "LISTEN_FDS": "1",
            "LISTEN_FDNAMES": "web",
            "NOTIFY_SOCKET": notify_path,
            "WATCHDOG_USEC": "200000",  # a ping every 0.1 s
        },
        stdin=subprocess.DEVNULL,
    ) as daemon:
        listener.close()  # only the daemon holds it now
        messages = notified(sock, b"READY=1")
        assert any(m.startswith(b"STATUS=safe mode: [valt] server") for m in messages)
        notified(sock, b"WATCHDOG=1")  # after READY too
        assert healthz(port)["reasons"][0].startswith("safe mode: [valt] server")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0


def test_sighup_with_a_bad_file_keeps_the_daemon_and_its_config(
    tmp_path, make_sim, notify_socket
):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    sim = make_sim(version="6.6.0")
    config = tmp_path / "accessory.conf"
    good = config_text(tmp_path, sim.url, room=1)
    config.write_text(good)
    with daemon_process(
        COMMAND + ["run", "--config", str(config)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"NOTIFY_SOCKET": notify_path},
    ) as daemon:
        notified(sock, b"READY=1")
        kept = tmp_path / "accessory.conf.last-good"
        assert kept.read_text() == good and kept.stat().st_mode & 0o777 == 0o600
        config.write_text(config_text(tmp_path, "http://[::1", room=2))
        daemon.send_signal(signal.SIGHUP)
        status = notified(
            sock,
            b"STATUS=configuration not reloaded, the previous "
            b"one runs on: [valt] server = 'http://[::1': the IPv6 address has no "
            b"closing ], e.g. https://[fd00::1]",
        )
        assert b"READY=1" not in status
        daemon.stdin.write("123456\n")
        daemon.stdin.flush()
        notified(
            sock, b"STATUS=room 1 recording; last: Recording started for Alice Smith"
        )
        assert kept.read_text() == good  # a bad file is never kept as good
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0


def test_daemon_notifies_reloads_on_sighup_and_stops_on_sigterm(
    tmp_path, make_sim, notify_socket
):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    sim = make_sim(version="6.6.0")
    config = tmp_path / "accessory.conf"
    config.write_text(config_text(tmp_path, sim.url, room=1))
    with daemon_process(
        COMMAND + ["run", "--config", str(config)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"NOTIFY_SOCKET": notify_path},
    ) as daemon:
        notified(sock, b"READY=1")
        daemon.stdin.write("123456\n")
        daemon.stdin.flush()
        messages = notified(
            sock, b"STATUS=room 1 recording; last: Recording started for Alice Smith"
        )
        assert messages
        config.write_text(config_text(tmp_path, sim.url, room=2))
        daemon.send_signal(signal.SIGHUP)
        assert b"RELOADING=1" in notified(sock, b"READY=1")
        daemon.stdin.write("654321\n")
        daemon.stdin.flush()
        notified(
            sock, b"STATUS=room 2 recording; last: Recording started for Bob Jones"
        )
        began = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
        assert time.monotonic() - began < 2.5
        assert b"STOPPING=1" in notified(sock, b"STOPPING=1")
    errors = daemon.errors
    audit = [
        json.loads(line) for line in (tmp_path / "audit.log").read_text().splitlines()
    ]
    assert [(a["room"], a["result"]) for a in audit] == [(1, "started"), (2, "started")]
    for secret in ("123456", "654321"):  # PINs never reach logs or the audit file
        assert (
            secret not in errors and secret not in (tmp_path / "audit.log").read_text()
        )


def test_demo_runs_simulator_daemon_and_console_until_eof():
    result = subprocess.run(
        COMMAND + ["demo"],
        input="123456\ncard 654321\nnonsense\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "0004921746  Carol Nguyen" in result.stdout
    lines = [
        line for line in result.stdout.splitlines() if line.startswith(("OK", "--"))
    ]
    assert lines[0].startswith("OK Recording started for Alice Smith")
    # Bob's card came at once, while the room was still available: he too wanted it
    # recording, and by the time it was handled it was.
    assert lines[1].startswith("OK Already recording (started by Alice Smith)")
    assert "cannot read 'nonsense'" in result.stderr


@pytest.mark.parametrize(
    ("level", "flags", "shown"),
    [
        ("warning", [], False),
        ("warning", ["-v"], True),
        ("info", [], True),
        ("info", ["-q"], False),
    ],
)
def test_logging_level_from_config_unless_flags_choose(
    tmp_path, make_sim, notify_socket, level, flags, shown
):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    config = tmp_path / "accessory.conf"
    text = config_text(tmp_path, make_sim(version="6.6.0").url)
    config.write_text(text.replace("[logging]\n", f"[logging]\nlevel = {level}\n"))
    with daemon_process(
        COMMAND + flags + ["run", "--config", str(config)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"NOTIFY_SOCKET": notify_path},
    ) as daemon:
        notified(sock, b"READY=1")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=10) == 0
    assert ("INFO ivs_accessory.service: accessory started" in daemon.errors) is shown


def factory_config(tmp_path, extra=""):
    """A config whose factory_default_command leaves a trace instead of starting the
    helper."""
    script = tmp_path / "start-helper"
    script.write_text(f'#!/bin/sh\necho "$@" >> {tmp_path / "trace"}\n')
    script.chmod(0o755)
    config = tmp_path / "accessory.conf"
    config.write_text(
        f"[system]\nfactory_default_command = {script} factory-default\n{extra}"
    )
    return config


@pytest.mark.parametrize(
    "answer, code", [("no\n", 1), ("", 1), ("y\n", 1), ("yes\n", 0)]
)
def test_factory_default_asks_for_confirmation(tmp_path, answer, code):
    config = factory_config(tmp_path)
    result = subprocess.run(
        COMMAND + ["factory-default", "--config", str(config)],
        input=answer,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == code, result.stderr
    assert "keeps the audit log and reboots" in result.stderr
    trace = tmp_path / "trace"
    assert (trace.read_text() if trace.exists() else "") == (
        "factory-default\n" if code == 0 else ""
    )
    if code:
        assert "cancelled; nothing was changed" in result.stderr


def test_factory_default_yes_skips_the_question_even_with_a_broken_config(tmp_path):
    config = factory_config(tmp_path, extra="[valt]\ntimeout_s = soon\n")
    # The broken file cannot name the command, so the packaged default runs:
    # `systemctl start ...`, here a stand-in found first on PATH (never the real one).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "systemctl").write_text(
        f'#!/bin/sh\necho "$*" > {tmp_path / "systemctl"}\n'
    )
    (bin_dir / "systemctl").chmod(0o755)
    env = os.environ | {"PATH": f"{bin_dir}:{os.environ['PATH']}"}
    result = subprocess.run(
        COMMAND + ["factory-default", "--yes", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "not usable" in result.stderr and "Type 'yes'" not in result.stderr
    assert (
        tmp_path / "systemctl"
    ).read_text() == "start --no-block ivs-accessory-helper@factory-default.service\n"
    assert not (tmp_path / "trace").exists()


def test_factory_default_reports_a_helper_that_cannot_start(tmp_path):
    config = tmp_path / "accessory.conf"
    config.write_text(
        f"[system]\nfactory_default_command = {tmp_path}/no-such-command\n"
    )
    result = subprocess.run(
        COMMAND + ["factory-default", "--yes", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "could not be started" in result.stderr and "not found" in result.stderr


def _stop_timeout_s() -> float:
    """The unit's TimeoutStopSec: after it, systemd kills the daemon."""
    unit = Path(__file__).parent.parent / "systemd" / "ivs-accessory.service"
    found = re.search(r"^TimeoutStopSec=(\d+)", unit.read_text(), re.M)
    assert found, "the unit has no TimeoutStopSec"
    return float(found.group(1))


@pytest.mark.parametrize("reload_first", [False, True])
def test_sigterm_during_a_slow_call_stops_within_the_units_stop_timeout(
    tmp_path, make_sim, notify_socket, reload_first
):
    sock, notify_path = notify_socket, notify_socket.getsockname()
    sim = make_sim(version="6.6.0")
    config = tmp_path / "accessory.conf"
    config.write_text(
        config_text(tmp_path, sim.url).replace("timeout_s = 2", "timeout_s = 30")
    )
    # VALT starts the recording, then holds its answer far past the stop timeout.
    sim.inject(path="rooms/1/record/start", after=True, delay_ms=60_000)
    with daemon_process(
        COMMAND + ["run", "--config", str(config)],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ | {"NOTIFY_SOCKET": notify_path},
    ) as daemon:
        notified(sock, b"READY=1")
        daemon.stdin.write("123456\n")
        daemon.stdin.flush()
        arrived = threading.Event()
        while not sim.requests("rooms/1/record/start"):
            arrived.wait(0.02)  # until the start is in hand at VALT
        if reload_first:
            # A reload waits for the input in hand; the stop must not wait behind it.
            config.write_text(config_text(tmp_path, sim.url, room=2))
            daemon.send_signal(signal.SIGHUP)
            notified(sock, b"RELOADING=1")
        began = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=30)
        stopped_in = time.monotonic() - began
    assert code == 0, daemon.errors[-2000:]
    assert stopped_in < _stop_timeout_s()
    assert "Traceback" not in daemon.errors
