"""Copies of the project that every user can run, wherever the checkout lies.

A checkout under /root, /home or in a 0700 folder (``mktemp -d``) is out of reach for
the user ``nobody``; its virtual environment may even run an interpreter under /root
(pyenv). A service with ``ProtectHome=`` and ``PrivateTmp=`` cannot see /root, /home
or /tmp at all. Tests that run the project as another user, or under such a service,
use a virtual environment built here instead: a Python that every user can run, and
the package with its runtime dependencies copied from this checkout's environment.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "ivs-accessory"
# ProtectHome= hides the first two, PrivateTmp= the others; the VM also gives its
# guest a fresh /tmp.
HIDDEN_FROM_SERVICES = ("/root", "/home", "/run/user", "/tmp", "/var/tmp")
AS_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def everyone_can_enter(path: Path) -> bool:
    """True when every user may pass through ``path`` and each folder above it."""
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))


def public_root() -> Path:
    """A folder for temporary files that every user can pass through.

    Raises:
        RuntimeError: none of the usual temporary folders is open to every user.
    """
    for candidate in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        path = Path(candidate).resolve()
        if path.is_dir() and os.access(path, os.W_OK) and everyone_can_enter(path):
            return path
    raise RuntimeError("no temporary folder that every user can enter")


@contextlib.contextmanager
def public_folder(prefix: str) -> Iterator[Path]:
    """A new folder (0755) under ``public_root()``, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir=public_root()) as folder:
        os.chmod(folder, 0o755)
        yield Path(folder)


def shared_python() -> Path | None:
    """An interpreter of this Python's version that every user, and a sandboxed
    service, can run: this venv's own base interpreter if it qualifies, else the
    system's ``pythonX.Y``. ``None`` when there is none.

    Same version, because the copied dependencies include compiled modules.
    """
    name = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    base = Path(getattr(sys, "_base_executable", sys.executable))
    candidates = [base] + [Path(d, name) for d in ("/usr/local/bin", "/usr/bin")]
    for candidate in candidates:
        real = candidate.resolve()
        hidden = any(real.is_relative_to(h) for h in HIDDEN_FROM_SERVICES)
        if real.is_file() and not hidden and everyone_can_enter(real):
            return real
    return None


def make_venv(target: Path, python: Path) -> Path:
    """Create an empty virtual environment of ``python``; return its site-packages."""
    argv = [str(python), "-m", "venv", "--without-pip", str(target)]
    subprocess.run(argv, check=True, capture_output=True, timeout=120)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    return target / "lib" / version / "site-packages"


def requirement_closure(name: str = PROJECT) -> list[importlib.metadata.Distribution]:
    """The installed distributions that ``name`` needs at run time, recursively
    (extras it does not ask for left out), without ``name`` itself."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [Requirement(name)]
    while pending:
        wanted = pending.pop()
        key = canonicalize_name(wanted.name)
        if key in found:
            continue
        found[key] = dist = importlib.metadata.distribution(wanted.name)
        for text in dist.requires or ():
            need = Requirement(text)
            extras = wanted.extras or {""}
            if need.marker is None or any(
                need.marker.evaluate({"extra": extra}) for extra in extras
            ):
                pending.append(need)
    del found[canonicalize_name(name)]
    return list(found.values())


def copy_requirements(site: Path, name: str = PROJECT) -> None:
    """Copy the files of ``name``'s run-time dependencies into ``site``, as pip
    recorded them (compiled bytecode included, console scripts left out)."""
    for dist in requirement_closure(name):
        if dist.files is None:
            raise RuntimeError(f"{dist.metadata['Name']} has no RECORD to copy from")
        for file in dist.files:
            source = Path(dist.locate_file(file))
            if file.parts[0] == ".." or not source.is_file():
                continue  # a script in bin/, or bytecode that was never written
            target = site / file
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def copy_package(site: Path, project_root: Path) -> None:
    """Copy the package's source tree (package data included) into ``site``."""
    shutil.copytree(project_root / "ivs_accessory", site / "ivs_accessory",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip


def open_to_all(root: Path) -> None:
    """Let every user read ``root`` and everything in it, whatever the umask was."""
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            path = Path(folder, name)
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o444)
