"""The last good copy (FILE.last-good) and the config safe mode runs with."""

from __future__ import annotations

import pytest

from ivs_accessory.config import (
    fallback,
    keep_last_good,
    last_good_path,
    load,
    restore_last_good,
)
from ivs_accessory.errors import ConfigError

GOOD = (
    "[valt]\nserver = http://valt.local\nroom = 3\n\n"
    "[web]\naddress = 127.0.0.1\nport = 8081\n\n"
    "[source:door]\nkind = console\n"
)


def test_last_good_path_is_the_file_with_a_suffix():
    assert last_good_path("/etc/ivs-accessory/accessory.conf") == (
        "/etc/ivs-accessory/accessory.conf.last-good"
    )


def test_keep_writes_the_validated_text_0600_and_only_when_it_changed(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text(GOOD)
    path.chmod(0o644)
    config = load(str(path))
    assert keep_last_good(config) is True
    kept = tmp_path / "accessory.conf.last-good"
    assert kept.read_text() == GOOD and kept.stat().st_mode & 0o777 == 0o600
    before = kept.stat().st_mtime_ns, kept.stat().st_ino
    assert keep_last_good(config) is False  # the same text: the SD card is spared
    assert (kept.stat().st_mtime_ns, kept.stat().st_ino) == before


def test_keep_stores_the_text_that_was_validated_not_the_file_now(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text(GOOD)
    config = load(str(path))
    path.write_text("[valt]\nroom = kitchen\n")  # changed after the load
    keep_last_good(config)
    assert (tmp_path / "accessory.conf.last-good").read_text() == GOOD


def test_restore_copies_last_good_over_the_file(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text(GOOD)
    keep_last_good(load(str(path)))
    path.write_text("[valt]\nserver = htps://valt.local\n")
    restored = restore_last_good(str(path))
    assert path.read_text() == GOOD and path.stat().st_mode & 0o777 == 0o600
    assert restored["valt"]["room"] == 3 and restored.text == GOOD


def test_restore_follows_a_symlinked_config_and_keeps_the_link(tmp_path):
    real = tmp_path / "real.conf"
    real.write_text(GOOD)
    link = tmp_path / "accessory.conf"
    link.symlink_to(real)
    keep_last_good(load(str(link)))
    real.write_text("[valt]\nroom = kitchen\n")
    restore_last_good(str(link))
    assert link.is_symlink() and real.read_text() == GOOD


def test_restore_without_a_last_good_copy_says_so_and_changes_nothing(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text("[valt]\nroom = kitchen\n")
    with pytest.raises(ConfigError) as caught:
        restore_last_good(str(path))
    assert str(caught.value) == (
        f"there is no last good configuration ({path}.last-good); one is kept each "
        f"time the daemon starts or reloads a valid file, so fix {path} instead"
    )
    assert path.read_text() == "[valt]\nroom = kitchen\n"


def test_restore_refuses_a_last_good_copy_that_no_longer_validates(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text(GOOD)
    keep_last_good(load(str(path)))
    path.write_text("[valt]\nroom = kitchen\n")
    dropins = tmp_path / "accessory.conf.d"
    dropins.mkdir()
    (dropins / "late.conf").write_text("[source:door]\nport = /dev/ttyUSB0\n")
    with pytest.raises(ConfigError) as caught:
        restore_last_good(str(path))
    assert str(caught.value).startswith(
        f"the last good configuration {path}.last-good no longer validates; fix "
        f"{path} instead: key 'port' is not used by kind 'console'"
    )
    assert path.read_text() == "[valt]\nroom = kitchen\n"


# -- what safe mode runs with ----------------------------------------------------------

BAD_VALT = "[valt]\nserver = htps://valt.local\n\n"
WEB = "[web]\naddress = 127.0.0.2\nport = 8082\n\n"
SOURCE = "[source:desk]\nkind = console\n\n"


@pytest.mark.parametrize(
    ("text", "has_last_good", "port", "sources"),
    [
        (BAD_VALT + WEB + SOURCE, True, 8082, {"desk"}),  # the file's, where valid
        (BAD_VALT + WEB + SOURCE, False, 8082, {"desk"}),
        (BAD_VALT + "[web]\nport = http\n\n" + SOURCE, True, 8081, {"desk"}),
        (BAD_VALT + WEB + "[source:desk]\nkind = keyboard\n", True, 8082, {"door"}),
        (BAD_VALT + "[web]\nport = http\n[source:x]\nkind = ?\n", True, 8081, {"door"}),
        (BAD_VALT + "[web]\nport = http\n[source:x]\nkind = ?\n", False, 80, set()),
        (BAD_VALT + "[web]\nport 8083\n", True, 8081, set()),  # an unreadable line
        (BAD_VALT + "[web]\nport = 8083\nport = 8084\n", False, 80, set()),
        ("port = 1\n" + WEB, True, 8081, {"door"}),  # nothing of the file was read
        (b"\xff" + WEB.encode(), False, 80, set()),
    ],
)
def test_fallback_takes_each_part_from_the_file_else_last_good_else_defaults(
    tmp_path, text, has_last_good, port, sources
):
    path = tmp_path / "accessory.conf"
    if has_last_good:
        path.write_text(GOOD)
        keep_last_good(load(str(path)))
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    found = fallback(str(path))
    assert found.errors and found.last_good is has_last_good
    assert found.config["web"]["port"] == port
    assert set(found.config.sources) == sources
    assert found.config.path == str(path)


def test_fallback_of_a_missing_file_uses_the_drop_ins(tmp_path):
    path = tmp_path / "accessory.conf"
    (tmp_path / "accessory.conf.d").mkdir()
    (tmp_path / "accessory.conf.d" / "web.conf").write_text(WEB + SOURCE)
    found = fallback(str(path))
    assert found.errors == [
        f"config file {path} does not exist; copy config/accessory.conf there"
    ]
    assert found.config["web"]["port"] == 8082 and set(found.config.sources) == {"desk"}


def test_fallback_says_when_last_good_no_longer_validates(tmp_path):
    path = tmp_path / "accessory.conf.last-good"
    path.write_text("[valt]\nroom = kitchen\n")
    found = fallback(str(tmp_path / "accessory.conf"))
    assert found.last_good is False
