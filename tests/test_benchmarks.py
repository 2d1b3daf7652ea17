"""The benchmark command runs end to end with tiny parameters (figures not tested)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_command_prints_the_table_and_writes_json(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--quick",
            "--out",
            str(tmp_path),
            "--note",
            "smoke test",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    for heading in (
        "Requests per action",
        "Latency at the door",
        "Idle load",
        "Resources",
        "reproduce: python -m benchmarks",
    ):
        assert heading in result.stdout
    [written] = tmp_path.glob("*.json")
    results = json.loads(written.read_text())
    assert set(results) >= {
        "requests",
        "latency",
        "idle",
        "resources",
        "machine",
        "commands",
        "date",
    }
    flows = {row["flow"]: row for row in results["requests"]["flows"]}
    # The replay reproduces the vendor's counts from valt-api-v3.md §6 ...
    assert {name: row["vendor_replay"] for name, row in flows.items()} == {
        name: row["vendor_reference"] for name, row in flows.items()
    }
    # ... and the daemon never needs more than the vendor.
    assert all(row["ours_cold"] <= row["vendor_replay"] for row in flows.values())
    assert results["resources"]["memory"]["exit_code"] == 0


def test_benchmark_command_refuses_unknown_sections():
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--only", "speed"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown section" in result.stderr
