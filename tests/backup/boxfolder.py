"""A box's files in a tmp folder: config with drop-in, passwords, time, network."""

from __future__ import annotations

import shutil
from pathlib import Path

from ivs_accessory.backup.document import BoxFiles
from ivs_accessory.web.accounts import hash_password

REPO = Path(__file__).resolve().parents[2]
VALT_PASSWORD = "Valt-Secret-8231"
CAMERA_PASSWORD = "Cam-Secret-5593"
PAGE_PASSWORD = "page password 77"
PASSPHRASE = "a long passphrase for tests"


def write_box(folder: Path, trace: Path | None = None) -> BoxFiles:
    """A box configured as an integrator would leave it; every command a trace."""
    folder.mkdir(parents=True, exist_ok=True)
    trace = trace or folder / "trace.log"
    bin_dir = folder / "bin"
    bin_dir.mkdir(exist_ok=True)
    commands = ""
    for op in ("apply_time", "apply_network", "reload"):
        script = bin_dir / op
        script.write_text(f'#!/bin/sh\necho {op} >> "{trace}"\n')
        script.chmod(0o755)
        if op != "reload":
            commands += f"{op}_command = {script}\n"
    config = folder / "accessory.conf"
    config.write_text(
        "# The integrator's notes stay in the file.\n"
        "[valt]\nserver = https://valt.example.org\nusername = keypad\n"
        f"password = {VALT_PASSWORD}\nroom = 3\ntimeout_s = 5\n\n"
        "[source:door]\nkind = console\n\n"
        "[bindings]\nKEY_KPPLUS = marker\nKEY_KP0.hold = privacy_toggle\n\n"
        "[privacy]\ncameras = config\n\n"
        "[camera:Hall cam]\naddress = 192.0.2.20\nusername = root\n"
        f"password = {CAMERA_PASSWORD}\n\n"
        f"[web]\nenabled = false\npassword_file = {folder / 'web-password'}\n\n"
        f"[logging]\naudit_file = {folder / 'audit.log'}\n\n"
        f"[system]\nnetwork_file = {folder / 'network.yaml'}\n"
        f"time_file = {folder / 'time.conf'}\n{commands}"
    )
    config.chmod(0o600)
    dropins = folder / "accessory.conf.d"
    dropins.mkdir(exist_ok=True)
    (dropins / "50-kiosk.conf").write_text("[door]\nscreen = true\n")
    (folder / "web-password").write_text(
        f"[password]\nhash = {hash_password(PAGE_PASSWORD)}\nmust_change = false\n"
    )
    (folder / "time.conf").write_text(
        "[time]\ntimezone = Europe/Berlin\nntp_servers = ntp1.example.org 192.0.2.5\n"
    )
    shutil.copy(REPO / "config" / "netplan.yaml", folder / "network.yaml")
    return box_files(folder)


def box_files(folder: Path) -> BoxFiles:
    return BoxFiles(
        str(folder / "accessory.conf"),
        str(folder / "time.conf"),
        str(folder / "network.yaml"),
        "eth0",
        str(folder / "web-password"),
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file's bytes under ``folder`` (but the command trace)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "trace.log"
    }
