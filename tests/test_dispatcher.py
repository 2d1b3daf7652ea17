"""The dispatcher thread: events from any thread to outcomes, in order, never blocking a reader."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from ivs_accessory.actions import Actions, ActionSettings
from ivs_accessory.directory import UserDirectory
from ivs_accessory.dispatcher import Dispatcher
from ivs_accessory.events import CardRead, CodeEntered, KeyPressed
from ivs_accessory.lockout import Lockout
from ivs_accessory.mapping import Mapper, MappingSettings
from ivs_accessory.room import RoomState


@pytest.fixture
def wired(make_sim, make_client):
    """A running dispatcher on a 6.6 simulator; yields (sim, dispatcher, outcomes queue)."""
    sim = make_sim(version="6.6.0")
    client = make_client(sim)
    actions = Actions(client, RoomState(client, 1), UserDirectory(client),
                      ActionSettings(room=1), Lockout())
    outcomes: queue.Queue = queue.Queue()
    mapper = Mapper(MappingSettings(mode="both", pin_length=6,
                                    bindings={("KEY_KPPLUS", "tap"): "marker"}))
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


def test_events_from_many_threads_are_handled_in_order_one_at_a_time(wired):
    sim, dispatcher, outcomes = wired
    barrier = threading.Barrier(4)

    def swipe(card):
        barrier.wait(timeout=5)
        dispatcher.emit(CardRead(f"reader-{card}", card, "decimal", 0.0))

    threads = [threading.Thread(target=swipe, args=(c,))
               for c in ("123456", "654321", "13579", "0004921746")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(5)
    results = [next_outcome(outcomes).result for _ in threads]
    # Serialised toggles: start, stop, start, stop, whatever the order of arrival.
    assert results == ["started", "stopped", "started", "stopped"]


def test_a_storm_is_dropped_and_counted_never_blocking(make_sim, make_client):
    sim = make_sim()
    client = make_client(sim)
    actions = Actions(client, RoomState(client, 1), UserDirectory(client),
                      ActionSettings(room=1), Lockout())
    dispatcher = Dispatcher(Mapper(MappingSettings()), actions, queue_size=100)
    # Not started: nothing drains the queue, so the 101st event must be dropped at once.
    for i in range(150):
        dispatcher.emit(KeyPressed("keypad", "KEY_KPDOT", float(i)))
    assert dispatcher.pending() == 100 and dispatcher.dropped == 50


def test_a_failing_feedback_sink_does_not_stop_the_dispatcher(make_sim, make_client, caplog):
    sim = make_sim()
    client = make_client(sim)
    actions = Actions(client, RoomState(client, 1), UserDirectory(client),
                      ActionSettings(room=1), Lockout())

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
    dispatcher = Dispatcher(Mapper(MappingSettings()), actions, feedback=[Broken()],
                            on_outcome=outcomes.put, tick_s=0.05)
    dispatcher.start()
    try:
        dispatcher.emit(CodeEntered("console", "123456", 0.0))
        dispatcher.emit(CodeEntered("console", "123456", 0.0))
        assert [next_outcome(outcomes).result for _ in range(2)] == ["started", "stopped"]
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
    actions = Actions(client, room, UserDirectory(client), ActionSettings(room=1), Lockout())
    dispatcher = Dispatcher(Mapper(MappingSettings()), actions, clock=lambda: now[0])
    dispatcher._housekeeping()
    dispatcher._housekeeping()
    assert [r["path"] for r in sim.requests()].count("rooms/1/status") == 1
    now[0] = 61
    dispatcher._housekeeping()
    assert [r["path"] for r in sim.requests()].count("rooms/1/status") == 2
