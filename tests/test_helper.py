"""The privileged helper's operations, in-process and as `ivs-accessory system OP`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fakebox import make_box, script

from ivs_accessory.config import load
from ivs_accessory.errors import SystemActionError
from ivs_accessory.helper import check_trusted, load_trusted, run_operation
from ivs_accessory.system import CommandRunner

COMMAND = [sys.executable, "-m", "ivs_accessory"]


def run(box, operation):
    run_operation(operation, load(box.config), CommandRunner(timeout_s=10))


def system(box, operation, config=None):
    """`ivs-accessory system OP --config FILE` as the helper unit runs it."""
    return subprocess.run(
        COMMAND + ["system", operation, "--config", str(config or box.config)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_set_time_writes_the_ntp_drop_in_and_sets_the_zone(tmp_path):
    box = make_box(tmp_path)
    (box.etc / "time.conf").write_text(
        "[time]\ntimezone = America/Argentina/Buenos_Aires\n"
        "ntp_servers = 0.pool.ntp.org 10.0.0.1\n"
    )
    run(box, "set-time")
    assert box.timesyncd.read_text().endswith("[Time]\nNTP=0.pool.ntp.org 10.0.0.1\n")
    assert box.trace() == [
        "timedatectl set-timezone America/Argentina/Buenos_Aires",
        "systemctl try-restart timesyncd",
    ]


@pytest.mark.parametrize(
    "text, problem",
    [
        ("[time]\ntimezone = ../../etc/shadow\n", "must be a time zone name"),
        ("[time]\ntimezone = UTC\nntp_servers = a;reboot\n", "not a host name"),
        ("[time]\ntimezone = UTC\nzone = x\n", "unknown key 'zone'"),
        ("timezone = UTC\n", "cannot read it"),
        ("[clock]\n", "no [time] section"),
    ],
)
def test_set_time_refuses_bad_settings_and_runs_nothing(tmp_path, text, problem):
    box = make_box(tmp_path)
    (box.etc / "time.conf").write_text(text)
    with pytest.raises(SystemActionError, match=problem.replace("[", r"\[")):
        run(box, "set-time")
    assert box.trace() == []
    assert box.timesyncd.read_text() == "[Time]\nNTP=ntp.site\n"


def test_apply_network_keeps_the_previous_file_and_rollback_brings_it_back(tmp_path):
    box = make_box(tmp_path)
    staged = box.etc / "network.yaml"
    staged.write_text("network:\n  version: 2\n  ethernets: {eth0: {dhcp4: false}}\n")
    run(box, "apply-network")
    assert box.netplan.read_text() == staged.read_text()
    assert (
        tmp_path / "etc/netplan/90-ivs-accessory.yaml.previous"
    ).read_text() == "network: {site: 1}\n"
    assert oct(os.stat(box.netplan).st_mode & 0o777) == "0o600"
    run(box, "rollback-network")
    assert box.netplan.read_text() == "network: {site: 1}\n"
    assert staged.read_text() == "network: {site: 1}\n"  # the page shows what is live
    assert box.trace() == ["netplan apply", "netplan apply"]


def test_a_failing_apply_puts_the_previous_network_back(tmp_path):
    box = make_box(tmp_path)
    (box.etc / "network.yaml").write_text("network: {version: 2, bad: yes}\n")
    # Like `netplan apply`, it fails on the bad file and accepts the old one.
    failing = script(
        tmp_path,
        "netplan-strict",
        f"if grep -q bad {box.netplan}; then "
        'echo "Error in network definition" >&2; exit 1; fi',
    )
    text = box.config.read_text()
    box.config.write_text(
        text.replace(
            text[text.index("network_apply_command") :].splitlines()[0],
            f"network_apply_command = {failing}",
        )
    )
    with pytest.raises(
        SystemActionError, match="not applied.*Error in network definition"
    ):
        run(box, "apply-network")
    assert box.netplan.read_text() == "network: {site: 1}\n"
    assert box.trace() == [
        "netplan-strict ",
        "netplan-strict ",
    ]  # the bad one, the old one


@pytest.mark.parametrize(
    "content", [b"", b"hosts:\n  - x\n", b"network\n", b"\xff\xfe"]
)
def test_apply_network_refuses_what_is_not_a_netplan_file(tmp_path, content):
    box = make_box(tmp_path)
    (box.etc / "network.yaml").write_bytes(content)
    with pytest.raises(SystemActionError, match="not a netplan file|not UTF-8"):
        run(box, "apply-network")
    assert box.netplan.read_text() == "network: {site: 1}\n"
    assert box.trace() == []


def test_apply_network_does_not_follow_a_planted_symlink(tmp_path):
    box = make_box(tmp_path)
    secret = tmp_path / "shadow"
    secret.write_text("network: {}\nroot:hash\n")
    os.unlink(box.etc / "network.yaml")
    os.symlink(secret, box.etc / "network.yaml")
    with pytest.raises(SystemActionError, match="cannot read"):
        run(box, "apply-network")
    assert box.netplan.read_text() == "network: {site: 1}\n"


def test_rollback_without_a_previous_file_says_so(tmp_path):
    box = make_box(tmp_path)
    os.unlink(str(box.netplan) + ".previous")
    with pytest.raises(SystemActionError, match="no previous network settings"):
        run(box, "rollback-network")


def test_system_command_runs_each_operation_and_reports_failures(tmp_path):
    box = make_box(tmp_path)
    assert system(box, "reboot").returncode == 0
    assert box.trace() == ["reboot "]
    done = system(box, "factory-default")
    assert done.returncode == 0, done.stderr
    assert "restored " + str(box.etc / "accessory.conf") in done.stderr
    assert box.trace()[-1] == "reboot "
    (box.etc / "time.conf").write_text("[time]\ntimezone = Mars/Olympus Mons\n")
    failed = system(box, "set-time")
    assert failed.returncode == 1
    assert (
        "set-time failed: " in failed.stderr
        and "must be a time zone name" in failed.stderr
    )


def test_system_command_refuses_a_config_others_can_write(tmp_path):
    box = make_box(tmp_path)
    box.config.chmod(0o666)
    result = system(box, "reboot")
    assert result.returncode == 1
    assert "refusing" in result.stderr and "owned by root" in result.stderr
    assert box.trace() == []


def test_system_command_with_an_invalid_config_exits_78(tmp_path):
    box = make_box(tmp_path)
    box.config.write_text(box.config.read_text() + "reboot_commandd = reboot\n")
    result = system(box, "reboot")
    assert result.returncode == 78
    assert "did you mean 'reboot_command'" in result.stderr


def test_trust_check_covers_directory_and_drop_ins(tmp_path):
    folder = tmp_path / "conf"
    folder.mkdir(mode=0o755)
    conf = folder / "helper.conf"
    conf.write_text("[helper]\n")
    conf.chmod(0o644)
    check_trusted(str(conf))
    (folder / "helper.conf.d").mkdir(mode=0o755)
    (folder / "helper.conf.d" / "x.conf").write_text("[helper]\n")
    (folder / "helper.conf.d" / "x.conf").chmod(0o646)
    with pytest.raises(SystemActionError, match="x.conf"):
        check_trusted(str(conf))
    (folder / "helper.conf.d" / "x.conf").chmod(0o644)
    folder.chmod(0o777)
    with pytest.raises(SystemActionError, match="refusing"):
        check_trusted(str(conf))


@pytest.mark.skipif(os.geteuid() != 0, reason="a file owned by another user needs root")
def test_trust_check_refuses_a_file_owned_by_the_daemon_user(tmp_path):
    conf = tmp_path / "accessory.conf"
    conf.write_text("[helper]\n")
    os.chown(conf, 65534, 65534)
    with pytest.raises(SystemActionError, match="owned by root"):
        load_trusted(str(conf))


def test_without_a_config_the_helper_uses_the_packaged_defaults():
    config = load_trusted(None)
    assert config["helper"]["reboot_command"] == ["systemctl", "reboot"]
    assert config["helper"]["factory_dir"] == "/opt/ivs-accessory/factory"
