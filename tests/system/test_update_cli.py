"""`ivs-accessory update FILE.deb`: stages the package as the page does, starts the
helper through [system] update_command, waits for its result and prints it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

DEB = b"!<arch>\ndebian-binary   1764000000  0     0     100644  4         `\n2.0\n"


def setup_box(tmp_path: Path, result: dict) -> Path:
    """A config whose update_command is a script standing in for the helper's
    unit: it records what was staged and writes ``result``."""
    helper = tmp_path / "helper.sh"
    result_file = tmp_path / "update-result.json"
    helper.write_text(
        "#!/bin/sh\n"
        f'ls "{tmp_path / "update"}" > "{tmp_path / "staged.txt"}"\n'
        f"cat > \"{result_file}\" <<'EOF'\n{json.dumps(result)}\nEOF\n"
    )
    helper.chmod(0o755)
    config = tmp_path / "accessory.conf"
    config.write_text(
        "[web]\nport = 8123\n\n"
        f"[system]\nupdate_command = {helper}\nupdate_dir = {tmp_path / 'update'}\n"
        f"update_result_file = {result_file}\n"
    )
    return config


def run(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ivs_accessory", "update", "--config", str(config),
         *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_an_update_is_staged_started_and_its_result_printed(tmp_path):
    config = setup_box(tmp_path, {"result": "updated", "version": "2.0", "reason": ""})
    package = tmp_path / "ivs-accessory_2.0_all.deb"
    package.write_bytes(DEB)
    done = run(config, str(package), "--allow-downgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "updated: version 2.0"
    assert (tmp_path / "staged.txt").read_text().split() == [
        "request.json",
        "update.deb",
    ]
    request = json.loads((tmp_path / "update" / "request.json").read_text())
    assert request == {
        "allow_downgrade": True,
        "health_url": "http://127.0.0.1:8123/healthz",
    }


def test_a_rollback_is_a_failure_with_the_reason(tmp_path):
    config = setup_box(tmp_path, {"result": "rolled back", "version": "1.0",
                                  "reason": "2.0 did not become healthy"})  # fmt: skip
    package = tmp_path / "new.deb"
    package.write_bytes(DEB)
    done = run(config, str(package))
    assert done.returncode == 1
    assert (
        done.stdout.strip() == "rolled back: version 1.0 (2.0 did not become healthy)"
    )


def test_a_file_that_is_not_a_package_is_refused_before_the_helper(tmp_path):
    config = setup_box(tmp_path, {"result": "updated", "version": "9", "reason": ""})
    notes = tmp_path / "notes.txt"
    notes.write_text("not a package")
    done = run(config, str(notes))
    assert done.returncode == 1 and "not a Debian package" in done.stderr
    assert not (tmp_path / "staged.txt").exists()
    assert run(config, str(tmp_path / "missing.deb")).returncode == 1
