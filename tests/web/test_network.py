"""The network and time files and the try-and-roll-back, with real commands that leave a trace."""

from __future__ import annotations

import pytest

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system import SystemControl
from ivs_accessory.web.network import (
    NETWORK_FORM,
    TIME_FORM,
    NetworkTrial,
    netplan_yaml,
    read_netplan,
    read_time_conf,
    time_conf,
)

from .helpers import trace_script

DHCP_YAML = """\
# Written by the ivs-accessory configuration page; installed by its helper.
network:
  version: 2
  renderer: networkd
  ethernets:
    eth0:
      dhcp4: true
"""
STATIC_YAML = """\
# Written by the ivs-accessory configuration page; installed by its helper.
network:
  version: 2
  renderer: networkd
  ethernets:
    end0:
      addresses:
        - 10.1.2.3/16
      routes:
        - to: default
          via: 10.1.0.1
      nameservers:
        addresses:
          - 10.1.0.53
          - 2001:db8::53
"""


def values(**raw):
    checked, errors = NETWORK_FORM.validate("network", raw)
    assert errors == {}
    return checked


def test_netplan_for_dhcp_and_static():
    assert netplan_yaml("eth0", values(mode="dhcp")) == DHCP_YAML
    static = values(mode="static", address="10.1.2.3/16", gateway="10.1.0.1",
                    dns="10.1.0.53, 2001:db8::53")
    assert netplan_yaml("end0", static) == STATIC_YAML


def test_netplan_without_gateway_or_dns_has_only_the_address():
    text = netplan_yaml("eth0", values(mode="static", address="192.0.2.7/24"))
    assert "routes" not in text and "nameservers" not in text
    assert text.endswith("      addresses:\n        - 192.0.2.7/24\n")


@pytest.mark.parametrize("text, shown", [
    (None, {"mode": "dhcp", "address": "", "gateway": "", "dns": ""}),
    (DHCP_YAML, {"mode": "dhcp", "address": "", "gateway": "", "dns": ""}),
    (STATIC_YAML, {"mode": "static", "address": "10.1.2.3/16", "gateway": "10.1.0.1",
                   "dns": "10.1.0.53 2001:db8::53"}),
    ("network: {version: 2, renderer: networkd, ethernets: {eth0: {addresses: "
     "[192.0.2.5/24], routes: [{to: default, via: 192.0.2.1}], nameservers: "
     "{addresses: [192.0.2.53]}}}}",
     {"mode": "static", "address": "192.0.2.5/24", "gateway": "192.0.2.1",
      "dns": "192.0.2.53"}),
    ("network: {version: 2, ethernets: {eth0: {dhcp4: true}}}",
     {"mode": "dhcp", "address": "", "gateway": "", "dns": ""}),
])
def test_read_netplan_shows_what_the_file_says(text, shown):
    assert read_netplan(text) == shown


def test_time_conf_round_trip():
    checked, errors = TIME_FORM.validate("time", {"timezone": "America/New_York",
                                                  "ntp_servers": "a.example b.example"})
    assert errors == {}
    text = time_conf(checked)
    assert "[time]\ntimezone = America/New_York\nntp_servers = a.example b.example\n" in text
    assert read_time_conf(text) == {"timezone": "America/New_York",
                                    "ntp_servers": "a.example b.example"}
    assert read_time_conf("junk") == {"timezone": "Etc/UTC", "ntp_servers": ""}


@pytest.fixture
def system(tmp_path):
    trace = tmp_path / "trace.log"
    settings = {f"{op}_command": [str(trace_script(tmp_path, op, trace))]
                for op in ("apply_network", "rollback_network")}
    return SystemControl(settings | {"command_timeout_s": 10}), trace


def traced(trace) -> list[str]:
    return trace.read_text().split() if trace.exists() else []


def test_trial_rolls_back_and_restores_the_file_when_not_confirmed(tmp_path, system):
    control, trace = system
    path = tmp_path / "network.yaml"
    path.write_text(DHCP_YAML)
    trial = NetworkTrial()
    trial.begin(control, str(path), STATIC_YAML, 0.2, "static", "10.1.2.3")
    assert path.read_text() == STATIC_YAML and trial.pending()["expect_host"] == "10.1.2.3"
    assert trial.done.wait(10)
    assert traced(trace) == ["apply_network", "rollback_network"]
    assert path.read_text() == DHCP_YAML and trial.pending() is None
    assert trial.last_rolled_back()
    assert trial.confirm("10.1.2.3") == "no network change is waiting for confirmation"


def test_trial_kept_when_confirmed_from_the_expected_host(tmp_path, system):
    control, trace = system
    path = tmp_path / "network.yaml"
    trial = NetworkTrial()
    trial.begin(control, str(path), STATIC_YAML, 30, "static", "10.1.2.3")
    assert "confirm from the new address" in trial.confirm("192.0.2.1")
    assert trial.confirm("10.1.2.3") is None
    assert trial.done.wait(10) and not trial.last_rolled_back()
    assert traced(trace) == ["apply_network"] and path.read_text() == STATIC_YAML


def test_trial_close_rolls_back_at_once_and_removes_a_new_file(tmp_path, system):
    control, trace = system
    path = tmp_path / "network.yaml"
    trial = NetworkTrial()
    trial.begin(control, str(path), STATIC_YAML, 600, "static", None)
    trial.close()
    assert trial.done.is_set() and not path.exists()
    assert traced(trace) == ["apply_network", "rollback_network"]


def test_trial_refuses_a_second_change_while_one_is_pending(tmp_path, system):
    control, trace = system
    trial = NetworkTrial()
    trial.begin(control, str(tmp_path / "n.yaml"), STATIC_YAML, 600, "static", None)
    with pytest.raises(SystemActionError, match="waiting for confirmation"):
        trial.begin(control, str(tmp_path / "n.yaml"), DHCP_YAML, 600, "dhcp", None)
    trial.close()


def test_trial_restores_the_file_when_apply_fails(tmp_path):
    trace = tmp_path / "trace.log"
    control = SystemControl({"apply_network_command": [str(
        trace_script(tmp_path, "apply_network", trace, fail=True))],
        "command_timeout_s": 10})
    path = tmp_path / "network.yaml"
    path.write_text(DHCP_YAML)
    trial = NetworkTrial()
    with pytest.raises(SystemActionError, match="exit code 3"):
        trial.begin(control, str(path), STATIC_YAML, 600, "static", None)
    assert path.read_text() == DHCP_YAML and trial.pending() is None
