"""Dispatcher thread: queued events -> mapping, actions, feedback, audit in order."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

from ivs_accessory.door.audit import AuditLog
from ivs_accessory.door.enrolment import Enrolment
from ivs_accessory.door.feedback import FeedbackSink
from ivs_accessory.door.mapping import EntryChanged, Mapper, Presented, Trigger
from ivs_accessory.door.outcome import Outcome
from ivs_accessory.door.recent import RecentEvents
from ivs_accessory.door.room import RoomState
from ivs_accessory.events import InputEvent
from ivs_accessory.threads import Worker
from ivs_accessory.valt.models import RoomStatus

logger = logging.getLogger(__name__)

_JOIN_TIMEOUT_S = 1.5
_REPLACE_WAIT_S = 10.0
_REPLACE_POLL_S = 0.1


class ActionTaker(Protocol):
    """What the dispatcher runs intents on: :class:`~ivs_accessory.door.actions.Actions`
    or safe mode's stand-in that refuses every input."""

    @property
    def room(self) -> RoomState | None: ...

    def entry_started(self, source: str) -> None: ...

    def present(self, intent: Presented) -> Outcome: ...

    def trigger(self, intent: Trigger) -> Outcome: ...

    def refresh(self) -> None: ...


class Dispatcher:
    """Consume input events on one thread, so a slow VALT call never blocks a reader.

    Sources call :meth:`emit` from their own threads; it never blocks: when the queue
    is full (a storm of key events) the event is dropped and counted. Between events
    the thread expires half-typed PINs, refreshes the room status when due and lets
    feedback time out; :attr:`heartbeat` moves on every turn of the loop, which is
    what the systemd watchdog checks.

    Args:
        mapper, actions: the pure mapping and the VALT side.
        feedback: sinks told of every outcome, PIN progress and room change.
        audit: where outcomes are recorded.
        on_outcome: called with each outcome (tests, the page).
        tick_s: longest wait for an event before housekeeping (LED patterns
            step at this rate).
        watchers: see each event before the mapper; one returning True consumes
            it (the factory button).
        enrolment: while its mode is on, PINs and cards go to it (shown on the
            page) instead of to ``actions``; key bindings still run.
    """

    def __init__(
        self,
        mapper: Mapper,
        actions: ActionTaker,
        *,
        feedback: Sequence[FeedbackSink] = (),
        audit: AuditLog | None = None,
        on_outcome: Callable[[Outcome], object] | None = None,
        queue_size: int = 1000,
        tick_s: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        watchers: Sequence[Callable[[InputEvent], bool]] = (),
        enrolment: Enrolment | None = None,
    ) -> None:
        self.mapper = mapper
        self.enrolment = enrolment
        self.watchers = list(watchers)
        self.actions = actions
        self.feedback = list(feedback)
        self.audit = audit
        self.on_outcome = on_outcome
        self.tick_s = tick_s
        self._clock = clock
        self._queue: queue.Queue[InputEvent] = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self._worker: Worker | None = None
        self.heartbeat = clock()
        self.dropped = 0
        self.events = 0
        self.outcomes: dict[str, int] = {}
        self._last_room: tuple[RoomStatus | None, bool | None] | None = None
        self.recent = RecentEvents()  # masked, for the page's live view
        self._refresh_wanted = threading.Event()
        # Held while an event or housekeeping runs, so replace() swaps parts between
        # them.
        self._work = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Start the dispatcher thread."""
        if self._worker is not None:
            raise RuntimeError("dispatcher already started")
        self._stopping.clear()
        self._worker = Worker(
            self._run,
            "dispatcher",
            on_stop=self._stopping.set,
            hint="a VALT call hangs?",
        )
        self._worker.start()

    def stop(self, drain_s: float = 0.0) -> None:
        """Stop after the event in hand.

        With ``drain_s`` the events already queued are handled first, for up to that
        many seconds (inputs are closed by then, so no new ones arrive).

        Raises:
            ThreadStuckError: the thread hangs (a RuntimeError).
        """
        if drain_s > 0 and self.is_alive:
            self.drain(drain_s)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.stop(_JOIN_TIMEOUT_S)

    @property
    def is_alive(self) -> bool:
        return self._worker is not None and self._worker.alive

    def drain(self, timeout_s: float) -> bool:
        """Wait until every queued event has been handled; False after ``timeout_s``."""
        with self._queue.all_tasks_done:
            return self._queue.all_tasks_done.wait_for(
                lambda: not self._queue.unfinished_tasks, timeout=timeout_s
            )

    def emit(self, event: InputEvent) -> None:
        """Queue an event from any thread; never blocks."""
        self.recent.add(event)
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning(
                    "input queue full: %d events dropped so far", self.dropped
                )

    def pending(self) -> int:
        return self._queue.qsize()

    def refresh_soon(self) -> None:
        """Ask VALT for the room status at the next turn of the loop (the page
        watches)."""
        self._refresh_wanted.set()

    def replace(
        self,
        *,
        mapper: Mapper,
        actions: ActionTaker,
        feedback: Sequence[FeedbackSink],
        cancel: threading.Event | None = None,
    ) -> bool:
        """Swap in new parts (a reload) between two events, never during one.

        Waits for the event in hand (a slow VALT call is bounded by its deadline);
        returns False without swapping when ``cancel`` is set meanwhile (a SIGTERM
        during the wait must not keep the daemon past its stop timeout).
        """
        waited = 0.0
        while not self._work.acquire(timeout=_REPLACE_POLL_S):
            waited += _REPLACE_POLL_S
            if cancel is not None and cancel.is_set():
                return False
            if waited >= _REPLACE_WAIT_S:
                logger.error("the dispatcher is busy for over 10 s; reloading anyway")
                self._apply(mapper, actions, feedback)
                return True
        try:
            self._apply(mapper, actions, feedback)
        finally:
            self._work.release()
        return True

    def _apply(
        self, mapper: Mapper, actions: ActionTaker, feedback: Sequence[FeedbackSink]
    ) -> None:
        self.mapper, self.actions, self.feedback = mapper, actions, list(feedback)
        self._last_room = None  # tell the new feedback where the room stands

    # -- the loop ----------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping.is_set():
            self.heartbeat = self._clock()
            try:
                event = self._queue.get(timeout=self.tick_s)
            except queue.Empty:
                event = None
            try:
                with self._work:
                    if event is not None:
                        self.events += 1
                        self.handle(event)
                    self._housekeeping()
            except Exception:
                # A bug must not stop the door from working: log it and go on.
                logger.exception(
                    "dispatcher error while handling %s", type(event).__name__
                )
            finally:
                if event is not None:
                    self._queue.task_done()

    def handle(self, event: InputEvent) -> list[Outcome]:
        """Map one event and run what it asks for (on the dispatcher thread)."""
        logger.debug("event %s from %s", type(event).__name__, event.source)
        if any(watcher(event) for watcher in self.watchers):
            return []
        outcomes = []
        for intent in self.mapper.handle(event):
            if isinstance(intent, EntryChanged):
                self._entry(intent)
                if intent.length == 1:  # someone started typing a PIN
                    self.actions.entry_started(intent.source)
            elif isinstance(intent, Presented):
                outcomes.append(self._finish(self._present(intent)))
            elif isinstance(intent, Trigger):
                outcomes.append(self._finish(self.actions.trigger(intent)))
        return outcomes

    def _present(self, intent: Presented) -> Outcome:
        enrolment = self.enrolment
        if enrolment is not None and enrolment.active():
            return enrolment.present(intent, self.actions)
        return self.actions.present(intent)

    def _finish(self, outcome: Outcome) -> Outcome:
        self.outcomes[outcome.result] = self.outcomes.get(outcome.result, 0) + 1
        logger.info(
            "%s: %s (%s, %s, %d requests, %.0f ms)",
            outcome.source,
            outcome.message,
            outcome.credential or "no credential",
            outcome.result,
            outcome.requests,
            outcome.latency_s * 1000,
        )
        if self.audit is not None:
            self.audit.record(
                outcome, self.actions.room.room if self.actions.room else None
            )
        self._tell(lambda sink: sink.show(outcome))
        self._room_changed()
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def _housekeeping(self) -> None:
        for entry in self.mapper.expire(self._clock()):
            self._entry(entry)
        room = self.actions.room
        wanted = self._refresh_wanted.is_set()
        if room is not None and (room.due() or wanted):
            self._refresh_wanted.clear()
            self.actions.refresh()
        self._room_changed()
        now = self._clock()
        self._tell(lambda sink: sink.tick(now))

    def _room_changed(self) -> None:
        room = self.actions.room
        status, online = (room.status, room.online) if room else (None, None)
        if (status, online) != self._last_room:
            self._last_room = (status, online)
            self._tell(lambda sink: sink.room(status, online))

    def _entry(self, entry: EntryChanged) -> None:
        self._tell(lambda sink: sink.entry(entry.source, entry.length))

    def _tell(self, call: Callable[[FeedbackSink], None]) -> None:
        for sink in self.feedback:
            try:
                call(sink)
            except Exception:
                logger.exception("feedback %s failed", type(sink).__name__)
