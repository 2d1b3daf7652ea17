"""time.conf: what is valid, the text the page saves, and reading it back."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ivs_accessory.errors import ConfigError
from ivs_accessory.system.timeconfig import (
    TimeSettings,
    format_time_settings,
    parse_time_settings,
    read_time_file,
    write_time_file,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "config" / "time.conf"


@pytest.mark.parametrize(
    "zone, servers, ok",
    [
        ("Etc/UTC", (), True),
        ("UTC", (), True),
        ("Etc/GMT+5", (), True),
        ("America/Argentina/Buenos_Aires", (), True),
        (
            "Europe/Berlin",
            ("0.de.pool.ntp.org", "192.0.2.1", "2001:db8::1", "ntp."),
            True,
        ),
        ("", (), False),
        ("/etc/shadow", (), False),
        ("Europe/../../etc", (), False),
        ("Europe/Berlin extra", (), False),
        ("Europe/Berlin", ("-rf",), False),
        ("Europe/Berlin", ("a" * 64 + ".org",), False),
        ("Europe/Berlin", tuple(f"ntp{n}.org" for n in range(9)), False),
    ],
)
def test_time_settings_validity(zone, servers, ok):
    assert (TimeSettings(zone, servers).problems() == []) is ok


def test_the_factory_template_is_utc_with_default_ntp():
    assert parse_time_settings(TEMPLATE.read_text()) == TimeSettings("Etc/UTC", ())


def test_saved_text_reads_back_the_same(tmp_path):
    settings = TimeSettings("Europe/Berlin", ("ntp1.example.org", "10.0.0.1"))
    path = tmp_path / "time.conf"
    write_time_file(str(path), settings)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_time_file(str(path)) == settings
    assert "ntp_servers =\n" in format_time_settings(TimeSettings())


def test_write_refuses_invalid_settings_and_leaves_the_file(tmp_path):
    path = tmp_path / "time.conf"
    path.write_text("old")
    with pytest.raises(ConfigError, match="time zone name"):
        write_time_file(str(path), TimeSettings("no such/zone!"))
    assert path.read_text() == "old"


def test_parse_reports_every_problem():
    with pytest.raises(ConfigError) as info:
        parse_time_settings(
            "[time]\ntimezone = x y\nntp_servers = $(reboot)\nntp = a\n"
        )
    assert len(info.value.errors) == 3
