"""Debian package install -> READY, in the test VM: python -m benchmarks.deb_install.

Builds the .deb, downloads the Debian packages it needs that the host lacks, boots the
VM (the host's root under an overlay, real systemd, no network) and installs it there
with apt from files. Prints the time from apt's start to the daemon's READY=1 (the
unit's ActiveEnterTimestamp), the install with its dependencies, and the package size.
The VM emulates its CPU (TCG: no KVM here), so the figures are upper bounds for this
machine; a Pi runs the same steps natively.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

# The VM harness and the package helpers live with the VM tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from integration.debs import offline_bundle  # noqa: E402
from integration.test_deb_vm import install_in_vm  # noqa: E402
from integration.vm import Vm, vm_available  # noqa: E402


def main() -> int:
    available, reason = vm_available()
    if not available:
        print(f"deb_install: no VM here: {reason}", file=sys.stderr)
        return 1
    harness = Vm()
    harness.prepare()
    with tempfile.TemporaryDirectory(prefix="ivs-bench-deb-") as folder:
        offline_bundle(Path(folder))
        facts, result = install_in_vm(harness, Path(folder))
        size = next(Path(folder).glob("ivs-accessory_*_all.deb")).stat().st_size
    if facts.get("apt_install") != 0 or facts.get("install_to_ready_s") is None:
        print(result.output[-4000:], file=sys.stderr)
        print("deb_install: the install did not reach READY", file=sys.stderr)
        return 1
    print(f"FIGURE deb size: {size / 1024:.0f} KiB (target <= 500 KB)")
    print(f"FIGURE deb dependencies installed first: {facts['deps_s']} s")
    print(
        f"FIGURE deb install -> READY: {facts['install_to_ready_s']} s (target <= 10 s)"
    )
    print(f"FIGURE deb apt install (to apt's exit): {facts['install_s']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
