"""Property: for any config file (any bytes), `config check` and `run` agree."""

# What `config check` accepts, `run` starts with; what it refuses, `run` runs in safe
# mode with the same errors, in the same words; and `run` never ends in a traceback.
# IVS_LONG=1 runs ten times the examples.

from __future__ import annotations

import logging
import os
import threading

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from ivs_accessory import cli, daemon
from ivs_accessory.config import (
    SCHEMA,
    SOURCE_KINDS,
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
    String,
    Url,
    check_file,
)
from ivs_accessory.config.lamp_schema import Colour
from ivs_accessory.notify import Notifier
from ivs_accessory.safe_mode import first_of

LONG = os.environ.get("IVS_LONG") == "1"
PROPERTY = settings(
    max_examples=400 if LONG else 40,
    deadline=None,
    derandomize=not LONG,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Servers that are valid resolve on this machine and refuse at once (nothing may
# leave the box); the others exercise each way a server can be wrong.
SERVERS = st.one_of(
    st.builds(
        "".join,
        st.tuples(
            st.sampled_from(["", "http://", "https://", "HTTP://", "htps://", "ftp:/"]),
            st.sampled_from(["127.0.0.1", "[::1]", "localhost", "[::1", "", "a..b"]),
            st.sampled_from(["", ":9", ":0", ":65536", ":", ":x"]),
            st.sampled_from(["", "/", "/valt//", "/?q", "/a%zz"]),
        ),
    ),
    st.text(max_size=12),
    st.just("x" * 5000),
)


def good_values(key: str, field) -> list[str]:
    """Valid texts for a field (its default first)."""
    found = [field.default] if field.default is not None else []
    if isinstance(field, Url):
        return found + ["http://127.0.0.1:9", "[::1]:9/valt"]
    if isinstance(field, Integer):
        return found + [str(field.min), str(field.max)]
    if isinstance(field, Float):
        return found + [str(field.min)]
    kinds = [
        (Boolean, ["yes", "off"]),
        (Choice, list(getattr(field, "values", ()))),
        (Path, ["/tmp/ivs-property/x"]),
        (Command, ["/bin/true --x"]),
        (KeyName, ["KEY_A"]),
        (IpAddress, ["127.0.0.1", "::"]),
        (IpNetworks, ["127.0.0.1 ::1", "192.168.10.0/24", ""]),
        (DeviceSelector, ["usb:ffff:0035", "name:Keypad"]),
        (Colour, ["amber", "#ff7800"]),
    ]
    for kind, texts in kinds:
        if isinstance(field, kind):
            return found + texts
    assert isinstance(field, String), key
    return found + list(field.choices or ["Door 3"])


def value_for(key: str, field, damaged: bool) -> st.SearchStrategy[str]:
    good = st.sampled_from(good_values(key, field) or [""])
    if not damaged:
        return good
    return st.one_of(good, SERVERS if isinstance(field, Url) else st.text(max_size=12))


def section_lines(name: str, fields: dict, damaged: bool) -> st.SearchStrategy:
    def line(key: str) -> st.SearchStrategy[str]:
        return value_for(key, fields[key], damaged).map(lambda v: f"{key} = {v}")

    if not fields:
        return st.just([f"[{name}]"])
    return st.lists(st.sampled_from(sorted(fields)).flatmap(line), max_size=4).map(
        lambda lines: [f"[{name}]", *lines]
    )


def source_lines(damaged: bool) -> st.SearchStrategy[list[str]]:
    def lines(name: str, kind: str) -> st.SearchStrategy[list[str]]:
        return section_lines(f"source:{name}", SOURCE_SCHEMAS[kind], damaged).map(
            lambda body: [body[0], f"kind = {kind}", *body[1:]]
        )

    names = ["door", "desk"] + (["bad name"] if damaged else [])
    return st.tuples(st.sampled_from(names), st.sampled_from(SOURCE_KINDS)).flatmap(
        lambda pair: lines(*pair)
    )


def sections(damaged: bool) -> st.SearchStrategy[list[str]]:
    known = [
        *[section_lines(name, dict(s), damaged) for name, s in SCHEMA.items()],
        source_lines(damaged),
        st.just(["[bindings]", "KEY_A = marker", "KEY_B.hold = lock"]),
    ]
    if damaged:
        known += [
            st.just(["[mapp]", "mode = pin"]),
            st.lists(st.text(max_size=20), max_size=2),  # anything at all
        ]
    return st.one_of(*known)


@st.composite
def files(draw) -> bytes:
    """A config file: about half are written right, the rest damaged in the ways
    files are (wrong values, unknown names, stray bytes)."""
    damaged = draw(st.booleans())
    parts = draw(st.lists(sections(damaged), max_size=5))
    text = "\n".join(line for part in parts for line in part) + "\n"
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data  # Windows Notepad's BOM
    if draw(st.booleans()):
        data = data.replace(b"\n", b"\r\n")
    if damaged and draw(st.integers(0, 3)) == 0:
        at = draw(st.integers(0, len(data)))
        data = (
            data[:at] + draw(st.sampled_from([b"\x00", b"\xff", b"\xc3"])) + data[at:]
        )
    return data


class IdleSource:
    """An input source that never emits (the property is about start-up)."""

    def start(self, emit) -> None:
        pass

    def close(self) -> None:
        pass

    def status(self) -> dict:
        return {"connected": True}


class IdlePage:
    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def run_once(path: str) -> tuple[int, list[str], list[logging.LogRecord]]:
    """``run`` in-process until it is ready, then stopped: (exit code, the notify
    messages, every log record)."""
    notifier = Notifier(send=lambda message: True, environ={"NOTIFY_SOCKET": "x"})
    handler = Records()
    package = logging.getLogger("ivs_accessory")
    package.addHandler(handler)
    # setLevel, not the attribute: it clears the loggers' cached "enabled for"
    # answers, which an earlier test's INFO records (at WARNING then) may have left.
    level = package.level
    package.setLevel(logging.INFO)
    stop = threading.Event()
    stop.set()  # stop again as soon as everything started
    try:
        code = daemon.run(
            path,
            stop=stop,
            drain_s=0,
            service_options={
                "notifier": notifier,
                "source_factory": lambda name, options: IdleSource(),
                "web": lambda service: IdlePage(),
            },
        )
    finally:
        package.removeHandler(handler)
        package.setLevel(level)
    return code, notifier.sent, handler.records


def check_agrees_with_run(path: str, capsys) -> list[str]:
    errors = check_file(path)
    capsys.readouterr()
    assert cli.config_check(path) == (78 if errors else 0)
    shown = capsys.readouterr().err.splitlines()
    assert [line for line in shown if ": note: " not in line] == [
        f"{path}: {error}" for error in errors
    ]
    code, sent, records = run_once(path)
    assert code == 0
    assert not [r for r in records if r.exc_info], "a traceback was logged"
    refused = [
        r.getMessage().removeprefix("config: ")
        for r in records
        if r.name == "ivs_accessory.safe_mode" and r.getMessage().startswith("config: ")
    ]
    assert refused == errors  # every error, once, in the same words
    statuses = [m for m in sent if m.startswith("STATUS=safe mode")]
    if errors:
        assert statuses == [f"STATUS=safe mode: {first_of(errors)}"]
    else:
        assert statuses == [] and any(
            "accessory started" in r.getMessage() for r in records
        )
    assert "READY=1" in sent
    return errors


@example(data=b"\xef\xbb\xbf[valt]\r\nroom = 3\r\n")
@example(data=b"[valt]\nserver = htps://valt.local\n")
@example(data=b"[valt]\n" + b"x" * 300_000 + b"\n")
@example(data=b"[valt]\nroom = 1\n[valt]\nroom = 1\nroom = 2\n")
@example(data=b"\x00\x00\x00")
@given(data=files())
@PROPERTY
def test_config_check_and_run_agree_on_any_file(tmp_path, capsys, data):
    path = tmp_path / "accessory.conf"
    path.write_bytes(data)
    errors = check_agrees_with_run(str(path), capsys)
    event("refused" if errors else "accepted")


@pytest.mark.parametrize("kind", ["missing", "directory", "fifo", "empty"])
def test_config_check_and_run_agree_on_odd_paths(tmp_path, capsys, kind):
    path = tmp_path / "accessory.conf"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "empty":
        path.write_bytes(b"")
    errors = check_agrees_with_run(str(path), capsys)
    assert bool(errors) is (kind != "empty")
