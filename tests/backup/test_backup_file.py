"""Backup and restore on real files: round trips, secrets, refusals, the changes."""

from __future__ import annotations

import json
import re

import pytest

from ivs_accessory.backup.applying import apply_config, apply_network, apply_time
from ivs_accessory.backup.document import decode, make_backup
from ivs_accessory.backup.plan import make_plan
from ivs_accessory.config import load
from ivs_accessory.errors import ConfigError
from ivs_accessory.system.commands import SystemControl
from ivs_accessory.web.accounts import PasswordFile

from .boxfolder import (
    CAMERA_PASSWORD,
    PAGE_PASSWORD,
    PASSPHRASE,
    VALT_PASSWORD,
    snapshot,
    write_box,
)

STATIC = (
    "network:\n  version: 2\n  renderer: networkd\n  ethernets:\n    eth0:\n"
    "      addresses:\n        - 192.0.2.50/24\n      routes:\n        - to: default\n"
    "          via: 192.0.2.1\n      nameservers:\n        addresses:\n"
    "          - 192.0.2.53\n"
)


@pytest.fixture
def box(tmp_path):
    return write_box(tmp_path / "box")


def change_the_box(files) -> None:
    """What happens to a box after its backup: every part of it edited."""
    config = open(files.config).read()
    config = config.replace("timeout_s = 5", "timeout_s = 9")
    config = config.replace(VALT_PASSWORD, "Changed-Valt-1")
    config = config.replace(CAMERA_PASSWORD, "Changed-Cam-1")
    config = config.replace("KEY_KPPLUS = marker", "KEY_KPPLUS = stop")
    open(files.config, "w").write(config)
    os_remove(files.dropins + "/50-kiosk.conf")
    open(files.dropins + "/60-extra.conf", "w").write("[feedback]\nresult_ms = 500\n")
    open(files.time_file, "w").write("[time]\ntimezone = Etc/UTC\nntp_servers =\n")
    open(files.network_file, "w").write(STATIC)
    PasswordFile(files.password_file).change("another password 1")


def os_remove(path: str) -> None:
    import os

    os.remove(path)


def restore(files, data: bytes, passphrase: str | None = None) -> None:
    plan = make_plan(decode(data, passphrase), files)
    apply_config(plan, lambda config: None)
    system = SystemControl(load(files.config)["system"])
    assert apply_time(plan, system) == []
    assert apply_network(plan, system) == []


def test_round_trip_without_passphrase_restores_all_but_passwords(box):
    data = make_backup(box)
    change_the_box(box)
    restore(box, data)
    config = load(box.config)
    assert config["valt"]["timeout_s"] == 5
    assert config.bindings[("KEY_KPPLUS", "tap")] == "marker"
    assert config["door"]["screen"] is True  # the drop-in is back ...
    assert config["feedback"]["result_ms"] == 2000  # ... and the new one gone
    # Passwords were not in the file: the box keeps its own.
    assert config["valt"]["password"] == "Changed-Valt-1"
    assert config.cameras["Hall cam"]["password"] == "Changed-Cam-1"
    assert PasswordFile(box.password_file).verify("another password 1")
    assert "timezone = Europe/Berlin" in open(box.time_file).read()
    assert "dhcp4: true" in open(box.network_file).read()
    trace = open(box.config.rsplit("/", 1)[0] + "/trace.log").read().split()
    assert trace == ["apply_time", "apply_network"]
    assert "# The integrator's notes stay in the file." in open(box.config).read()


def test_round_trip_with_passphrase_restores_the_passwords_too(box):
    data = make_backup(box, PASSPHRASE)
    change_the_box(box)
    restore(box, data, PASSPHRASE)
    config = load(box.config)
    assert config["valt"]["password"] == VALT_PASSWORD
    assert config.cameras["Hall cam"]["password"] == CAMERA_PASSWORD
    assert PasswordFile(box.password_file).verify(PAGE_PASSWORD)
    assert config["valt"]["timeout_s"] == 5


@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_no_password_or_hash_in_the_file_in_clear(box, passphrase):
    data = make_backup(box, passphrase)
    page_hash = PasswordFile(box.password_file).read().hash.split("$")[-1]
    for secret in (VALT_PASSWORD, CAMERA_PASSWORD, page_hash, PASSPHRASE):
        assert secret.encode() not in data
    content = json.loads(data)
    assert content["kind"] == "ivs-accessory backup" and content["format"] == 1
    if passphrase is None:
        assert content["secrets"] is False and content["page_password"] is None
        assert "password =" not in content["config"]["main"]
        assert "timeout_s = 5" in content["config"]["main"]
    else:
        assert set(content) == {"kind", "format", "version", "created", "sealed"}
        assert b"timeout_s" not in data  # the settings are encrypted too


