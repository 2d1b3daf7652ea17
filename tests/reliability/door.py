"""A door for the reliability tests: the real Service with a keypad-like source, its
LEDs, its STATUS lines and every token it carried, against a real simulator."""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from conftest import SECRET_PASSWORD, SECRET_USER, data_with_secret_user

from ivs_accessory.config import load
from ivs_accessory.door.actions import Outcome
from ivs_accessory.events import KeyPressed
from ivs_accessory.notify import Notifier
from ivs_accessory.service import Service
from ivs_accessory.valt.client import ValtClient

# PINs (VALT card numbers) used nowhere else, so the log check can look for them.
PIN_ROSA, PIN_TAE, PIN_WRONG = "730194", "861542", "407263"
USERS = [
    {
        "id": 70,
        "name": "rgarcia",
        "password": "Rel-pass-70!",
        "displayName": "Rosa Garcia",
        "card_number": PIN_ROSA,
    },
    {
        "id": 71,
        "name": "tkim",
        "password": "Rel-pass-71!",
        "displayName": "Tae Kim",
        "card_number": PIN_TAE,
    },
]


def reliability_data() -> dict[str, Any]:
    """The simulator's default data, the ``keypad`` account and the two door users."""
    data = data_with_secret_user()
    data["users"] += [dict(u) for u in USERS]
    return data


@dataclass
class Watched:
    """Everything secret the suite used; no log or audit file may contain any of it."""

    folder: Path
    passwords: set[str] = field(default_factory=lambda: {SECRET_PASSWORD})
    tokens: set[str] = field(default_factory=set)
    pins: set[str] = field(default_factory=set)
    cards: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, value: str) -> None:
        with self.lock:
            getattr(self, kind).add(value)


RECOVERIES: list[dict[str, Any]] = []
"""Measured recovery times of the fault matrix, printed at the end of the run."""


def pace(seconds: float) -> None:
    """Let time pass between two inputs as a person would (pacing, not syncing)."""
    threading.Event().wait(seconds)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait for a condition another thread or process brings about; returns the seconds
    it took. Polls every 20 ms (the state lives in the simulator or another thread
    with no event to wait on); AssertionError after ``timeout``."""
    began = time.monotonic()
    pause = threading.Event()
    while not predicate():
        if time.monotonic() - began > timeout:
            raise AssertionError(f"{what} did not happen within {timeout:g} s")
        pause.wait(0.02)
    return time.monotonic() - began


class TokenWatch(requests.Session):
    """A real ``requests.Session`` that remembers each token it sends.

    Every token the daemon gets from a login is sent with its next request, so the
    login's answer need not be read here (the client streams it, and reading it here
    would leave nothing for the client).
    """

    def __init__(self, watched: Watched) -> None:
        super().__init__()
        self.watched = watched

    def request(self, method, url, params=None, **kwargs):
        if params and params.get("access_token"):
            self.watched.add("tokens", params["access_token"])
        return super().request(method, url, params=params, **kwargs)


class Keypad:
    """An input source that types like a USB keypad: one KeyPressed per key, emitted on
    its own reader thread; it records the LEDs the daemon sets on it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.leds: set[str] = set()
        self.led_log: list[tuple[float, frozenset[str]]] = []  # (wall clock, LEDs)
        self.led_changes = threading.Condition()
        self._keys: queue.Queue[str | None] = queue.Queue()
        self._thread: threading.Thread | None = None

    def start(self, emit: Callable[[Any], object]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(emit,), name=f"source-{self.name}", daemon=True
        )
        self._thread.start()

    def _run(self, emit: Callable[[Any], object]) -> None:
        while (key := self._keys.get()) is not None:
            emit(KeyPressed(self.name, key, time.monotonic()))

    def close(self) -> None:
        self._keys.put(None)
        if self._thread is not None:
            self._thread.join(1)

    def status(self) -> dict[str, Any]:
        alive = self._thread is not None and self._thread.is_alive()
        return {
            "connected": alive,
            "device": "test keypad",
            "last_error": None,
            "reconnects": 0,
        }

    def set_leds(self, leds: set[str]) -> None:
        with self.led_changes:
            self.leds = set(leds)
            self.led_log.append((time.time(), frozenset(leds)))
            self.led_changes.notify_all()

    def press(self, *keys: str) -> None:
        for key in keys:
            self._keys.put(key)

    def type_digits(self, digits: str) -> None:
        self.press(*(f"KEY_KP{d}" for d in digits))

    def lit_since(self, leds: str | frozenset[str], since: float) -> bool:
        """True if ``leds`` (one name, or a set that must all be on) were lit at
        ``since`` (wall clock) or at some moment after."""
        wanted = {leds} if isinstance(leds, str) else set(leds)
        with self.led_changes:
            before = [lit for at, lit in self.led_log if at < since][-1:]
            after = [lit for at, lit in self.led_log if at >= since]
            return any(wanted <= lit for lit in before + after)

    def wait_leds(
        self, predicate: Callable[[set[str]], bool], timeout: float = 10
    ) -> None:
        with self.led_changes:
            assert self.led_changes.wait_for(lambda: predicate(self.leds), timeout), (
                f"keypad LEDs stayed {sorted(self.leds)}"
            )


