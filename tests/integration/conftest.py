"""Fixtures for the tests that boot a QEMU VM; they skip where no VM can run."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from public_install import shared_python

from .vm import Vm, install_for_guest, vm_available


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


@pytest.fixture(scope="session")
def installed_vm(vm: Vm) -> Iterator[Vm]:
    """``vm`` with the project installed as a box has it, for the guest's service and
    its unprivileged user (see install_for_guest); removed after the session."""
    python = shared_python()
    if python is None:
        pytest.skip(
            "no Python of this venv's version that the guest's service may run "
            "(outside /root, /home and /tmp); the installed copy needs one"
        )
    with tempfile.TemporaryDirectory(prefix="ivs-vm-install-") as folder:
        venv = install_for_guest(vm.project_root, python, Path(folder))
        yield dataclasses.replace(vm, installed=venv)
