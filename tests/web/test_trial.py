"""A network change on trial, with real commands that leave a trace: roll-back, confirmation, close."""

from __future__ import annotations

import pytest

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system import SystemControl
from ivs_accessory.web.trial import NetworkTrial

from .helpers import trace_script
from .test_network import DHCP_YAML, STATIC_YAML


@pytest.fixture
def system(tmp_path):
    trace = tmp_path / "trace.log"
    settings = {
        f"{op}_command": [str(trace_script(tmp_path, op, trace))]
        for op in ("apply_network", "rollback_network")
    }
    return SystemControl(settings | {"command_timeout_s": 10}), trace


def traced(trace) -> list[str]:
    return trace.read_text().split() if trace.exists() else []


def test_trial_rolls_back_and_restores_the_file_when_not_confirmed(tmp_path, system):
    control, trace = system
    path = tmp_path / "network.yaml"
    path.write_text(DHCP_YAML)
    trial = NetworkTrial()
    trial.begin(control, str(path), STATIC_YAML, 0.2, "static", "10.1.2.3")
    assert (
        path.read_text() == STATIC_YAML and trial.pending()["expect_host"] == "10.1.2.3"
    )
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
    control = SystemControl(
        {
            "apply_network_command": [
                str(trace_script(tmp_path, "apply_network", trace, fail=True))
            ],
            "command_timeout_s": 10,
        }
    )
    path = tmp_path / "network.yaml"
    path.write_text(DHCP_YAML)
    trial = NetworkTrial()
    with pytest.raises(SystemActionError, match="exit code 3"):
        trial.begin(control, str(path), STATIC_YAML, 600, "static", None)
    assert path.read_text() == DHCP_YAML and trial.pending() is None
