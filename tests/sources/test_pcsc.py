"""The PC/SC pieces that need no pcscd: reader choice, answers, errors, settings."""

from __future__ import annotations

import queue
from typing import Any

import pytest

from ivs_accessory.config import validate_section
from ivs_accessory.errors import ConfigError, InputSourceError
from ivs_accessory.sources.base import create_source
from ivs_accessory.sources.card_pcsc import (
    PcscCardReader,
    choose_reader,
    describe_answer,
)
from ivs_accessory.sources.pcsc import CardAnswer, PcscContext, PcscError

PNP = "\\\\?PnP?\\Notification"
ACR = "ACS ACR122U PICC Interface 00 00"
OTHER = "Identiv uTrust 3700 F CL Reader 01 00"

REMOVED = 0x80100069
NO_SERVICE = 0x8010001D
NO_READERS = 0x8010002E


@pytest.mark.parametrize(
    "wanted, names, expected",
    [
        ("first", [PNP, ACR, OTHER], ACR),
        (" FIRST ", [OTHER, ACR], OTHER),
        ("first", [PNP], None),
        ("first", [], None),
        ("acr122", [OTHER, ACR], ACR),
        ("uTrust", [ACR, OTHER], OTHER),
        ("PICC Interface", [ACR, OTHER], ACR),
        ("omnikey", [ACR, OTHER], None),
        ("notification", [PNP], None),
    ],
)
def test_choose_reader(wanted, names, expected):
    assert choose_reader(wanted, names) == expected


@pytest.mark.parametrize(
    "answer, words",
    [
        (CardAnswer(b"", 0x6A81), "answered 6A 81 (function not supported)"),
        (CardAnswer(b"", 0x6E00), "6E 00 (class not supported)"),
        (CardAnswer(b"", 0x6F12), "6F 12 (an error)"),
        (CardAnswer(b"", 0x9000), "90 00 to GET DATA (UID) but sent no UID"),
    ],
)
def test_describe_answer_names_the_status_word(answer, words):
    assert not answer.ok
    assert words in describe_answer(answer)


def test_card_answer_ok_needs_90_00_and_a_uid():
    assert CardAnswer(b"\x01\x02\x03\x04", 0x9000).ok
    assert not CardAnswer(b"\x01\x02\x03\x04", 0x6282).ok


class FakeScard:
    """Stands in for pyscard's ``smartcard.scard``: same calls, scripted results."""

    SCARD_SCOPE_USER = 0
    SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1 = 1, 2
    SCARD_SHARE_SHARED, SCARD_LEAVE_CARD = 2, 0

    def __init__(self, **results: int) -> None:
        self.results = results
        self.answer = [0x01, 0x02, 0x03, 0x04, 0x90, 0x00]
        self.calls: list[str] = []

    def _result(self, name: str) -> int:
        self.calls.append(name)
        return self.results.get(name, 0)

    def SCardEstablishContext(self, scope: int) -> tuple[int, int]:
        return self._result("establish"), 7

    def SCardListReaders(self, context: int, groups: list[str]) -> tuple[int, list]:
        return self._result("list"), [ACR]

    def SCardConnect(self, *args: Any) -> tuple[int, int, int]:
        return self._result("connect"), 9, self.SCARD_PROTOCOL_T1

    def SCardTransmit(self, card: int, protocol: int, apdu: list) -> tuple[int, list]:
        assert apdu == [0xFF, 0xCA, 0x00, 0x00, 0x00]
        return self._result("transmit"), self.answer

    def SCardDisconnect(self, card: int, disposition: int) -> int:
        return self._result("disconnect")

    def SCardReleaseContext(self, context: int) -> int:
        return self._result("release")

    def SCardGetErrorMessage(self, result: int) -> str:
        return "scripted failure"


def test_context_reads_the_uid_and_lets_the_card_go():
    scard = FakeScard()
    answer = PcscContext(scard).read_uid(ACR)
    assert answer == CardAnswer(b"\x01\x02\x03\x04", 0x9000)
    assert scard.calls == ["establish", "connect", "transmit", "disconnect"]


@pytest.mark.parametrize("step", ["connect", "transmit"])
def test_context_a_removed_card_is_reason_card_gone(step):
    scard = FakeScard(**{step: REMOVED})
    with pytest.raises(PcscError) as info:
        PcscContext(scard).read_uid(ACR)
    assert info.value.reason == "card_gone"
    assert "0x80100069" in str(info.value)
    assert isinstance(info.value, InputSourceError)
    assert ("disconnect" in scard.calls) == (step == "transmit")


def test_context_an_answer_without_status_word_is_card_gone():
    scard = FakeScard()
    scard.answer = [0x90]
    with pytest.raises(PcscError) as info:
        PcscContext(scard).read_uid(ACR)
    assert info.value.reason == "card_gone"


