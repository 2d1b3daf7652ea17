"""The recording lamp on a real kernel: a uhid Luxafor Flag, written through hidraw
by the lamp and by the real daemon (the guest side is guest_lamp.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .vm import Vm

pytestmark = pytest.mark.integration

GUEST_TESTS = Path(__file__).with_name("guest_lamp.py")


def test_the_lamp_drives_a_uhid_light_in_the_vm(vm: Vm) -> None:
    pytest.importorskip("busylight_core", reason="the lamp extra is not installed")
    result = vm.run_pytest([str(GUEST_TESTS), "-s"], timeout_s=300)
    output = result.program_output
    for line in re.findall(r"(?:FIGURE|FACT) .*", output):
        print(line)  # shown with pytest -s
    assert result.returncode == 0, result.output
    assert re.search(r"\b3 passed\b", output), output
