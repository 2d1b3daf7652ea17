"""Answers as byte chunks, and the pacing that trickles them out at a set rate."""

from __future__ import annotations

import itertools
import json
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

JSON = "application/json"
CHUNK = 64 * 1024  # large answers are written in pieces this big, never held whole
_PAD_HEAD = b'{"data": {"pad": "'
_PAD_TAIL = b'"}}'
# How often a trickle looks at the stopping Event and the client's socket: a stop
# or a client that gave up ends it within this time.
_TICK_S = 0.05


@dataclass
class Answer:
    """One HTTP answer: status, Content-Type, and the body as chunks of ``length``."""

    status: int
    chunks: Iterable[bytes]
    length: int
    content_type: str = JSON


def raw_answer(status: int, body: bytes, content_type: str = JSON) -> Answer:
    return Answer(status, [body], len(body), content_type)


def json_answer(status: int, payload: Any) -> Answer:
    return raw_answer(status, json.dumps(payload).encode())


def padded_answer(status: int, size: int) -> Answer:
    """``{"data": {"pad": "xx…"}}`` of ``size`` bytes (or the bare envelope if
    ``size`` is smaller), made chunk by chunk as it is sent."""
    pad = max(0, size - len(_PAD_HEAD) - len(_PAD_TAIL))
    return Answer(status, _padding(pad), len(_PAD_HEAD) + pad + len(_PAD_TAIL))


def _padding(pad: int) -> Iterator[bytes]:
    yield _PAD_HEAD
    block = b"x" * min(pad, CHUNK)
    while pad > 0:
        piece = block if pad >= len(block) else block[:pad]
        pad -= len(piece)
        yield piece
    yield _PAD_TAIL


def client_gone(sock: socket.socket) -> bool:
    """Whether the client has closed its end (or the socket was shut down)."""
    try:
        readable = select.select([sock], [], [], 0)[0]
    except (OSError, ValueError):
        return True
    if not readable or isinstance(sock, ssl.SSLSocket):
        # TLS cannot peek without reading a record; a failed write will tell.
        return False
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class Trickle:
    """Writes bytes at ``bps`` bytes per second until done, stopped, or the client
    leaves.

    Args:
        write: sends one piece (raises OSError when the client is gone).
        bps: the pace, in bytes per second.
        stopping: set when the simulator stops; the trickle ends within a tick.
        gone: tells whether the client has closed the connection.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        write: Callable[[bytes], Any],
        bps: float,
        stopping: threading.Event,
        gone: Callable[[], bool],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write
        self._bps = bps
        self._stopping = stopping
        self._gone = gone
        self._clock = clock
        # Pieces of a tick's worth of bytes: fast trickles need no wait per byte.
        self.step = max(1, int(bps * _TICK_S))

    def send(self, chunks: Iterable[bytes]) -> bool:
        """Send every chunk at the pace; True when all of it went out."""
        start, sent = self._clock(), 0
        for chunk in chunks:
            for offset in range(0, len(chunk), self.step):
                if not self._wait_until(start + sent / self._bps):
                    return False
                piece = chunk[offset : offset + self.step]
                try:
                    self._write(piece)
                except OSError:
                    return False
                sent += len(piece)
        return True

    def send_endless(self, head: bytes) -> None:
        """Send ``head``, then a header line that never ends, until stopped or the
        client leaves."""
        self.send(itertools.chain([head], itertools.repeat(b"x" * self.step)))

    def _wait_until(self, due: float) -> bool:
        while True:
            if self._gone():
                return False
            left = due - self._clock()
            if left <= 0:
                return True
            if self._stopping.wait(min(left, _TICK_S)):
                return False
