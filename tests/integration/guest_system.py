"""Runs inside the test VM under systemd: install the accessory, then drive it as a box
would.

``python guest_system.py lifecycle`` or ``... button``; every observation is printed as
one ``IVS-FACT name json`` line for the host test (test_system_vm.py) to judge, and
both scenarios end in a factory default whose reboot ends the VM. Waits poll a
condition with a deadline; nothing sleeps for a fixed time to synchronise.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CONF = Path("/etc/ivs-accessory/accessory.conf")
USER = "ivs-accessory"
DAEMON = "ivs-accessory.service"
_pause = threading.Event()  # never set: wait() on it is a bounded pause between polls


def fact(name: str, value) -> None:
    print(f"IVS-FACT {name} {json.dumps(value)}", flush=True)


def run(*argv: str, user: str | None = None, timeout: float = 120) -> tuple[int, str]:
    """Run a command (as ``user`` through runuser); return (exit code, output)."""
    if user:
        argv = ("runuser", "-u", user, "--", *argv)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)  # fmt: skip
    return done.returncode, (done.stdout + done.stderr).strip()


def show(unit: str, *props: str) -> dict[str, str]:
    code, out = run("systemctl", "show", unit, *(f"--property={p}" for p in props))
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def wait_until(what: str, check: Callable[[], object], timeout_s: float) -> float:
    """Poll ``check`` until it is true; return the seconds it took.

    Raises:
        TimeoutError: naming ``what``, when the deadline passes.
    """
    began = time.monotonic()
    while not check():
        if time.monotonic() - began > timeout_s:
            raise TimeoutError(f"{what}: not within {timeout_s} s")
        _pause.wait(0.1)
    return round(time.monotonic() - began, 1)


def journal(unit: str) -> str:
    return run("journalctl", "-u", unit, "-o", "cat", "--no-pager")[1]


def install(*extra: str, name: str = "install") -> None:
    """Run scripts/install; the result is the fact ``name``.

    The daemon gets the venv the host test installed from a wheel (IVS_VM_VENV),
    not the checkout's: its sandbox hides /root, /home and /tmp, where a checkout may
    lie, and its user could not enter a 0700 folder.
    """
    began = time.monotonic()
    argv = [str(REPO / "scripts" / "install"), *extra]
    if "--uninstall" not in extra:
        argv += ["--use-venv", os.environ["IVS_VM_VENV"], "--keypad", "1209:0001"]
    code, out = run(*argv, timeout=300)
    fact(name, {"code": code, "tail": out.splitlines()[-3:],
                "seconds": round(time.monotonic() - began, 1)})  # fmt: skip
    if code:
        raise RuntimeError(f"{name} failed:\n{out}")


def mark_config() -> None:
    """Add a comment that only this site's config has (install must keep it)."""
    CONF.write_text(CONF.read_text() + "# site marker\n")


def reinstall_keeps_the_site() -> None:
    """Install again over a running box: same result, config untouched."""
    mark_config()
    before = show(DAEMON, "MainPID")["MainPID"]
    install(name="install_again")
    fact("install_again_state", {
        "active": show(DAEMON, "ActiveState")["ActiveState"],
        "restarted": show(DAEMON, "MainPID")["MainPID"] != before,
        "config_kept": CONF.read_text().endswith("# site marker\n"),
        "network_drop_in": show("ivs-accessory-helper@apply-network.service",
                                "PrivateNetwork")["PrivateNetwork"],
        "factory_sandbox": show("ivs-accessory-helper@factory-default.service",
                                "PrivateNetwork")["PrivateNetwork"],
    })  # fmt: skip


def uninstall_then_install() -> None:
    """--uninstall removes the software but keeps the site; installing again works."""
    mark_config()
    install("--uninstall", name="uninstall")
    fact("uninstalled", {
        "unit": run("systemctl", "cat", DAEMON)[0] != 0,
        "files": [p for p in ("/opt/ivs-accessory", "/etc/systemd/system/" + DAEMON,
                              "/etc/polkit-1/rules.d/50-ivs-accessory.rules",
                              "/etc/udev/rules.d/70-ivs-accessory.rules")
                  if os.path.lexists(p)],
        "config_kept": CONF.read_text().endswith("# site marker\n"),
        "audit_dir_kept": Path("/var/lib/ivs-accessory").is_dir(),
        "user_kept": run("id", USER)[0] == 0,
    })  # fmt: skip
    install(name="reinstall")
    fact(
        "reinstalled",
        {
            "active": show(DAEMON, "ActiveState")["ActiveState"],
            "config_kept": CONF.read_text().endswith("# site marker\n"),
        },
    )


