"""Odd config files (BOM, CRLF, NULs, FIFOs, directories) and every key typed."""

from __future__ import annotations

import os
import threading

import pytest

from ivs_accessory.config import (
    SCHEMA,
    SOURCE_SCHEMAS,
    Boolean,
    Choice,
    Command,
    DeviceSelector,
    Float,
    Integer,
    IpAddress,
    IpNetworks,
    KeyName,
    Path,
    Secret,
    String,
    Url,
    check_file,
    load,
)
from ivs_accessory.config.bindings import PresetNames
from ivs_accessory.config.lamp_schema import Colour
from ivs_accessory.config.loader import MAX_FILE_BYTES, read_text

VALID = (
    "[valt]\nserver = http://valt.local\nroom = 3\n\n[source:door]\nkind = console\n"
)


def test_a_bom_reads_as_if_it_were_not_there(tmp_path):
    plain, marked = tmp_path / "plain.conf", tmp_path / "notepad.conf"
    plain.write_text(VALID)
    marked.write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    with_bom, without = load(str(marked)), load(str(plain))
    assert with_bom.redacted() == without.redacted()
    assert with_bom.text == VALID and with_bom["valt"]["room"] == 3


def test_windows_line_ends_read_as_if_they_were_not_there(tmp_path):
    path = tmp_path / "notepad.conf"
    path.write_bytes(b"\xef\xbb\xbf" + VALID.replace("\n", "\r\n").encode())
    config = load(str(path))
    assert config["valt"]["server"] == "http://valt.local" and config.text == VALID


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (
            b"[valt]\nroom = \xff\n",
            "is not UTF-8 text (byte 15 of 16); save it as UTF-8",
        ),
        (b"\xff\xfe[\x00v\x00", "is not UTF-8 text"),  # UTF-16, as some editors save
        (b"[valt]\nroom = 1\x00\n", "[valt] room = '1\\x00': must be a single line"),
        (b"[valt]\nro\x00om = 1\n", "unknown key 'ro\\x00om' in [valt]"),
        (b"room = 1\n", "a key comes before any [section] header"),
        (b"[valt]\nroom = 1\n[valt]\n", "section [valt] appears again"),
        (b"[valt]\nroom = 1\nroom = 2\n", "key 'room' in [valt] appears again"),
        (b"[valt]\nroom 1\n", "line 2: cannot read this line"),
        (b"[valt]\n" + b"#" * (MAX_FILE_BYTES + 1), "it is over 1024 KiB"),
        (b"[\x00]\nroom = 1\n", "unknown section [\\x00]"),
    ],
)
def test_odd_bytes_are_errors_that_say_what_to_do(tmp_path, content, words):
    path = tmp_path / "accessory.conf"
    path.write_bytes(content)
    errors = check_file(str(path))
    assert any(words in error for error in errors), errors


def test_a_huge_line_under_the_limit_is_one_error(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text("[valt]\nrecording_name = " + "x" * 500_000 + "\n")
    [error] = check_file(str(path))
    assert "is 500000 characters long; at most 1024" in error and len(error) < 200


def test_a_directory_is_not_a_file(tmp_path):
    (tmp_path / "accessory.conf").mkdir()
    assert check_file(str(tmp_path / "accessory.conf")) == [
        f"cannot read {tmp_path / 'accessory.conf'}: it is a directory; give a file"
    ]


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "accessory.conf"
    os.mkfifo(fifo)
    done = threading.Event()
    found: list[list[str]] = []
    worker = threading.Thread(
        target=lambda: (found.append(check_file(str(fifo))), done.set()), daemon=True
    )
    worker.start()
    assert done.wait(10), "reading a FIFO blocked"
    assert found == [[f"cannot read {fifo}: it is not a regular file; give a file"]]


def test_a_device_is_not_read_forever():
    assert read_text("/dev/zero") == (
        None,
        ["cannot read /dev/zero: it is not a regular file; give a file"],
    )


@pytest.mark.parametrize("kind", ["loop", "under-a-file"])
def test_paths_that_cannot_be_opened_are_errors(tmp_path, kind):
    path = tmp_path / "accessory.conf"
    if kind == "loop":
        path.symlink_to(path)
    else:
        (tmp_path / "file").write_text("")
        path = tmp_path / "file" / "accessory.conf"
    [error] = check_file(str(path))
    assert error.startswith(f"cannot read {path}: ")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_is_an_error(tmp_path):
    path = tmp_path / "accessory.conf"
    path.write_text(VALID)
    path.chmod(0)
    assert check_file(str(path)) == [f"cannot read {path}: Permission denied"]


# -- every key is typed ----------------------------------------------------------------


def wrong_for(field) -> str:
    """A value of the wrong kind for ``field``."""
    samples = [
        (Url, "htps://valt.local"),
        (IpAddress, "localhost"),
        (IpNetworks, "127.0.0.1 the-kiosk"),
        (Integer, "many"),
        (Float, "soon"),
        (Boolean, "maybe"),
        (Choice, "nope"),
        (Path, "relative/file"),
        (Command, "'unclosed"),
        (KeyName, "KEY_NOPE"),
        (DeviceSelector, "usb:zz"),
        (Secret, "x" * 2000),
        (Colour, "ultraviolet"),
        (PresetNames, "Wide <b>"),
    ]
    for kind, text in samples:
        if isinstance(field, kind):
            return text
    assert isinstance(field, String), type(field)
    return "nope" if field.choices else "x" * 2000


FIXED = [
    (name, key, field)
    for name, section in SCHEMA.items()
    for key, field in section.items()
]
SOURCES = [
    (kind, key, field)
    for kind, schema in SOURCE_SCHEMAS.items()
    for key, field in schema.items()
]


@pytest.mark.parametrize(("section", "key", "field"), FIXED)
def test_every_key_refuses_a_value_of_the_wrong_kind(tmp_path, section, key, field):
    path = tmp_path / "accessory.conf"
    path.write_text(f"[{section}]\n{key} = {wrong_for(field)}\n")
    [error] = check_file(str(path))
    assert error.startswith(f"[{section}] {key}")


@pytest.mark.parametrize(("kind", "key", "field"), SOURCES)
def test_every_source_key_refuses_a_value_of_the_wrong_kind(tmp_path, kind, key, field):
    path = tmp_path / "accessory.conf"
    extra = "port = /dev/ttyUSB0\n" if kind == "card_serial" and key != "port" else ""
    extra += (
        "device = usb:ffff:0035\n" if kind == "card_hid" and key != "device" else ""
    )
    path.write_text(
        f"[source:door]\nkind = {kind}\n{extra}{key} = {wrong_for(field)}\n"
    )
    [error] = check_file(str(path))
    assert error.startswith(f"[source:door] {key}")


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[web]\naddress = ::\n", None),
        ("[web]\naddress = 127.0.0.1\n", None),
        (
            "[web]\naddress = localhost\n",
            "[web] address = 'localhost': must be an IP address of this box, e.g. "
            "0.0.0.0 (all of them), :: (all, IPv6 too) or 127.0.0.1",
        ),
    ],
)
def test_web_address_is_an_ip_address(tmp_path, text, error):
    path = tmp_path / "accessory.conf"
    path.write_text(text)
    assert check_file(str(path)) == ([error] if error else [])
