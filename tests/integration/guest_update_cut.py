"""In the VM (Debian's python3, as root under the guest's systemd, the overlay on a
disk that outlives the VM): a power cut in the middle of an update, then the boot
after it. Prints IVS-FACT lines.

``cut``: install the package offline, start `ivs-accessory update` with a newer
version, and once dpkg is installing it reset the VM at once (sysrq b: no sync, no
unmount, what the page cache held is lost, as in a power cut).
``after``: the next boot; the update-recover unit has finished or undone the update;
report what runs and whether dpkg's database is whole.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import termios
import time

import guest_deb
from guest_deb import UNIT, apt, fact, out, page, unit_state

PHASE = sys.argv[2]
KEPT = "/var/lib/ivs-accessory-packages"
RESULT = "/var/lib/ivs-accessory/update-result.json"
RECOVER = "ivs-accessory-helper@update-recover.service"
CUT_WAIT_S = 900  # the update's dpkg-repack and dpkg, under the emulated CPU
AFTER_WAIT_S = 900  # the boot, dpkg --configure, and a rollback if need be


def status_of_package() -> str:
    return out("dpkg-query", "-W", "-f=${Status} ${Version}", "ivs-accessory")


def dpkg_installing(target: str) -> bool:
    """True while a dpkg process has ``target`` on its command line."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                argv = file.read().split(b"\0")
        except OSError:
            continue
        if argv and argv[0].endswith(b"dpkg") and target.encode() in b" ".join(argv):
            return True
    return False


def power_cut() -> None:
    """Reset now, as a power cut would: nothing is synced or unmounted."""
    sys.stdout.flush()
    try:
        termios.tcdrain(sys.stdout.fileno())  # the facts reach the host first
    except termios.error:
        pass
    with open("/proc/sysrq-trigger", "w") as trigger:
        trigger.write("b")


def cut() -> None:
    guest_deb.prepare_offline()
    deb = glob.glob(os.path.join(guest_deb.FOLDER, "ivs-accessory_*_all.deb"))[0]
    deps = sorted(glob.glob(os.path.join(guest_deb.FOLDER, "deps", "*.deb")))
    if deps:
        apt("deps", "install", *deps)
    apt("install", "install", deb)
    fact("installed", unit_state())
    version = out("dpkg-query", "-W", "-f=${Version}", "ivs-accessory")
    newer = guest_deb.variant(deb, f"{version}+cut1")
    fact("versions", {"from": version, "to": f"{version}+cut1"})
    update = subprocess.Popen(
        ["ivs-accessory", "update", newer],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    journal = os.path.join(KEPT, "journal.json")
    incoming = os.path.join(KEPT, "incoming.deb")
    deadline = time.monotonic() + CUT_WAIT_S
    # The helper keeps the installed version, writes its journal, then runs
    # `dpkg --install incoming.deb`. Cut once dpkg has left the package between
    # versions (unpacked, half-installed, half-configured), or as it ends.
    seen = ""
    while time.monotonic() < deadline and update.poll() is None:
        if os.path.exists(journal) and dpkg_installing(incoming):
            seen = status_of_package()
            if not seen.startswith("install ok installed"):
                break
        elif seen:  # dpkg has ended: the restart and health check are under way
            break
        time.sleep(0.05)  # polling dpkg's state; nothing to wait on instead
    else:
        fact("cut", {"done": False, "update_exit": update.poll(), "seen": seen})
        return
    fact("cut", {"done": True, "package_at_cut": seen})
    power_cut()


def wait_for_recovery() -> str:
    """The recover unit's state once it has run (it is ordered after the daemon)."""
    deadline = time.monotonic() + AFTER_WAIT_S
    state = ""
    while time.monotonic() < deadline:
        state = out("systemctl", "show", "-P", "ActiveState", RECOVER)
        journal_left = os.path.exists(os.path.join(KEPT, "journal.json"))
        if state in ("inactive", "failed") and not journal_left:
            return state
        time.sleep(1.0)  # polling systemd's state; the unit has no other signal
    return f"still {state} after {AFTER_WAIT_S} s"


def healthy_page(wait_s: float = 120.0) -> int | str:
    deadline = time.monotonic() + wait_s
    answer: int | str = "not asked"
    while time.monotonic() < deadline:
        answer = page("/healthz")
        if answer == 200:
            break
        time.sleep(1.0)
    return answer


def after() -> None:
    fact("recover_unit", wait_for_recovery())
    try:
        with open(RESULT, encoding="utf-8") as text:
            fact("result", json.load(text))
    except (OSError, ValueError) as exc:
        fact("result", {"missing": str(exc)})
    fact("package", status_of_package())
    audit = subprocess.run(["dpkg", "--audit"], capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    fact("dpkg_audit", audit.stdout.strip())
    fact("healthz", healthy_page())
    fact("state", unit_state())
    fact("journal_left", os.path.exists(os.path.join(KEPT, "journal.json")))
    fact("service_log", out("journalctl", "-b", "-u", RECOVER, "-u", UNIT,
                            "--no-pager", "-n", "40"))  # fmt: skip


if __name__ == "__main__":
    {"cut": cut, "after": after}[PHASE]()
