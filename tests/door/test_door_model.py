"""A model check of the door: people, changes made in VALT's own UI, faults and slow
answers, interleaved by hypothesis; after every step the door's promises hold.

The invariants, checked against the simulator's request log and state:

- each input has exactly one outcome;
- no input caused two state changes, nor sent an action twice or two actions;
- an outcome that says what the room now is ("started", "stopped", "already" ...)
  matches the room in VALT right after it, and "marked" means a marker was added;
- an intent is never inverted: no input sends the opposite of what it resolved to.

CI runs a few hundred steps; ``IVS_LONG=1`` runs at least 10^4.
"""

from __future__ import annotations

import os

import pytest
from conftest import FakeClock
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from ivs_accessory.door import decide
from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Presented, Trigger
from ivs_accessory.door.outcome import OK_RESULTS
from ivs_accessory.door.room import RoomState
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.models import RoomStatus
from ivs_accessory.valtsim import ValtSimulator

LONG = os.environ.get("IVS_LONG") == "1"
# Hypothesis picks how many steps each example takes (up to STEPS); the test runs
# rounds of EXAMPLES until at least TARGET steps were taken.
TARGET, EXAMPLES, STEPS = (10_000, 100, 50) if LONG else (300, 25, 25)

RESULTS = OK_RESULTS | {
    "already",
    "busy",
    "repeat",
    "denied",
    "locked_out",
    "offline",
    "error",
    "unreadable",
    "expired",
}
ACTIONS = ("start", "stop", "pause", "resume", "lock", "unlock")
OPPOSITE = {"start": "stop", "stop": "start", "pause": "resume", "resume": "pause",
            "lock": "unlock", "unlock": "lock"}  # fmt: skip
PEOPLE = ["123456", "654321", "13579", "999999"]  # three users and a wrong PIN
TIMEOUT_S = 0.5
FAULTS = [
    {"status": 500},
    {"status": 503},
    {"status": 409},
    {"status": 400},
    {"drop": True},
    {"malformed": True},
    {"after": True, "body": "<html>ok</html>"},
    {"after": True, "body": '{"data": {"id": "abc"}}'},
    {"after": True, "status": 500},
    {"after": True, "drop": True},
    {"after": True, "delay_ms": 800},  # done, answered after the deadline
    {"delay_ms": 50},  # slow, well within the deadline
    {"after": True, "trickle_bps": 40},
]


