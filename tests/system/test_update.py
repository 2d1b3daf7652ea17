"""Updates: real .deb files (dpkg-deb), installed by the real dpkg into a root of
their own (``dpkg --root``), kept with the real dpkg-repack, signed with gpg.

The daemon's restart and health are the one seam: a package built ``broken`` is a
version whose daemon never becomes healthy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from ivs_accessory.system.commands import CommandFailed, CommandRunner
from ivs_accessory.system.package_checks import (
    Request,
    UpdateRefused,
    check_space,
    installed_version,
)
from ivs_accessory.system.update import UpdatePlan, Updater

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="dpkg --root installs as root"),
    pytest.mark.skipif(
        not all(shutil.which(t) for t in ("dpkg-deb", "dpkg-repack", "gpg", "gpgv")),
        reason="needs dpkg-deb, dpkg-repack and gnupg (scripts/setup-deb installs "
        "them)",
    ),
]

MARKER = "usr/share/ivs-accessory-test"


def build(folder: Path, version: str, *, name="ivs-accessory", arch="all",
          broken=False, failing_postinst=False) -> Path:  # fmt: skip
    """A real package: a version file, a ``broken`` marker if asked, and a postinst
    that fails if asked (dpkg leaves such a package half-configured)."""
    tree = Path(tempfile.mkdtemp(prefix="tree-", dir=folder))
    (tree / "DEBIAN").mkdir()
    (tree / "DEBIAN" / "control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: {arch}\n"
        "Maintainer: Tests <tests@example.org>\nDescription: update test package\n"
    )
    (tree / MARKER).mkdir(parents=True)
    (tree / MARKER / "version").write_text(version)
    if broken:
        (tree / MARKER / "broken").write_text("the daemon exits at once")
    if failing_postinst:
        script = tree / "DEBIAN" / "postinst"
        script.write_text("#!/bin/sh\necho 'postinst fails' >&2\nexit 1\n")
        script.chmod(0o755)
    out = folder / f"{name}_{version}_{arch}{'_broken' if broken else ''}.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree),
                    str(out)], check=True, capture_output=True)  # fmt: skip
    return out


class DpkgRoot(CommandRunner):
    """Runs dpkg, dpkg-query and dpkg-repack on a root of the test's own, and the
    daemon's restart as a note in ``restarts``."""

    def __init__(self, root: Path) -> None:
        super().__init__(timeout_s=120)
        self.root = root
        self.restarts = 0
        self.broken_fails_restart = False  # as systemctl restart of a Type=notify unit
        self.installs: list[str] = []
        for folder in ("var/lib/dpkg/info", "var/lib/dpkg/updates"):
            (root / folder).mkdir(parents=True)
        (root / "var/lib/dpkg/status").touch()

    def run(self, argv, *, timeout_s=None, cwd=None):
        argv = list(argv)
        if argv == ["restart-daemon"]:
            self.restarts += 1
            if self.broken_fails_restart and (self.root / MARKER / "broken").exists():
                raise CommandFailed("systemctl failed with exit code 1: see ...", 1)
            return ""
        if argv[0] in ("dpkg", "dpkg-query", "dpkg-repack") and argv[1] not in (
            "--print-architecture",
            "--compare-versions",
        ):
            argv.insert(1, f"--root={self.root}")
        if argv[:3] == ["dpkg", f"--root={self.root}", "--install"]:
            self.installs.append(Path(argv[3]).name)
        return super().run(argv, timeout_s=timeout_s, cwd=cwd)

    def version(self) -> str:
        return (self.root / MARKER / "version").read_text()


@pytest.fixture
def box(tmp_path):
    """A box with version 1.0 installed; ``box.stage(deb)`` is the daemon's upload."""
    runner = DpkgRoot(tmp_path / "root")
    staged, kept = tmp_path / "staged", tmp_path / "kept"
    staged.mkdir()
    plan = UpdatePlan(
        staged_dir=str(staged),
        kept_dir=str(kept),
        result_file=str(tmp_path / "result.json"),
        keyring="",
        restart_command=["restart-daemon"],
        repack_command=["dpkg-repack"],
    )
    waits: list[str] = []

    def healthy(url: str, within_s: float) -> str | None:
        waits.append(url)
        if (runner.root / MARKER / "broken").exists():
            return "ivs-accessory.service is failed"
        return None

    def make_updater(**changes) -> Updater:
        return Updater(
            plan.__class__(**{**plan.__dict__, **changes}),
            runner,
            healthy,
            lambda: installed_version(runner),
            "amd64",
        )

    def stage(deb: Path, request: dict | None = None, signature: Path | None = None):
        shutil.copy(deb, staged / "update.deb")
        if request is not None:
            (staged / "request.json").write_text(json.dumps(request))
        if signature is not None:
            shutil.copy(signature, staged / "update.deb.sig")

    runner.run(["dpkg", "--install", str(build(tmp_path, "1.0"))])
    runner.installs.clear()
    return SimpleNamespace(
        runner=runner, plan=plan, stage=stage, updater=make_updater, waits=waits,
        folder=tmp_path, staged=staged, kept=kept,
    )  # fmt: skip


