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
from ivs_accessory.system.atomic import atomic_copy, atomic_write
from ivs_accessory.system.commands import (
    CommandRunner,
    clear_directory,
    read_untrusted,
    system_settings,
)


def script(tmp_path, name, body):
    """An executable shell script that leaves a trace in trace.log."""
    path = tmp_path / name
    path.write_text(
        f'#!/bin/sh\necho "{name} $*" >> {tmp_path / "trace.log"}\n{body}\n'
    )
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


def test_kill_during_atomic_copies_leaves_old_or_new(tmp_path):
    """kill -9 a process copying in a loop: the target always parses as one whole
    file."""
    old, new = "old " * 50_000, "new " * 80_000
    (tmp_path / "old").write_text(old)
    (tmp_path / "new").write_text(new)
    target = tmp_path / "target"
    target.write_text(old)
    loop = textwrap.dedent(f"""
        import sys
        from ivs_accessory.system.atomic import atomic_copy
        print("go", flush=True)
        while True:
            atomic_copy({str(tmp_path / "new")!r}, {str(target)!r})
            print("copied", flush=True)
            atomic_copy({str(tmp_path / "old")!r}, {str(target)!r})
            print("copied", flush=True)
    """)
    for round_ in range(20):
        child = subprocess.Popen(
            [sys.executable, "-c", loop], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline() == "go\n"
        for _ in range(
            1 + round_ % 4
        ):  # kill at a different point of the loop each round
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
    conf.write_text(
        f"[system]\nreboot_command = {script} 'two words' ;x\n"
        f"factory_default_command = {tmp_path}/missing\n"
    )
    from ivs_accessory.system.commands import SystemControl

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


def test_atomic_write_sets_the_owner_through_the_descriptor(tmp_path):
    """The owner is set before the rename: a symlink planted at the target is replaced,
    never followed (root writes into the daemon's directory)."""
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    target = tmp_path / "live.conf"
    target.symlink_to(victim)
    me = os.getuid(), os.getgid()
    atomic_write(str(target), b"restored", 0o600, uid=me[0], gid=me[1])
    assert not target.is_symlink() and target.read_text() == "restored"
    assert victim.read_text() == "keep me"
    info = os.stat(target)
    assert (info.st_uid, info.st_gid) == me


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_atomic_write_gives_the_file_to_another_user(tmp_path):
    atomic_write(str(tmp_path / "f"), b"x", 0o600, uid=65534, gid=65534)
    info = os.stat(tmp_path / "f")
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (
        65534,
        65534,
        0o600,
    )


def test_read_untrusted_refuses_links_other_types_and_big_files(tmp_path):
    (tmp_path / "ok").write_bytes(b"12345")
    assert read_untrusted(str(tmp_path / "ok"), 5) == b"12345"
    with pytest.raises(SystemActionError, match="larger than 4 bytes"):
        read_untrusted(str(tmp_path / "ok"), 4)
    (tmp_path / "link").symlink_to(tmp_path / "ok")
    with pytest.raises(SystemActionError, match="cannot read"):
        read_untrusted(str(tmp_path / "link"), 100)
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(SystemActionError, match="not a regular file"):
        read_untrusted(str(tmp_path / "fifo"), 100)
    with pytest.raises(SystemActionError, match="does not exist"):
        read_untrusted(str(tmp_path / "missing"), 100)


def test_clear_directory_keeps_matches_and_never_follows_links(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious").write_text("x")
    state = tmp_path / "state"
    (state / "sessions").mkdir(parents=True)
    (state / "sessions" / "a").write_text("s")
    (state / "audit.log").write_text("{}")
    (state / "audit.log.1").write_text("{}")
    (state / "cache.db").write_text("c")
    (state / "link-to-outside").symlink_to(outside)
    removed = clear_directory(str(state), ["audit.log", "audit.log.*"])
    assert [os.path.basename(p) for p in removed] == [
        "cache.db",
        "link-to-outside",
        "sessions",
    ]
    assert sorted(os.listdir(state)) == ["audit.log", "audit.log.1"]
    assert (outside / "precious").read_text() == "x"
    assert clear_directory(str(tmp_path / "missing")) == []


@pytest.mark.parametrize(
    "folder", ["/", "/etc", "/var/lib/", "/etc/netplan", "relative"]
)
def test_clear_directory_refuses_system_directories(folder):
    with pytest.raises(SystemActionError, match="refusing to empty"):
        clear_directory(folder)


def test_system_settings_fall_back_to_the_defaults_for_a_broken_config(
    tmp_path, caplog
):
    conf = tmp_path / "a.conf"
    conf.write_text("[system]\nreboot_command = /bin/true\n[valt]\ntimeout_s = never\n")
    assert system_settings(str(conf))["reboot_command"][0] == "systemctl"
    assert "not usable (1 problem(s))" in caplog.text
    conf.write_text("[system]\nreboot_command = /bin/true\n")
    assert system_settings(str(conf))["reboot_command"] == ["/bin/true"]
    assert system_settings(str(tmp_path / "missing"))["factory_key"] == "KEY_RESTART"


def test_logs_come_from_the_file_the_helper_writes(tmp_path):
    from ivs_accessory.config import load
    from ivs_accessory.system.commands import SystemControl

    log = tmp_path / "service-log.txt"
    # Stands in for `systemctl start ivs-accessory-helper@logs.service`: the helper
    # writes the journal to logs_file and prints nothing to the daemon.
    helper = script(tmp_path, "start-logs", f"printf 'INFO a line\\n' > {log}")
    conf = tmp_path / "a.conf"
    conf.write_text(f"[system]\nlogs_command = {helper} logs\nlogs_file = {log}\n")
    assert SystemControl(load(str(conf))["system"]).logs() == "INFO a line\n"
    assert (tmp_path / "trace.log").read_text() == "start-logs logs\n"
    conf.write_text(
        f"[system]\nlogs_command = {helper} logs\nlogs_file = {tmp_path}/none\n"
    )
    with pytest.raises(SystemActionError, match="no log in .*none"):
        SystemControl(load(str(conf))["system"]).logs()


def test_logs_without_a_file_are_what_the_command_prints(tmp_path):
    from ivs_accessory.config import load
    from ivs_accessory.system.commands import SystemControl

    printer = script(tmp_path, "journal", "echo 'INFO printed'")
    conf = tmp_path / "a.conf"
    conf.write_text(f"[system]\nlogs_command = {printer}\nlogs_file =\n")
    assert SystemControl(load(str(conf))["system"]).logs() == "INFO printed\n"


def test_default_logs_command_starts_the_helper_and_reads_its_file():
    from ivs_accessory.config import load

    system = load(None)["system"]
    assert system["logs_command"] == [
        "systemctl", "start", "ivs-accessory-helper@logs.service"
    ]  # fmt: skip
    assert system["logs_file"] == "/var/lib/ivs-accessory/service-log.txt"
