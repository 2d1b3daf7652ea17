"""Tests for the serial card reader: CardFramer tables and SerialCardReader on a pty."""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
import tty
from collections.abc import Iterator

import pytest
import serial
from conftest import FakeClock
from hypothesis import given
from hypothesis import strategies as st

from ivs_accessory.errors import ConfigError
from ivs_accessory.events import CardRead
from ivs_accessory.sources.card_serial import CardFramer, SerialCardReader, open_serial
from ivs_accessory.threads import ThreadStuckError

STX, ETX = b"\x02", b"\x03"
WAIT_S = 5


def em_frame(data_hex: str, checksum: int | None = None) -> bytes:
    """An RDM6300-style frame; the checksum is computed here unless given."""
    if checksum is None:
        checksum = 0
        for value in bytes.fromhex(data_hex):
            checksum ^= value
    return STX + f"{data_hex}{checksum:02X}".encode() + ETX


def reads(events: list[CardRead]) -> list[tuple[str, str]]:
    return [(event.kind, event.raw) for event in events]


def feed_in_chunks(framer: CardFramer, data: bytes, cuts: list[int]) -> list[CardRead]:
    out: list[CardRead] = []
    bounds = [0, *sorted(cuts), len(data)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        out.extend(framer.feed(data[start:end]))
    return out


# --- CardFramer: tables ---------------------------------------------------------

GOOD = em_frame("0F00A1B2C3")  # checksum DF, worked out by hand
assert GOOD == b"\x020F00A1B2C3DF\x03"

FRAMER_CASES = [
    # framing, input, expected reads, expected drop count
    ("auto", b"0004512345\r", [("decimal", "0004512345")], 0),
    ("auto", b"0004512345\n", [("decimal", "0004512345")], 0),
    ("auto", b"0004512345\r\n", [("decimal", "0004512345")], 0),
    ("auto", b"\r\n\n\r\r\n", [], 0),
    ("auto", GOOD, [("em4100", "0F00A1B2C3")], 0),
    ("auto", em_frame("0f00a1b2c3"), [("em4100", "0F00A1B2C3")], 0),
    ("auto", GOOD + b"\r\n", [("em4100", "0F00A1B2C3")], 0),
    ("auto", em_frame("0F00A1B2C3", checksum=0xDE), [], 1),
    ("auto", STX + b"0F00A1B2C3D" + ETX, [], 1),
    ("auto", STX + b"0F00A1B2C3DF0" + ETX, [], 1),
    ("auto", STX + b"0F00A1B2C3DFFFFFFFFFFFFFF" + ETX, [], 1),
    ("auto", STX + b"0F00A1B2C3ZZ" + ETX, [], 1),
    ("auto", STX + b"0F00A1" + GOOD, [("em4100", "0F00A1B2C3")], 1),
    ("auto", STX + b"0F00A1\r" + b"42\r", [("decimal", "42")], 1),
    ("auto", b"12a4\r", [], 1),
    ("auto", b"12a4\r99\n", [("decimal", "99")], 1),
    ("auto", b"abc" + GOOD, [("em4100", "0F00A1B2C3")], 1),
    ("auto", b"\xff\x00\xfe\r" + b"7\r", [("decimal", "7")], 1),
    ("auto", b"123" + GOOD, [("em4100", "0F00A1B2C3")], 1),
    ("auto", b"1" * 64 + b"\r", [("decimal", "1" * 64)], 0),
    ("auto", b"1" * 65 + b"\r" + b"2\r", [("decimal", "2")], 1),
    ("auto", b"1" * 500 + b"\r", [], 1),
    ("auto", b"12\x0312\x03", [("decimal", "12"), ("decimal", "12")], 0),
    ("auto", ETX + b"5\r", [("decimal", "5")], 0),
    ("auto", b"abc\x03" + b"42\r", [("decimal", "42")], 1),
    ("auto", STX + b"0F00A1", [], 0),
    ("line", b"0004512345\r\n", [("decimal", "0004512345")], 0),
    ("line", GOOD + b"\r\n" + b"8\n", [("decimal", "8")], 1),
    ("line", b"12\x03\n", [], 1),
    ("em4100", GOOD + b"\r\n" + GOOD, [("em4100", "0F00A1B2C3")] * 2, 0),
    ("em4100", b"1234\r\n" + GOOD, [("em4100", "0F00A1B2C3")], 1),
    ("em4100", b"1234" + GOOD, [("em4100", "0F00A1B2C3")], 1),
]


@pytest.mark.parametrize("framing, data, expected, dropped", FRAMER_CASES)
def test_framer_table(framing, data, expected, dropped):
    framer = CardFramer(framing)
    assert reads(framer.feed(data)) == expected
    assert framer.frames == len(expected)
    assert framer.dropped == dropped


@pytest.mark.parametrize("framing, data, expected, dropped", FRAMER_CASES)
def test_framer_table_byte_by_byte(framing, data, expected, dropped):
    framer = CardFramer(framing)
    out = feed_in_chunks(framer, data, list(range(1, len(data))))
    assert reads(out) == expected
    assert framer.dropped == dropped


STREAM = GOOD + b"0004512345\r\n" + b"junk\r" + em_frame("1A2B3C4D5E") + b"77\n"
STREAM_READS = [
    ("em4100", "0F00A1B2C3"),
    ("decimal", "0004512345"),
    ("em4100", "1A2B3C4D5E"),
    ("decimal", "77"),
]


def test_framer_several_frames_in_one_feed():
    framer = CardFramer()
    assert reads(framer.feed(STREAM)) == STREAM_READS
    assert (framer.frames, framer.dropped) == (4, 1)


@pytest.mark.parametrize("cut", range(len(STREAM) + 1))
def test_framer_split_at_every_offset(cut):
    framer = CardFramer()
    assert reads(feed_in_chunks(framer, STREAM, [cut])) == STREAM_READS
    assert (framer.frames, framer.dropped) == (4, 1)


def test_framer_stamps_source_and_time():
    clock = FakeClock(5.0)
    framer = CardFramer(source="door", clock=clock)
    assert framer.feed(b"12") == []
    clock.now = 7.5
    assert framer.feed(b"\r") == [CardRead("door", "12", "decimal", 7.5)]


@pytest.mark.parametrize(
    "before, dropped",
    [(b"12", 1), (STX + b"0F00", 1), (b"", 0), (b"x", 1), (b"1\r", 0)],
)
def test_framer_reset_forgets_a_partial_frame(before, dropped):
    framer = CardFramer()
    framer.feed(before)
    framer.reset()
    assert reads(framer.feed(b"34\r")) == [("decimal", "34")]
    assert framer.dropped == dropped


def test_framer_empty_feed():
    assert CardFramer().feed(b"") == []


def test_framer_rejects_unknown_framing():
    with pytest.raises(ConfigError, match="choose one of auto, line, em4100"):
        CardFramer("wiegand")


def test_framer_logs_drops_without_digits_and_rate_limits_warnings(caplog):
    clock = FakeClock(100.0)
    framer = CardFramer(source="door", clock=clock)
    caplog.set_level(logging.DEBUG, logger="ivs_accessory")
    framer.feed(b"4512345x\r" + em_frame("0F00A1B2C3", checksum=0) + b"99999999Z\r")
    clock.now += 1.0
    framer.feed(b"31415926x\r")
    levels = [record.levelno for record in caplog.records]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG, logging.WARNING]
    for secret in ("4512345", "0F00A1B2C3", "A1B2", "99999999", "31415926"):
        assert secret not in caplog.text
    assert "door" in caplog.text


