"""The Debian package installed offline in a VM under a real systemd: apt installs it
from files (its dependencies downloaded on the host first), the daemon is READY and
serves the page, accessory.conf is the template with mode 0600; an upgrade keeps the
configuration and the audit log; `ivs-accessory update` installs a newer version and
rolls back one whose daemon exits at once; remove stops the daemon; purge deletes the
rest.
The guest side is guest_deb.py; it also prints the install -> READY figure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .debs import build_available, offline_bundle
from .vm import Vm

GUEST = Path(__file__).with_name("guest_deb.py")
# A bound for a hang: under TCG, with other VMs on the two cores, installing the
# twelve dependencies alone took 227 s here (dpkg, then py3compile for each).
# With the two updates (each keeps a package with dpkg-repack, installs one with dpkg
# and its py3compile, and waits for the daemon; the rollback does it twice) the whole
# run took 1400 s in the VM here, alone on the machine.
BOOT_TIMEOUT_S = 2700

pytestmark = [pytest.mark.integration, pytest.mark.timeout(BOOT_TIMEOUT_S + 300)]


def install_in_vm(vm: Vm, folder: Path) -> tuple[dict, object]:
    """Build, download, boot: the guest's facts and the VM's result."""
    deb, deps = offline_bundle(folder)
    print(
        f"deb: {deb.name}, {deb.stat().st_size} bytes; downloaded: {len(deps)} packages"
    )
    guest_folder = "/srv/ivs-debs"  # the host folder, shown there (not under /tmp)
    result = vm.run(
        ["/usr/bin/python3", str(GUEST), guest_folder],
        systemd=True,
        binds={guest_folder: folder},
        timeout_s=BOOT_TIMEOUT_S,
        memory_mb=2048,
    )
    facts = {}
    for line in result.output.splitlines():
        if line.startswith("IVS-FACT "):
            name, _, value = line[len("IVS-FACT ") :].partition(" ")
            facts[name] = json.loads(value)
    print(f"deb in the VM: {result.wall_s:.0f} s wall\n{json.dumps(facts, indent=1)}")
    return facts, result


def test_the_package_installs_offline_upgrades_removes_and_purges(vm: Vm, tmp_path):
    available, reason = build_available()
    if not available:
        pytest.skip(reason)
    facts, result = install_in_vm(vm, tmp_path)
    tail = result.output[-6000:]
    assert result.returncode == 0, tail
    assert facts["network"] == ["lo"]  # nothing but loopback: no registry to reach
    assert facts["apt_install"] == 0, tail
    if facts["deps"]:
        assert facts["apt_deps"] == 0, tail
    installed = facts["installed"]
    assert installed["service"] == "active" and installed["socket"] == "active", tail
    assert facts["install_to_ready_s"] is not None
    assert facts["login"] == 200 and isinstance(facts["healthz"], int), facts
    assert facts["conf"] == {"exists": True, "mode": "0o600", "owner": "ivs-accessory"}
    assert facts["conf_is_template"] is True and facts["config_check"] == 0

    assert facts["apt_upgrade"] == 0, tail
    assert facts["upgraded"]["service"] == "active" and facts["restarted"] is True
    assert facts["conf_kept"] is True and facts["audit_kept"] is True
    assert facts["conf_after_upgrade"]["mode"] == "0o600"
    assert isinstance(facts["healthz_after_upgrade"], int)

    good, broken = facts["update_good"], facts["update_broken"]
    assert good["code"] == 0 and good["said"].startswith("updated: version "), tail
    assert facts["update_good_version"].endswith("+update1"), facts
    assert facts["update_good_state"]["service"] == "active"
    assert isinstance(facts["update_good_healthz"], int)
    assert broken["code"] == 1 and broken["said"].startswith("rolled back"), tail
    reason = facts["update_broken_result"]["reason"]
    assert "did not become healthy" in reason and "it did not start" in reason
    assert facts["update_broken_version"] == facts["update_good_version"]
    assert facts["update_broken_state"]["service"] == "active"
    assert isinstance(facts["update_broken_healthz"], int)
    print(f"update -> healthy: {facts['update_good_result']['seconds']} s "
          f"(the helper's own count); rollback: "
          f"{facts['update_broken_result']['seconds']} s")  # fmt: skip

    assert facts["apt_remove"] == 0, tail
    assert facts["removed"]["service"] in ("inactive", "unknown"), facts["removed"]
    assert facts["removed"]["socket"] in ("inactive", "unknown"), facts["removed"]
    assert not isinstance(facts["page_after_remove"], int)  # nothing listens on 80
    assert facts["conf_after_remove"] is True  # remove keeps the configuration
    assert facts["apt_purge"] == 0, tail
    assert facts["etc_after_purge"] is False and facts["state_after_purge"] is False
