"""The VM harness: output, exit codes, uinput/evdev and systemd on a real kernel."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest
from evdev import ecodes as e

from .vm import Vm, find_kernel, make_disk

pytestmark = pytest.mark.integration

GUEST_UINPUT = Path(__file__).with_name("guest_uinput.py")


def child_pids() -> list[int]:
    """Processes whose parent is this test process (a leftover QEMU would be one)."""
    me = str(os.getpid())
    found = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if fields[1] == me:
            found.append(int(stat_file.parent.name))
    return found


def guest_facts(output: str) -> dict:
    """The JSON that guest_uinput.py printed after its ``IVS-RESULT`` tag."""
    for line in output.splitlines():
        if line.startswith("IVS-RESULT "):
            return json.loads(line.removeprefix("IVS-RESULT "))
    raise AssertionError(f"no IVS-RESULT line in the guest output:\n{output}")


@pytest.mark.parametrize("code", [0, 3])
def test_run_in_vm_returns_output_and_exit_code(vm: Vm, code: int) -> None:
    program = (
        "import os, sys\n"
        "print('kernel', os.uname().release)\n"
        "print(open('/tmp/greeting.txt').read().strip())\n"
        "print('on stderr', file=sys.stderr)\n"
        f"sys.exit({code})\n"
    )
    files = {"greeting.txt": "hello from the host"}
    result = vm.run_python(program, timeout_s=90, files=files)
    assert result.returncode == code, result.output
    assert result.exited_by == "poweroff"
    assert f"kernel {find_kernel().version}\n" in result.program_output
    assert "hello from the host\non stderr\n" in result.program_output


def test_binds_show_a_host_folder_and_keep_the_guest_writes(
    vm: Vm, tmp_path: Path
) -> None:
    # pytest's tmp_path is under /tmp, which the guest gets fresh: init must hold the
    # folder before that hides it.
    (tmp_path / "greeting.txt").write_text("hello from a host folder\n")
    program = (
        "from pathlib import Path\n"
        "shown = Path('/opt/ivs-check')\n"
        "print(shown.joinpath('greeting.txt').read_text().strip())\n"
        "shown.joinpath('written.txt').write_text('by the guest')\n"
        "print(sorted(p.name for p in shown.iterdir()))\n"
    )
    result = vm.run_python(program, timeout_s=90, binds={"/opt/ivs-check": tmp_path})
    assert result.returncode == 0, result.output
    assert result.program_output == (
        "hello from a host folder\n['greeting.txt', 'written.txt']\n"
    )
    assert not (tmp_path / "written.txt").exists()  # the overlay took the write


def test_a_disk_keeps_what_was_flushed_across_a_power_cut(
    vm: Vm, tmp_path: Path
) -> None:
    disk = make_disk(tmp_path / "disk.img", 256)
    first = (
        "import os\n"
        "with open('/root/flushed', 'w') as f:\n"
        "    f.write('kept'); f.flush(); os.fsync(f.fileno())\n"
        "os.sync()\n"
        "open('/tmp/from-the-first-boot', 'w').close()\n"
        "print('written', flush=True)\n"
        "open('/proc/sysrq-trigger', 'w').write('b')  # a reset: no sync, no unmount\n"
    )
    cut = vm.run_python(first, timeout_s=120, disk=disk)
    assert "written" in cut.program_output, cut.output
    assert cut.exited_by == "reboot" and cut.returncode is None, cut.output
    second = (
        "import os\n"
        "print('found', open('/root/flushed').read())\n"
        "print('tmp kept', os.path.exists('/tmp/from-the-first-boot'))\n"
    )
    after = vm.run_python(second, timeout_s=120, disk=disk)
    assert after.returncode == 0, after.output
    assert "found kept\n" in after.program_output
    # /tmp is fresh (it may show the checkout, when that is under /tmp).
    assert "tmp kept False\n" in after.program_output
    # Without the disk, the guest's writes are gone.
    plain = vm.run_python("import os; print(os.path.exists('/root/flushed'))",
                          timeout_s=120)  # fmt: skip
    assert plain.program_output.strip().endswith("False"), plain.output


def test_uinput_keypad_grab_and_leds_in_guest(vm: Vm) -> None:
    result = vm.run([vm.python, str(GUEST_UINPUT)], timeout_s=100)
    assert result.returncode == 0, result.output
    facts = guest_facts(result.program_output)
    assert facts["listed"], "uinput device missing from evdev.list_devices()"
    assert facts["name"] == "IVS test keypad"
    digits = [getattr(e, f"KEY_KP{n}") for n in range(10)]
    assert set(digits + [e.KEY_KPENTER, e.KEY_NUMLOCK]) <= set(facts["keys"])
    assert facts["leds"] == [e.LED_NUML, e.LED_CAPSL]
    assert (facts["grab"], facts["second_grab"]) == ("ok", "EBUSY")
    presses = [[e.KEY_KP1, 1], [e.KEY_KP1, 0], [e.KEY_KPENTER, 1], [e.KEY_KPENTER, 0]]
    assert facts["read"] == presses
    assert not facts["other_saw_events"], "a grab must keep events from other readers"
    assert facts["led_state"] == [e.LED_NUML]
    assert facts["led_at_uinput"] == [[e.LED_NUML, 1]]
    assert facts["after_unplug"] == "ENODEV"
    assert facts["replugged"]


GUEST_TESTS = """
from evdev import InputDevice, ecodes as e
from integration.guest_uinput import create_card_reader, read_events, type_card


