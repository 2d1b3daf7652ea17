"""systemd units, rules, install script as shipped: hardening, verify, users, polkit."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from public_install import AS_NOBODY

from ivs_accessory.config import load
from ivs_accessory.system.helper import OPERATIONS

REPO = Path(__file__).resolve().parents[2]
SYSTEMD = REPO / "systemd"
INSTALL = REPO / "scripts" / "install"
NETWORK_DROP_IN = SYSTEMD / "ivs-accessory-helper-network.conf"
UPDATE_DROP_IN = SYSTEMD / "ivs-accessory-helper-update.conf"
# systemd-analyze security: 0 is fully locked down, unhardened services score 9.2-9.8.
EXPOSURE_TARGETS = {
    "ivs-accessory.service": 2.0,  # the target for the daemon
    "ivs-accessory-helper@.service": 1.2,  # root: factory default, set-time, reboot
    "ivs-accessory-helper@apply-network.service": 2.5,  # + network, /run, /sys
}

needs_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed"
)


def unit_dir(tmp_path: Path) -> Path:
    """The units as installed, with ExecStart pointing at this checkout's venv."""
    tmp_path.mkdir(exist_ok=True)
    venv_bin = Path(sys.executable).parent / "ivs-accessory"
    for name in (
        "ivs-accessory.service",
        "ivs-accessory.socket",
        "ivs-accessory-helper@.service",
    ):
        text = (SYSTEMD / name).read_text()
        text = text.replace("/opt/ivs-accessory/venv/bin/ivs-accessory", str(venv_bin))
        (tmp_path / name).write_text(text)
    for op in ("apply-network", "rollback-network"):
        drop_in = tmp_path / f"ivs-accessory-helper@{op}.service.d"
        drop_in.mkdir()
        shutil.copy(NETWORK_DROP_IN, drop_in / "50-network.conf")
    for op in ("update", "update-recover"):
        drop_in = tmp_path / f"ivs-accessory-helper@{op}.service.d"
        drop_in.mkdir()
        shutil.copy(UPDATE_DROP_IN, drop_in / "50-update.conf")
    return tmp_path


UART_DROP_IN = SYSTEMD / "ivs-accessory-uart.conf"


def exposure(path: Path) -> float:
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(path)],
                            capture_output=True, text=True, timeout=60)  # fmt: skip
    found = re.search(r"Overall exposure level for \S+: (\d+\.\d)", result.stdout)
    assert found, result.stdout + result.stderr
    return float(found.group(1))


@needs_analyze
@pytest.mark.parametrize("unit", list(EXPOSURE_TARGETS))
def test_exposure_is_at_most_the_target(unit, tmp_path):
    if unit.endswith("apply-network.service"):
        # A drop-in is read after its unit: appending it is the same configuration.
        text = (SYSTEMD / "ivs-accessory-helper@.service").read_text()
        path = tmp_path / "ivs-accessory-helper@.service"
        path.write_text(text + "\n" + NETWORK_DROP_IN.read_text())
    else:
        path = SYSTEMD / unit
    assert exposure(path) <= EXPOSURE_TARGETS[unit]


@needs_analyze
def test_the_uart_drop_in_is_clean_and_keeps_the_score(tmp_path):
    path = tmp_path / "ivs-accessory.service"
    text = (SYSTEMD / "ivs-accessory.service").read_text()
    path.write_text(text + "\n" + UART_DROP_IN.read_text())
    assert "DeviceAllow=char-ttyS rw" in UART_DROP_IN.read_text()
    assert exposure(path) <= EXPOSURE_TARGETS["ivs-accessory.service"]
    folder = unit_dir(tmp_path / "units")
    drop_in = folder / "ivs-accessory.service.d"
    drop_in.mkdir()
    shutil.copy(UART_DROP_IN, drop_in / "50-uart.conf")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             "ivs-accessory.service"], cwd=folder,
                            capture_output=True, text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0 and result.stderr == "", result.stderr


def test_install_adds_the_uart_drop_in_when_asked_or_when_a_source_uses_one():
    text = INSTALL.read_text()
    assert "--uart" in text and "ivs-accessory-uart.conf" in text
    assert "ttyS" in text and "ttyAMA" in text


@needs_analyze
def test_systemd_analyze_verify_is_clean(tmp_path):
    folder = unit_dir(tmp_path)
    names = ["ivs-accessory.service", "ivs-accessory.socket",
             "ivs-accessory-helper@factory-default.service",
             "ivs-accessory-helper@apply-network.service",
             "ivs-accessory-helper@update.service",
             "ivs-accessory-helper@update-recover.service"]  # fmt: skip
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", *names],
                            cwd=folder, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and result.stdout == ""  # unknown keys are only warnings


@needs_analyze
def test_verify_would_catch_a_misspelt_key(tmp_path):
    folder = unit_dir(tmp_path)
    path = folder / "ivs-accessory-helper@.service"
    path.write_text(path.read_text().replace("ProtectHome=", "ProtectHom="))
    result = subprocess.run(["systemd-analyze", "verify", "--man=no", path.name],
                            cwd=folder, capture_output=True, text=True,
                            timeout=120)  # fmt: skip
    assert "Unknown key 'ProtectHom'" in result.stderr


def test_daemon_unit_has_the_required_service_settings():
    text = (SYSTEMD / "ivs-accessory.service").read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=on-failure",
                 "RestartPreventExitStatus=78", "User=ivs-accessory",
                 "SupplementaryGroups=input dialout\n",
                 "NoNewPrivileges=yes", "CapabilityBoundingSet=\n"):  # fmt: skip
        assert line in text + "\n", line
    # The log download goes through the helper; built-in UARTs need the drop-in.
    settings = "".join(line for line in text.splitlines(True) if line[:1] != "#")
    assert "systemd-journal" not in settings and "char-ttyS" not in settings
    assert (
        "AmbientCapabilities=\n" in text
    )  # no CAP_NET_BIND_SERVICE: port 80 is a socket