def test_context_no_service_and_no_readers():
    with pytest.raises(PcscError) as info:
        PcscContext(FakeScard(establish=NO_SERVICE))
    assert info.value.reason == "no_service"
    assert PcscContext(FakeScard(list=NO_READERS)).readers() == []


def test_reader_reports_pcscd_missing_and_closes_fast():
    def no_pcscd() -> PcscContext:
        return PcscContext(FakeScard(establish=NO_SERVICE))

    reader = PcscCardReader("nfc", open_context=no_pcscd)
    reader.start(lambda event: None)
    try:
        assert reader.wait_status(lambda s: s["last_error"], 5.0)
        assert reader.status()["last_error"].startswith("pcscd not running")
    finally:
        reader.close()  # within JOIN_TIMEOUT_S, or ThreadStuckError
    assert not reader.is_alive


@pytest.mark.parametrize(
    "options, message",
    [
        ({"reader": "ACR", "port": "/dev/ttyUSB0"}, "unknown key 'port' for kind"),
        ({"reader": "   "}, "needs reader = first or a part of the reader's name"),
    ],
)
def test_factory_rejects_bad_options_with_the_fix(options, message):
    with pytest.raises(ConfigError, match=message):
        create_source("nfc", {"kind": "card_pcsc", **options}, open_context=None)


def test_factory_default_reader_is_first():
    source = create_source("nfc", {"kind": "card_pcsc"}, open_context=PcscContext)
    assert isinstance(source, PcscCardReader)
    assert source.status()["reader"] == "first"
    assert not source.status()["connected"]


def test_config_section_card_pcsc():
    values, errors = validate_section("source:nfc", {"kind": "card_pcsc"})
    assert (values, errors) == ({"kind": "card_pcsc", "reader": "first"}, {})
    values, errors = validate_section(
        "source:nfc", {"kind": "card_pcsc", "reader": "", "port": "/dev/ttyS0"}
    )
    assert "first, or a part of the reader's name" in errors["reader"]
    assert "not used by kind 'card_pcsc'" in errors["port"]


def test_context_a_mute_card_is_not_a_card_that_left():
    with pytest.raises(PcscError) as info:
        PcscContext(FakeScard(connect=0x80100066)).read_uid(ACR)
    assert info.value.reason == "other"


class ScriptedPcscd:
    """Stands in for pcscd behind PcscContext's interface: readers come and go on a
    USB bus the test controls, and each reader's states arrive as the test sends
    them (what vpcd cannot do: a reader leaving a running pcscd)."""

    def __init__(self) -> None:
        self.plugged: list[str] = []
        self.states: queue.Queue[int] = queue.Queue()
        self.uid = b"\x01\x02\x03\x04"

    def __call__(self) -> ScriptedPcscd:
        return self  # open_context: one context, this one

    def wait(self, reader: str, known: int, timeout_ms: int) -> int | None:
        try:
            state = self.states.get(timeout=timeout_ms / 1000)
        except queue.Empty:
            return None
        if state < 0:
            raise PcscError("cancelled", "cancelled")
        return state

    def readers(self) -> list[str]:
        return list(self.plugged)

    def read_uid(self, reader: str) -> CardAnswer:
        return CardAnswer(self.uid, 0x9000)

    def cancel(self) -> None:
        self.states.put(-1)

    def close(self) -> None:
        pass


EMPTY, PRESENT, UNKNOWN, CHANGED = 0x10, 0x20, 0x4, 0x2


def test_reader_unplugged_and_plugged_again_while_pcscd_runs():
    pcscd = ScriptedPcscd()
    events: queue.Queue[Any] = queue.Queue()
    reader = PcscCardReader("nfc", "acr", open_context=pcscd, reconnect_max_s=0.2)
    reader.start(events.put)
    try:
        assert reader.wait_status(lambda s: "pcscd sees none" in s["last_error"], 5)
        pcscd.plugged = [OTHER, ACR]
        pcscd.states.put(EMPTY)
        assert reader.wait_status(lambda s: s["device"] == ACR, 5)
        pcscd.states.put(PRESENT | 1 << 16)
        assert events.get(timeout=5).raw == "01020304"
        pcscd.plugged = [OTHER]  # unplugged: pcscd reports it unknown
        pcscd.states.put(UNKNOWN | CHANGED)
        assert reader.wait_status(
            lambda s: "no reader matching 'acr'" in (s["last_error"] or ""), 5
        )
        pcscd.plugged = [OTHER, ACR]
        pcscd.states.put(EMPTY)
        assert reader.wait_status(lambda s: s["connected"], 5)
        assert reader.status()["reconnects"] == 1
        # Two cards swapped between two waits: the same PRESENT, a new event count.
        pcscd.states.put(PRESENT | 3 << 16)
        pcscd.uid = b"\x0a\x0b\x0c\x0d"
        assert events.get(timeout=5).raw == "0A0B0C0D"
        pcscd.states.put(PRESENT | 5 << 16)
        assert events.get(timeout=5).raw == "0A0B0C0D"
    finally:
        reader.close()
