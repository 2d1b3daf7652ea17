"""The console source: line parsing tables, the reader on a real pipe and StringIO."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import queue
import threading
import time
from collections.abc import Iterator

import pytest

from ivs_accessory.events import CardRead, CodeEntered, KeyHeld, KeyPressed
from ivs_accessory.sources.base import create_source
from ivs_accessory.sources.console import ConsoleError, ConsoleSource, parse_line
from ivs_accessory.threads import ThreadStuckError

WAIT_S = 5
T = 7.0
# Every test: no reader thread may outlive it.
pytestmark = pytest.mark.usefixtures("no_source_thread_left")


def tap(key: str, seconds: float = 0.0) -> list:
    return [KeyHeld("con", key, seconds, T, released=True), KeyPressed("con", key, T)]


@pytest.mark.parametrize(
    "line, expected",
    [
        ("1234", [CodeEntered("con", "1234", T)]),
        ("0042\n", [CodeEntered("con", "0042", T)]),  # leading zeros kept
        ("  0042  \r\n", [CodeEntered("con", "0042", T)]),
        ("", []),
        ("   \n", []),
        ("card 0004921746", [CardRead("con", "0004921746", "decimal", T)]),
        ("CARD 42", [CardRead("con", "42", "decimal", T)]),
        ("card 0f00a1b2c3", [CardRead("con", "0F00A1B2C3", "em4100", T)]),
        ("key plus", tap("KEY_KPPLUS")),
        ("key minus", tap("KEY_KPMINUS")),
        ("key star", tap("KEY_KPASTERISK")),
        ("key asterisk", tap("KEY_KPASTERISK")),
        ("key slash", tap("KEY_KPSLASH")),
        ("key enter", tap("KEY_KPENTER")),
        ("key dot", tap("KEY_KPDOT")),
        ("key 5", tap("KEY_KP5")),
        ("key KEY_KPPLUS", tap("KEY_KPPLUS")),
        ("key key_esc", tap("KEY_ESC")),
        ("key backspace", tap("KEY_BACKSPACE")),
        ("hold star 2", tap("KEY_KPASTERISK", 2.0)),
        ("HOLD Plus 1.5", tap("KEY_KPPLUS", 1.5)),
        ("hold KEY_KP0 10", tap("KEY_KP0", 10.0)),
    ],
)
def test_parse_line(line, expected):
    assert parse_line(line, "con", T) == expected


@pytest.mark.parametrize(
    "line, message",
    [
        (
            "xyz",
            "cannot read 'xyz'; type digits, 'card N', 'key NAME' or "
            "'hold NAME SECONDS'",
        ),
        ("nonsense", "cannot read 'nonsense'"),
        ("card", "cannot read 'card'"),
        ("key", "cannot read 'key'"),
        ("hold star", "cannot read 'hold star'"),
        ("12 34", "cannot read that line"),  # looks like a PIN: not echoed
        ("1234x", "cannot read that line"),
        ("١٢٣٤", "cannot read"),  # other scripts' digits are not keypad digits
        ("card 12ab", "a card number is digits, or 10 hex characters for EM4100"),
        ("card 0f00a1b2c3d4", "a card number is digits"),
        (
            "key plsu",
            "unknown key 'plsu'; use an evdev name such as KEY_KPPLUS or one of "
            "asterisk, dot, enter, minus, plus, slash, star",
        ),
        ("key KEY_NOPE", "unknown key 'KEY_NOPE'"),
        ("hold star -1", "cannot read '-1' as seconds; e.g. hold star 2"),
        ("hold star two", "cannot read 'two' as seconds"),
        ("hold star nan", "cannot read 'nan' as seconds"),
    ],
)
def test_parse_line_rejects(line, message):
    with pytest.raises(ConsoleError) as caught:
        parse_line(line, "con", T)
    assert message in str(caught.value)
    assert "1234" not in str(caught.value) and "12ab" not in str(caught.value)


# --- the reader thread ----------------------------------------------------------------


class Pipe:
    """A real pipe as the console's stdin; ``type`` writes to it."""

    def __init__(self) -> None:
        read, self.write_fd = os.pipe()
        self.stream = os.fdopen(read, "r")

    def type(self, text: str) -> None:
        os.write(self.write_fd, text.encode())

    def end(self) -> None:
        if self.write_fd >= 0:
            os.close(self.write_fd)
            self.write_fd = -1

    def close(self) -> None:
        self.end()
        self.stream.close()


@pytest.fixture
def pipe() -> Iterator[Pipe]:
    p = Pipe()
    try:
        yield p
    finally:
        p.close()


@contextlib.contextmanager
def running(source: ConsoleSource, emit=None) -> Iterator[queue.Queue]:
    events: queue.Queue = queue.Queue()
    source.start(emit or events.put)
    try:
        yield events
    finally:
        source.close()


def get(events: queue.Queue):
    return events.get(timeout=WAIT_S)


def test_console_reads_lines_from_a_pipe(pipe):
    errors = io.StringIO()
    source = ConsoleSource("door", stream=pipe.stream, errors=errors, clock=lambda: T)
    with running(source) as events:
        pipe.type("0042\n")
        assert get(events) == CodeEntered("door", "0042", T)
        pipe.type("card 0004921746\nnonsense\n\nkey plus\n")  # several lines at once
        assert get(events) == CardRead("door", "0004921746", "decimal", T)
        assert [get(events), get(events)] == [
            KeyHeld("door", "KEY_KPPLUS", 0.0, T),
            KeyPressed("door", "KEY_KPPLUS", T),
        ]
        status = source.status()
    assert errors.getvalue() == (
        "door: cannot read 'nonsense'; type digits, 'card N', 'key NAME' or "
        "'hold NAME SECONDS'\n"
    )
    assert status["connected"] and status["lines"] == 4 and status["rejected"] == 1
    assert status["reconnects"] == 0 and status["last_error"] is None
    assert isinstance(status["device"], str)
    assert source.status()["connected"] is False


