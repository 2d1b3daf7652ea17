"""ivs-accessory backup, restore and provision as separate processes on tmp folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ivs_accessory.config import load
from ivs_accessory.web.accounts import PasswordFile

from .boxfolder import PAGE_PASSWORD, PASSPHRASE, VALT_PASSWORD, snapshot, write_box


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ivs_accessory", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def passphrase_file(folder: Path, text: str = PASSPHRASE) -> str:
    path = folder / "passphrase"
    path.write_text(text + "\n")
    return str(path)


def test_backup_writes_a_private_file_without_passwords(tmp_path):
    files = write_box(tmp_path / "box")
    out = tmp_path / "box.json"
    done = cli("backup", "--config", files.config, str(out))
    assert done.returncode == 0, done.stderr
    assert "without passwords" in done.stdout
    assert out.stat().st_mode & 0o777 == 0o600
    assert VALT_PASSWORD not in out.read_text()


def sealed_backup(tmp_path: Path):
    """A box and its backup made with a passphrase: (files, backup, passphrase)."""
    files = write_box(tmp_path / "box")
    out = tmp_path / "box.json"
    key = passphrase_file(tmp_path)
    made = cli("backup", "--config", files.config, "--passphrase-file", key, str(out))
    assert made.returncode == 0, made.stderr
    return files, out, key


def test_restore_shows_the_changes_and_applies_only_with_yes(tmp_path):
    files, out, key = sealed_backup(tmp_path)
    config = Path(files.config)
    config.write_text(config.read_text().replace("timeout_s = 5", "timeout_s = 7"))
    before = snapshot(tmp_path / "box")
    reload = str(tmp_path / "box" / "bin" / "reload")
    args = ("restore", "--config", files.config, "--passphrase-file", key)
    shown = cli(*args, "--reload-command", reload, str(out))
    assert shown.returncode == 0, shown.stderr
    assert "[valt] timeout_s: '7' -> '5'" in shown.stdout
    assert "[valt] password: unchanged" in shown.stdout
    assert VALT_PASSWORD not in shown.stdout + shown.stderr
    assert "add --yes to apply" in shown.stderr
    assert snapshot(tmp_path / "box") == before
    done = cli(*args, "--reload-command", reload, "--yes", str(out))
    assert done.returncode == 0, done.stderr
    assert load(files.config)["valt"]["timeout_s"] == 5
    assert (tmp_path / "box" / "trace.log").read_text().split() == ["reload"]
    assert config.stat().st_mode & 0o777 == 0o600
    assert PASSPHRASE not in done.stdout + done.stderr


def test_restore_refuses_a_wrong_passphrase_and_changes_nothing(tmp_path):
    files = write_box(tmp_path / "box")
    out = tmp_path / "box.json"
    made = cli("backup", "--config", files.config, "--passphrase-file",
               passphrase_file(tmp_path), str(out))  # fmt: skip
    assert made.returncode == 0, made.stderr
    before = snapshot(tmp_path / "box")
    wrong = passphrase_file(tmp_path, "not the right one")
    done = cli("restore", "--config", files.config, "--passphrase-file", wrong,
               "--yes", str(out))  # fmt: skip
    assert done.returncode == 1
    assert "wrong passphrase" in done.stderr
    assert "not the right one" not in done.stdout + done.stderr
    assert snapshot(tmp_path / "box") == before


def factory_reset(folder: Path) -> None:
    """The box as a factory default leaves it: the template's settings, with this
    folder's places for its files and commands (a real box has /etc on both)."""
    config = folder / "accessory.conf"
    keep = config.read_text().split("[web]", 1)[1]
    config.write_text(
        "[valt]\nserver =\nusername =\npassword =\nroom =\n\n[web]" + keep
    )
    for name in ("accessory.conf.d/50-kiosk.conf", "web-password", "time.conf"):
        (folder / name).unlink()


def test_provision_sets_up_a_new_box_without_asking(tmp_path):
    files, out, key = sealed_backup(tmp_path)
    factory_reset(tmp_path / "box")
    reload = str(tmp_path / "box" / "bin" / "reload")
    done = cli("provision", "--config", files.config, "--passphrase-file", key,
               "--reload-command", reload, str(out), stdin="")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "[valt] server: '' -> 'https://valt.example.org'" in done.stdout
    config = load(files.config)
    assert config["valt"]["password"] == VALT_PASSWORD
    assert config["door"]["screen"] is True
    assert PasswordFile(files.password_file).verify(PAGE_PASSWORD)
    assert "Europe/Berlin" in Path(files.time_file).read_text()
    trace = (tmp_path / "box" / "trace.log").read_text().split()
    assert trace == ["reload", "apply_time"]  # the network was DHCP already


def test_restore_of_a_file_that_is_not_a_backup(tmp_path):
    files = write_box(tmp_path / "box")
    junk = tmp_path / "junk.json"
    junk.write_text("[valt]\nserver = x\n")
    done = cli("restore", "--config", files.config, "--yes", str(junk))
    assert done.returncode == 1
    assert "not an ivs-accessory backup" in done.stderr


def test_restore_puts_every_file_back_when_the_daemon_cannot_reload(tmp_path):
    files = write_box(tmp_path / "box")
    out = tmp_path / "box.json"
    assert cli("backup", "--config", files.config, str(out)).returncode == 0
    config = Path(files.config)
    config.write_text(config.read_text().replace("timeout_s = 5", "timeout_s = 7"))
    before = snapshot(tmp_path / "box")
    done = cli("restore", "--config", files.config, "--yes",
               "--reload-command", "false", str(out))  # fmt: skip
    assert done.returncode == 1
    assert "nothing was changed" in done.stderr
    assert snapshot(tmp_path / "box") == before


@pytest.mark.skipif(os.geteuid() != 0, reason="what root does with a planted link")
def test_restore_as_root_never_writes_through_a_link_the_daemon_planted(tmp_path):
    files = write_box(tmp_path / "box")
    out = tmp_path / "box.json"
    assert cli("backup", "--config", files.config, str(out)).returncode == 0
    victim = tmp_path / "root-only.conf"
    config = Path(files.config)
    victim.write_text(config.read_text().replace("timeout_s = 5", "timeout_s = 7"))
    config.unlink()
    config.symlink_to(victim)
    before = victim.read_bytes()
    reload = str(tmp_path / "box" / "bin" / "reload")
    done = cli("restore", "--config", files.config, "--yes",
               "--reload-command", reload, str(out))  # fmt: skip
    assert done.returncode == 1, done.stdout
    assert "nothing was changed" in done.stderr
    assert victim.read_bytes() == before
    assert config.is_symlink()