def test_the_benchmarks_run_the_daemon_with_the_units_environment():
    from benchmarks.resources import unit_environment

    # glibc's malloc arenas: the memory figure of issue 12 is taken with this cap.
    assert unit_environment() == {"MALLOC_ARENA_MAX": "2"}


def test_polkit_rule_allows_exactly_the_helper_operations_and_defaults_use_them():
    text = (SYSTEMD / "ivs-accessory.polkit.rules").read_text()
    allowed = re.compile(re.search(r"var allowed = /(.+)/;", text).group(1))
    for op in OPERATIONS:
        assert allowed.match(f"ivs-accessory-helper@{op}.service"), op
    for unit in ("ivs-accessory-helper@evil.service", "ivs-accessory.service",
                 "ivs-accessory-helper@reboot.service.d", "sshd.service"):  # fmt: skip
        assert not allowed.match(unit), unit
    assert 'subject.user !== "ivs-accessory"' in text and 'verb === "start"' in text
    system = load(None)["system"]
    for key in ("reboot_command", "factory_default_command", "apply_network_command",
                "rollback_network_command", "apply_time_command",
                "update_command", "advertise_command"):  # fmt: skip
        argv = system[key]
        assert argv[:3] == ["systemctl", "start", "--no-block"], key
        assert allowed.match(argv[3]), key
    # The log download waits for its helper: it reads the file the helper wrote.
    assert system["logs_command"][:2] == ["systemctl", "start"]
    assert allowed.match(system["logs_command"][2])
    assert allowed.match("ivs-accessory-helper@logs.service")


@pytest.mark.skipif(
    shutil.which("systemd-sysusers") is None, reason="no systemd-sysusers"
)
@pytest.mark.skipif(os.geteuid() != 0, reason="tmpfiles sets owners: needs root")
def test_sysusers_and_tmpfiles_create_the_user_and_private_directories(tmp_path):
    (tmp_path / "etc").mkdir()
    sysusers = subprocess.run(["systemd-sysusers", f"--root={tmp_path}",
                               str(SYSTEMD / "ivs-accessory.sysusers")],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert sysusers.returncode == 0, sysusers.stderr
    passwd = (tmp_path / "etc" / "passwd").read_text()
    user = [line.split(":") for line in passwd.splitlines() if line.startswith("ivs-")]
    assert user and user[0][6] == "/usr/sbin/nologin"
    groups = (tmp_path / "etc" / "group").read_text().splitlines()
    members = {g.split(":")[0]: g.split(":")[3] for g in groups}
    assert members["input"] == members["dialout"] == "ivs-accessory"
    tmpfiles = subprocess.run(["systemd-tmpfiles", f"--root={tmp_path}", "--create",
                               str(SYSTEMD / "ivs-accessory.tmpfiles")],
                              capture_output=True, text=True, timeout=60)  # fmt: skip
    assert tmpfiles.returncode == 0, tmpfiles.stderr
    for folder in ("etc/ivs-accessory", "var/lib/ivs-accessory"):
        info = os.stat(tmp_path / folder)
        assert (info.st_uid, info.st_mode & 0o777) == (int(user[0][2]), 0o700), folder
    assert (tmp_path / "etc/systemd/timesyncd.conf.d").is_dir()


def test_install_prints_udev_rules_with_stable_links():
    result = subprocess.run([str(INSTALL), "--print-udev-rules",
                             "--keypad", "04D9:1203", "--card-reader", "10c4:ea60"],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "SYMLINK" in line]
    assert lines == [
        'SUBSYSTEM=="input", KERNEL=="event*", ENV{ID_INPUT_KEY}=="1", '
        'ATTRS{id/vendor}=="04d9", ATTRS{id/product}=="1203", SYMLINK+="ivs-keypad"',
        'SUBSYSTEM=="input", KERNEL=="event*", ENV{ID_INPUT_KEY}=="1", '
        'ATTRS{id/vendor}=="10c4", ATTRS{id/product}=="ea60", '
        'SYMLINK+="ivs-card-reader"',
        'SUBSYSTEM=="tty", ATTRS{idVendor}=="10c4", ATTRS{idProduct}=="ea60", '
        'SYMLINK+="ivs-card-reader"',
    ]
    assert 'GROUP="input", MODE="0660"' in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--keypad", "04d9-1203"], "--keypad wants a USB vendor:product"),
    (["--card-reader", '1"; RUN+="/bin/sh'], "--card-reader wants"),
    (["--keypad"], "--keypad needs a value"),
    (["--frobnicate"], "unknown option --frobnicate"),
])  # fmt: skip
def test_install_rejects_bad_arguments(args, message):
    result = subprocess.run([str(INSTALL), "--print-udev-rules", *args],
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode != 0
    assert message in result.stderr


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None,
                    reason="needs root to drop to another user")  # fmt: skip
def test_install_refuses_to_run_without_root(public_tmp_path):
    # A copy that the user nobody can read: the checkout may lie where nobody cannot
    # go (/root, a 0700 folder), and then bash could not even open the script.
    script = public_tmp_path / "install"
    shutil.copyfile(INSTALL, script)
    script.chmod(0o755)
    result = subprocess.run([*AS_NOBODY, str(script), "--no-start"], cwd="/",
                            capture_output=True, text=True, timeout=30)  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "run as root" in result.stderr