def test_card_reader_types_digits_then_enter():
    with create_card_reader() as ui:
        device = InputDevice(ui.device.path)
        type_card(ui, "42")
        presses = [ev.code for ev in read_events(device, 6, 5) if ev.value == 1]
        device.close()
    assert presses == [e.KEY_4, e.KEY_2, e.KEY_ENTER]


def test_failure_is_reported():
    assert False, "expected failure"
"""


def test_pytest_in_guest_reports_results(vm: Vm) -> None:
    # Guest-side tests live only in the guest's overlay, not in the checkout.
    path = vm.project_root / "tests" / "integration" / "guest_probe.py"
    result = vm.run_pytest([str(path)], timeout_s=100, files={str(path): GUEST_TESTS})
    assert result.returncode == 1, result.output
    assert "1 failed, 1 passed" in result.program_output
    assert "expected failure" in result.program_output


def test_systemd_unit_reboot_ends_the_vm(vm: Vm) -> None:
    marker = f"IVS-UNIT-MARKER-{secrets.token_hex(4)}"
    unit = (
        "[Unit]\nDescription=harness check: print, then reboot\n\n"
        f"[Service]\nType=oneshot\nExecStart=/bin/echo {marker}\n"
        "ExecStart=/bin/systemctl reboot\nStandardOutput=journal+console\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    result = vm.run([], systemd=True, units={"ivs-check.service": unit}, timeout_s=100)
    assert result.exited_by == "reboot", result.output
    assert marker in result.output
    assert result.returncode is None


def test_systemd_runs_argv_after_units_then_powers_off(vm: Vm) -> None:
    unit = (
        "[Unit]\nDescription=harness check: stays active\n\n"
        "[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=/bin/true\n\n"
        "[Install]\nWantedBy=multi-user.target\n"
    )
    script = "systemctl is-active ivs-check.service; cat /etc/ivs-check.conf; exit 5"
    result = vm.run(["/bin/sh", "-c", script], systemd=True, timeout_s=100,
                    units={"ivs-check.service": unit},
                    files={"/etc/ivs-check.conf": "written by the host\n"})  # fmt: skip
    assert result.returncode == 5, result.output
    assert result.program_output == "active\nwritten by the host\n"
    assert result.exited_by == "poweroff"


def test_timeout_kills_qemu_and_keeps_earlier_output(vm: Vm) -> None:
    result = vm.run(["/bin/sh", "-c", "echo started; exec sleep 600"], timeout_s=15)
    assert result.exited_by == "timeout"
    assert result.returncode is None
    assert "started\n" in result.program_output, result.output
    assert child_pids() == []
