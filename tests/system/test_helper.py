"""The privileged helper's operations, in-process and as `ivs-accessory system OP`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fakebox import REPO, make_box, script

from ivs_accessory.config import load
from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.commands import CommandRunner
from ivs_accessory.system.helper import check_trusted, load_trusted, run_operation
from ivs_accessory.system.netconfig import (
    NetworkSettings,
    parse_netplan,
    render_netplan,
)
from ivs_accessory.web.network import NETWORK_FORM, netplan_yaml

COMMAND = [sys.executable, "-m", "ivs_accessory"]
STATIC = """\
# Written by the ivs-accessory configuration page; installed by its helper.
network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      addresses:
        - 192.0.2.10/24
      routes:
        - to: default
          via: 192.0.2.1
      nameservers:
        addresses:
          - 192.0.2.53
"""


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
    staged.write_text(STATIC)
    run(box, "apply-network")
    assert box.netplan.read_text().endswith(STATIC.split("\n", 1)[1])
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
    (box.etc / "network.yaml").write_text(STATIC.replace("192.0.2.1\n", "192.0.2.99\n"))
    # Like `netplan apply`, it fails on the new file and accepts the old one.
    failing = script(
        tmp_path,
        "netplan-strict",
        f"if grep -q 192.0.2.99 {box.netplan}; then "
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
    with pytest.raises(SystemActionError, match="not allowed|not UTF-8|is empty"):
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


# -- apply-network rebuilds the staged file from an allowlist --------------------------

NM_PASSTHROUGH = """\
network:
  version: 2
  renderer: NetworkManager
  nm-devices:
    evil:
      renderer: NetworkManager
      networkmanager:
        passthrough:
          connection.type: vpn
          vpn.data: "remote=attacker.example"
"""
WIFI = """\
network:
  version: 2
  renderer: networkd
  wifis:
    wlan0:
      dhcp4: true
      access-points:
        "Attacker AP":
          password: "rogue-pass"
"""
WIREGUARD = """\
network:
  version: 2
  renderer: networkd
  tunnels:
    wg0:
      mode: wireguard
      key: cHJpdmF0ZWtleQ==
      peers:
        - keys: {public: cHVibGljMTIz}
          endpoint: 203.0.113.9:51820
          allowed-ips: [0.0.0.0/0]
"""


@pytest.mark.parametrize(
    "text, words",
    [
        (NM_PASSTHROUGH, "renderer: NetworkManager"),
        (WIFI, "wifis:"),
        (WIREGUARD, "tunnels:"),
        (STATIC + "  bridges:\n    br0: {}\n", "bridges:"),
        (STATIC.replace("eth0:\n", "eth0:\n      macaddress: 02:00:5e:00:53:01\n"),
         "macaddress"),
        (STATIC + "    eth1:\n      dhcp4: true\n", "eth1:"),
        (STATIC.replace("eth0", "wlan0"), "interface 'wlan0'"),
        ("network: {version: 2, ethernets: {eth0: {dhcp4: true}}}\n", "network: {"),
        (STATIC.replace("        - 192.0.2.10/24\n",
                        "        - 192.0.2.10/24\n        - 198.51.100.7/24\n"),
         "198.51.100.7/24"),
        (STATIC.replace("192.0.2.53", '"192.0.2.53"'), '"192.0.2.53"'),
        (STATIC.replace("192.0.2.53", "192.0.2.53 # x"), "192.0.2.53 # x"),
        (STATIC.replace("via: 192.0.2.1", "via: 10.9.9.9"), "gateway"),
        (STATIC.replace("192.0.2.10/24", "192.0.2.0/24"), "host address"),
        (STATIC.replace("      routes:\n", "      routes:\n        - to: 0.0.0.0/1\n"),
         "to: 0.0.0.0/1"),
        (STATIC.replace("  version: 2", "\tversion: 2"), "version: 2"),
    ],
)  # fmt: skip
def test_apply_network_refuses_anything_but_the_allowed_settings(tmp_path, text, words):
    box = make_box(tmp_path)
    (box.etc / "network.yaml").write_text(text)
    with pytest.raises(SystemActionError) as raised:
        run(box, "apply-network")
    assert words in str(raised.value), str(raised.value)
    assert box.netplan.read_text() == "network: {site: 1}\n"
    assert box.trace() == []


def test_apply_network_installs_what_it_rebuilt_not_the_staged_bytes(tmp_path):
    box = make_box(tmp_path)
    (box.etc / "network.yaml").write_text(
        "# a comment the helper drops\n\n"
        + STATIC.replace("192.0.2.53", "2001:DB8::53")
    )
    run(box, "apply-network")
    live = box.netplan.read_text()
    assert "a comment" not in live and "- 2001:db8::53\n" in live
    assert parse_netplan(live, "live") == NetworkSettings(
        "eth0", "static", "192.0.2.10/24", "192.0.2.1", ("2001:db8::53",)
    )
    assert box.trace() == ["netplan apply"]


def test_the_factory_template_and_search_domains_are_accepted():
    template = (REPO / "config" / "netplan.yaml").read_text()
    assert parse_netplan(template, "template") == NetworkSettings("eth0", "dhcp")
    settings = NetworkSettings(
        "end0", "static", "10.1.2.3/16", "", ("10.1.0.53",), ("rooms.example.org",)
    )
    assert parse_netplan(render_netplan(settings), "x") == settings


@pytest.mark.parametrize(
    "raw",
    [
        {"mode": "dhcp"},
        {"mode": "static", "address": "10.1.2.3/16"},
        {"mode": "static", "address": "10.1.2.3/16", "gateway": "10.1.0.1"},
        {"mode": "static", "address": "2001:db8::5/64", "gateway": "2001:db8::1",
         "dns": "2001:db8::53 192.0.2.53"},
    ],
)  # fmt: skip
def test_what_the_page_writes_is_what_the_helper_accepts(raw):
    values, errors = NETWORK_FORM.validate("network", raw)
    assert errors == {}
    settings = parse_netplan(netplan_yaml("eth0", values), "staged")
    assert settings.mode == raw["mode"] and settings.interface == "eth0"
    assert settings.address == raw.get("address", "")


# -- logs: the journal for the page's download, without the journal group -------------


def test_logs_writes_the_journal_to_the_logs_file_for_the_daemon(tmp_path):
    box = make_box(
        tmp_path,
        helper_extra="journal_command = "
        + script(tmp_path, "journalctl", "echo 'INFO ivs_accessory: started'")
        + " --unit ivs-accessory.service\n",
    )
    target = box.state / "service-log.txt"
    box.config.write_text(
        box.config.read_text().replace(
            "[system]\n", f"[system]\nlogs_file = {target}\n", 1
        )
    )
    result = system(box, "logs")
    assert result.returncode == 0, result.stderr
    assert target.read_text() == "INFO ivs_accessory: started\n"
    assert oct(os.stat(target).st_mode & 0o777) == "0o600"
    assert box.trace() == ["journalctl --unit ivs-accessory.service"]


def test_logs_replaces_a_planted_symlink_instead_of_following_it(tmp_path):
    box = make_box(
        tmp_path,
        helper_extra="journal_command = " + script(tmp_path, "journalctl", "echo x"),
    )
    victim = tmp_path / "victim"
    victim.write_text("keep me\n")
    target = box.state / "service-log.txt"
    target.symlink_to(victim)
    box.config.write_text(
        box.config.read_text().replace(
            "[system]\n", f"[system]\nlogs_file = {target}\n", 1
        )
    )
    run(box, "logs")
    assert victim.read_text() == "keep me\n" and not target.is_symlink()
    assert target.read_text() == "x\n"
