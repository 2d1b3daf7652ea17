"""Saving the config: comments kept, atomic, 0600, symlinks, drop-ins, leftovers."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path as FilePath

import pytest
from public_install import AS_NOBODY

from ivs_accessory.config import (
    SCHEMA,
    Config,
    load,
    save,
)
from ivs_accessory.errors import ConfigError

from .helpers import PASSWORD, write

# -- save ------------------------------------------------------------------------------

ORIGINAL = """\
# Door 3, first floor.
[valt]
# the lab server
server = valt.local
password = {password}
room = 3

[source:door]
kind = keypad  ; not a comment: no inline comments
"""


@pytest.fixture
def conf(tmp_path) -> str:
    return write(tmp_path / "accessory.conf", ORIGINAL.format(password=PASSWORD))


def test_save_round_trip_keeps_comments_and_other_sections(conf):
    with pytest.raises(ConfigError):
        load(conf)  # "keypad  ; not..." is not a kind: inline comments are off
    save(conf, {"source:door": {"kind": "keypad"}})
    save(conf, {"valt": {"room": "7", "timeout_s": "2"}, "web": {"port": "8080"}})
    cfg = load(conf)
    assert (cfg["valt"]["room"], cfg["valt"]["timeout_s"]) == (7, 2.0)
    assert cfg["valt"]["server"] == "https://valt.local"
    assert cfg["valt"]["password"] == PASSWORD
    assert cfg["web"]["port"] == 8080
    assert FilePath(conf).read_text() == (
        "# Door 3, first floor.\n[valt]\n# the lab server\nserver = valt.local\n"
        f"password = {PASSWORD}\nroom = 7\ntimeout_s = 2\n\n"
        "[source:door]\nkind = keypad\n\n[web]\nport = 8080\n"
    )


def test_save_deletes_keys_and_sections(conf):
    save(
        conf,
        {
            "source:door": None,
            "valt": {"room": None},
            "source:card": {"kind": "card_serial", "port": "/dev/ttyUSB0"},
        },
    )
    cfg = load(conf)
    assert cfg["valt"]["room"] is None
    assert cfg.sources == {
        "card": {
            "kind": "card_serial",
            "port": "/dev/ttyUSB0",
            "baud": 9600,
            "framing": "auto",
        }
    }
    assert "door" not in FilePath(conf).read_text()


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"valt": {"timeout_s": "abc"}}, "[valt] timeout_s = 'abc'"),
        ({"valt": {"tiemout_s": "5"}}, "did you mean 'timeout_s'?"),
        ({"mapp": {"mode": "pin"}}, "unknown section [mapp]"),
        (
            {"valt": {"server": "x\n[web]\nport = 1"}},
            "[valt] server: must be a single line",
        ),
        ({"valt": {"password": "a\rb"}}, "[valt] password: must be a single line"),
        ({"valt": {"room = 1\n#": "1"}}, "cannot save key"),
        ({"web]\n[valt": {"room": "1"}}, "cannot save section"),
        ({"source:card": {"kind": "card_hid"}}, "say which reader"),
        ({"lockout": {"max_s": "1"}}, "must be at least base_s"),
    ],
)
def test_save_rejects_invalid_results_and_leaves_the_file_byte_identical(
    conf, changes, message
):
    before = FilePath(conf).read_bytes()
    with pytest.raises(ConfigError) as info:
        save(conf, {"source:door": {"kind": "keypad"}, **changes})
    assert any(message in error for error in info.value.errors)
    assert PASSWORD not in str(info.value)
    assert FilePath(conf).read_bytes() == before
    assert os.listdir(FilePath(conf).parent) == ["accessory.conf"]


def test_save_makes_the_file_0600_even_if_it_was_0644(tmp_path):
    path = write(tmp_path / "a.conf", "[valt]\nroom = 1\n", mode=0o644)
    save(path, {"valt": {"password": PASSWORD}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert load(path)["valt"]["password"] == PASSWORD


def test_save_creates_a_new_file_0600(tmp_path):
    path = tmp_path / "new.conf"
    save(path, {"valt": {"server": "valt.local"}})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert path.read_text() == "[valt]\nserver = valt.local\n"


def test_save_writes_a_temp_file_in_the_same_directory_then_replaces(conf):
    seen = []

    def replace(source: str, target: str) -> None:
        seen.append(
            (
                os.path.dirname(source),
                stat.S_IMODE(os.stat(source).st_mode),
                FilePath(source).read_text(),
            )
        )
        os.replace(source, target)

    save(conf, {"source:door": {"kind": "console"}}, replace=replace)
    assert seen == [(os.path.dirname(conf), 0o600, FilePath(conf).read_text())]
    assert os.listdir(os.path.dirname(conf)) == ["accessory.conf"]


def test_save_failure_leaves_no_temp_file_and_the_old_file(conf):
    before = FilePath(conf).read_bytes()

    def replace(source: str, target: str) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        save(conf, {"source:door": {"kind": "console"}}, replace=replace)
    assert FilePath(conf).read_bytes() == before
    assert os.listdir(os.path.dirname(conf)) == ["accessory.conf"]


def test_save_through_a_symlink_keeps_the_link(tmp_path):
    real = write(tmp_path / "real.conf", "[valt]\nroom = 1\n")
    link = tmp_path / "link.conf"
    link.symlink_to(real)
    save(link, {"valt": {"room": "2"}})
    assert link.is_symlink()
    assert load(real)["valt"]["room"] == 2


def test_save_new_bindings_section_starts_from_the_defaults(tmp_path):
    path = write(tmp_path / "a.conf", "[valt]\n")
    save(path, {"bindings": {"KEY_KPMINUS": "stop", "KEY_KPPLUS": None}})
    assert load(path).bindings == {
        ("KEY_KPASTERISK", "hold"): "privacy_toggle",
        ("KEY_KPMINUS", "tap"): "stop",
    }
    save(path, {"bindings": {"KEY_KPASTERISK.hold": None}})
    assert load(path).bindings == {("KEY_KPMINUS", "tap"): "stop"}


def test_save_validates_together_with_drop_ins(tmp_path):
    path = write(tmp_path / "a.conf", "[lockout]\nbase_s = 10\n")
    write(tmp_path / "a.conf.d" / "10.conf", "[lockout]\nmax_s = 20\n")
    with pytest.raises(ConfigError, match="must be at least base_s"):
        save(path, {"lockout": {"base_s": "30"}})


def test_config_is_a_mapping_of_sections():
    cfg = load(None)
    assert isinstance(cfg, Config)
    assert len(cfg) == len(SCHEMA) - 1
    assert dict(cfg)["web"]["port"] == 80


@pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("setpriv"),
    reason="needs root to run the check as an unprivileged user",
)
def test_config_in_a_folder_the_user_cannot_enter_is_an_error_not_a_crash(
    public_tmp_path, nobody_python
):
    import subprocess

    # Only this folder is closed to nobody: its parent is open to everyone, and the
    # Python and package that nobody runs are copies outside the checkout.
    folder = public_tmp_path / "private"
    folder.mkdir(mode=0o700)
    (folder / "accessory.conf").write_text("[valt]\n")
    result = subprocess.run(
        [
            *AS_NOBODY,
            str(nobody_python),
            "-m",
            "ivs_accessory",
            "config",
            "check",
            str(folder / "accessory.conf"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )
    assert result.returncode == 78, result.stderr
    assert "Traceback" not in result.stderr
    assert (
        f"cannot read {folder / 'accessory.conf'}: Permission denied" in result.stderr
    )
    assert "does not exist" not in result.stderr


def test_save_removes_temp_files_left_by_a_killed_save_but_not_fresh_ones(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text("[valt]\nroom = 1\n")
    old_leftover = tmp_path / ".accessory.conf.abc123.tmp"
    fresh = tmp_path / ".accessory.conf.def456.tmp"  # a save in progress elsewhere
    other = tmp_path / ".other.conf.abc123.tmp"
    for leftover in (old_leftover, fresh, other):
        leftover.write_text("[valt]\npassword = secret\n")
    two_minutes_ago = os.path.getmtime(fresh) - 120
    os.utime(old_leftover, (two_minutes_ago, two_minutes_ago))
    os.utime(other, (two_minutes_ago, two_minutes_ago))
    save(path, {"valt": {"room": "2"}})
    assert load(str(path))["valt"]["room"] == 2
    assert not old_leftover.exists()
    assert fresh.exists() and other.exists()