def result_file(box) -> dict:
    return json.loads(Path(box.plan.result_file).read_text())


def test_a_newer_version_is_installed_and_the_old_one_kept(box):
    box.stage(build(box.folder, "1.1"), {"health_url": "http://127.0.0.1:8080/healthz"})
    result = box.updater().run()
    assert (result["result"], result["version"]) == ("updated", "1.1")
    assert box.runner.version() == "1.1" and box.runner.restarts == 1
    assert box.waits == ["http://127.0.0.1:8080/healthz"]
    assert sorted(os.listdir(box.kept)) == [
        "ivs-accessory_1.0.deb",  # made by dpkg-repack: apt keeps no copy
        "ivs-accessory_1.1.deb",
    ]
    assert result_file(box) == result
    assert os.listdir(box.staged) == []  # the upload is consumed


def test_a_version_that_does_not_become_healthy_is_rolled_back(box):
    box.stage(build(box.folder, "1.1", broken=True))
    result = box.updater().run()
    assert result["result"] == "rolled back" and result["version"] == "1.0"
    assert "1.1 did not become healthy within 60 s" in result["reason"]
    assert "ivs-accessory.service is failed" in result["reason"]
    assert box.runner.version() == "1.0"
    assert box.runner.installs == ["incoming.deb", "ivs-accessory_1.0.deb"]
    assert box.runner.restarts == 2
    assert not (box.kept / "journal.json").exists()


def test_a_version_whose_restart_fails_is_rolled_back_as_not_starting(box):
    box.runner.broken_fails_restart = True
    box.stage(build(box.folder, "1.1", broken=True))
    result = box.updater().run()
    assert (result["result"], result["version"]) == ("rolled back", "1.0")
    assert result["reason"].startswith("version 1.1 did not become healthy")
    assert "it did not start (systemctl failed" in result["reason"]
    assert "dpkg could not" not in result["reason"]
    assert box.runner.version() == "1.0" and box.runner.restarts == 2
    assert box.waits == [""]  # after the rollback only: the first restart failed


def test_the_next_update_goes_back_to_the_kept_version_not_the_first(box):
    box.stage(build(box.folder, "1.1"))
    assert box.updater().run()["result"] == "updated"
    box.stage(build(box.folder, "1.2", broken=True))
    result = box.updater().run()
    assert (result["result"], result["version"]) == ("rolled back", "1.1")
    assert box.runner.version() == "1.1"


@pytest.mark.parametrize(
    ("make", "request_", "reason"),
    [
        (lambda f: build(f, "1.0"), None, "1.0 is not newer than 1.0"),
        (lambda f: build(f, "0.9"), None, "0.9 is not newer than 1.0"),
        (lambda f: build(f, "2.0", name="other-tool"), None, "package 'other-tool'"),
        (lambda f: build(f, "2.0", arch="armhf"), None, "built for armhf"),
        (lambda f: f / "notes.deb", None, "not a Debian package"),
        (lambda f: truncated(build(f, "2.0")), None, "damaged or cut short"),
        (lambda f: build(f, "2.0"), {"health_url": "http://10.0.0.9/x"}, "/healthz"),
    ],
    ids=["same", "older", "other", "arch", "not-deb", "truncated", "remote-url"],
)
def test_refusals_name_the_reason_and_leave_the_running_version(
    box, make, request_, reason
):
    (box.folder / "notes.deb").write_text("not a package at all\n" * 50)
    box.stage(make(box.folder), request_)
    result = box.updater().run()
    assert result["result"] == "refused" and reason in result["reason"]
    assert result["version"] == "1.0" and box.runner.version() == "1.0"
    assert box.runner.installs == [] and box.runner.restarts == 0
    assert os.listdir(box.staged) == []


