"""decide: what a press means in each room status, and where an intent stands."""

from __future__ import annotations

import pytest

from ivs_accessory.door.decide import (
    ACHIEVED,
    BLOCKED,
    INTENTS,
    POSSIBLE,
    already_words,
    blocked_words,
    judge,
    resolve,
    state_words,
)
from ivs_accessory.valt.models import RoomStatus

A, R, P, L, PR = (
    RoomStatus.AVAILABLE,
    RoomStatus.RECORDING,
    RoomStatus.PAUSED,
    RoomStatus.LOCKED,
    RoomStatus.PREPARED,
)


@pytest.mark.parametrize(
    "action, status, busy_action, intent",
    [
        ("toggle", A, "busy", "start"),
        ("toggle", PR, "busy", "start"),
        ("toggle", R, "busy", "stop"),
        ("toggle", P, "busy", None),
        ("toggle", P, "resume", "resume"),
        ("toggle", P, "stop", "stop"),
        ("toggle", L, "stop", None),
        ("privacy_toggle", A, "busy", "lock"),
        ("privacy_toggle", L, "busy", "unlock"),
        ("privacy_toggle", R, "busy", None),
        ("stop", A, "busy", "stop"),  # bound actions are their own intent
        ("marker", A, "busy", "marker"),
    ],
)
def test_resolve(action, status, busy_action, intent):
    assert resolve(action, status, busy_action) == intent


def test_resolve_refuses_an_unknown_action():
    with pytest.raises(ValueError, match="unknown action 'dance'"):
        resolve("dance", A)


@pytest.mark.parametrize(
    "intent, expected",
    [
        ("start", {A: POSSIBLE, PR: POSSIBLE, R: ACHIEVED, P: ACHIEVED, L: BLOCKED}),
        ("stop", {A: ACHIEVED, PR: ACHIEVED, R: POSSIBLE, P: POSSIBLE, L: ACHIEVED}),
        ("pause", {A: BLOCKED, PR: BLOCKED, R: POSSIBLE, P: ACHIEVED, L: BLOCKED}),
        ("resume", {A: BLOCKED, PR: BLOCKED, R: ACHIEVED, P: POSSIBLE, L: BLOCKED}),
        ("lock", {A: POSSIBLE, PR: POSSIBLE, R: BLOCKED, P: BLOCKED, L: ACHIEVED}),
        ("unlock", {A: ACHIEVED, PR: ACHIEVED, R: ACHIEVED, P: ACHIEVED, L: POSSIBLE}),
        ("marker", {A: BLOCKED, PR: BLOCKED, R: POSSIBLE, P: POSSIBLE, L: BLOCKED}),
    ],
)
def test_judge_every_intent_in_every_status(intent, expected):
    assert {s: judge(intent, s) for s in RoomStatus} == expected


def test_no_intent_is_both_possible_and_achieved_and_each_is_possible_somewhere():
    for intent in INTENTS:
        assert any(judge(intent, s) == POSSIBLE for s in RoomStatus)


@pytest.mark.parametrize(
    "intent, status, by, words",
    [
        ("start", R, "Alice Smith", "Already recording (started by Alice Smith)"),
        ("start", P, None, "Already recording (started in VALT, paused)"),
        ("stop", A, None, "Already stopped"),
        ("stop", L, None, "Already stopped (room locked)"),
        ("pause", P, None, "Already paused"),
        ("lock", L, None, "Room already locked"),
    ],
)
def test_already_words(intent, status, by, words):
    assert already_words(intent, status, by) == words


@pytest.mark.parametrize(
    "intent, status, words",
    [
        (None, L, "Room is locked in VALT"),
        (None, P, "Recording is paused in VALT"),
        ("lock", R, "Room is recording"),
        ("marker", A, "Room is not recording"),
        ("start", L, "Room is locked in VALT"),
    ],
)
def test_blocked_words(intent, status, words):
    assert blocked_words(intent, status) == words


def test_state_words_for_every_intent_but_the_marker():
    for intent in INTENTS:
        if intent != "marker":
            assert state_words(intent).startswith(("Recording is", "Room is"))
