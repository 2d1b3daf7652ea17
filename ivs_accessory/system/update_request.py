"""The daemon's side of an update: stage the package for the helper, read the result."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_write

MAX_PACKAGE_BYTES = 20_000_000  # what the page takes; the package is under 1 MB
MAX_SIGNATURE_BYTES = 65_536
_DEB_MAGIC = b"!<arch>\ndebian-binary"  # an ar archive whose first member is this


def stage(
    settings: Mapping[str, Any],
    package: bytes,
    signature: bytes = b"",
    *,
    allow_downgrade: bool = False,
    health_url: str = "",
) -> None:
    """Put ``package`` where the helper takes it (``[system] update_dir``), with
    what the daemon asks for; an older result is removed.

    The helper checks everything again as root; this refuses only what is plainly
    not a package, so the admin hears it at once.

    Raises:
        SystemActionError: empty, too big, not a .deb, or the folder not writable
            (a full disk among them).
    """
    if not package:
        raise SystemActionError("choose the package file (.deb) to upload")
    if len(package) > MAX_PACKAGE_BYTES:
        raise SystemActionError(
            f"the file is larger than {MAX_PACKAGE_BYTES // 1_000_000} MB: not a "
            "package of this software"
        )
    if not package.startswith(_DEB_MAGIC):
        raise SystemActionError("the file is not a Debian package (.deb)")
    if len(signature) > MAX_SIGNATURE_BYTES:
        raise SystemActionError("the signature file is too large to be one")
    folder = settings["update_dir"]
    request = {"allow_downgrade": allow_downgrade, "health_url": health_url}
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        for name in ("update.deb.sig", "request.json"):
            _remove(os.path.join(folder, name))
        _remove(settings["update_result_file"])
        if signature:
            atomic_write(os.path.join(folder, "update.deb.sig"), signature, 0o600)
        atomic_write(os.path.join(folder, "request.json"),
                     json.dumps(request).encode(), 0o600)  # fmt: skip
        # The package last: the helper starts only once it is whole.
        atomic_write(os.path.join(folder, "update.deb"), package, 0o600)
    except OSError as exc:
        raise SystemActionError(
            f"cannot keep the upload in {folder}: {exc.strerror or exc}"
        ) from None


def health_url(web: Mapping[str, Any], port: int | str, https: bool) -> str:
    """Where the helper asks whether the new version came up: the page's /healthz on
    the box's own address (loopback when the page listens on every address)."""
    address = web["address"]
    host = "127.0.0.1" if address in ("", "0.0.0.0", "::") else address
    if ":" in host:
        host = f"[{host}]"
    return f"{'https' if https else 'http'}://{host}:{port}/healthz"


def wait_for_result(
    settings: Mapping[str, Any],
    within_s: float,
    clock: Callable[[], float] = time.monotonic,
    pause: Callable[[float], object] | None = None,
) -> dict[str, Any] | None:
    """The helper's result once it is written (the command line waits for it)."""
    pause = pause or threading.Event().wait
    deadline = clock() + within_s
    while clock() < deadline:
        result = last_result(settings)
        if result is not None:
            return result
        pause(1.0)
    return None


def last_result(settings: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the helper said about the last update, or None (none yet, or unreadable)."""
    try:
        with open(settings["update_result_file"], "rb") as file:
            result = json.loads(file.read(65_536))
    except (OSError, ValueError):
        return None
    if not isinstance(result, dict) or "result" not in result:
        return None
    return {k: result.get(k) for k in ("result", "version", "reason", "seconds")}


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