class Shown:
    """A feedback sink: what the person at the door is shown, with wall-clock times."""

    def __init__(self) -> None:
        self.outcomes: queue.Queue[tuple[Outcome, float]] = queue.Queue()

    def show(self, outcome: Outcome) -> None:
        self.outcomes.put((outcome, time.time()))

    def entry(self, source: str, length: int) -> None:
        pass

    def room(self, status: Any, online: bool | None) -> None:
        pass

    def tick(self, now: float) -> None:
        pass


def config_text(
    server: str,
    folder: Path,
    *,
    room: int = 1,
    timeout_s: float = 1,
    status_refresh_s: int = 10,
    failure_reauth_s: int = 5,
    sources: str = "[source:door]\nkind = keypad\n",
    repeat_window_ms: int = 0,
) -> str:
    """A daemon configuration for the tests: short timeout, short refresh intervals (the
    schema's minimum unless given), the audit log in the watched folder. The repeat
    window is off: each PIN here is typed after the outcome of the one before, on
    purpose (tests/door/test_door_truth.py tests the window)."""
    return (
        f"[valt]\nserver = {server}\nusername = {SECRET_USER}\n"
        f"password = {SECRET_PASSWORD}\nroom = {room}\ntimeout_s = {timeout_s}\n"
        f"failure_reauth_s = {failure_reauth_s}\n\n"
        f"[mapping]\nstatus_refresh_s = {status_refresh_s}\n"
        f"repeat_window_ms = {repeat_window_ms}\n\n"
        f"[logging]\naudit_file = {folder / 'audit.log'}\n\n"
        f"[web]\nenabled = false\n\n{sources}"
    )


class Door:
    """The daemon (in this process) at one door, with what it shows and sends.

    Args:
        server: the VALT address in the config (the simulator's URL, or a bad one).
        folder: the config and audit log go here (inside the watched log folder).
        watched: where typed PINs and carried tokens are registered.
        **config: ``config_text`` options.
    """

    def __init__(
        self, server: str, folder: Path, watched: Watched, **config: Any
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder, self.watched, self.config_options = folder, watched, config
        self.path = folder / "accessory.conf"
        self.write_config(server)
        self.keypads: dict[str, Keypad] = {}
        self.shown = Shown()
        self.status_lines: list[str] = []
        notifier = Notifier(send=self._notify, environ={"NOTIFY_SOCKET": "@test"})
        self.service = Service(
            load(self.path),
            source_factory=self._source,
            client_factory=self._client,
            notifier=notifier,
            feedback=[self.shown],
        )

    def write_config(self, server: str) -> None:
        self.path.write_text(config_text(server, self.folder, **self.config_options))
        os.chmod(self.path, 0o600)

    def reload(self, server: str) -> None:
        """Save a new server address and reload, as the settings page does."""
        self.write_config(server)
        self.service.reload(load(self.path))

    def _notify(self, message: str) -> bool:
        self.status_lines.append(message)
        return True

    def _source(self, name: str, options: dict[str, Any]) -> Keypad:
        return self.keypads.setdefault(name, Keypad(name))

    def _client(self, *args: Any, **kwargs: Any) -> ValtClient:
        return ValtClient(*args, session=TokenWatch(self.watched), **kwargs)

    def start(self) -> Door:
        self.service.start()
        return self

    def stop(self) -> None:
        self.service.stop()

    @property
    def keypad(self) -> Keypad:
        return self.keypads["door"]

    def pin(self, digits: str, timeout: float = 30) -> tuple[Outcome, float, float]:
        """Type a PIN on the door keypad; returns (outcome, typed at, shown at)."""
        self.watched.add("pins", digits)
        began = time.time()
        self.keypad.type_digits(digits)
        outcome, shown = self.shown.outcomes.get(timeout=timeout)
        return outcome, began, shown

    def press(self, key: str, timeout: float = 30) -> tuple[Outcome, float, float]:
        """Press a bound key (e.g. KEY_KPPLUS, a marker); returns as :meth:`pin`."""
        began = time.time()
        self.keypad.press(key)
        outcome, shown = self.shown.outcomes.get(timeout=timeout)
        return outcome, began, shown

    def valt(self) -> dict[str, Any]:
        """What the page shows about VALT: ``Service.status()["valt"]``."""
        return self.service.status()["valt"]