def truncated(deb: Path) -> Path:
    data = deb.read_bytes()
    deb.write_bytes(data[: len(data) * 2 // 3])
    return deb


def test_an_older_version_goes_in_when_allowed(box):
    box.stage(build(box.folder, "0.9"), {"allow_downgrade": True})
    assert box.updater().run()["result"] == "updated"
    assert box.runner.version() == "0.9"


def test_nothing_staged_is_a_refusal(box):
    result = box.updater().run()
    assert result["result"] == "refused" and "no package to install" in result["reason"]


def test_a_staged_symlink_is_not_followed(box):
    (box.staged / "update.deb").symlink_to(build(box.folder, "1.1"))
    result = box.updater().run()
    assert result["result"] == "refused" and box.runner.version() == "1.0"


def test_a_full_disk_is_refused_before_anything_changes(box):
    box.stage(build(box.folder, "1.1"))
    full = SimpleNamespace(f_bavail=0, f_frsize=4096)
    result = box.updater().__class__(
        box.updater().plan, box.runner, lambda url, s: None,
        lambda: installed_version(box.runner), "amd64", statvfs=lambda path: full,
    ).run()  # fmt: skip
    assert result["result"] == "refused" and "not enough disk space" in result["reason"]
    assert box.runner.version() == "1.0" and box.runner.installs == []


def test_check_space_names_both_figures():
    with pytest.raises(UpdateRefused, match=r"0 MB free in /x, 3 MB needed"):
        check_space("/x", 2_500_000, lambda p: SimpleNamespace(f_bavail=1, f_frsize=1))


@pytest.fixture
def keyring(tmp_path):
    """A signing key in a throwaway GnuPG home; returns (sign(deb), keyring)."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = ["gpg", "--homedir", str(home), "--batch", "--quiet"]
    subprocess.run([*gpg, "--passphrase", "", "--quick-gen-key",
                    "Updates <updates@example.org>", "ed25519", "sign", "never"],
                   check=True, capture_output=True)  # fmt: skip
    ring = tmp_path / "update.gpg"
    exported = subprocess.run([*gpg, "--export"], check=True, capture_output=True)
    ring.write_bytes(exported.stdout)

    def sign(deb: Path) -> Path:
        subprocess.run([*gpg, "--detach-sign", "--output", f"{deb}.sig", str(deb)],
                       check=True, capture_output=True)  # fmt: skip
        return Path(f"{deb}.sig")

    try:
        yield sign, str(ring)
    finally:  # gpg started an agent for this home: it must not outlive the test
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"],
                       capture_output=True, timeout=30)  # fmt: skip


def test_with_a_keyring_only_a_signed_package_goes_in(box, keyring):
    sign, ring = keyring
    deb = build(box.folder, "1.1")
    box.stage(deb)
    unsigned = box.updater(keyring=ring).run()
    assert (
        unsigned["result"] == "refused" and "only signed updates" in unsigned["reason"]
    )
    other = build(box.folder, "1.0.1")
    box.stage(deb, signature=sign(other))  # a good signature, of another file
    wrong = box.updater(keyring=ring).run()
    assert wrong["result"] == "refused" and "does not match" in wrong["reason"]
    box.stage(deb, signature=sign(deb))
    assert box.updater(keyring=ring).run()["result"] == "updated"


def test_a_restart_in_the_middle_finishes_or_goes_back(box):
    """The box lost power after dpkg unpacked the new version (the journal says
    so); at boot, recover() configures what dpkg left and checks health."""
    updater = box.updater()
    box.kept.mkdir(exist_ok=True)
    kept_old = updater._keep("1.0")
    broken = build(box.folder, "1.1", broken=True)
    box.runner.run(["dpkg", "--unpack", str(broken)])  # the power cut came here
    (box.kept / "journal.json").write_text(json.dumps({
        "state": "installing", "from": "1.0", "to": "1.1", "previous": kept_old,
        "health_url": "",
    }))  # fmt: skip
    result = updater.recover()
    assert result is not None and result["result"] == "rolled back"
    assert "after a restart during the update" in result["reason"]
    assert box.runner.version() == "1.0"
    assert installed_version(box.runner) == "1.0"
    assert updater.recover() is None  # the journal is gone: nothing to do


def test_a_package_dpkg_cannot_configure_after_the_restart_is_rolled_back(box):
    """The power went while dpkg configured the new version, whose postinst fails
    again at boot: recover() does not stop at dpkg's error, it goes back."""
    updater = box.updater()
    box.kept.mkdir(exist_ok=True)
    kept_old = updater._keep("1.0")
    box.runner.run(["dpkg", "--unpack", str(build(box.folder, "1.1",
                                                  failing_postinst=True))])  # fmt: skip
    (box.kept / "journal.json").write_text(json.dumps(
        {"to": "1.1", "previous": kept_old}))  # fmt: skip
    result = updater.recover()
    assert result is not None and result["result"] == "rolled back", result
    assert "dpkg could not finish the install" in result["reason"]
    assert box.runner.version() == "1.0"
    status = box.runner.run(["dpkg-query", "--show", "--showformat",
                             "${db:Status-Abbrev}", "ivs-accessory"])  # fmt: skip
    assert status.strip() == "ii"
    assert not (box.kept / "journal.json").exists()
    assert result_file(box)["result"] == "rolled back"


def test_a_restart_after_a_good_install_keeps_the_new_version(box):
    updater = box.updater()
    box.kept.mkdir(exist_ok=True)
    kept_old = updater._keep("1.0")
    box.runner.run(["dpkg", "--unpack", str(build(box.folder, "1.1"))])
    (box.kept / "journal.json").write_text(json.dumps(
        {"to": "1.1", "previous": kept_old}))  # fmt: skip
    result = updater.recover()
    assert result is not None and (result["result"], result["version"]) == (
        "updated",
        "1.1",
    )


def test_the_request_is_checked_as_untrusted():
    assert Request.parse(b'{"allow_downgrade": true}').allow_downgrade is True
    assert Request.parse(b"").health_url == ""
    for bad in (b"[1]", b"{", b'{"health_url": "file:///etc/shadow"}'):
        with pytest.raises(UpdateRefused):
            Request.parse(bad)