def daemon_facts() -> None:
    state = show(
        DAEMON, "ActiveState", "SubState", "MainPID", "StatusText", "NRestarts"
    )
    fact("daemon", state)
    pid = state["MainPID"]
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    entry = pwd.getpwnam(USER)
    groups = {int(g) for g in fields["Groups"].split()}
    fact("process", {
        "uid": int(fields["Uid"].split()[0]) == entry.pw_uid,
        "cap_eff": fields["CapEff"].strip(),
        "no_new_privs": fields["NoNewPrivs"].strip(),
        "groups": sorted(g for g in ("input", "dialout", "systemd-journal")
                         if _gid(g) in groups),
        "listen_fdnames": _environ(pid).get("LISTEN_FDNAMES"),
    })  # fmt: skip
    fact("socket", show("ivs-accessory.socket", "ActiveState", "Listen"))


def serial_devices() -> None:
    """USB serial drivers are loaded before the daemon starts (modules-load.d), so its
    DeviceAllow=char-ttyUSB/ttyACM resolve and a reader plugged in later can be opened.

    Opened from a process in the daemon's cgroup: a node of an allowed major fails
    with ENXIO/ENODEV (no such device behind it), a refused one with EPERM.
    """
    majors = _char_majors()
    nodes = {"ttyUSB": "/dev/ivs-test-ttyUSB", "ttyACM": "/dev/ivs-test-ttyACM",
             "misc": "/dev/ivs-test-misc"}  # fmt: skip
    opened = {}
    for name, node in nodes.items():
        if name not in majors:
            opened[name] = "no major"
            continue
        with_node = not os.path.exists(node)
        if with_node:
            os.mknod(node, 0o600 | 0o020000, os.makedev(majors[name], 250))
        try:
            opened[name] = _open_in_cgroup(node)
        finally:
            if with_node:
                os.unlink(node)
    fact("serial_devices", {
        "modules_load": Path("/etc/modules-load.d/ivs-accessory.conf").is_file(),
        "opened": opened,
    })  # fmt: skip


def _char_majors() -> dict[str, int]:
    text = Path("/proc/devices").read_text().split("Block devices:")[0]
    majors = {}
    for line in text.splitlines()[1:]:
        number, _, name = line.strip().partition(" ")
        if number.isdigit():
            majors.setdefault(name, int(number))
    return majors


_OPEN = """
import errno, os, sys
try:
    os.close(os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK))
    print("opened")
except OSError as exc:
    print(errno.errorcode.get(exc.errno, exc.errno))
"""


def _open_in_cgroup(node: str) -> str:
    """Open ``node`` from a child moved into the daemon's cgroup; the errno name."""
    procs = (
        "/sys/fs/cgroup"
        + show(DAEMON, "ControlGroup")["ControlGroup"]
        + "/cgroup.procs"
    )
    code, out = run("sh", "-c", 'echo $$ > "$1" && exec python3 -c "$2" "$3"', "sh",
                    procs, _OPEN, node)  # fmt: skip
    return out if code == 0 else f"failed: {out}"


def _gid(name: str) -> int:
    import grp

    return grp.getgrnam(name).gr_gid


def _environ(pid: str) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def plant_site_changes() -> None:
    """Make every place the factory default restores or cleans differ from factory."""
    etc, state = Path("/etc/ivs-accessory"), Path("/var/lib/ivs-accessory")
    (etc / "accessory.conf.d").mkdir(exist_ok=True)
    (etc / "accessory.conf.d" / "site.conf").write_text("[valt]\nroom = 9\n")
    (etc / "web-password").write_text("site password\n")
    (etc / "network.yaml").write_text("network:\n  version: 2\n")
    (state / "sessions.json").write_text("{}\n")
    (state / "audit.log").write_text('{"result": "started", "room": 2}\n')
    Path("/etc/netplan/90-ivs-accessory.yaml.previous").write_text("network: {}\n")
    fact("socket_disabled", run("systemctl", "disable", "ivs-accessory.socket")[0])
    fact("before_reset", {"localtime": os.readlink("/etc/localtime")})


