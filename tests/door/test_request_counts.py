"""Outcome.requests is what VALT's own log shows for that input, in every flow:
the requests made while a PIN is typed, reads after a refusal, read-backs."""

from __future__ import annotations

import pytest
from conftest import FakeClock

from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Presented, Trigger
from ivs_accessory.door.room import RoomState

ALICE, BOB = "123456", "654321"


def _pin(who):
    return lambda a, c: a.present(Presented("keypad", "pin", who, c()))


def _typed(who):
    def run(actions, clock):
        actions.entry_started("keypad")  # the first digit
        clock.now += 2  # the rest
        return actions.present(Presented("keypad", "pin", who, clock()))

    return run


def _card(who):
    return lambda a, c: a.present(Presented("reader", "decimal", who, c()))


def _key(action):
    return lambda a, c: a.trigger(Trigger("keypad", action, "KEY_KPSLASH", c()))


def _setup_recording(sim, actions, clock):
    actions.present(Presented("keypad", "pin", ALICE, clock()))
    clock.now += 3


def _stale(sim, actions, clock):
    clock.now += 3600  # a door idle for an hour: users and status are cold


def _ui_stop(sim, actions, clock):
    _setup_recording(sim, actions, clock)
    sim.set_room_status(1, "available")


def _fault(**fault):
    return lambda sim, actions, clock: sim.inject(path="rooms/1/record/*", **fault)


FLOWS = {
    "warm PIN start": (None, _pin(ALICE)),
    "warm PIN stop": (_setup_recording, _pin(ALICE)),
    "cold typed PIN": (_stale, _typed(BOB)),
    "cold card": (_stale, _card(BOB)),
    "warm card": (None, _card(BOB)),
    "unknown PIN": (None, _pin("999999")),
    "marker": (_setup_recording, _key("marker")),
    "lock": (None, _key("lock")),
    "stopped in VALT, then PIN": (_ui_stop, _pin(ALICE)),
    "refused start": (_fault(status=409), _pin(ALICE)),
    "start answered badly": (_fault(after=True, body="<html>"), _pin(ALICE)),
    "repeat": (
        lambda s, a, c: a.present(Presented("keypad", "pin", ALICE, c())),
        _pin(ALICE),
    ),  # fmt: skip
}


@pytest.mark.parametrize("flow", sorted(FLOWS))
@pytest.mark.parametrize("version", ["5.2.0", "6.6.0"])
def test_the_count_matches_valts_log(make_sim, make_client, flow, version):
    sim = make_sim(version=version, card_numbers_listed=True)
    clock = FakeClock(5000.0)
    client = make_client(sim)
    actions = Actions(
        client,
        RoomState(client, 1, 60, clock, max_age_s=10),
        UserDirectory(client, 60, clock),
        ActionSettings(room=1),
        Lockout(),
        clock,
    )
    actions.refresh()
    actions.directory.find(ALICE)
    actions.directory.find(BOB)
    setup, run = FLOWS[flow]
    if setup is not None:
        setup(sim, actions, clock)
    sim.clear_requests()
    outcome = run(actions, clock)
    assert outcome.requests == len(sim.requests()), (outcome, sim.requests())
