"""Fixtures for the tests that boot a QEMU VM; they skip where no VM can run."""

from __future__ import annotations

from pathlib import Path

import pytest

from .vm import Vm, vm_available


@pytest.fixture(scope="session")
def vm() -> Vm:
    """The VM harness for this checkout, with its kernel and initramfs cached."""
    available, reason = vm_available()
    if not available:
        pytest.skip(reason)
    harness = Vm()
    if not Path(harness.python).exists():
        pytest.skip(f"no virtual environment at {harness.python}; run scripts/setup")
    harness.prepare()
    return harness