def wait_for_reboot() -> None:
    """The factory default reboots the VM; coming back from here means it did not."""
    _pause.wait(240)
    fact("error", "no reboot within 240 s of the factory default")
    sys.exit(1)


# -- scenario 1: installed unit, polkit, set-time, reload, watchdog, CLI factory default


def lifecycle() -> None:
    install()
    daemon_facts()
    serial_devices()
    reinstall_keeps_the_site()
    fact("polkit", {
        "evil_instance": run("systemctl", "start", "--no-block",
                             "ivs-accessory-helper@evil.service", user=USER)[0],
        "stop_socket": run("systemctl", "stop", "ivs-accessory.socket", user=USER)[0],
        "start_other": run("systemctl", "start", "--no-block",
                           "systemd-hostnamed.service", user=USER)[0],
    })  # fmt: skip
    set_time()
    reload_on_sighup()
    hang_and_restart()
    plant_site_changes()
    code, out = run("/opt/ivs-accessory/venv/bin/ivs-accessory", "factory-default",
                    "--yes", user=USER)  # fmt: skip
    fact("factory_cli", {"code": code, "output": out})
    wait_for_reboot()


def set_time() -> None:
    time_conf = Path("/etc/ivs-accessory/time.conf")
    time_conf.write_text(
        "[time]\ntimezone = Europe/Berlin\nntp_servers = ntp1.example.org\n"
    )
    os.chown(time_conf, pwd.getpwnam(USER).pw_uid, -1)
    # What the page's "apply" runs (SystemControl.apply_time), blocking here so the
    # test can look at the result.
    code, out = run("systemctl", "start", "ivs-accessory-helper@set-time.service",
                    user=USER)  # fmt: skip
    dropin = Path("/etc/systemd/timesyncd.conf.d/90-ivs-accessory.conf")
    fact("set_time", {
        "code": code, "output": out, "localtime": os.readlink("/etc/localtime"),
        "ntp": dropin.read_text().splitlines()[-1] if dropin.exists() else None,
        "result": show("ivs-accessory-helper@set-time.service", "Result")["Result"],
    })  # fmt: skip


def reload_on_sighup() -> None:
    CONF.write_text(CONF.read_text().replace("room =\n", "room = 2\n"))
    before = show(DAEMON, "MainPID")["MainPID"]
    code = run("systemctl", "reload", DAEMON)[0]
    took = wait_until(
        "status after reload",
        lambda: show(DAEMON, "StatusText")["StatusText"].startswith("room 2"),
        60)  # fmt: skip
    fact("reload", {"code": code, "seconds": took,
                    "same_pid": show(DAEMON, "MainPID")["MainPID"] == before,
                    "logged": "configuration reloaded" in journal(DAEMON)})  # fmt: skip


def hang_and_restart() -> None:
    before = show(DAEMON, "MainPID", "NRestarts")
    run("systemctl", "kill", "--kill-whom=main", "--signal=SIGUSR1", DAEMON)

    def restarted() -> bool:
        now = show(DAEMON, "MainPID", "NRestarts", "ActiveState")
        return (
            now["NRestarts"] != before["NRestarts"]
            and now["ActiveState"] == "active"
            and now["MainPID"] not in ("0", before["MainPID"])
        )

    took = wait_until("restart by the watchdog", restarted, 120)
    log = journal(DAEMON)
    fact("watchdog", {
        "seconds": took, "restarts": show(DAEMON, "NRestarts")["NRestarts"],
        "hung": "dispatcher hanging now" in log,
        "withheld": "withholding the watchdog ping" in log,
        "timeout": "Watchdog timeout" in log,
    })  # fmt: skip


# -- scenario 2: safe mode on a bad config, the held factory key ----------------------


