"""System operations with real commands (small scripts in tmp_path) and real files."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system import CommandRunner, FactoryPlan, Restore, atomic_copy, factory_default


def script(tmp_path, name, body):
    """An executable shell script that leaves a trace in trace.log."""
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\necho \"{name} $*\" >> {tmp_path / 'trace.log'}\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_runner_runs_argument_lists_and_reports_failures(tmp_path):
    runner = CommandRunner(timeout_s=5)
    ok = script(tmp_path, "ok", "echo hello")
    assert runner.run([ok, "a b; rm -rf /"]) == "hello\n"
    assert (tmp_path / "trace.log").read_text() == "ok a b; rm -rf /\n"  # one argument
    bad = script(tmp_path, "bad", "echo 'disk on fire' >&2; exit 3")
    with pytest.raises(SystemActionError, match="exit code 3: disk on fire"):
        runner.run([bad])
    with pytest.raises(SystemActionError, match="not found"):
        runner.run([str(tmp_path / "missing")])
    with pytest.raises(SystemActionError, match="list of arguments"):
        runner.run("reboot")  # type: ignore[arg-type]


def test_runner_times_out(tmp_path):
    slow = script(tmp_path, "slow", "exec sleep 30")
    with pytest.raises(SystemActionError, match="within 0.2 s"):
        CommandRunner().run([slow], timeout_s=0.2)


@pytest.fixture
def plan(tmp_path):
    templates, live = tmp_path / "templates", tmp_path / "live"
    templates.mkdir()
    live.mkdir()
    for name, text in {"accessory.conf": "[valt]\n", "web-password": "hash\n",
                       "ivs.yaml": "network: {}\n"}.items():
        (templates / name).write_text(text)
        (live / name).write_text("site settings\n")
    (live / "audit.log").write_text("{}\n")
    return FactoryPlan(
        restores=[Restore(str(templates / n), str(live / n)) for n in
                  ("accessory.conf", "web-password", "ivs.yaml")],
        remove=[str(live / "audit.log"), str(live / "never-existed")],
        timezone_command=[script(tmp_path, "timedatectl", ""), "set-timezone", "UTC"],
        reboot_command=[script(tmp_path, "reboot", "")],
    )


def test_factory_default_restores_removes_and_reboots_in_order(plan, tmp_path):
    factory_default(plan, CommandRunner())
    live = tmp_path / "live"
    assert (live / "accessory.conf").read_text() == "[valt]\n"
    assert (live / "web-password").read_text() == "hash\n"
    assert not (live / "audit.log").exists()
    assert stat.S_IMODE(os.stat(live / "accessory.conf").st_mode) == 0o600
    assert (tmp_path / "trace.log").read_text() == "timedatectl set-timezone UTC\nreboot \n"
    assert [p.name for p in live.iterdir() if p.name.startswith(".")] == []


def test_a_missing_template_touches_nothing(plan, tmp_path):
    os.unlink(plan.restores[1].template)
    with pytest.raises(SystemActionError, match="web-password"):
        factory_default(plan, CommandRunner())
    assert (tmp_path / "live" / "accessory.conf").read_text() == "site settings\n"
    assert not (tmp_path / "trace.log").exists()


def test_kill_during_atomic_copies_leaves_old_or_new(tmp_path):
    """kill -9 a process copying in a loop: the target always parses as one whole file."""
    old, new = "old " * 50_000, "new " * 80_000
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    target = tmp_path / "target"
    target.write_text(old)
    loop = textwrap.dedent(f"""
        import sys
        from ivs_accessory.system import atomic_copy
        print("go", flush=True)
        while True:
            atomic_copy({str(tmp_path / 'new')!r}, {str(target)!r})
            print("copied", flush=True)
            atomic_copy({str(tmp_path / 'old')!r}, {str(target)!r})
            print("copied", flush=True)
    """)
    for round_ in range(20):
        child = subprocess.Popen([sys.executable, "-c", loop], stdout=subprocess.PIPE, text=True)
        assert child.stdout.readline() == "go\n"
        for _ in range(1 + round_ % 4):  # kill at a different point of the loop each round
            assert child.stdout.readline() == "copied\n"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert target.read_text() in (old, new)
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.startswith(".factory-")]
    # A kill between mkstemp and rename may leave a temporary file; never a torn target.
    assert all(name.startswith(".factory-") for name in leftovers)


def test_atomic_copy_sets_mode(tmp_path):
    (tmp_path / "src").write_text("x")
    atomic_copy(str(tmp_path / "src"), str(tmp_path / "sub" / "dst"), 0o640)
    assert stat.S_IMODE(os.stat(tmp_path / "sub" / "dst").st_mode) == 0o640


def test_system_control_runs_the_configured_command_as_an_argument_list(tmp_path):
    from ivs_accessory.config import load

    trace = tmp_path / "trace"
    script = tmp_path / "op"
    script.write_text(f"#!/bin/sh\nprintf '%s|' \"$@\" >> {trace}\n")
    script.chmod(0o755)
    conf = tmp_path / "a.conf"
    conf.write_text(f"[system]\nreboot_command = {script} 'two words' ;x\n"
                    f"factory_default_command = {tmp_path}/missing\n")
    from ivs_accessory.system import SystemControl

    control = SystemControl(load(str(conf))["system"])
    control.reboot()
    assert trace.read_text() == "two words|;x|"
    with pytest.raises(SystemActionError, match="not found"):
        control.factory_default()


def test_command_config_type_rejects_unclosed_quotes_and_empty(tmp_path):
    from ivs_accessory.config import check_file

    conf = tmp_path / "a.conf"
    conf.write_text("[system]\nreboot_command = 'oops\napply_time_command =\n")
    errors = check_file(str(conf))
    assert any("reboot_command" in e and "cannot split" in e for e in errors), errors
    assert any("apply_time_command" in e and "must be a command" in e for e in errors)
