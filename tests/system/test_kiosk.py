"""The door screen's unit (cage + Chromium on /door): verified, and its command run."""

from __future__ import annotations

import http.server
import os
import re
import select
import shlex
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from public_install import AS_NOBODY

from ivs_accessory.config import load

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "ivs-accessory-kiosk.service"
SYSUSERS = REPO / "systemd" / "ivs-accessory-kiosk.sysusers"
INSTALL = REPO / "scripts" / "install"
KIOSK_PROGRAMS = ("/usr/bin/cage", "/usr/bin/chromium", "/usr/bin/Xwayland")
needs_kiosk = pytest.mark.skipif(
    not all(os.access(p, os.X_OK) for p in KIOSK_PROGRAMS),
    reason="cage, chromium and Xwayland are not installed (scripts/setup-browser)",
)


def settings(text: str) -> dict[str, list[str]]:
    """The unit's settings, continuation lines joined: key -> every value given."""
    found: dict[str, list[str]] = {}
    logical = text.replace("\\\n", " ")
    for line in logical.splitlines():
        line = line.strip()
        if not line or line[0] in "#;[" or "=" not in line:
            continue
        key, value = line.split("=", 1)
        found.setdefault(key, []).append(value)
    return found


UNIT_SETTINGS = settings(UNIT.read_text())


def environment() -> dict[str, str]:
    return dict(v.split("=", 1) for v in UNIT_SETTINGS["Environment"])


def test_the_screen_runs_unprivileged_on_its_own_vt_and_never_gives_up():
    one = {key: values[-1] for key, values in UNIT_SETTINGS.items()}
    assert one["User"] == one["Group"] == "ivs-kiosk"
    assert one["TTYPath"] == "/dev/tty7" and one["PAMName"] == "login"
    assert "getty@tty7.service" in one["Conflicts"]
    # cage ends when Chromium does; the unit starts both again, however often.
    assert one["Restart"] == "always" and one["StartLimitIntervalSec"] == "0"
    assert environment()["IVS_DOOR_URL"] == "http://127.0.0.1/door"
    argv = shlex.split(one["ExecStart"])
    assert argv[:2] == ["/usr/bin/cage", "-d"] and "-s" not in argv[: argv.index("--")]
    assert "--kiosk" in argv and argv[-1] == "${IVS_DOOR_URL}"


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="no systemd-analyze"
)
@needs_kiosk
def test_systemd_analyze_verify_is_clean(tmp_path):
    shutil.copy(UNIT, tmp_path / UNIT.name)
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", UNIT.name],
                            cwd=tmp_path, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr


@pytest.mark.skipif(shutil.which("systemd-sysusers") is None, reason="no sysusers")
def test_sysusers_makes_a_login_less_user_with_the_display_groups(tmp_path):
    (tmp_path / "etc").mkdir()
    done = subprocess.run(["systemd-sysusers", f"--root={tmp_path}", str(SYSUSERS)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    users = [
        line.split(":") for line in (tmp_path / "etc/passwd").read_text().splitlines()
    ]
    kiosk = next(u for u in users if u[0] == "ivs-kiosk")
    assert kiosk[5] == "/var/lib/ivs-kiosk" and kiosk[6] == "/usr/sbin/nologin"
    groups = (tmp_path / "etc/group").read_text().splitlines()
    members = {g.split(":")[0]: g.split(":")[3].split(",") for g in groups}
    for group in ("video", "render", "input"):
        assert "ivs-kiosk" in members[group], group
    assert "ivs-accessory" not in members.get("ivs-kiosk", [])


def shell_function(name: str) -> str:
    """The body of one function of scripts/install."""
    text = INSTALL.read_text()
    start = text.index(f"\n{name}() {{\n")
    return text[start : text.index("\n}\n", start)]


def test_install_sets_up_the_screen_only_when_asked_and_uninstall_removes_it():
    text = INSTALL.read_text()
    assert "--kiosk) kiosk=yes" in text
    assert '[ "$kiosk" = no ] || install_kiosk' in text
    setup = shell_function("install_kiosk")
    assert '"$SRC/systemd/$KIOSK_UNIT" "$UNITS/"' in setup
    assert 'systemd-sysusers "$KIOSK_SYSUSERS"' in setup
    assert "screen = true" in setup and '"$KIOSK_DROP_IN"' in setup
    for package in ("cage", "xwayland"):
        assert f"need+=({package})" in setup
    removal = shell_function("uninstall")
    for part in ('"$UNITS/$KIOSK_UNIT"', '"$KIOSK_SYSUSERS"', '"$KIOSK_DROP_IN"'):
        assert part in removal, part
    assert 'disable -q --now "$KIOSK_UNIT"' in removal


class _DoorServer(http.server.ThreadingHTTPServer):
    """A loopback server standing in for the page: records the paths asked for."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.door = threading.Event()
        super().__init__(("127.0.0.1", 0), _DoorHandler)


class _DoorHandler(http.server.BaseHTTPRequestHandler):
    server: _DoorServer

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        self.server.asked.append(self.path)
        body = b"<!doctype html><title>door</title><h1>Available</h1>"
        self.send_response(200 if self.path == "/door" else 404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        if self.path == "/door":
            self.server.door.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def door_server() -> Iterator[_DoorServer]:
    server = _DoorServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


def kiosk_argv(url: str, profile: Path) -> list[str]:
    """The unit's ExecStart as systemd would run it, with a throw-away profile."""
    argv = shlex.split(UNIT_SETTINGS["ExecStart"][-1])
    argv = [url if a == "${IVS_DOOR_URL}" else a for a in argv]
    return [f"--user-data-dir={profile}" if a.startswith("--user-data-dir=") else a
            for a in argv]  # fmt: skip


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def group_members(group: int) -> list[int]:
    """The processes of process group ``group`` (cage, Chromium and its helpers)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[2]) == group:
            found.append(int(stat.parent.name))
    return found


def end_group(group: int, timeout_s: float = 30) -> None:
    """Kill every process of ``group`` and wait until each has ended, so that none
    still writes into the test's folder when it is removed."""
    for pid in group_members(group):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            ready, _, _ = select.select([fd], [], [], timeout_s)
            assert ready, f"process {pid} of the kiosk outlived SIGKILL"
        except ProcessLookupError:
            pass
        finally:
            os.close(fd)


@needs_kiosk
@pytest.mark.skipif(
    os.geteuid() == 0 and shutil.which("setpriv") is None,
    reason="Chromium will not run as root; no setpriv to drop to nobody",
)
def test_the_units_command_shows_the_door_page_and_ends_with_the_browser(
    door_server, public_tmp_path
):
    # The unit's own command line, on wlroots' headless back-end (no display here):
    # cage starts Chromium in kiosk mode, which loads /door.
    runtime = public_tmp_path / "run"
    runtime.mkdir(mode=0o700)
    as_user: list[str] = []
    if os.geteuid() == 0:  # as the service does: not root (Chromium refuses root)
        os.chown(runtime, 65534, 65534)
        os.chmod(public_tmp_path, 0o777)
        as_user = AS_NOBODY
    url = f"http://127.0.0.1:{door_server.server_port}/door"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(public_tmp_path),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_RENDERER": "pixman",
        "WLR_LIBINPUT_NO_DEVICES": "1",
    }
    cage = subprocess.Popen(
        [*as_user, *kiosk_argv(url, public_tmp_path / "profile")],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        if not door_server.door.wait(120):
            ended = cage.poll() is not None
            why = cage.stderr.read().decode(errors="replace")[-3000:] if ended else ""
            pytest.fail(f"the kiosk never asked for /door. {why}")
        assert cage.poll() is None, "cage ended while showing the page"
        # The browser dies: cage must end too, so that systemd starts both again.
        browsers = children(cage.pid)
        assert browsers, "cage runs no browser"
        for pid in browsers:
            os.kill(pid, signal.SIGKILL)
        cage.wait(60)
    finally:
        end_group(cage.pid)  # Chromium's helpers may outlive its main process
        cage.wait(10)
        cage.stderr.close()
    assert door_server.asked[0] == "/door"


def test_the_drop_in_install_writes_makes_the_daemon_see_a_screen(tmp_path):
    setup = shell_function("install_kiosk")
    found = re.search(r"printf '([^']*)'", setup)
    assert found, "install_kiosk writes no drop-in with printf"
    main = tmp_path / "accessory.conf"
    shutil.copy(REPO / "config" / "accessory.conf", main)
    (tmp_path / "accessory.conf.d").mkdir()
    text = found.group(1).replace("\\n", "\n")
    (tmp_path / "accessory.conf.d" / "50-kiosk.conf").write_text(text)
    assert load(str(main))["door"]["screen"] is True
    assert load(None)["door"]["screen"] is False  # without the kiosk: no screen
