"""PcscCardReader against a real pcscd with Debian's virtual reader and card."""

from __future__ import annotations

import logging
import os
import queue
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ivs_accessory.door.credentials import from_card
from ivs_accessory.events import CardRead
from ivs_accessory.sources.base import create_source
from ivs_accessory.sources.card_pcsc import PcscCardReader
from ivs_accessory.sources.running import RunningSources
from tests.conftest import PipeConsoles
from tests.sources import pcsc_rig
from tests.sources.pcsc_rig import READER, WAIT_S, Card, Pcscd

UID7 = "04A1B2C3D4E5F6"


@pytest.fixture(scope="session")
def pcsc_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A work directory for pcscd's configuration and the cards' helper files.

    pcscd's socket is PCSCLITE_CSOCK_NAME, set for the whole run by tests/conftest.py
    (the client library reads it only once).
    """
    reason = pcsc_rig.missing()
    if reason:
        pytest.skip(reason)
    pytest.importorskip("smartcard", reason="pyscard is missing; run scripts/setup")
    return tmp_path_factory.mktemp("pcsc")


@pytest.fixture
def pcscd(pcsc_dir: Path) -> Iterator[Pcscd]:
    """A private pcscd (not started yet) with a vpcd reader on free ports."""
    daemon = Pcscd(
        pcsc_dir, os.environ["PCSCLITE_CSOCK_NAME"], pcsc_rig.free_port_pair()
    )
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def cards(pcsc_dir: Path, pcscd: Pcscd) -> Iterator[Callable[..., Card]]:
    """``cards(*args)`` puts a virtual card on the reader; all leave at the end."""
    made: list[Card] = []

    def put(*args: str) -> Card:
        card = Card(pcsc_dir, pcscd.port, *args)
        made.append(card)
        return card

    try:
        yield put
    finally:
        for card in made:
            card.remove()


class Started:
    """A started reader and the events it emitted."""

    def __init__(self, reader: PcscCardReader) -> None:
        self.reader = reader
        self.events: queue.Queue[Any] = queue.Queue()
        reader.start(self.events.put)

    def wait(self, check: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        assert self.reader.wait_status(check, WAIT_S), self.reader.status()
        return self.reader.status()

    def next_card(self) -> CardRead:
        event = self.events.get(timeout=WAIT_S)
        assert isinstance(event, CardRead)
        return event


@pytest.fixture
def started(pcsc_dir: Path) -> Iterator[Callable[..., Started]]:
    made: list[Started] = []

    def start(reader: str = "first") -> Started:
        options = {"kind": "card_pcsc", "reader": reader}
        source = create_source("nfc", options, reconnect_max_s=0.3)
        assert isinstance(source, PcscCardReader)
        made.append(Started(source))
        return made[-1]

    try:
        yield start
    finally:
        for each in made:
            each.reader.close()  # ThreadStuckError if a wait was not cut short


def connected(status: dict[str, Any]) -> bool:
    return bool(status["connected"])


def no_card(status: dict[str, Any]) -> bool:
    # pcscd polls vpcd every 0.4 s: a card swapped faster is no change to it.
    return bool(status["connected"]) and not status["card_present"]


def test_pcsc_card_gives_a_credential_with_its_three_readings(
    pcscd, cards, started, caplog
):
    caplog.set_level(logging.DEBUG, logger="ivs_accessory")
    pcscd.start()
    nfc = started("PCD 00 00")
    assert nfc.wait(connected)["device"] == READER
    cards("--uid", UID7)
    event = nfc.next_card()
    assert (event.source, event.kind, event.raw) == ("nfc", "uid", UID7)
    credential = from_card(event)
    assert credential.reading("uid_hex") == UID7
    assert credential.reading("uid_decimal") == "01303689068602870"
    assert credential.reading("uid_decimal_reversed") == "69495546249912580"
    assert nfc.wait(lambda s: s["reads"] == 1)["last_error"] is None
    for secret in (UID7, "1303689068602870", "69495546249912580"):
        assert secret not in caplog.text


def test_pcsc_card_removed_and_presented_again_reads_twice(pcscd, cards, started):
    pcscd.start()
    nfc = started()
    nfc.wait(connected)
    card = cards("--uid", "A1B2C3D4")
    first = from_card(nfc.next_card())
    card.remove()
    assert first.readings["uid_decimal"] == "2712847316"
    assert first.readings["uid_decimal_reversed"] == "3569595041"
    nfc.wait(no_card)
    cards("--uid", UID7)
    assert nfc.next_card().raw == UID7
    assert nfc.events.empty()  # a removal is no read
    assert nfc.reader.status()["reads"] == 2


def test_pcsc_card_already_on_the_reader_at_start_is_not_read(pcscd, cards, started):
    pcscd.start()
    lying = cards("--uid", "A1B2C3D4")
    pcscd.wait_logged("Card inserted into")
    nfc = started()
    nfc.wait(lambda s: s["card_present"])
    lying.remove()
    nfc.wait(no_card)
    cards("--uid", UID7)
    assert nfc.next_card().raw == UID7  # the first read is the card presented anew


def test_pcsc_card_that_leaves_before_its_uid_is_one_dropped_read(
    pcscd, cards, started, caplog
):
    pcscd.start()
    nfc = started()
    nfc.wait(connected)
    cards("--leave")
    status = nfc.wait(lambda s: s["dropped"] == 1)
    assert "left before its UID was read" in status["last_error"]
    assert status["connected"] and nfc.reader.is_alive
    assert [r.levelname for r in caplog.records if "dropped" in r.message] == [
        "WARNING"
    ]
    nfc.wait(no_card)
    cards("--uid", UID7)
    assert nfc.next_card().raw == UID7
    assert nfc.reader.status()["last_error"] is None


@pytest.mark.parametrize(
    "sw, words", [("6A81", "6A 81 (function not supported)"), ("6300", "63 00")]
)
def test_pcsc_error_status_word_is_one_dropped_read(pcscd, cards, started, sw, words):
    pcscd.start()
    nfc = started()
    nfc.wait(connected)
    cards("--sw", sw)
    status = nfc.wait(lambda s: s["dropped"] == 1)
    assert words in status["last_error"] and "not 90 00" in status["last_error"]
    assert nfc.events.empty() and nfc.reader.is_alive


def test_pcsc_pcscd_not_running_is_a_status_line_until_it_starts(
    pcscd, cards, started, caplog
):
    nfc = started()
    status = nfc.wait(lambda s: "pcscd not running" in (s["last_error"] or ""))
    assert not status["connected"]
    pcscd.start()
    nfc.wait(connected)
    cards("--uid", UID7)
    assert nfc.next_card().raw == UID7
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "pcscd not running" in warnings[0].message


def test_pcsc_pcscd_restart_is_noticed_and_reading_resumes(pcscd, cards, started):
    pcscd.start()
    nfc = started()
    nfc.wait(connected)
    pcscd.stop()
    status = nfc.wait(lambda s: "pcscd not running" in (s["last_error"] or ""))
    assert not status["connected"]
    pcscd.start()
    assert nfc.wait(connected)["reconnects"] == 1
    cards("--uid", UID7)
    assert nfc.next_card().raw == UID7


def test_pcsc_reader_appears_and_disappears(pcscd, cards, started):
    pcscd.start(name="Other Reader")
    nfc = started("virtual pcd")
    status = nfc.wait(lambda s: "no reader matching" in (s["last_error"] or ""))
    assert "pcscd has: Other Reader 00 00, Other Reader 00 01" in status["last_error"]
    pcscd.stop()
    pcscd.start()  # the reader is plugged in
    nfc.wait(connected)
    cards("--uid", UID7)
    assert nfc.next_card().raw == UID7
    pcscd.stop()
    pcscd.start(name="Other Reader")  # and unplugged again
    nfc.wait(lambda s: "no reader matching" in (s["last_error"] or ""))
    assert not nfc.reader.status()["connected"]


def test_pcsc_trouble_never_stops_the_other_sources(pcsc_dir):
    consoles = PipeConsoles()

    def factory(name: str, options: dict[str, Any]) -> Any:
        if options["kind"] == "console":
            return consoles(name, options)
        return create_source(name, options)

    events: queue.Queue[Any] = queue.Queue()
    running = RunningSources(factory)
    # No pcscd runs: the PC/SC source reports it and keeps retrying.
    wanted = {
        "nfc": {"kind": "card_pcsc", "reader": "first"},
        "pad": {"kind": "console"},
    }
    try:
        running.sync(wanted, events.put)
        nfc = running.by_name["nfc"]
        assert nfc.wait_status(lambda s: s["last_error"], WAIT_S)
        consoles.type("pad", "1234")
        assert events.get(timeout=WAIT_S).source == "pad"
        assert nfc.is_alive
    finally:
        running.close_all()
