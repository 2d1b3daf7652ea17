"""A network change on trial: applied at once, rolled back unless a browser confirms it from the new address in time."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system import SystemControl
from ivs_accessory.web.files import read_text, write_private

logger = logging.getLogger(__name__)


@dataclass
class _Trial:
    system: SystemControl
    path: str
    previous: str | None
    summary: str
    expect_host: str | None
    deadline: float
    confirmed: threading.Event = field(default_factory=threading.Event)
    settled: threading.Event = field(
        default_factory=threading.Event
    )  # confirmed or closed
    done: threading.Event = field(default_factory=threading.Event)
    rolled_back: bool = False


class NetworkTrial:
    """A network change on probation: applied at once, rolled back unless confirmed.

    :meth:`begin` keeps the old network file, writes the new one and runs
    ``apply_network_command``. A watcher thread waits for :meth:`confirm`; without
    it by the deadline the old file comes back and ``rollback_network_command`` runs.
    Stopping the daemon during a trial rolls back at once: a change nobody confirmed
    must not outlive the process that was watching it.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._trial: _Trial | None = None
        self.done = threading.Event()  # set whenever the latest trial has ended
        self.done.set()

    def begin(
        self,
        system: SystemControl,
        path: str,
        yaml: str,
        timeout_s: float,
        summary: str,
        expect_host: str | None,
    ) -> None:
        """Apply ``yaml`` as the network file; roll back after ``timeout_s`` unless
        confirmed.

        Raises:
            SystemActionError: a change is pending already, or applying failed (the old
                file is back then). OSError: the file cannot be written.
        """
        with self._lock:
            if self._trial is not None and not self._trial.done.is_set():
                raise SystemActionError(
                    "a network change is waiting for confirmation; "
                    "confirm it or let it roll back first"
                )
            previous = read_text(path)
            write_private(path, yaml)
            trial = _Trial(
                system, path, previous, summary, expect_host, self._clock() + timeout_s
            )
            try:
                system.apply_network()
            except SystemActionError:
                self._restore_file(trial)
                raise
            self._trial = trial
            self.done.clear()
        logger.warning(
            "network change applied (%s); rolling back in %.0f s unless confirmed",
            summary,
            timeout_s,
        )
        threading.Thread(
            target=self._watch,
            args=(trial, timeout_s),
            name="network-trial",
            daemon=True,
        ).start()

    def pending(self) -> dict[str, Any] | None:
        """``{"summary", "remaining_s", "expect_host"}`` while a change is on trial."""
        trial = self._trial
        if trial is None or trial.done.is_set() or trial.confirmed.is_set():
            return None
        return {
            "summary": trial.summary,
            "expect_host": trial.expect_host,
            "remaining_s": max(0.0, trial.deadline - self._clock()),
        }

    def last_rolled_back(self) -> bool:
        """True when the latest trial ended in a roll-back."""
        trial = self._trial
        return bool(trial and trial.rolled_back)

    def confirm(self, host: str | None) -> str | None:
        """Keep the change; ``host`` is the address the browser used. None on success,
        else why not (nothing pending, or not reached at the new address)."""
        with self._lock:
            trial = self._trial
            if trial is None or trial.done.is_set():
                return "no network change is waiting for confirmation"
            if trial.expect_host and host != trial.expect_host:
                return (
                    f"confirm from the new address: open http://{trial.expect_host}/ "
                    "in the browser"
                )
            trial.confirmed.set()
            trial.settled.set()
        logger.warning("network change confirmed (%s)", trial.summary)
        return None

    def close(self) -> None:
        """Roll a pending change back now (the daemon is stopping)."""
        with self._lock:
            trial = self._trial
            if trial is None or trial.done.is_set() or trial.confirmed.is_set():
                return
            self._roll_back(trial)
            trial.done.set()
            trial.settled.set()
        self.done.set()

    def _watch(self, trial: _Trial, timeout_s: float) -> None:
        try:
            if not trial.settled.wait(timeout_s):
                with self._lock:
                    if not trial.confirmed.is_set() and not trial.done.is_set():
                        self._roll_back(trial)
                    trial.done.set()
        except Exception:
            logger.exception("network roll-back failed")
        finally:
            trial.done.set()
            self.done.set()

    def _roll_back(self, trial: _Trial) -> None:
        logger.warning("network change not confirmed (%s); rolling back", trial.summary)
        trial.rolled_back = True
        self._restore_file(trial)
        try:
            trial.system.rollback_network()
        except SystemActionError as exc:
            logger.error("network roll-back: %s", exc)

    @staticmethod
    def _restore_file(trial: _Trial) -> None:
        try:
            if trial.previous is None:
                os.unlink(trial.path)
            else:
                write_private(trial.path, trial.previous)
        except OSError as exc:
            logger.error("cannot restore the network file %s: %s", trial.path, exc)
