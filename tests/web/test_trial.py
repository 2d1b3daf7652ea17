"""Network change on trial, with traced commands: roll-back, confirmation, close."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading

import pytest

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.commands import SystemControl
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


def thread_names() -> list[str]:
    return [thread.name for thread in threading.enumerate()]


def traced(trace) -> list[str]:
    return trace.read_text().split() if trace.exists() else []


# A daemon that applies a change and dies before anyone confirms it (kill -9 here;
# a power cut leaves the same files behind).
_DYING_DAEMON = textwrap.dedent(
    """
    import json, sys
    from ivs_accessory.system.commands import SystemControl
    from ivs_accessory.web.trial import NetworkTrial
    settings, path, yaml = json.loads(sys.argv[1])
    NetworkTrial().begin(SystemControl(settings), path, yaml, 600, "static", None)
    print("applied", flush=True)
    sys.stdin.read()
    """
)


def leave_a_trial_behind(control: SystemControl, path, yaml: str) -> None:
    """Begin a trial in another process, then kill it with SIGKILL."""
    args = json.dumps([dict(control.settings), str(path), yaml])
    process = subprocess.Popen(
        [sys.executable, "-c", _DYING_DAEMON, args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline() == "applied\n"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        process.stdin.close()
        process.stdout.close()


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


def test_trial_close_waits_for_its_watcher_thread(tmp_path, system):
    control, trace = system
    trial = NetworkTrial()
    trial.begin(control, str(tmp_path / "n.yaml"), STATIC_YAML, 600, "static", None)
    assert "network-trial" in thread_names()
    trial.close()
    assert "network-trial" not in thread_names()


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


def test_a_trial_left_by_a_killed_daemon_is_rolled_back_at_the_next_start(
    tmp_path, system
):
    control, trace = system
    path = tmp_path / "network.yaml"
    path.write_text(DHCP_YAML)
    leave_a_trial_behind(control, path, STATIC_YAML)
    assert path.read_text() == STATIC_YAML and traced(trace) == ["apply_network"]
    trial = NetworkTrial()
    assert trial.recover(control, str(path)) is True
    assert traced(trace) == ["apply_network", "rollback_network"]
    assert path.read_text() == DHCP_YAML and trial.last_rolled_back()
    assert trial.recover(control, str(path)) is False  # once only
    assert traced(trace) == ["apply_network", "rollback_network"]


def test_a_new_file_left_on_trial_is_removed_by_the_recovery(tmp_path, system):
    control, trace = system
    path = tmp_path / "network.yaml"
    leave_a_trial_behind(control, path, STATIC_YAML)
    assert NetworkTrial().recover(control, str(path)) is True
    assert not path.exists()


@pytest.mark.parametrize("ending", ["confirmed", "rolled back", "closed", "failed"])
def test_a_settled_trial_leaves_nothing_to_recover(tmp_path, system, ending):
    control, trace = system
    path = tmp_path / "network.yaml"
    path.write_text(DHCP_YAML)
    trial = NetworkTrial()
    if ending == "failed":
        failing = SystemControl(
            {"apply_network_command": ["false"], "command_timeout_s": 10}
        )
        with pytest.raises(SystemActionError):
            trial.begin(failing, str(path), STATIC_YAML, 600, "static", None)
    else:
        timeout = 0.1 if ending == "rolled back" else 600
        trial.begin(control, str(path), STATIC_YAML, timeout, "static", None)
        if ending == "confirmed":
            assert trial.confirm(None) is None
        elif ending == "closed":
            trial.close()
        assert trial.done.wait(10)
    before = traced(trace)
    assert NetworkTrial().recover(control, str(path)) is False
    assert traced(trace) == before


def test_the_page_rolls_back_a_change_its_dead_predecessor_left(box):
    from ivs_accessory.web import create_app

    control = SystemControl(box.service.config["system"])
    path = box.service.config["system"]["network_file"]
    with open(path, "w") as file:
        file.write(DHCP_YAML)
    leave_a_trial_behind(control, path, STATIC_YAML)
    app = create_app(box.service, devices=lambda: [])
    try:
        page = app.config["ivs.page"]
        page.recovery.stop(30)  # ThreadStuckError if still rolling back by then
        assert not page.recovery.alive
        assert traced(box.folder / "trace.log")[-2:] == [
            "apply_network",
            "rollback_network",
        ]
        with open(path) as file:
            assert file.read() == DHCP_YAML
    finally:
        app.close()


def test_an_unreadable_marker_still_rolls_back_and_keeps_the_file(tmp_path, system):
    control, trace = system
    path = tmp_path / "network.yaml"
    path.write_text(STATIC_YAML)
    (tmp_path / "network.yaml.trial").write_text("{not json")
    assert NetworkTrial().recover(control, str(path)) is True
    assert traced(trace) == ["rollback_network"]
    assert path.read_text() == STATIC_YAML  # the helper restores it from the live one
    assert not (tmp_path / "network.yaml.trial").exists()
