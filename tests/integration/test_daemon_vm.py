"""The real daemon on a real kernel: uinput keypad and HID card reader, grab, LEDs,
unplug/replug, absent at start (the guest side is guest_daemon.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .vm import Vm

pytestmark = pytest.mark.integration

GUEST_TESTS = Path(__file__).with_name("guest_daemon.py")


def test_daemon_reads_real_input_devices_in_the_vm(installed_vm: Vm) -> None:
    # The installed copy serves the test whose daemon runs as nobody.
    result = installed_vm.run_pytest([str(GUEST_TESTS), "-s"], timeout_s=300)
    output = result.program_output
    for figure in re.findall(r"FIGURE .*", output):
        print(figure)  # shown with pytest -s; the closing note quotes them
    assert result.returncode == 0, result.output
    assert re.search(r"\b8 passed\b", output), output
