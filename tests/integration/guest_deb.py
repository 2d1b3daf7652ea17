"""In the VM (Debian's python3, as root under the guest's systemd): the .deb installed
offline with apt, upgraded in place, updated with `ivs-accessory update` (a good
version, then one whose daemon exits at once), removed and purged; prints IVS-FACT
lines."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

FOLDER = sys.argv[1]
UNIT = "ivs-accessory.service"
SOCKET = "ivs-accessory.socket"
CONF = "/etc/ivs-accessory/accessory.conf"
AUDIT = "/var/lib/ivs-accessory/audit.log"
# apt with no sources and empty package lists: only the files given and what is
# installed count, so nothing can come from a registry (the guest has no network).
OFFLINE = (
    "-o",
    "Dir::Etc::SourceList=/dev/null",
    "-o",
    "Dir::Etc::SourceParts=/tmp/apt-parts",
    "-o",
    "Dir::State::Lists=/tmp/apt-lists",
    "-o",
    "Dir::Cache=/tmp/apt-cache",
)


def fact(name: str, value: object) -> None:
    print("IVS-FACT", name, json.dumps(value), flush=True)


def out(*argv: str) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    return done.stdout.strip()


def apt(step: str, *args: str) -> None:
    print(f"guest_deb: apt {step} at {time.monotonic():.0f} s", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(
        ["apt-get", "-y", "-q", "--no-install-recommends", *OFFLINE, *args],
        capture_output=True,
        text=True,
        timeout=1200,  # a bound for a hang: the emulated CPU is slow, more if shared
        env=env,
    )
    fact(f"apt_{step}", done.returncode)
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:], flush=True)


def page(path: str) -> int | str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1{path}", timeout=30) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError as exc:
        return type(exc).__name__


def unit_state() -> dict[str, str]:
    return {
        "service": out("systemctl", "is-active", UNIT),
        "socket": out("systemctl", "is-active", SOCKET),
        "status": out("systemctl", "show", "-P", "StatusText", UNIT),
        "pid": out("systemctl", "show", "-P", "MainPID", UNIT),
    }


def conf_state() -> dict[str, object]:
    if not os.path.exists(CONF):
        return {"exists": False}
    info = os.stat(CONF)
    with open(CONF, encoding="utf-8") as text:
        content = text.read()
    return {
        "exists": True,
        "mode": oct(info.st_mode & 0o777),
        "owner": pwd.getpwuid(info.st_uid).pw_name,
        "text": content,
    }


def variant(deb: str, version: str, broken: bool = False) -> str:
    """Our package again as ``version``; ``broken``: its daemon exits at once."""
    tree = f"/tmp/variant-{version}"
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(["dpkg-deb", "-R", deb, tree], check=True, timeout=120)
    control = os.path.join(tree, "DEBIAN", "control")
    with open(control, encoding="utf-8") as text:
        lines = [
            f"Version: {version}" if line.startswith("Version:") else line
            for line in text.read().splitlines()
        ]
    with open(control, "w", encoding="utf-8") as text:
        text.write("\n".join(lines) + "\n")
    if broken:
        with open(os.path.join(tree, "usr/bin/ivs-accessory"), "w") as script:
            script.write("#!/bin/sh\necho 'this version is broken' >&2\nexit 3\n")
    out_deb = f"/tmp/ivs-accessory_{version}_all.deb"
    subprocess.run(["dpkg-deb", "-b", tree, out_deb], check=True, timeout=300,
                   capture_output=True)  # fmt: skip
    return out_deb


def update(step: str, deb: str) -> None:
    """`ivs-accessory update` as an admin runs it; its result and the state after."""
    started = time.monotonic()
    done = subprocess.run(["ivs-accessory", "update", deb], capture_output=True,
                          text=True, timeout=1200)  # fmt: skip
    wall_s = round(time.monotonic() - started, 1)
    said = done.stdout.strip()
    fact(f"update_{step}", {"code": done.returncode, "said": said, "wall_s": wall_s})
    if done.returncode not in (0, 1):
        print(done.stderr[-3000:], flush=True)
    with open("/var/lib/ivs-accessory/update-result.json", encoding="utf-8") as text:
        fact(f"update_{step}_result", json.load(text))
    fact(f"update_{step}_version", out("dpkg-query", "-W", "-f=${Version}",
                                       "ivs-accessory"))  # fmt: skip
    fact(f"update_{step}_state", unit_state())
    fact(f"update_{step}_healthz", page("/healthz"))


def prepare_offline() -> None:
    """Let packages start services, and give apt its empty offline folders."""
    # The guest's root is the host's, a container image whose policy-rc.d forbids
    # starting services from packages; a box has none.
    if os.path.exists("/usr/sbin/policy-rc.d"):
        os.remove("/usr/sbin/policy-rc.d")
    for folder in ("/tmp/apt-parts", "/tmp/apt-lists/partial", "/tmp/apt-cache"):
        os.makedirs(folder, exist_ok=True)
    fact("network", sorted(os.listdir("/sys/class/net")))


def main() -> None:
    prepare_offline()
    deb = glob.glob(os.path.join(FOLDER, "ivs-accessory_*_all.deb"))[0]
    deps = sorted(glob.glob(os.path.join(FOLDER, "deps", "*.deb")))
    fact("deps", [os.path.basename(d).split("_")[0] for d in deps])

    started = time.monotonic()
    if deps:
        apt("deps", "install", *deps)
    fact("deps_s", round(time.monotonic() - started, 2))
    started = time.monotonic()
    apt("install", "install", deb)
    # READY: a Type=notify unit turns active when the daemon sends READY=1.
    ready = int(
        out("systemctl", "show", "-P", "ActiveEnterTimestampMonotonic", UNIT) or 0
    )
    fact("install_s", round(time.monotonic() - started, 2))
    # The daemon's own share: from its start (leaving inactive) to READY=1.
    exited = out("systemctl", "show", "-P", "InactiveExitTimestampMonotonic", UNIT)
    fact("start_to_ready_s", round((ready - int(exited or 0)) / 1e6, 2))
    fact("install_to_ready_s", round(ready / 1e6 - started, 2) if ready else None)
    fact("installed", unit_state())
    fact("healthz", page("/healthz"))
    fact("login", page("/login"))
    conf = conf_state()
    with open("/usr/share/ivs-accessory/factory/accessory.conf", encoding="utf-8") as f:
        fact("conf_is_template", conf.pop("text") == f.read())
    fact("conf", conf)
    check = subprocess.run(
        ["ivs-accessory", "-q", "config", "check", CONF], timeout=120
    )
    fact("config_check", check.returncode)

    # An upgrade (the same version again: dpkg runs the upgrade's scripts) keeps the
    # site's configuration and the audit log, and restarts the daemon.
    with open(CONF, "a", encoding="utf-8") as text:
        text.write("# the site's own line\n")
    with open(AUDIT, "a", encoding="utf-8") as text:
        text.write("audit line kept by the upgrade\n")
    before = unit_state()["pid"]
    apt("upgrade", "install", "--reinstall", deb)
    after = unit_state()
    fact("upgraded", after)
    fact("restarted", after["pid"] not in ("", "0", before))
    conf = conf_state()
    fact("conf_kept", "# the site's own line" in str(conf.pop("text", "")))
    fact("conf_after_upgrade", conf)
    with open(AUDIT, encoding="utf-8") as text:
        fact("audit_kept", "audit line kept by the upgrade" in text.read())
    fact("healthz_after_upgrade", page("/healthz"))

    version = out("dpkg-query", "-W", "-f=${Version}", "ivs-accessory")
    update("good", variant(deb, f"{version}+update1"))
    update("broken", variant(deb, f"{version}+update2", broken=True))
    fact("kept_packages", sorted(os.listdir("/var/lib/ivs-accessory-packages")))

    apt("remove", "remove", "ivs-accessory")
    fact("removed", unit_state())
    fact("page_after_remove", page("/healthz"))
    fact("conf_after_remove", os.path.exists(CONF))
    apt("purge", "purge", "ivs-accessory")
    fact("etc_after_purge", os.path.exists("/etc/ivs-accessory"))
    fact("state_after_purge", os.path.exists("/var/lib/ivs-accessory"))


if __name__ == "__main__":
    main()
