"""Actions on the simulator: outcomes, requests (warm, cold), conflicts, failures."""

from __future__ import annotations

import pytest
from conftest import FakeClock

from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Presented, Trigger
from ivs_accessory.door.room import RoomState
from ivs_accessory.valt.models import RoomStatus

ALICE, BOB = "123456", "654321"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_actions(make_client, clock):
    def make(sim, room=1, **settings):
        client = make_client(sim)
        return Actions(
            client,
            RoomState(client, room, 60, clock),
            UserDirectory(client, 60, clock),
            ActionSettings(room=room, **settings),
            Lockout(3, 30, 120),
            clock,
        )

    return make


def pin(value, source="keypad", clock=None):
    return Presented(source, "pin", value, clock() if clock else 0.0)


def paths(sim):
    return [r["path"] for r in sim.requests()]


def warm_up(actions, sim, *cards):
    """Log in, learn the room status and the users: what a running daemon knows."""
    actions.refresh()
    for card in cards:
        actions.directory.find(card)
    sim.clear_requests()


def test_warm_pin_start_then_stop_is_one_request_each(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    started = actions.present(pin(ALICE, clock=clock))
    assert (started.result, started.requests) == ("started", 1)
    assert started.user_id == 2 and "Alice Smith" in started.message
    assert sim.requests()[-1]["body"] == {"name": "Accessory Recording", "author": 2}
    clock.now += 3  # past the repeat window
    stopped = actions.present(pin(ALICE, clock=clock))
    assert (stopped.result, stopped.requests) == ("stopped", 1)
    assert stopped.recording_id == started.recording_id
    assert paths(sim) == ["rooms/1/record/start", "rooms/1/record/stop"]


def test_cold_user_costs_one_more_request(sim, make_actions, clock, version):
    actions = make_actions(sim)
    warm_up(actions, sim)
    outcome = actions.present(pin(BOB, clock=clock))
    assert (outcome.result, outcome.requests) == ("started", 2)
    lookup = sim.requests()[0]
    assert lookup["path"] == "admin/users"
    assert (lookup["query"] == {"cardNumber": BOB}) == (version in ("6.5.0", "6.6.0"))


def test_old_servers_fill_the_cache_for_every_card_at_once(
    make_sim, make_actions, clock
):
    sim = make_sim(version="6.4.0")
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    assert actions.present(pin(BOB, clock=clock)).requests == 1


def test_first_input_of_a_fresh_daemon_logs_in_then_reads_user_and_status_at_once(
    sim, make_actions, clock
):
    actions = make_actions(sim)
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == "started"
    sent = paths(sim)
    assert sent[:2] == ["login", "admin/general"]
    # The lookup and the status read go at the same time (one round trip).
    assert sorted(sent[2:4]) == ["admin/users", "rooms/1/status"]
    assert sent[4:] == ["rooms/1/record/start"]
    assert outcome.requests == 5


def test_user_cache_expires(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    clock.now += 61
    actions.refresh()  # the background refresh keeps the status fresh
    sim.clear_requests()
    assert actions.present(pin(ALICE, clock=clock)).requests == 2


def test_a_stale_status_is_read_before_a_card_decides(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    clock.now += 11  # older than status_max_age_s (10)
    sim.set_room_status(1, "recording")  # started in VALT's UI meanwhile
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == "stopped"
    assert paths(sim) == ["rooms/1/status", "rooms/1/record/stop"]


def test_started_in_valt_within_the_age_limit_is_already_recording_not_a_stop(
    sim, make_actions, clock
):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    sim.set_room_status(1, "recording")  # another VALT user, unknown to us
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == "already" and outcome.intent == "start"
    assert outcome.message == "Already recording (started in VALT)"
    assert paths(sim) == ["rooms/1/record/start", "rooms/1/status"]
    assert sim.state.room_info(1)["status"] == "recording"


def test_stopped_in_valt_then_the_pin_to_stop_is_already_stopped_never_a_start(
    sim, make_actions, clock
):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    assert actions.present(pin(ALICE, clock=clock)).result == "started"
    clock.now += 3
    sim.set_room_status(1, "available")  # stopped at VALT's own panel
    outcome = actions.present(pin(ALICE, clock=clock))
    assert (outcome.result, outcome.intent) == ("already", "stop")
    assert outcome.message == "Already stopped"
    assert paths(sim)[-2:] == ["rooms/1/record/stop", "rooms/1/status"]
    assert sim.state.room_info(1)["status"] == "available"


def test_a_refusal_is_never_sent_again(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    sim.inject(path="rooms/1/record/*", status=409, count=None)
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == "error" and "409" in outcome.message
    assert outcome.message.startswith("Not done: VALT refused")
    assert paths(sim) == ["rooms/1/record/start", "rooms/1/status"]


@pytest.mark.parametrize(
    "status, busy_action, result, message",
    [
        ("paused", "busy", "busy", "Recording is paused in VALT"),
        ("paused", "resume", "resumed", "Recording resumed by Alice Smith"),
        ("paused", "stop", "stopped", "Recording stopped by Alice Smith"),
        ("locked", "busy", "busy", "Room is locked in VALT"),
        ("locked", "stop", "busy", "Room is locked in VALT"),
        ("prepared", "busy", "started", "Recording started for Alice Smith"),
    ],
)
def test_toggle_in_each_room_state(
    sim, make_actions, clock, status, busy_action, result, message
):
    actions = make_actions(sim, busy_action=busy_action)
    sim.set_room_status(1, status)
    warm_up(actions, sim, ALICE)
    outcome = actions.present(pin(ALICE, clock=clock))
    assert (outcome.result, outcome.message) == (result, message)
    if result == "busy":
        assert paths(sim) == []  # the status is fresh: nothing to ask


def test_paused_in_valt_is_seen_by_a_fresh_read_not_the_cache(sim, make_actions, clock):
    actions = make_actions(sim, busy_action="busy")
    warm_up(actions, sim, ALICE)
    assert actions.present(pin(ALICE, clock=clock)).result == "started"
    sim.set_room_status(1, "paused")  # in VALT's UI
    clock.now += 30  # the person comes back later: what we know is stale
    outcome = actions.present(pin(ALICE, clock=clock))
    assert (outcome.result, outcome.message) == ("busy", "Recording is paused in VALT")
    assert sim.state.room_info(1)["status"] == "paused"
    assert paths(sim)[-1] == "rooms/1/status"


def test_unknown_pin_is_denied_then_locked_out_without_requests(
    sim, make_actions, clock
):
    actions = make_actions(sim)
    warm_up(actions, sim)
    results = [actions.present(pin(f"99990{i}", clock=clock)).result for i in range(3)]
    assert results == ["denied", "denied", "denied"]
    sim.clear_requests()
    locked = actions.present(pin(ALICE, clock=clock))
    assert (
        locked.result == "locked_out" and locked.requests == 0 and sim.requests() == []
    )
    assert actions.present(pin(ALICE, "other-keypad", clock)).result == "started"
    clock.now += 31
    actions.refresh()
    assert actions.present(pin(ALICE, clock=clock)).result == "stopped"


def test_denied_outcomes_hide_pins_wholly_and_cards_but_four_digits(
    sim, make_actions, clock
):
    actions = make_actions(sim)
    outcome = actions.present(pin("98765432", clock=clock))
    assert outcome.result == "denied"
    assert "98765432" not in repr(outcome) and outcome.credential == "****"
    card = actions.present(Presented("reader", "decimal", "11223344", clock()))
    assert card.result == "denied" and card.credential == "****3344"


@pytest.mark.parametrize(
    "fault, result, message",
    [
        ({"status": 500}, "error", "Not done: VALT failed"),
        ({"status": 502}, "error", "Not done: VALT failed"),
        ({"drop": True}, "error", "Not done: VALT did not answer"),
        ({"malformed": True}, "error", "Not done: VALT answered something unusable"),
        ({"status": 400}, "error", "Not done: VALT refused"),
    ],
)
def test_a_failed_start_is_checked_once_and_reported_not_done(
    sim, make_actions, clock, fault, result, message
):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    sim.inject(path="rooms/1/record/start", count=1, **fault)
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == result and outcome.message.startswith(message)
    assert paths(sim) == ["rooms/1/record/start", "rooms/1/status"]
    assert actions.room.known() is RoomStatus.AVAILABLE  # read, and kept
    clock.now += 3
    assert actions.present(pin(ALICE, clock=clock)).result == "started"


def test_server_down_is_offline_then_recovers(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    sim.go_down()
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == "offline" and actions.room.online is False
    assert actions.room.known() is RoomStatus.AVAILABLE  # last known, kept
    sim.come_up()
    clock.now += 3
    assert actions.present(pin(ALICE, clock=clock)).result == "started"
    assert actions.room.online is True


def test_a_marker_on_our_own_recording_is_one_request_at_the_right_second(
    make_sim, make_actions, clock
):
    sim_clock = FakeClock()
    sim = make_sim(clock=sim_clock)
    actions = make_actions(sim, marker_name="Door", marker_colour="blue")
    warm_up(actions, sim, ALICE)
    refused = actions.trigger(Trigger("keypad", "marker", "KEY_KPPLUS", clock()))
    assert (refused.result, refused.message) == ("busy", "Room is not recording")
    rid = actions.present(pin(ALICE, clock=clock)).recording_id
    sim.clear_requests()
    clock.now += 42.5
    sim_clock.now += 42.5
    actions.refresh()  # as the background refresh would
    marked = actions.trigger(Trigger("keypad", "marker", "KEY_KPPLUS", clock()))
    assert (marked.result, marked.requests) == ("marked", 1)
    (marker,) = sim.state.markers(rid)
    assert marker["text"] == "Door" and marker["time"] == 42
    assert sim.state.room_info(1)["recording"]["time"] == 42


def test_a_marker_on_a_recording_started_elsewhere_reads_it_once(
    make_sim, make_actions, clock
):
    sim_clock = FakeClock()
    sim = make_sim(clock=sim_clock)
    actions = make_actions(sim)
    warm_up(actions, sim)  # reads the name and recording (none) at start
    sim.set_room_status(1, "recording")
    sim_clock.now += 100
    actions.refresh()  # the background refresh sees it: who, and since when?
    sim.clear_requests()
    first = actions.trigger(Trigger("keypad", "marker", "KEY_KPPLUS", clock()))
    clock.now += 5
    sim_clock.now += 5
    second = actions.trigger(Trigger("keypad", "marker", "KEY_KPPLUS", clock()))
    assert (first.requests, second.requests) == (2, 1)
    rid = sim.state.room_info(1)["recording"]["id"]
    assert [m["time"] for m in sim.state.markers(rid)] == [100, 105]


def test_privacy_toggle_locks_and_unlocks(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim)
    first = actions.trigger(
        Trigger("keypad", "privacy_toggle", "KEY_KPASTERISK", clock())
    )
    clock.now += 3
    second = actions.trigger(
        Trigger("keypad", "privacy_toggle", "KEY_KPASTERISK", clock())
    )
    assert (first.result, second.result) == ("locked", "unlocked")
    assert (first.requests, second.requests) == (2, 2)  # each read back
    assert actions.room.known() is RoomStatus.AVAILABLE


@pytest.mark.parametrize(
    "action, result, message",
    [
        ("start", "started", "Recording started"),
        ("stop", "already", "Already stopped"),
        ("pause", "busy", "Room is not recording"),
        ("lock", "locked", "Room locked"),
    ],
)
def test_bindings_without_a_user(sim, make_actions, clock, action, result, message):
    actions = make_actions(sim)
    warm_up(actions, sim)
    outcome = actions.trigger(Trigger("keypad", action, "KEY_KPSLASH", clock()))
    assert (outcome.result, outcome.message) == (result, message)
    assert outcome.user_id is None
    if action == "start":
        assert sim.requests()[-1]["body"] == {"name": "Accessory Recording"}


def test_card_readings_are_matched_as_configured(sim, make_actions, clock):
    # The user cnguyen has card 0004921746: the 10-digit reading of EM4100 tag
    # 00004B1992.
    actions = make_actions(sim, match_reading="em4100_10")
    warm_up(actions, sim)
    outcome = actions.present(Presented("reader", "em4100", "00004B1992", clock()))
    assert outcome.result == "started" and outcome.user_id == 4


def test_unreadable_card_makes_no_request(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim)
    outcome = actions.present(Presented("reader", "wiegand", "1" * 26, clock()))
    assert outcome.result == "unreadable" and sim.requests() == []


def test_not_configured_without_client(clock):
    actions = Actions(None, None, None, ActionSettings(room=None), Lockout(), clock)
    assert actions.present(pin(ALICE, clock=clock)).result == "not_configured"
    assert (
        actions.trigger(Trigger("k", "marker", "KEY_KPPLUS", 0)).result
        == "not_configured"
    )


@pytest.mark.parametrize("waited, result", [(7.9, "started"), (8.1, "expired")])
def test_input_that_waited_too_long_behind_a_slow_call_is_reported_not_run(
    sim, make_actions, clock, waited, result
):
    actions = make_actions(sim, max_wait_s=8.0)
    warm_up(actions, sim, ALICE)
    typed = pin(ALICE, clock=clock)
    clock.now += waited  # the dispatcher was stuck in an earlier call this long
    outcome = actions.present(typed)
    assert outcome.result == result
    assert len(sim.requests()) == (1 if result == "started" else 0)
    bound = actions.trigger(Trigger("keypad", "marker", "KEY_KPPLUS", typed.timestamp))
    assert (bound.result == "expired") is (result == "expired")
    assert actions.lockout.remaining("keypad", clock()) == 0  # not a failed attempt


def test_the_starter_stops_with_one_request_long_after_the_cache_forgot_them(
    sim, make_actions, clock
):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    assert actions.present(pin(ALICE, clock=clock)).result == "started"
    clock.now += 1800  # half an hour later: the user cache (60 s) is long cold
    actions.refresh()  # the background refresh keeps the status fresh
    sim.clear_requests()
    stopped = actions.present(pin(ALICE, clock=clock))
    assert (stopped.result, stopped.requests, stopped.user_id) == ("stopped", 1, 2)
    assert paths(sim) == ["rooms/1/record/stop"]
    # Someone else, or the starter after the stop, is looked up as usual.
    clock.now += 1800
    actions.refresh()
    sim.clear_requests()
    again = actions.present(pin(ALICE, clock=clock))
    assert (again.result, again.requests) == ("started", 2)
    clock.now += 1800
    actions.refresh()
    sim.clear_requests()
    assert actions.present(pin(BOB, clock=clock)).requests == 2


def test_the_starter_shortcut_needs_the_room_still_recording(sim, make_actions, clock):
    actions = make_actions(sim)
    warm_up(actions, sim, ALICE)
    assert actions.present(pin(ALICE, clock=clock)).result == "started"
    sim.set_room_status(1, "available")  # stopped at VALT's own panel
    clock.now += 1800
    actions.refresh()
    sim.clear_requests()
    outcome = actions.present(pin(ALICE, clock=clock))
    assert outcome.result == "started"
    assert paths(sim)[0] != "rooms/1/record/start"  # the user was looked up first
    known = actions._starter._known
    assert known is not None and b"123456" not in known[0]


@pytest.mark.parametrize(
    "version, listed", [("5.2.0", None), ("6.4.0", None), ("6.6.0", True)]
)
def test_typing_fetches_the_users_so_enter_costs_one_request(
    make_sim, make_actions, clock, version, listed
):
    # Before 6.5 the list is what a lookup reads; a 6.6 server here lists card numbers.
    sim = make_sim(version=version, card_numbers_listed=listed)
    actions = make_actions(sim)
    warm_up(actions, sim)
    actions.entry_started("keypad")  # the first digit
    assert paths(sim) == ["admin/users"]  # the status is fresh: not read again
    outcome = actions.present(pin(BOB, clock=clock))
    # The list fetched while typing counts for the PIN's outcome.
    assert (outcome.result, outcome.requests) == ("started", 2)
    assert paths(sim) == ["admin/users", "rooms/1/record/start"]


def test_typing_on_a_door_idle_for_an_hour_reads_users_and_status_at_once(
    make_sim, make_actions, clock
):
    sim = make_sim(version="6.4.0")
    actions = make_actions(sim)
    warm_up(actions, sim)
    clock.now += 3600
    actions.entry_started("keypad")
    assert sorted(paths(sim)) == ["admin/users", "rooms/1/status"]
    clock.now += 3  # the rest of the PIN
    outcome = actions.present(pin(BOB, clock=clock))
    assert (outcome.result, outcome.requests) == ("started", 3)
    assert paths(sim)[2:] == ["rooms/1/record/start"]


@pytest.mark.parametrize(
    "why", ["setting off", "VALT down", "locked out", "6.5 server"]
)
def test_no_user_list_is_fetched_ahead_when_it_would_not_help(
    make_sim, make_actions, clock, why
):
    sim = make_sim(version="6.5.0" if why == "6.5 server" else "5.2.0")
    actions = make_actions(sim, prefetch_users=why != "setting off")
    warm_up(actions, sim)
    if why == "VALT down":
        actions.room.online = False
    if why == "6.5 server":  # whose first list showed no card numbers
        actions.entry_started("keypad")
        sim.clear_requests()
    if why == "locked out":
        for i in range(3):
            actions.present(pin(f"99999{i}", clock=clock))
        actions.directory.clear()  # so only the lockout can prevent the fetch
        sim.clear_requests()
    actions.entry_started("keypad")
    assert paths(sim) == []