class Door(RuleBasedStateMachine):
    """One door on one simulator; each example starts from a fresh room."""

    sims: dict[str, ValtSimulator]  # by VALT version; set by the test
    steps = 0  # rules run, over every example

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock(10_000.0)
        self.client: ValtClient | None = None
        self.outcomes = 0

    def teardown(self) -> None:
        if self.client is not None:
            self.client.close()

    @initialize(
        forbidden=st.sampled_from(["409", "400", "500", "200"]),
        busy_action=st.sampled_from(["busy", "resume", "stop"]),
        max_age=st.sampled_from([0, 10]),
        version=st.sampled_from(["5.2.0", "6.4.0", "6.6.0"]),
    )
    def fresh_room(self, forbidden, busy_action, max_age, version):
        self.sim = self.sims[version]
        self.sim.reset()
        self.sim.set_forbidden(forbidden)
        self.client = ValtClient(
            self.sim.url, "admin", "admin", timeout=TIMEOUT_S, auto_reauth=False
        )
        self.actions = Actions(
            self.client,
            RoomState(self.client, 1, 60, self.clock, max_age_s=max_age),
            UserDirectory(self.client, 60, self.clock),
            ActionSettings(room=1, busy_action=busy_action),
            Lockout(5, 30, 900),
            self.clock,
        )
        self.actions.refresh()

    # -- what happens at the door and in VALT ------------------------------------------
    @rule(who=st.sampled_from(PEOPLE), card=st.booleans(), later=st.sampled_from(
        [0.5, 1.0, 3.0, 12.0]))  # fmt: skip
    def person(self, who, card, later):
        self._step()
        self.clock.now += later
        kind = "decimal" if card else "pin"
        intent = Presented("reader" if card else "keypad", kind, who, self.clock())
        self._input(lambda: self.actions.present(intent))

    @rule(
        action=st.sampled_from(
            ["toggle", "start", "stop", "pause", "resume", "marker", "privacy_toggle"]
        ),
        later=st.sampled_from([0.5, 3.0, 12.0]),
    )
    def bound_key(self, action, later):
        self._step()
        self.clock.now += later
        trigger = Trigger("keypad", action, "KEY_KPSLASH", self.clock())
        self._input(lambda: self.actions.trigger(trigger))

    @rule(status=st.sampled_from(["available", "recording", "paused", "locked"]))
    def someone_in_valts_ui(self, status):
        self._step()
        self.sim.set_room_status(1, status)

    @rule(
        fault=st.sampled_from(FAULTS),
        path=st.sampled_from(["rooms/1/record/*", "rooms/1/*", "rooms/1/status"]),
    )
    def valt_misbehaves_once(self, fault, path):
        self._step()
        self.sim.inject(path=path, count=1, **fault)

    @rule(later=st.sampled_from([5.0, 61.0]))
    def time_passes_and_the_door_refreshes(self, later):
        self._step()
        self.clock.now += later
        self.actions.refresh()

    # -- the promises ----------------------------------------------------------------
    def _step(self) -> None:
        type(self).steps += 1

    def _input(self, run) -> None:
        # Every fault acts before it delays (or not at all), so what VALT did is
        # done by the time the door gives up on an answer.
        self.sim.clear_requests()
        comments = len(self.sim.state.comments)
        outcome = run()
        self.outcomes += 1
        log = self.sim.requests()
        sent = [_action(r["path"]) for r in log if _action(r["path"])]
        changed = [r for r in log if r.get("changed")]
        assert outcome.result in RESULTS, outcome
        assert len(changed) <= 1, (outcome, log)
        assert len(sent) <= 1, (outcome, sent)  # never twice, never two actions
        if outcome.intent in OPPOSITE:
            assert OPPOSITE[outcome.intent] not in sent, (outcome, sent)
        if sent and outcome.intent:
            assert sent == [outcome.intent], (outcome, sent)
        now = RoomStatus(self.sim.state.room_info(1)["status"])
        _check_claim(outcome, now, len(self.sim.state.comments) - comments)

    @invariant()
    def every_input_was_answered(self):
        assert self.outcomes >= 0


def _action(path: str) -> str | None:
    last = path.rsplit("/", 1)[-1]
    return last if last in ACTIONS else None


def _check_claim(outcome, now: RoomStatus, markers_added: int) -> None:
    """What the outcome says of the room is what VALT's room is."""
    if outcome.result == "marked":
        assert markers_added == 1, outcome
        return
    if not outcome.message.startswith("Marker not confirmed"):  # says it may be
        assert markers_added == 0, outcome
    if outcome.result in OK_RESULTS or outcome.result == "already":
        assert decide.judge(outcome.intent, now) == decide.ACHIEVED, (outcome, now)


@pytest.fixture(scope="module")
def model_sims():
    sims = {v: ValtSimulator(port=0, version=v) for v in ("5.2.0", "6.4.0", "6.6.0")}
    for sim in sims.values():
        sim.start()
    try:
        yield sims
    finally:
        for sim in sims.values():
            sim.stop()


@pytest.mark.timeout(3600 if LONG else 300)
def test_the_door_keeps_its_promises_whatever_valt_does(model_sims):
    Door.sims, Door.steps = model_sims, 0
    rounds = 0
    while Door.steps < TARGET:
        run_state_machine_as_test(
            Door,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=not LONG,
                suppress_health_check=list(HealthCheck),
            ),
        )
        rounds += 1
    print(f"model check: {Door.steps} steps in {rounds} round(s)")