# --- CardFramer: properties -----------------------------------------------------


@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(0, 300), max_size=8))
def test_framer_never_raises_and_ignores_how_bytes_are_split(data, cuts):
    whole = CardFramer(clock=FakeClock(100.0))
    expected = whole.feed(data)
    split = CardFramer(clock=FakeClock(100.0))
    cuts = [cut for cut in cuts if cut <= len(data)]
    assert feed_in_chunks(split, data, cuts) == expected
    assert (split.frames, split.dropped) == (whole.frames, whole.dropped)
    assert whole.frames == len(expected)


def _garbage_from(first: int, rest: bytes) -> bytes:
    # No CR, LF or ETX inside, so garbage can never complete a frame by itself.
    return bytes([first]) + bytes(b for b in rest if b not in b"\r\n\x03")


GARBAGE_STARTS = [b for b in range(256) if b not in b"0123456789\r\n\x03"]
garbage = st.one_of(
    st.just(b""), st.builds(_garbage_from, st.sampled_from(GARBAGE_STARTS), st.binary())
)
separators = st.sampled_from([b"\r", b"\n", b"\r\n"])
line_frames = st.builds(
    lambda digits, end: (("decimal", digits), digits.encode() + end),
    st.text("0123456789", min_size=1, max_size=64),
    separators,
)
em_frames = st.builds(
    lambda data, lower: (
        ("em4100", data.hex().upper()),
        em_frame(data.hex() if lower else data.hex().upper()),
    ),
    st.binary(min_size=5, max_size=5),
    st.booleans(),
)
# A CR or LF before each frame ends any garbage run, so no valid frame is swallowed.
pieces = st.tuples(garbage, separators, line_frames | em_frames)


