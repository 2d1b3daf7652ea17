"""The Debian package for the VM tests: built from this checkout, and the Debian
packages it needs that the guest lacks, downloaded on the host beforehand (the guest
boots the host's own root and has no network, so it installs from files alone)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD_TOOLS = ("dpkg-buildpackage", "dh", "dh_python3", "lintian", "apt-get")


def build_available() -> tuple[bool, str]:
    """Tell whether scripts/build-deb can run here, with the reason when not."""
    missing = [tool for tool in BUILD_TOOLS if shutil.which(tool) is None]
    if missing:
        return False, f"{', '.join(missing)} not found; run scripts/setup-deb"
    return True, ""


def build(out: Path) -> Path:
    """Build the package into ``out`` with scripts/build-deb; return the .deb."""
    done = subprocess.run(
        [str(REPO / "scripts" / "build-deb"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"scripts/build-deb failed:\n{done.stdout}{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])


def missing_dependencies(deb: Path) -> list[str]:
    """The packages apt would install with ``deb`` here (its dependency closure less
    what the host, and so the guest, already has), as name=version."""
    done = subprocess.run(
        [
            "apt-get",
            "-s",
            "-q",
            "--no-install-recommends",
            "install",
            str(deb.resolve()),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"apt-get cannot resolve {deb.name}:\n{done.stderr}")
    wanted = re.findall(r"^Inst (\S+) \((\S+) ", done.stdout, re.MULTILINE)
    return [f"{name}={version}" for name, version in wanted if name != "ivs-accessory"]


def download(packages: list[str], folder: Path) -> list[Path]:
    """``apt-get download`` the packages into ``folder`` (from the host's registry)."""
    folder.mkdir(parents=True, exist_ok=True)
    if packages:
        done = subprocess.run(
            ["apt-get", "download", "-q", *packages],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"apt-get download failed:\n{done.stderr}")
    return sorted(folder.glob("*.deb"))


def offline_bundle(folder: Path) -> tuple[Path, list[Path]]:
    """The package in ``folder`` and its missing dependencies in ``folder/deps``."""
    deb = build(folder)
    return deb, download(missing_dependencies(deb), folder / "deps")
