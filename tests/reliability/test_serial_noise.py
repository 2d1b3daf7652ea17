"""Serial card readers on a noisy line: 10^5 random bytes, valid frames among them."""

from __future__ import annotations

import os
import queue
import random
import tty

import pytest

from ivs_accessory.events import CardRead
from ivs_accessory.sources.card_serial import CardFramer, SerialCardReader

from .conftest import LONG
from .door import Watched, wait_until

NOISE_BYTES = 1_000_000 if LONG else 100_000


def noisy_stream(
    rng: random.Random, size: int, watched: Watched
) -> tuple[bytes, list[tuple[str, str]]]:
    """Random bytes (any value, CR, STX and digits included) with valid frames between.

    Each frame is preceded by a CR, which ends whatever the noise left half-read; noise
    may still hold accidental frames of its own. Returns the stream and the inserted
    reads in order (10-digit decimal lines and EM4100 frames, all different)."""
    stream, inserted, seen = bytearray(), [], set()
    while len(stream) < size:
        stream += rng.randbytes(rng.randint(0, 400))
        if rng.random() < 0.5:
            value = str(rng.randrange(10**9, 10**10))
            frame = b"\r" + value.encode() + rng.choice([b"\r", b"\n", b"\r\n"])
            read = ("decimal", value)
        else:
            data = rng.randbytes(5)
            checksum = 0
            for byte in data:
                checksum ^= byte
            value = data.hex().upper()
            frame = b"\r\x02" + (value + f"{checksum:02X}").encode() + b"\x03"
            read = ("em4100", value)
        if value in seen:
            continue
        seen.add(value)
        watched.add("cards", value)
        stream += frame
        inserted.append(read)
    return bytes(stream), inserted


def _each_once_in_order(
    decoded: list[tuple[str, str]], inserted: list[tuple[str, str]]
) -> None:
    values = [v for _, v in inserted]
    assert len(values) == len(set(values))
    mine = [d for d in decoded if d[1] in set(values)]
    assert mine == inserted  # every inserted frame, once each, in order


def test_framer_decodes_every_valid_frame_once_among_random_bytes(watched):
    rng = random.Random(61)
    stream, inserted = noisy_stream(rng, NOISE_BYTES, watched)
    framer = CardFramer()
    decoded, at = [], 0
    while at < len(stream):
        step = rng.randint(1, 700)
        decoded += [(r.kind, r.raw) for r in framer.feed(stream[at : at + step])]
        at += step
    _each_once_in_order(decoded, inserted)
    assert framer.frames == len(decoded)
    assert framer.dropped > 0


@pytest.mark.timeout(300)
def test_serial_reader_on_a_pty_survives_random_bytes(watched):
    rng = random.Random(62)
    stream, inserted = noisy_stream(rng, NOISE_BYTES, watched)
    last = ("decimal", "9999999999")  # sent after everything else: all was read
    master, slave = os.openpty()
    tty.setraw(slave)
    events: queue.Queue[CardRead] = queue.Queue()
    reader = SerialCardReader("reader", os.ttyname(slave))
    reader.start(events.put)
    try:
        wait_until(
            lambda: reader.status()["connected"], 10, "the reader opening the pty"
        )
        at = 0
        while at < len(stream):
            step = rng.randint(1, 2000)
            os.write(master, stream[at : at + step])
            at += step
        os.write(master, b"\r" + last[1].encode() + b"\r")
        decoded = []
        while not decoded or decoded[-1] != last:
            event = events.get(timeout=30)
            decoded.append((event.kind, event.raw))
        status = reader.status()
        assert status["connected"] and status["last_error"] is None
        assert status["frames"] == len(decoded)
    finally:
        reader.close()
        os.close(master)
        os.close(slave)
    _each_once_in_order(decoded[:-1], inserted)