def button() -> None:
    from evdev import InputDevice
    from evdev import ecodes as e

    from integration.guest_uinput import KEYPAD, DeviceSpec, create

    install()
    fact("daemon_template", show(DAEMON, "ActiveState", "StatusText"))
    uninstall_then_install()
    bad_config()
    keypad = create(KEYPAD)
    button_spec = DeviceSpec("IVS test button", (e.KEY_RESTART,), product=0x0003)
    factory_key = create(button_spec)
    link = Path("/dev/ivs-keypad")
    wait_until("udev link", link.exists, 30)
    node = os.stat(link)
    fact("udev", {"target": os.path.realpath(link) == keypad.device.path,
                  "group": _gid("input") == node.st_gid,
                  "mode": oct(node.st_mode & 0o777)})  # fmt: skip
    CONF.write_text(
        "[valt]\nroom = 1\n[system]\nfactory_key = KEY_RESTART\n"
        "factory_hold_ms = 3000\n"
        "[source:keypad]\nkind = keypad\ndevice = /dev/ivs-keypad\n"
        "[source:button]\nkind = keypad\ndevice = name:IVS test button\nleds = false\n"
    )
    run("systemctl", "reset-failed", DAEMON)
    fact("restart_good", run("systemctl", "start", DAEMON)[0])
    for ui in (keypad, factory_key):
        with closing(InputDevice(ui.device.path)) as device:
            wait_until(f"daemon grabs {ui.name}", lambda d=device: _grabbed(d), 30)
    short_press(factory_key, e.KEY_RESTART)
    run("timedatectl", "set-timezone", "America/Chicago")
    plant_site_changes()
    long_press(factory_key, keypad, e.KEY_RESTART)
    wait_for_reboot()


def bad_config() -> None:
    good = CONF.read_text()
    CONF.write_text(good + "[valt]\ntimeout_s = never\n")
    code = run("systemctl", "restart", DAEMON)[0]  # returns at READY=1
    fact("bad_config", {"code": code,
                        **show(DAEMON, "ActiveState", "SubState", "StatusText",
                               "NRestarts")})  # fmt: skip
    CONF.write_text(good)
    run("systemctl", "stop", DAEMON)  # the scenario starts it again on its own file


def _grabbed(device) -> bool:
    try:
        device.grab()
    except OSError as exc:
        return exc.errno == errno.EBUSY
    device.ungrab()
    return False


def short_press(ui, code: int) -> None:
    ui.write(1, code, 1)
    ui.syn()
    _pause.wait(1.2)  # the stimulus: how long the person holds the key
    ui.write(1, code, 0)
    ui.syn()
    wait_until("short press logged", lambda: "released after 1." in journal(DAEMON), 30)
    helper = show("ivs-accessory-helper@factory-default.service", "InvocationID",
                  "ActiveState")  # fmt: skip
    fact("short_press", {"helper_started": bool(helper.get("InvocationID")),
                         "helper_state": helper.get("ActiveState")})  # fmt: skip


def long_press(button_ui, keypad_ui, code: int) -> None:
    from integration.guest_uinput import read_events, read_pending

    leds: dict[int, int] = {}
    seen: list[tuple[float, bool]] = []  # (seconds since the press, all LEDs on)
    read_events(keypad_ui, 100, 0.2, types=(17,))  # drop LED writes from startup
    began = time.monotonic()
    button_ui.write(1, code, 1)
    button_ui.syn()
    while time.monotonic() - began < 15 and len(seen) < 3:
        for event in read_pending(keypad_ui, 0.5, types=(17,)):  # EV_LED
            leds[event.code] = event.value
            on = all(leds.get(c) == 1 for c in (0, 1))  # LED_NUML, LED_CAPSL
            if on != (seen[-1][1] if seen else False):  # changes from "all off"
                seen.append((round(time.monotonic() - began, 2), on))
    fact("long_press_leds", seen)
    button_ui.write(1, code, 0)
    button_ui.syn()
    fact("released_at", round(time.monotonic() - began, 2))


def main() -> int:
    sys.path.insert(0, str(REPO / "tests"))
    # The factory default's reboot stops this unit: that is success, not a failure
    # (whose FailureAction would turn the reboot into a forced power-off).
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(0))
    scenario = {"lifecycle": lifecycle, "button": button}[sys.argv[1]]
    try:
        scenario()
    except Exception:
        fact("error", traceback.format_exc())
        fact("journal", run("journalctl", "-o", "short-monotonic", "--no-pager",
                            "-n", "60", "-u", DAEMON,
                            "-u", "ivs-accessory-helper@*")[1])  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
