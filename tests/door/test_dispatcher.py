"""Dispatcher thread: events from any thread to outcomes, in order, never blocking."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from ivs_accessory.door.actions import Actions, ActionSettings
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.dispatcher import Dispatcher
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Mapper, MappingSettings
from ivs_accessory.door.room import RoomState
from ivs_accessory.events import CardRead, CodeEntered, KeyPressed
from ivs_accessory.threads import ThreadStuckError


def room_actions(client) -> Actions:
    """Actions for room 1 with default settings, on ``client``."""
    return Actions(
        client,
        RoomState(client, 1),
        UserDirectory(client),
        ActionSettings(room=1),
        Lockout(),
    )


@pytest.fixture
def wired(make_sim, make_client):
    """A running dispatcher on a 6.6 simulator; yields (sim, dispatcher, outcomes
    queue)."""
    sim = make_sim(version="6.6.0")
    client = make_client(sim)
    actions = room_actions(client)
    outcomes: queue.Queue = queue.Queue()
    mapper = Mapper(
        MappingSettings(
            mode="both", pin_length=6, bindings={("KEY_KPPLUS", "tap"): "marker"}
        )
    )
    dispatcher = Dispatcher(mapper, actions, on_outcome=outcomes.put, tick_s=0.05)
    dispatcher.start()
    try:
        yield sim, dispatcher, outcomes
    finally:
        dispatcher.stop()


def next_outcome(outcomes):
    return outcomes.get(timeout=10)


def test_typed_pin_starts_a_recording(wired):
    sim, dispatcher, outcomes = wired
    for digit in "123456":
        # Timestamps from the same clock as the dispatcher's, as real sources give.
        dispatcher.emit(KeyPressed("keypad", f"KEY_KP{digit}", time.monotonic()))
    outcome = next_outcome(outcomes)
    assert outcome.result == "started" and outcome.user_id == 2
    assert sim.state.room_info(1)["status"] == "recording"


def test_on_an_old_server_the_users_are_fetched_while_the_pin_is_typed(
    make_sim, make_client
):
    sim = make_sim(version="5.2.0")
    client = make_client(sim)
    actions = Actions(
        client, RoomState(client, 1), UserDirectory(client, 0), ActionSettings(room=1),
        Lockout(),
    )  # fmt: skip
    outcomes: queue.Queue = queue.Queue()
    mapper = Mapper(MappingSettings(mode="pin", pin_length=6))
    actions.refresh()  # what the dispatcher does first: log in, read the status
    sim.clear_requests()
    dispatcher = Dispatcher(mapper, actions, on_outcome=outcomes.put, tick_s=0.05)
    dispatcher.start()
    try:
        dispatcher.emit(KeyPressed("keypad", "KEY_KP1", time.monotonic()))
        assert dispatcher.drain(10)
        assert [r["path"] for r in sim.requests()] == ["admin/users"]
        for digit in "23456":
            dispatcher.emit(KeyPressed("keypad", f"KEY_KP{digit}", time.monotonic()))
        outcome = next_outcome(outcomes)
    finally:
        dispatcher.stop()
    # No user cache (0 s), yet after the last key the PIN costs only the start: the
    # lookup was done while it was typed (and counts for it).
    assert [r["path"] for r in sim.requests()] == [
        "admin/users",
        "rooms/1/record/start",
    ]
    assert (outcome.result, outcome.requests) == ("started", 2)


def test_events_from_many_threads_are_handled_in_order_one_at_a_time(wired):
    sim, dispatcher, outcomes = wired
    barrier = threading.Barrier(4)

    def swipe(card):
        barrier.wait(timeout=5)
        dispatcher.emit(CardRead(f"reader-{card}", card, "decimal", time.monotonic()))

    threads = [
        threading.Thread(target=swipe, args=(c,))
        for c in ("123456", "654321", "13579", "0004921746")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    results = [next_outcome(outcomes).result for _ in threads]
    # Handled one at a time, each on what the room was when it was swiped: all four
    # people wanted it recording; the first started it, and it was for the rest.
    assert results == ["started", "already", "already", "already"]
    assert len(sim.requests("rooms/1/record/start")) == 1


def test_drain_waits_until_every_queued_event_is_handled(make_sim, make_client):
    sim = make_sim(version="6.6.0", latency_ms=50)
    client = make_client(sim)
    actions = room_actions(client)
    outcomes: queue.Queue = queue.Queue()
    dispatcher = Dispatcher(
        Mapper(MappingSettings(mode="both", repeat_window_s=0)),
        actions,
        on_outcome=outcomes.put,
        tick_s=0.05,
    )
    for card in ("123456", "654321", "13579"):
        dispatcher.emit(CardRead("reader", card, "decimal", time.monotonic()))
    assert not dispatcher.drain(0.01)  # nothing runs them yet
    dispatcher.start()
    try:
        assert dispatcher.drain(20)
        assert outcomes.qsize() == 3 and dispatcher.pending() == 0
        assert dispatcher.drain(0)  # nothing left: returns at once
    finally:
        dispatcher.stop()


def test_a_storm_is_dropped_and_counted_never_blocking(make_sim, make_client):
    sim = make_sim()
    client = make_client(sim)
    actions = room_actions(client)
    dispatcher = Dispatcher(Mapper(MappingSettings()), actions, queue_size=100)
    # Not started: nothing drains the queue, so the 101st event must be dropped at once.
    for i in range(150):
        dispatcher.emit(KeyPressed("keypad", "KEY_KPDOT", float(i)))
    assert dispatcher.pending() == 100 and dispatcher.dropped == 50
    assert not dispatcher.drain(0)  # dropped events are not waited for; queued ones are


def test_a_failing_feedback_sink_does_not_stop_the_dispatcher(
    make_sim, make_client, caplog
):
    sim = make_sim()
    client = make_client(sim)
    actions = room_actions(client)

    class Broken:
        def show(self, outcome):
            raise RuntimeError("LED on fire")

        def entry(self, source, length):
            pass

        def room(self, status, online):
            pass

        def tick(self, now):
            pass

    outcomes: queue.Queue = queue.Queue()
    dispatcher = Dispatcher(
        Mapper(MappingSettings()),
        actions,
        feedback=[Broken()],
        on_outcome=outcomes.put,
        tick_s=0.05,
    )
    dispatcher.start()
    try:
        dispatcher.emit(CodeEntered("console", "123456", time.monotonic()))
        dispatcher.emit(CodeEntered("console", "654321", time.monotonic()))
        assert [next_outcome(outcomes).result for _ in range(2)] == [
            "started",
            "already",  # Bob also wanted it recording: it was, by then
        ]
        assert dispatcher.is_alive
    finally:
        dispatcher.stop()
    assert "LED on fire" in caplog.text


def test_heartbeat_moves_while_idle(wired):
    sim, dispatcher, outcomes = wired
    first = dispatcher.heartbeat
    moved = threading.Event()
    for _ in range(100):
        if dispatcher.heartbeat != first:
            moved.set()
            break
        moved.wait(0.02)
    assert moved.is_set()


def test_background_refresh_runs_when_due(make_sim, make_client):
    sim = make_sim()
    client = make_client(sim)
    now = [0.0]
    room = RoomState(client, 1, refresh_s=60, clock=lambda: now[0])
    actions = Actions(
        client, room, UserDirectory(client), ActionSettings(room=1), Lockout()
    )
    dispatcher = Dispatcher(Mapper(MappingSettings()), actions, clock=lambda: now[0])
    dispatcher._housekeeping()
    dispatcher._housekeeping()
    assert [r["path"] for r in sim.requests()].count("rooms/1/status") == 1
    now[0] = 61
    dispatcher._housekeeping()
    assert [r["path"] for r in sim.requests()].count("rooms/1/status") == 2


def test_stop_with_drain_handles_the_queued_events_first(wired):
    sim, dispatcher, outcomes = wired
    sim.inject(path="rooms/*", delay_ms=150, count=4)  # keep the first event in hand
    for card in ("123456", "654321"):
        dispatcher.emit(CardRead("reader", card, "decimal", time.monotonic()))
    dispatcher.stop(drain_s=5)
    handled = [outcomes.get_nowait().result for _ in range(outcomes.qsize())]
    assert handled == ["started", "already"]
    assert dispatcher.pending() == 0


def test_refresh_soon_reads_the_room_at_the_next_turn(wired):
    sim, dispatcher, _ = wired
    known, paused = threading.Event(), threading.Event()

    class Watcher:  # a feedback sink: told of every room change
        def room(self, status, online):
            if status is not None:
                (paused if status.value == "paused" else known).set()

        def show(self, outcome):
            pass

        def entry(self, source, length):
            pass

        def tick(self, now):
            pass

    dispatcher.feedback.append(Watcher())
    dispatcher.refresh_soon()
    assert known.wait(10)  # the first read is done; the next one is 60 s away
    sim.set_room_status(1, "paused")
    dispatcher.refresh_soon()
    assert paused.wait(10), "the room was not refreshed"


def test_recent_events_are_recorded_masked_as_they_arrive(wired):
    _, dispatcher, _ = wired
    dispatcher.emit(CardRead("reader", "0004921746", "decimal", 0.0))
    dispatcher.emit(KeyPressed("keypad", "KEY_KPPLUS", 0.0))
    details = [e["detail"] for e in dispatcher.recent.latest()]
    assert details == ["KEY_KPPLUS", "decimal card ****1746 (10 characters)"]


def test_a_watcher_that_consumes_an_event_keeps_it_from_the_mapper(
    make_sim, make_client
):
    sim = make_sim()
    client = make_client(sim)
    actions = room_actions(client)
    seen = []

    def factory_key_only(event) -> bool:
        seen.append(event)
        return getattr(event, "key", None) == "KEY_KPPLUS"

    mapper = Mapper(
        MappingSettings(mode="both", bindings={("KEY_KPPLUS", "tap"): "marker"})
    )
    dispatcher = Dispatcher(mapper, actions, watchers=[factory_key_only])
    assert dispatcher.handle(KeyPressed("keypad", "KEY_KPPLUS", time.monotonic())) == []
    assert sim.requests() == []  # the marker binding never ran
    card = CardRead("reader", "123456", "decimal", time.monotonic())
    assert [o.result for o in dispatcher.handle(card)] == ["started"]
    assert seen[-1] is card


def test_stop_names_a_dispatcher_stuck_in_an_event(make_sim, make_client):
    sim = make_sim()
    entered, release = threading.Event(), threading.Event()

    def stuck(event) -> bool:  # a watcher that never returns, as a hung call would
        entered.set()
        release.wait(30)
        return True

    dispatcher = Dispatcher(
        Mapper(MappingSettings()), room_actions(make_client(sim)), watchers=[stuck]
    )
    dispatcher.start()
    try:
        dispatcher.emit(CodeEntered("console", "123456", time.monotonic()))
        assert entered.wait(10)
        with pytest.raises(ThreadStuckError, match="'dispatcher' did not stop"):
            dispatcher.stop()
    finally:
        release.set()
