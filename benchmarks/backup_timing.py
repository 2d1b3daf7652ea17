"""python -m benchmarks.backup_timing: how long a backup and a restore's check take."""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from ivs_accessory.backup.document import BoxFiles, decode, make_backup
from ivs_accessory.backup.plan import make_plan
from ivs_accessory.web.accounts import hash_password

PASSPHRASE = "a passphrase for the benchmark"


def write_box(folder: Path) -> BoxFiles:
    """A configured box: VALT, a source, a camera, bindings, a drop-in, time, DHCP."""
    folder.mkdir()
    (folder / "accessory.conf.d").mkdir()
    (folder / "accessory.conf.d" / "50-kiosk.conf").write_text(
        "[door]\nscreen = true\n"
    )
    (folder / "web-password").write_text(
        f"[password]\nhash = {hash_password('x' * 9)}\n"
    )
    (folder / "time.conf").write_text("[time]\ntimezone = Europe/Berlin\n")
    (folder / "network.yaml").write_text(
        "network:\n  version: 2\n  ethernets:\n    eth0:\n      dhcp4: true\n"
    )
    (folder / "accessory.conf").write_text(
        "[valt]\nserver = https://valt.example.org\nusername = k\npassword = p1\n"
        "room = 3\n\n[source:door]\nkind = console\n\n[privacy]\ncameras = config\n"
        "\n[camera:Hall]\naddress = 192.0.2.20\npassword = p2\n\n"
        "[bindings]\nKEY_KPPLUS = marker\n\n"
        f"[web]\npassword_file = {folder / 'web-password'}\n\n"
        f"[system]\nnetwork_file = {folder / 'network.yaml'}\n"
        f"time_file = {folder / 'time.conf'}\n"
    )
    return BoxFiles(
        str(folder / "accessory.conf"), str(folder / "time.conf"),
        str(folder / "network.yaml"), "eth0", str(folder / "web-password"),
    )  # fmt: skip


def main(trials: int = 5) -> None:
    """Print the median time of each step, with and without a passphrase."""
    with tempfile.TemporaryDirectory() as folder:
        files = write_box(Path(folder, "box"))
        for passphrase in (None, PASSPHRASE):
            made, checked, size = [], [], 0
            for _ in range(trials):
                start = time.perf_counter()
                data = make_backup(files, passphrase)
                made.append(time.perf_counter() - start)
                start = time.perf_counter()
                make_plan(decode(data, passphrase), files)
                checked.append(time.perf_counter() - start)
                size = len(data)
            kind = "with passphrase" if passphrase else "without passphrase"
            print(
                f"{kind:20} backup {statistics.median(made) * 1000:6.0f} ms   "
                f"check and preview {statistics.median(checked) * 1000:6.0f} ms   "
                f"file {size} bytes"
            )


if __name__ == "__main__":
    main()