@given(
    pieces=st.lists(pieces, max_size=12),
    tail=garbage,
    cuts=st.lists(st.integers(0, 2000)),
)
def test_framer_finds_every_valid_frame_among_garbage(pieces, tail, cuts):
    stream = b"".join(junk + sep + frame for junk, sep, (_, frame) in pieces) + tail
    expected = [read for _, _, (read, _) in pieces]
    framer = CardFramer()
    out = feed_in_chunks(framer, stream, [cut for cut in cuts if cut <= len(stream)])
    assert reads(out) == expected
    assert framer.frames == len(expected)
    # Each garbage run ends before its frame, so counts at least once; the tail may
    # still be an unfinished frame.
    assert framer.dropped >= sum(1 for junk, _, _ in pieces if junk)


# --- SerialCardReader on a real pty ---------------------------------------------


class Ptys:
    """Creates pty pairs in raw mode and closes whatever is still open at the end."""

    def __init__(self) -> None:
        self._fds: set[int] = set()

    def make(self) -> tuple[int, str]:
        master, slave = os.openpty()
        tty.setraw(slave)
        self._fds.update((master, slave))
        return master, os.ttyname(slave)

    def close(self, fd: int) -> None:
        self._fds.discard(fd)
        os.close(fd)

    def close_all(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()


@pytest.fixture
def ptys() -> Iterator[Ptys]:
    made = Ptys()
    try:
        yield made
    finally:
        made.close_all()


class RecordingOpener:
    """Opens the real port with open_serial, and reports each success and failure."""

    def __init__(self) -> None:
        self.opened: queue.Queue = queue.Queue()
        self.failed = threading.Event()
        self.settings: dict = {}

    def __call__(self, port: str, **settings):
        self.settings = settings
        try:
            handle = open_serial(port, **settings)
        except (serial.SerialException, OSError):
            self.failed.set()
            raise
        # Signalled after open() has flushed the input, so later writes are kept.
        self.opened.put(handle)
        return handle


@contextlib.contextmanager
def running(reader: SerialCardReader, emit) -> Iterator[SerialCardReader]:
    reader.start(emit)
    try:
        yield reader
    finally:
        reader.close()


def test_reader_reads_cards_from_a_pty(ptys, caplog):
    caplog.set_level(logging.DEBUG, logger="ivs_accessory")
    master, path = ptys.make()
    opener = RecordingOpener()
    events: queue.Queue = queue.Queue()
    with running(SerialCardReader("door", path, open_port=opener), events.put) as rd:
        opener.opened.get(timeout=WAIT_S)
        os.write(master, GOOD[:5])
        os.write(master, GOOD[5:] + b"xx\r0004512345\r\n")
        first = events.get(timeout=WAIT_S)
        second = events.get(timeout=WAIT_S)
        assert rd.status() == {
            "connected": True,
            "device": path,
            "port": path,
            "frames": 2,
            "dropped": 1,
            "reconnects": 0,
            "last_error": None,
        }
    assert (first.source, first.kind, first.raw) == ("door", "em4100", "0F00A1B2C3")
    assert (second.kind, second.raw) == ("decimal", "0004512345")
    assert opener.settings == {
        "baudrate": 9600,
        "bytesize": 8,
        "parity": "N",
        "stopbits": 1,
    }
    assert rd.status()["connected"] is False
    assert "0004512345" not in caplog.text and "A1B2C3" not in caplog.text


def test_reader_waits_for_a_port_absent_at_start(ptys, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ivs_accessory")
    link = tmp_path / "ttyCARD"
    opener = RecordingOpener()
    events: queue.Queue = queue.Queue()
    reader = SerialCardReader("door", str(link), open_port=opener, reconnect_min_s=0.01)
    with running(reader, events.put):
        assert opener.failed.wait(WAIT_S)
        assert reader.status()["connected"] is False
        assert "ttyCARD" in reader.status()["last_error"]
        master, path = ptys.make()
        os.symlink(path, link)
        opener.opened.get(timeout=WAIT_S)
        os.write(master, b"42\r")
        assert events.get(timeout=WAIT_S).raw == "42"
        assert reader.status()["reconnects"] == 0
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "cannot open" in warnings[0].getMessage()
    assert any("reading" in r.getMessage() for r in caplog.records)


def test_reader_reopens_a_lost_port(ptys, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="ivs_accessory")
    link = tmp_path / "ttyCARD"
    master, path = ptys.make()
    os.symlink(path, link)
    opener = RecordingOpener()
    events: queue.Queue = queue.Queue()
    reader = SerialCardReader("door", str(link), open_port=opener, reconnect_min_s=0.01)
    with running(reader, events.put):
        opener.opened.get(timeout=WAIT_S)
        # The "99" may arrive before the unplug; it must not prefix the next card.
        os.write(master, b"1\r99")
        assert events.get(timeout=WAIT_S).raw == "1"
        # Unplug: the device node goes away, and the open port starts failing.
        link.unlink()
        ptys.close(master)
        assert opener.failed.wait(WAIT_S)
        master, path = ptys.make()
        os.symlink(path, link)
        opener.opened.get(timeout=WAIT_S)
        os.write(master, b"2\r")
        assert events.get(timeout=WAIT_S).raw == "2"
        status = reader.status()
    assert status["reconnects"] == 1
    assert status["connected"] is True
    assert status["last_error"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    # One WARNING for the outage (the failed reopens stay at DEBUG), plus possibly
    # one for the "99" dropped when the framer was reset.
    assert len([w for w in warnings if "lost" in w]) == 1
    assert not [w for w in warnings if "cannot open" in w]
    assert any("reconnected" in r.getMessage() for r in caplog.records)


def test_reader_keeps_reading_when_emit_raises(ptys, caplog):
    master, path = ptys.make()
    opener = RecordingOpener()
    events: queue.Queue = queue.Queue()
    calls = []

    def emit(event: CardRead) -> None:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("handler broke")
        events.put(event)

    with running(SerialCardReader("door", path, open_port=opener), emit):
        opener.opened.get(timeout=WAIT_S)
        os.write(master, b"11111111\r22222222\r")
        assert events.get(timeout=WAIT_S).raw == "22222222"
    failures = [r for r in caplog.records if "event handler failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "11111111" not in caplog.text


def test_reader_close_is_fast_while_reading(ptys):
    _, path = ptys.make()
    opener = RecordingOpener()
    reader = SerialCardReader("door", path, open_port=opener)
    reader.start(lambda event: None)
    opener.opened.get(timeout=WAIT_S)
    started = time.monotonic()
    reader.close()
    assert time.monotonic() - started < 1.0
    assert reader.status()["connected"] is False


def test_reader_close_is_fast_while_waiting_to_reconnect(tmp_path):
    opener = RecordingOpener()
    reader = SerialCardReader(
        "door", str(tmp_path / "absent"), open_port=opener, reconnect_min_s=2.0
    )
    reader.start(lambda event: None)
    assert opener.failed.wait(WAIT_S)
    started = time.monotonic()
    reader.close()
    assert time.monotonic() - started < 1.0


def test_reader_close_raises_if_the_thread_is_stuck():
    release = threading.Event()
    entered = threading.Event()

    def stuck_open(port, **settings):
        entered.set()
        release.wait(WAIT_S)
        raise OSError("gone")

    reader = SerialCardReader("door", "/dev/null-card", open_port=stuck_open)
    reader.start(lambda event: None)
    assert entered.wait(WAIT_S)
    try:
        with pytest.raises(ThreadStuckError, match="'source-door' did not stop"):
            reader.close()
    finally:
        release.set()
    reader.close()


def test_reader_close_without_start_and_twice():
    reader = SerialCardReader("door", "/dev/null-card")
    reader.close()
    reader.close()
    assert reader.status()["connected"] is False


def test_reader_cannot_start_twice(ptys):
    _, path = ptys.make()
    opener = RecordingOpener()
    with running(SerialCardReader("door", path, open_port=opener), print) as reader:
        with pytest.raises(RuntimeError, match="already started"):
            reader.start(print)


def test_reader_stops_on_an_unexpected_open_error(caplog):
    called = threading.Event()

    def bad_open(port, **settings):
        called.set()
        raise ValueError("bad baud rate")

    reader = SerialCardReader("door", "/dev/null-card", open_port=bad_open)
    reader.start(lambda event: None)
    assert called.wait(WAIT_S)
    reader.close()  # joins the thread, so its last log record is in by now
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "unexpected" in errors[0].getMessage()
    assert reader.status()["last_error"] == "bad baud rate"


def test_open_serial_uses_a_short_timeout(ptys):
    _, path = ptys.make()
    with open_serial(path, baudrate=19200) as port:
        assert port.timeout == pytest.approx(0.2)
        assert port.baudrate == 19200
