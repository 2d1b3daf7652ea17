"""Network trial: applied now, rolled back unless the new address confirms in time."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import write_private
from ivs_accessory.system.commands import SystemControl
from ivs_accessory.threads import Worker
from ivs_accessory.web.files import read_text

logger = logging.getLogger(__name__)

# close() settles the trial before it waits, so the watcher only has to wake up.
_WATCHER_STOP_S = 1.0


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
    number: int = 0  # counts trials, so the page tells each roll-back once
    rolled_back_at: float | None = None  # wall-clock time


class NetworkTrial:
    """A network change on probation: applied at once, rolled back unless confirmed.

    :meth:`begin` keeps the old network file, writes the new one and runs
    ``apply_network_command``. A watcher thread waits for :meth:`confirm`; without
    it by the deadline the old file comes back and ``rollback_network_command`` runs.
    Stopping the daemon during a trial rolls back at once: a change nobody confirmed
    must not outlive the process that was watching it. Nor a power cut or a crash:
    while a change is on trial a marker file (the network file's name + ``.trial``)
    holds the previous file, and :meth:`recover`, run when the page starts, rolls
    back a change whose marker a dead process left behind.
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._trial: _Trial | None = None
        self._watcher: Worker | None = None
        self._count = 0
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
            # Only once the change is live: a marker without it would make recover()
            # roll back to an older file than the one in use.
            _write_marker(path, previous, summary)
            self._remember(trial)
            self.done.clear()
        logger.warning(
            "network change applied (%s); rolling back in %.0f s unless confirmed",
            summary,
            timeout_s,
        )
        # No stop hook: only confirm() and close() may settle a trial, since a
        # watcher woken otherwise would leave the change unconfirmed and in place.
        self._watcher = Worker(self._watch, "network-trial", args=(trial, timeout_s))
        self._watcher.start()

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

    def last_rollback(self) -> dict[str, Any] | None:
        """``{"number", "summary", "at"}`` (``at``: wall-clock seconds) when the latest
        trial ended in a roll-back, else None."""
        trial = self._trial
        if trial is None or not trial.rolled_back:
            return None
        return {
            "number": trial.number,
            "summary": trial.summary,
            "at": trial.rolled_back_at,
        }

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
            _remove_marker(trial.path)
        logger.warning("network change confirmed (%s)", trial.summary)
        return None

    def close(self) -> None:
        """Roll a pending change back now (the daemon is stopping), then wait for the
        watcher.

        Raises:
            ThreadStuckError: the watcher did not end.
        """
        self._settle_now()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop(_WATCHER_STOP_S)

    def _settle_now(self) -> None:
        with self._lock:
            trial = self._trial
            if trial is None or trial.done.is_set() or trial.confirmed.is_set():
                return
            self._roll_back(trial)
            trial.done.set()
            trial.settled.set()
        self.done.set()

    def recover(self, system: SystemControl, path: str) -> bool:
        """Roll back a change left on trial by a process that died (power cut, kill -9).

        True when there was one. Runs before any new trial can begin.
        """
        with self._lock:
            try:
                text = read_text(_marker(path))
            except (OSError, UnicodeDecodeError) as exc:
                logger.error("cannot read the network trial marker: %s", exc)
                return False
            if text is None:
                return False
            try:
                left = json.loads(text)
                previous, summary = left["previous"], str(left["summary"])
            except (ValueError, KeyError, TypeError):
                # Cannot happen with atomic writes; the helper's roll-back restores
                # the staged file from the live one anyway, so keep it as it is.
                logger.error("the network trial marker is unreadable; rolling back")
                previous, summary = _KEEP, "unknown change"
            logger.warning(
                "a network change (%s) was on trial when the daemon stopped without "
                "settling it (power cut or crash)",
                summary,
            )
            trial = _Trial(system, path, previous, summary, None, self._clock())
            self._roll_back(trial)
            trial.done.set()
            self._remember(trial)
        return True

    def _remember(self, trial: _Trial) -> None:
        self._count += 1
        trial.number = self._count
        self._trial = trial

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
        trial.rolled_back_at = time.time()
        self._restore_file(trial)
        try:
            trial.system.rollback_network()
        except SystemActionError as exc:
            logger.error("network roll-back: %s", exc)
        _remove_marker(trial.path)

    @staticmethod
    def _restore_file(trial: _Trial) -> None:
        try:
            if trial.previous is _KEEP:
                return
            if trial.previous is None:
                os.unlink(trial.path)
            else:
                write_private(trial.path, trial.previous)
        except OSError as exc:
            logger.error("cannot restore the network file %s: %s", trial.path, exc)


_KEEP = "\0keep the file as it is"  # a _Trial.previous no file can hold


def _marker(path: str) -> str:
    return path + ".trial"


def _write_marker(path: str, previous: str | None, summary: str) -> None:
    try:
        write_private(
            _marker(path), json.dumps({"previous": previous, "summary": summary})
        )
    except OSError as exc:
        logger.error("cannot write the network trial marker: %s", exc)


def _remove_marker(path: str) -> None:
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_marker(path))
    except OSError as exc:
        logger.error("cannot remove the network trial marker: %s", exc)
