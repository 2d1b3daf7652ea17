"""The Debian package as built by scripts/build-deb: lintian finds nothing, it is small,
its units run /usr/bin/ivs-accessory, the helper finds the templates it ships, and it
depends on Debian's own libraries. tests/integration/test_deb_vm.py installs it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from integration.debs import build, build_available

import ivs_accessory

MAX_BYTES = 500 * 1024  # issue 14: the package is at most 500 KB


@pytest.fixture(scope="module")
def deb(tmp_path_factory) -> Path:
    available, reason = build_available()
    if not available:
        pytest.skip(reason)
    return build(tmp_path_factory.mktemp("deb"))


@pytest.fixture(scope="module")
def unpacked(deb, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("root")
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return root


def field(deb: Path, name: str) -> str:
    done = subprocess.run(
        ["dpkg-deb", "-f", str(deb), name], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def test_the_name_carries_the_package_version(deb):
    assert deb.name == f"ivs-accessory_{ivs_accessory.__version__}_all.deb"
    assert field(deb, "Version") == ivs_accessory.__version__


def test_lintian_is_clean(deb):
    done = subprocess.run(
        ["lintian", "--pedantic", "-I", str(deb)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    tags = [
        line
        for line in done.stdout.splitlines()
        if line[:2] in ("E:", "W:", "I:", "P:")
    ]
    assert done.returncode == 0 and tags == [], done.stdout + done.stderr


def test_the_package_is_small(deb):
    size = deb.stat().st_size
    print(f"FIGURE deb size: {size} bytes ({size / 1024:.0f} KiB)")
    assert size <= MAX_BYTES


def test_it_depends_on_debians_libraries_not_pip(deb):
    depends = field(deb, "Depends")
    for package in (
        "python3-requests",
        "python3-evdev",
        "python3-serial",
        "python3-systemd",
        "python3-bottle (>= 0.12.23)",
        "python3-cheroot (>= 9.0)",
    ):
        assert package in depends


def test_units_run_the_packaged_program_and_nothing_names_opt(unpacked):
    units = unpacked / "lib/systemd/system"
    service = (units / "ivs-accessory.service").read_text()
    assert "ExecStart=/usr/bin/ivs-accessory run " in service
    helper = (units / "ivs-accessory-helper@.service").read_text()
    assert "ExecStart=/usr/bin/ivs-accessory system %i" in helper
    for op in ("apply-network", "rollback-network"):
        assert (
            units / f"ivs-accessory-helper@{op}.service.d/50-network.conf"
        ).is_file()
    # The files the system reads (the docs still describe scripts/install's /opt).
    read = ["lib", "usr/lib/sysusers.d", "usr/lib/tmpfiles.d", "usr/share/polkit-1",
            "usr/lib/python3/dist-packages/ivs_accessory/defaults.conf"]  # fmt: skip
    named = subprocess.run(
        ["grep", "-rl", "/opt/ivs-accessory", *(str(unpacked / p) for p in read)],
        capture_output=True,
        text=True,
    )
    assert named.returncode == 1 and named.stdout == "", named.stdout + named.stderr
    assert (unpacked / "usr/bin/ivs-accessory").is_file()


def test_the_helper_finds_the_shipped_templates(unpacked):
    defaults = next(
        unpacked.glob("usr/lib/python3/dist-packages/ivs_accessory/defaults.conf")
    )
    assert "factory_dir = /usr/share/ivs-accessory/factory\n" in defaults.read_text()
    factory = unpacked / "usr/share/ivs-accessory/factory"
    names = {"accessory.conf", "web-password", "netplan.yaml", "time.conf"}
    assert {p.name for p in factory.iterdir()} == names
    repo = Path(__file__).resolve().parents[1]
    assert (factory / "accessory.conf").read_text() == (
        repo / "config/accessory.conf"
    ).read_text()


def test_the_sites_files_are_no_conffiles(deb, tmp_path):
    # postinst writes them from the templates once; dpkg never prompts over them.
    subprocess.run(["dpkg-deb", "-e", str(deb), str(tmp_path)], check=True)
    conffiles = tmp_path / "conffiles"
    assert not conffiles.exists() or "/etc/ivs-accessory" not in conffiles.read_text()
    for place in (
        "usr/lib/sysusers.d/ivs-accessory.conf",
        "usr/lib/tmpfiles.d/ivs-accessory.conf",
        "usr/lib/modules-load.d/ivs-accessory.conf",
        "usr/share/polkit-1/rules.d/50-ivs-accessory.rules",
        "lib/udev/rules.d/70-ivs-accessory.rules",
    ):
        assert (
            place
            in subprocess.run(
                ["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True
            ).stdout
        )