def test_console_joins_a_line_split_across_writes(pipe):
    source = ConsoleSource("door", stream=pipe.stream, errors=io.StringIO())
    with running(source) as events:
        pipe.type("12")
        pipe.type("34\n")
        assert get(events).digits == "1234"


def test_console_eof_ends_the_thread_and_calls_on_eof(pipe):
    ended = threading.Event()
    source = ConsoleSource(
        "door", stream=pipe.stream, errors=io.StringIO(), on_eof=ended.set
    )
    with running(source) as events:
        pipe.type("1234\n5678")  # the last line has no newline
        pipe.end()
        assert ended.wait(WAIT_S)
        assert [get(events).digits, get(events).digits] == ["1234", "5678"]
        assert source.status()["at_eof"]
        assert source.status()["connected"] is False


def test_console_close_returns_within_a_second_while_blocked(pipe):
    ended = threading.Event()
    source = ConsoleSource(
        "door", stream=pipe.stream, errors=io.StringIO(), on_eof=ended.set
    )
    source.start(lambda event: None)
    started = time.monotonic()
    source.close()
    assert time.monotonic() - started < 1.0
    assert not ended.is_set()  # closing is not end of input
    assert not pipe.stream.closed  # the stream belongs to the caller


def test_console_reads_a_stringio_without_a_file_descriptor():
    ended = threading.Event()
    errors = io.StringIO()
    stream = io.StringIO("1234\nhold star 2\nwhat\ncard 0F00A1B2C3\n")
    source = ConsoleSource(
        "demo", stream=stream, errors=errors, clock=lambda: T, on_eof=ended.set
    )
    with running(source) as events:
        assert ended.wait(WAIT_S)
        got = [get(events) for _ in range(4)]
    assert got == [
        CodeEntered("demo", "1234", T),
        KeyHeld("demo", "KEY_KPASTERISK", 2.0, T),
        KeyPressed("demo", "KEY_KPASTERISK", T),
        CardRead("demo", "0F00A1B2C3", "em4100", T),
    ]
    assert errors.getvalue().startswith("demo: cannot read 'what';")


def test_console_handler_errors_are_logged_and_reading_continues(pipe, caplog):
    got: queue.Queue = queue.Queue()

    def emit(event):
        if event.digits == "1111":
            raise RuntimeError("handler bug")
        got.put(event)

    source = ConsoleSource("door", stream=pipe.stream, errors=io.StringIO())
    with running(source, emit):
        pipe.type("1111\n2222\n")
        assert got.get(timeout=WAIT_S).digits == "2222"
    (record,) = [r for r in caplog.records if r.exc_info]
    assert record.getMessage() == "console door: event handler failed"


def test_console_on_eof_errors_are_logged(caplog):
    called = threading.Event()

    def broken():
        called.set()
        raise RuntimeError("boom")

    source = ConsoleSource(
        "door", stream=io.StringIO(""), errors=io.StringIO(), on_eof=broken
    )
    with running(source):
        assert called.wait(WAIT_S)
    # close() joined the thread, so it has logged by now
    assert "console door: end-of-input handler failed" in caplog.messages


def test_console_never_logs_pins_or_card_numbers(pipe, caplog):
    caplog.set_level(logging.DEBUG)
    source = ConsoleSource("door", stream=pipe.stream, errors=io.StringIO())
    with running(source) as events:
        pipe.type("482913\ncard 0004921746\nkey 7\n")
        for _ in range(4):
            get(events)
    assert "console door: code entered (6 digits)" in caplog.messages
    assert "console door: a digit key pressed" in caplog.messages
    for secret in ("482913", "0004921746", "KEY_KP7"):
        assert all(secret not in r.getMessage() for r in caplog.records)


def test_console_start_twice_is_an_error(pipe):
    source = ConsoleSource("door", stream=pipe.stream, errors=io.StringIO())
    with running(source):
        with pytest.raises(RuntimeError, match="already started"):
            source.start(lambda event: None)


def test_console_is_built_by_create_source_with_seams(pipe):
    ended = threading.Event()
    source = create_source(
        "front",
        {"kind": "console"},
        stream=pipe.stream,
        errors=io.StringIO(),
        on_eof=ended.set,
    )
    with running(source) as events:
        pipe.type("77\n")
        event = get(events)
        assert (event.source, event.digits) == ("front", "77")
        pipe.end()
        assert ended.wait(WAIT_S)


class BlockingStream:
    """A stream without a file descriptor whose readline blocks until released."""

    def __init__(self) -> None:
        self.reading, self.release = threading.Event(), threading.Event()

    def readline(self) -> str:
        self.reading.set()
        self.release.wait(WAIT_S)
        return ""


def test_console_close_names_a_reader_stuck_in_readline():
    stream = BlockingStream()
    source = ConsoleSource("door", stream=stream, errors=io.StringIO())
    source.start(lambda event: None)
    try:
        assert stream.reading.wait(WAIT_S)
        with pytest.raises(ThreadStuckError, match="'source-door' did not stop"):
            source.close()
        assert source.status()["connected"] is True  # still reading, truly
    finally:
        stream.release.set()
    source.close()
    assert source.status()["connected"] is False
