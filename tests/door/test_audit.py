"""The audit log: JSON lines, 0600, rotation, masked credentials, never fatal."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

from ivs_accessory.door.actions import Outcome
from ivs_accessory.door.audit import AuditLog


def outcome(n=0, result="started"):
    return Outcome(
        result,
        "toggle",
        f"Recording started {n}",
        "keypad",
        credential="****",
        user_id=2,
        recording_id=1001,
        requests=1,
        latency_s=0.0123,
    )


def test_entries_are_json_lines_with_the_fields(tmp_path):
    path = tmp_path / "audit.log"
    log = AuditLog(str(path))
    log.record(outcome(), room=3)
    entry = json.loads(path.read_text())
    assert entry["room"] == 3 and entry["user"] == 2 and entry["result"] == "started"
    assert entry["credential"] == "****" and entry["latency_ms"] == 12.3
    assert entry["requests"] == 1 and entry["time"].endswith("+00:00")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_recent_is_newest_first(tmp_path):
    log = AuditLog(None)
    for n in range(30):
        log.record(outcome(n))
    recent = log.recent(20)
    assert len(recent) == 20 and recent[0]["message"].endswith(" 29")


def test_rotation_keeps_the_configured_number_of_files(tmp_path):
    path = tmp_path / "audit.log"
    log = AuditLog(str(path), max_bytes=1000, keep=2)
    for n in range(100):
        log.record(outcome(n))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["audit.log", "audit.log.1", "audit.log.2"]
    assert all(p.stat().st_size <= 1000 for p in tmp_path.iterdir())
    last = path.read_text().splitlines()[-1]
    assert json.loads(last)["message"].endswith(" 99")


def test_unwritable_file_is_logged_once_and_not_fatal(tmp_path, caplog):
    log = AuditLog(str(tmp_path / "missing-dir" / "audit.log"))
    log.record(outcome())
    log.record(outcome())
    assert caplog.text.count("cannot write the audit log") == 1
    assert len(log.recent()) == 2


_FULL_DISK = r"""
import json, resource, signal, sys
from ivs_accessory.door.actions import Outcome
from ivs_accessory.door.audit import AuditLog

path, limit = sys.argv[1], int(sys.argv[2])
# A file size limit makes the kernel refuse writes past it (EFBIG) after a short
# write, as a full disk does (ENOSPC); without the signal ignored it would kill us.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
_, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
log = AuditLog(path, max_bytes=10_000_000)
for n in range(20):
    log.record(Outcome("started", "toggle", "Recording started %d" % n, "keypad"))
resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))  # space again
log.record(Outcome("stopped", "toggle", "Recording stopped", "keypad"))
"""


def test_a_full_disk_never_leaves_half_a_record_glued_to_the_next(tmp_path):
    path = tmp_path / "audit.log"
    limit = 1000  # room for a few whole records and part of one more
    subprocess.run(
        [sys.executable, "-c", _FULL_DISK, str(path), str(limit)],
        check=True,
        timeout=60,
    )
    lines = path.read_text().splitlines()
    entries = [json.loads(line) for line in lines]  # every line is one whole record
    assert 2 <= len(entries) < 21
    assert entries[-1]["result"] == "stopped"
    assert [e["message"] for e in entries[:-1]] == [
        f"Recording started {n}" for n in range(len(entries) - 1)
    ]