def test_the_preview_lists_each_change_and_never_a_password(box):
    data = make_backup(box, PASSPHRASE)
    change_the_box(box)
    before = snapshot(box_folder(box))
    plan = make_plan(decode(data, PASSPHRASE), box)
    words = [c.words() for c in plan.shown()]
    assert words == [
        "[valt] password: changed",
        "[valt] timeout_s: '9' -> '5'",
        "[bindings] KEY_KPPLUS: 'stop' -> 'marker'",
        "[feedback] result_ms: '500' -> '2000'",
        "[door] screen: 'false' -> 'true'",
        "[camera:Hall cam] password: changed",
        "[time] timezone: 'Etc/UTC' -> 'Europe/Berlin'",
        "[time] ntp_servers: '' -> 'ntp1.example.org 192.0.2.5'",
        "[network] mode: 'static' -> 'dhcp'",
        "[network] address: '192.0.2.50/24' -> ''",
        "[network] gateway: '192.0.2.1' -> ''",
        "[network] dns: '192.0.2.53' -> ''",
        "page password: changed",
    ]
    text = " ".join(words)
    for secret in (VALT_PASSWORD, CAMERA_PASSWORD, "Changed-Valt-1", "Changed-Cam-1"):
        assert secret not in text
    assert snapshot(box_folder(box)) == before  # a preview writes nothing


def test_the_preview_of_an_unencrypted_backup_says_passwords_are_kept(box):
    plan = make_plan(decode(make_backup(box)), box)
    assert [c.words() for c in plan.shown()] == [
        "[valt] password: kept (not in the backup)",
        "[camera:Hall cam] password: kept (not in the backup)",
    ]
    assert not plan.has_changes


def box_folder(files):
    from pathlib import Path

    return Path(files.config).parent


def refused(box, data: bytes, passphrase: str | None = None) -> ConfigError:
    before = snapshot(box_folder(box))
    with pytest.raises(ConfigError) as caught:
        make_plan(decode(data, passphrase), box)
    assert snapshot(box_folder(box)) == before
    return caught.value


def test_a_wrong_passphrase_is_refused(box):
    data = make_backup(box, PASSPHRASE)
    error = refused(box, data, "not the passphrase")
    assert "wrong passphrase" in str(error)
    assert "give the passphrase" in str(refused(box, data, None))


@pytest.mark.parametrize("passphrase", [None, PASSPHRASE])
def test_a_truncated_file_is_refused_wherever_it_was_cut(box, passphrase):
    data = make_backup(box, passphrase)
    for cut in (1, 40, len(data) // 2, len(data) - 40, len(data) - 3):
        error = refused(box, data[:cut], passphrase)
        assert re.search(r"cut short|not an ivs-accessory backup|damaged", str(error))


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda c: c["config"].update(main="[valt]\ntimeout_s = fast\n"),
         "[valt] timeout_s = 'fast'"),
        (lambda c: c["config"]["dropins"].update({"70-x.conf": "[door]\nscreen = 7\n"}),
         "[door] screen = '7'"),
        (lambda c: c["time"].update(timezone="Mars/Olympus"), "[time] timezone"),
        (lambda c: c["network"].update(mode="static", address="300.1.1.1/24"),
         "[network] address"),
        (lambda c: c["network"].update(colour="red"), "unknown key 'colour'"),
        (lambda c: c["config"]["dropins"].update({"../evil.conf": ""}), "evil"),
        (lambda c: c.update(format=2), "newer version"),
        (lambda c: c.update(kind="something else"), "not an ivs-accessory backup"),
        (lambda c: c["config"].update(main="[system]\nreboot_command = /bin/rm x\n"),
         "[system] reboot_command: a backup cannot change a command"),
    ],
)  # fmt: skip
def test_a_file_with_a_bad_value_is_refused_naming_the_setting(box, edit, named):
    content = json.loads(make_backup(box))
    edit(content)
    error = refused(box, json.dumps(content).encode())
    assert named in " ".join(error.errors or [str(error)])


def test_a_restore_the_daemon_cannot_use_puts_every_file_back(box):
    data = make_backup(box, PASSPHRASE)
    change_the_box(box)
    before = snapshot(box_folder(box))
    plan = make_plan(decode(data, PASSPHRASE), box)

    def reload(config):
        raise RuntimeError("the daemon refused it")

    with pytest.raises(RuntimeError):
        apply_config(plan, reload)
    assert snapshot(box_folder(box)) == before


def test_restored_files_are_private(box):
    data = make_backup(box, PASSPHRASE)
    change_the_box(box)
    restore(box, data, PASSPHRASE)
    folder = box_folder(box)
    for name in ("accessory.conf", "accessory.conf.d/50-kiosk.conf", "web-password",
                 "time.conf", "network.yaml"):  # fmt: skip
        assert (folder / name).stat().st_mode & 0o777 == 0o600, name


def test_a_crafted_encryption_header_is_refused_before_any_work(box):
    content = json.loads(make_backup(box, PASSPHRASE))
    content["sealed"]["n"] = 2**40  # would need terabytes
    error = refused(box, json.dumps(content).encode(), PASSPHRASE)
    assert "encryption header is damaged" in str(error)


def test_a_short_passphrase_is_refused():
    from ivs_accessory.backup.sealing import seal

    with pytest.raises(ConfigError, match="at least 8"):
        seal(b"{}", "short")
