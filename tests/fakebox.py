"""A box's file system in tmp_path: factory templates, live files, tracing commands."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = ("accessory.conf", "web-password", "netplan.yaml", "time.conf")


def script(folder: Path, name: str, body: str = "") -> str:
    """An executable that appends ``name args`` to folder/trace.log, then runs
    ``body``."""
    path = folder / "bin" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(f'#!/bin/sh\necho "{name} $*" >> {folder / "trace.log"}\n{body}\n')
    path.chmod(0o755)
    return str(path)


@dataclass
class Box:
    """Paths of one fake box; ``config`` is the helper's (root-owned) config file."""

    root: Path
    config: Path

    def __getattr__(self, name: str) -> Path:
        return {
            "factory": self.root / "opt" / "factory",
            "etc": self.root / "etc" / "ivs-accessory",
            "netplan": self.root / "etc" / "netplan" / "90-ivs-accessory.yaml",
            "timesyncd": self.root / "etc" / "timesyncd.conf.d" / "90-ivs.conf",
            "state": self.root / "var" / "lib" / "ivs-accessory",
        }[name]

    def trace(self) -> list[str]:
        """The commands run so far, one ``name args`` line each."""
        path = self.root / "trace.log"
        return path.read_text().splitlines() if path.exists() else []

    def template(self, name: str) -> str:
        return (self.factory / name).read_text()


def make_box(root: Path, helper_extra: str = "", reboot_body: str = "") -> Box:
    """Lay out a box whose live files all differ from the factory templates."""
    factory = root / "opt" / "factory"
    factory.mkdir(parents=True)
    for name in TEMPLATES:
        shutil.copy(REPO / "config" / name, factory / name)
    etc = root / "etc" / "ivs-accessory"
    (etc / "accessory.conf.d").mkdir(parents=True)
    for name in ("accessory.conf", "web-password", "network.yaml"):
        (etc / name).write_text(f"site's {name}\n")
    (etc / "time.conf").write_text(
        "[time]\ntimezone = Europe/Berlin\nntp_servers = ntp.site\n"
    )
    (etc / "accessory.conf.d" / "extra.conf").write_text("[valt]\nroom = 7\n")
    (etc / "server-ca.pem").write_text("site CA\n")
    (root / "etc" / "netplan").mkdir()
    (root / "etc" / "netplan" / "90-ivs-accessory.yaml").write_text(
        "network: {site: 1}\n"
    )
    (root / "etc" / "netplan" / "90-ivs-accessory.yaml.previous").write_text(
        "network: {}\n"
    )
    (root / "etc" / "timesyncd.conf.d").mkdir()
    (root / "etc" / "timesyncd.conf.d" / "90-ivs.conf").write_text(
        "[Time]\nNTP=ntp.site\n"
    )
    state = root / "var" / "lib" / "ivs-accessory"
    state.mkdir(parents=True)
    (state / "audit.log").write_text('{"result": "started"}\n')
    (state / "audit.log.1").write_text('{"result": "stopped"}\n')
    (state / "sessions.json").write_text("{}\n")
    config = root / "helper.conf"
    config.write_text(
        f"[system]\nnetwork_file = {etc / 'network.yaml'}\n"
        f"time_file = {etc / 'time.conf'}\n"
        f"[helper]\nfactory_dir = {factory}\nconfig_file = {etc / 'accessory.conf'}\n"
        f"web_password_file = {etc / 'web-password'}\n"
        f"netplan_file = {root / 'etc' / 'netplan' / '90-ivs-accessory.yaml'}\n"
        f"timesyncd_file = {root / 'etc' / 'timesyncd.conf.d' / '90-ivs.conf'}\n"
        f"owner =\nstate_dir = {state}\n"
        f"reboot_command = {script(root, 'reboot', reboot_body)}\n"
        f"timezone_command = {script(root, 'timedatectl')} set-timezone\n"
        f"ntp_restart_command = {script(root, 'systemctl')} try-restart timesyncd\n"
        f"network_apply_command = {script(root, 'netplan')} apply\n"
        f"web_enable_command = {script(root, 'systemctl')} "
        "enable ivs-accessory.socket\n" + helper_extra
    )
    config.chmod(0o600)
    return Box(root, config)
