"""Factory default with real templates in tmp_path and commands as tracing scripts."""

from __future__ import annotations

import dataclasses
import os
import signal
import stat
import subprocess
import sys
import textwrap

import pytest
from fakebox import make_box, script

from ivs_accessory.config import load
from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.commands import CommandRunner
from ivs_accessory.system.factory import FactoryPlan, Restore, factory_default
from ivs_accessory.system.helper import factory_plan


def test_factory_default_restores_every_template_and_removes_the_rest(tmp_path):
    box = make_box(tmp_path)
    factory_default(factory_plan(load(box.config)), CommandRunner(timeout_s=10))
    assert sorted(os.listdir(box.etc)) == [
        "accessory.conf",
        "network.yaml",
        "time.conf",
        "web-password",
    ]
    for live, template in [
        ("accessory.conf", "accessory.conf"),
        ("web-password", "web-password"),
        ("network.yaml", "netplan.yaml"),
        ("time.conf", "time.conf"),
    ]:
        assert (box.etc / live).read_text() == box.template(template), live
        assert stat.S_IMODE(os.stat(box.etc / live).st_mode) == 0o600
    assert box.netplan.read_text() == box.template("netplan.yaml")
    assert not os.path.exists(str(box.netplan) + ".previous")
    # The audit log is kept (evidence); everything else in the state directory goes.
    assert sorted(os.listdir(box.state)) == ["audit.log", "audit.log.1"]
    assert (box.state / "audit.log").read_text() == '{"result": "started"}\n'
    # The template time has no NTP servers: the drop-in goes, the zone is UTC.
    assert not box.timesyncd.exists()
    assert box.trace() == [
        "systemctl enable ivs-accessory.socket",
        "timedatectl set-timezone Etc/UTC",
        "systemctl try-restart timesyncd",
        "reboot ",
    ]


def test_factory_default_logs_each_step(tmp_path, caplog):
    box = make_box(tmp_path)
    caplog.set_level("INFO", "ivs_accessory")
    factory_default(factory_plan(load(box.config)), CommandRunner(timeout_s=10))
    text = caplog.text
    for step in (
        "restored " + str(box.etc / "accessory.conf"),
        "restored " + str(box.netplan),
        "removed " + str(box.etc / "accessory.conf.d"),
        "removed " + str(box.state / "sessions.json"),
        "re-enable the web page: done",
        "apply the template time: done",
        "settings restored; rebooting",
    ):
        assert step in text, step


def test_a_failing_step_is_reported_but_the_box_still_reboots(tmp_path):
    box = make_box(tmp_path)
    failing = script(tmp_path, "broken-systemctl", "echo 'unit masked' >&2; exit 1")
    plan = factory_plan(load(box.config))
    plan = dataclasses.replace(plan, web_enable_command=[failing])
    with pytest.raises(
        SystemActionError, match="could not re-enable the web page.*masked"
    ):
        factory_default(plan, CommandRunner(timeout_s=10))
    assert box.trace()[-1] == "reboot "
    assert (box.etc / "accessory.conf").read_text() == box.template("accessory.conf")


def test_a_missing_template_touches_nothing(tmp_path):
    box = make_box(tmp_path)
    os.unlink(box.factory / "time.conf")
    with pytest.raises(SystemActionError, match="time.conf"):
        factory_default(factory_plan(load(box.config)), CommandRunner(timeout_s=10))
    assert (box.etc / "accessory.conf").read_text() == "site's accessory.conf\n"
    assert (box.etc / "accessory.conf.d" / "extra.conf").exists()
    assert box.trace() == []


def test_restore_replaces_a_planted_symlink_instead_of_writing_through_it(tmp_path):
    box = make_box(tmp_path)
    victim = tmp_path / "shadow"
    victim.write_text("root:secret\n")
    os.unlink(box.etc / "web-password")
    os.symlink(victim, box.etc / "web-password")
    factory_default(factory_plan(load(box.config)), CommandRunner(timeout_s=10))
    assert victim.read_text() == "root:secret\n"
    assert not (box.etc / "web-password").is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="giving files to another user needs root")
def test_daemon_files_go_to_the_owner_and_the_netplan_file_stays_root_owned(tmp_path):
    box = make_box(tmp_path)
    text = box.config.read_text().replace("owner =\n", "owner = nobody\n")
    box.config.write_text(text)
    factory_default(factory_plan(load(box.config)), CommandRunner(timeout_s=10))
    for name in ("accessory.conf", "web-password", "network.yaml", "time.conf"):
        assert os.stat(box.etc / name).st_uid == 65534, name
    assert os.stat(box.netplan).st_uid == 0


def test_plan_without_commands_only_restores(tmp_path):
    (tmp_path / "t").write_text("template")
    plan = FactoryPlan(
        restores=[Restore(str(tmp_path / "t"), str(tmp_path / "live" / "t"))]
    )
    factory_default(plan, CommandRunner())
    assert (tmp_path / "live" / "t").read_text() == "template"


def test_kill_during_factory_defaults_leaves_each_file_old_or_new(tmp_path):
    """kill -9 a process that resets in a loop: every live file is whole, old or new."""
    box = make_box(tmp_path)
    live = {box.etc / "accessory.conf": "accessory.conf", box.netplan: "netplan.yaml",
            box.etc / "web-password": "web-password"}  # fmt: skip
    site = {path: f"site {name} " * 20_000 for path, name in live.items()}
    loop = textwrap.dedent(f"""
        import sys
        from ivs_accessory.config import load
        from ivs_accessory.system.factory import factory_default
        from ivs_accessory.system.helper import factory_plan
        from ivs_accessory.system.atomic import atomic_write
        from ivs_accessory.system.commands import CommandRunner
        import dataclasses
        plan, runner = factory_plan(load({str(box.config)!r})), CommandRunner()
        # Files only: the commands would take most of the time, and kills would miss
        # the writes.
        plan = dataclasses.replace(plan, web_enable_command=(), time=None,
                                   reboot_command=())
        names = {{{", ".join(f"{str(p)!r}: {n!r}" for p, n in live.items())}}}
        site = {{path: f"site {{name}} " * 20_000 for path, name in names.items()}}
        print("go", flush=True)
        while True:
            for path, text in site.items():
                atomic_write(path, text.encode())
            factory_default(plan, runner)
            print("reset", flush=True)
    """)
    for round_ in range(12):
        child = subprocess.Popen([sys.executable, "-c", loop], stdout=subprocess.PIPE,
                                 text=True)  # fmt: skip
        assert child.stdout.readline() == "go\n"
        for _ in range(1 + round_ % 4):  # kill at a different point each round
            assert child.stdout.readline() == "reset\n"
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        for path, name in live.items():
            assert path.read_text() in (site[path], box.template(name)), path
