"""Daemon: build parts from config, start in order, stop reversed, reload on SIGHUP."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from ivs_accessory.advertiser import Advertiser, page_advertisement
from ivs_accessory.config import Config, last_good_path, load, restore_last_good
from ivs_accessory.door.actions import Actions, Outcome
from ivs_accessory.door.audit import AuditLog
from ivs_accessory.door.directory import UserDirectory
from ivs_accessory.door.dispatcher import Dispatcher
from ivs_accessory.door.enrolment import Enrolment
from ivs_accessory.door.factory_button import FactoryButton
from ivs_accessory.door.feedback import FeedbackSink, LedFeedback, StatusFeedback
from ivs_accessory.door.lamp_driver import LampSlot, OpenLight
from ivs_accessory.door.lockout import Lockout
from ivs_accessory.door.mapping import Mapper
from ivs_accessory.door.room import RoomState
from ivs_accessory.errors import (
    ConfigError,
)
from ivs_accessory.notify import Notifier, Watchdog
from ivs_accessory.panel import DoorPanel
from ivs_accessory.safe_mode import (
    SafeMode,
    SafeModeActions,
    announce,
    first_of,
    keep_or_warn,
)
from ivs_accessory.service_status import room_status, source_status, valt_state
from ivs_accessory.sources.running import RunningSources
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.wiring import (
    LOCKOUT_KEYS,
    PrivacyCache,
    action_settings,
    close_unused,
    connection,
    hung_after_s,
    lamp_settings,
    lockout_file,
    mapping_settings,
    status_refresh_s,
    valt_client,
)

logger = logging.getLogger(__name__)

_DRAIN_S = 1.0  # on stop, queued inputs get this long to be handled


class Service:
    """Every part of the running accessory.

    Args:
        config: a loaded :class:`ivs_accessory.config.Config`.
        source_factory: ``(name, options) -> InputSource`` (default: the registry).
        client_factory: builds the ValtClient (tests pass options such as short timers).
        notifier: sd_notify sender (default: systemd's, silent outside systemd).
        feedback: extra sinks (the demo's console).
        on_outcome: called with every outcome.
        hung_after_s: a dispatcher loop older than this withholds the watchdog ping
            (default: from the VALT timeout, see ``hung_after_s()``).
        web: ``service -> server`` with start()/stop() for the page (default: the
            configuration page from ``[web]``; not started when ``enabled = false``).
        safe_mode: set when ``config`` is safe mode's fallback (see
            :func:`ivs_accessory.safe_mode.start_config`): no VALT client, every
            input is refused with "Configuration invalid", the STATUS line names
            the first error.
        keep_last_good: after each clean start or reload, keep the file's text as
            ``FILE.last-good`` (the daemon does; tests need not).
        open_light: ``[lamp] device -> Light`` (default: busylight-core).
        enrolment: the page's enrolment mode (default: one on ``clock``); kept
            across reloads, audited in the service's audit log.
        advertise: keep the page's DNS-SD name on the room (``advertiser.py``; the
            daemon does under systemd; tests need not).
    """

    def __init__(
        self,
        config: Config,
        *,
        source_factory: Callable[[str, dict[str, Any]], Any] | None = None,
        client_factory: Callable[..., ValtClient] = ValtClient,
        notifier: Notifier | None = None,
        feedback: Sequence[FeedbackSink] = (),
        on_outcome: Callable[[Outcome], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        hung_after_s: float | None = None,
        web: Callable[[Service], Any] | None = None,
        safe_mode: SafeMode | None = None,
        keep_last_good: bool = False,
        open_light: OpenLight | None = None,
        enrolment: Enrolment | None = None,
        advertise: bool = False,
    ) -> None:
        self.config = config
        self._advertise = advertise
        self.safe_mode = safe_mode
        self._keep_last_good = keep_last_good
        self._hung_after_s = hung_after_s
        self._sources = RunningSources(source_factory or _default_source_factory)
        self._client_factory = client_factory
        self.notify = notifier or Notifier()
        self._extra_feedback = list(feedback)
        self._clock = clock
        self.sources: dict[str, Any] = self._sources.by_name  # live: name -> source
        self.client: ValtClient | None = None
        self.dispatcher: Dispatcher | None = None
        # Until start() opens the file: the page may ask for recent outcomes first.
        self.audit = AuditLog(None)
        self.watchdog: Watchdog | None = None
        self.started_at: float | None = None
        self._on_outcome = on_outcome
        self._lock = threading.RLock()
        self._web_factory = web or _default_web
        self.web: Any = None
        self._advertiser: Advertiser | None = None
        self._lockout_made: tuple[tuple[Any, ...], Lockout] | None = None
        self.enrolment = enrolment or Enrolment(clock)
        self.enrolment.record = lambda **fields: self.audit.note(**fields)
        # The door page's board, pad and sessions; kept across reloads.
        self.panel = DoorPanel(
            self._room_state,
            lambda: self.client,
            clock=clock,
            enrolment=self.enrolment.active,
        )
        self._lamp = LampSlot(open_light)
        self._privacy = PrivacyCache(clock)

    # -- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        """Build and start everything, then tell systemd we are ready."""
        with self._lock:
            self.started_at = self._clock()
            self.client = self._client_for(self.config)
            actions = self._actions(self.client)
            logs = self.config["logging"]
            self.audit = AuditLog(
                logs["audit_file"] or None, logs["audit_max_bytes"], logs["audit_keep"]
            )
            self.factory_button = FactoryButton.from_settings(
                self.config["system"], self._clock
            )
            self.dispatcher = Dispatcher(
                Mapper(mapping_settings(self.config)),
                actions,
                feedback=self._feedback(),
                audit=self.audit,
                on_outcome=self._on_outcome,
                clock=self._clock,
                watchers=[self.factory_button.handle],
                enrolment=self.enrolment,
            )
            self.dispatcher.start()
            self._sources.sync(self.config.sources, self.dispatcher.emit)
            self.panel.start(
                self.config, self.dispatcher.emit, self.safe_mode is not None
            )
            self._start_watchdog()
            self._start_web()
        if self.safe_mode is not None:
            self._announce_safe_mode()
        else:
            logger.info(
                "accessory started: room %s, %d input source(s)",
                self.config["valt"]["room"],
                len(self.sources),
            )
            self._keep(self.config)
        self.notify("READY=1")

    def stop(self, drain_s: float = _DRAIN_S) -> None:
        """Stop the page and inputs first, then the dispatcher, then the VALT client.

        The dispatcher first handles the inputs already queued, for up to ``drain_s``
        (1 s by default, so a SIGTERM still ends within about 2 s; the demo gives
        more at the end of piped input).
        """
        self.notify("STOPPING=1")
        # Door screens' event streams end now, so the page's stop need not wait.
        self.panel.close()
        self._stop_web()  # first, and outside the lock: a page request may be saving
        with self._lock:
            self._sources.close_all()
            watchdog, self.watchdog = self.watchdog, None
            if watchdog is not None:
                _stop_part("the watchdog", watchdog.stop)
            if self.dispatcher is not None:
                # What was typed or swiped before the stop still counts, for up
                # to drain_s; then a VALT call still in hand is cut, so the stop
                # stays within systemd's TimeoutStopSec.
                if drain_s > 0 and self.dispatcher.is_alive:
                    self.dispatcher.drain(drain_s)
                if self.client is not None:
                    self.client.abort()
                _stop_part("the dispatcher", self.dispatcher.stop)
            if self.dispatcher is not None:
                close_unused(self.dispatcher.actions, None, _stop_part)
            _stop_part("the door schedule reader", self.panel.stop)
            _stop_part("the lamp", self._lamp.close)
            if self.client is not None:
                _stop_part("the VALT client", self.client.close)
                self.client = None
        logger.info("accessory stopped")

    def reload(self, config: Config, cancel: threading.Event | None = None) -> None:
        """Apply a new, valid configuration without a restart (SIGHUP, the page).

        Sources are re-opened only where their settings changed; the VALT client is
        rebuilt only when ``[valt]`` connection settings changed (or safe mode,
        which has none, ends here). The swap waits for the input in hand;
        ``cancel`` (a stop requested meanwhile) ends the wait and the reload is
        dropped.
        """
        self.notify("RELOADING=1")
        with self._lock:
            old, self.config = self.config, config
            client = self.client
            if self.safe_mode is not None or connection(old) != connection(config):
                client = valt_client(config, self._client_factory)
            was_safe = self.safe_mode
            left_safe_mode, self.safe_mode = was_safe is not None, None
            assert self.dispatcher is not None
            running = self.dispatcher.actions
            actions = self._actions(client)
            mapper = Mapper(mapping_settings(config))
            swapped = self.dispatcher.replace(
                mapper=mapper, actions=actions, feedback=self._feedback(), cancel=cancel
            )
            if not swapped:
                self.config, self.safe_mode = old, was_safe
                close_unused(actions, running, _stop_part)
                self._privacy.forget()
                if client is not self.client and client is not None:
                    _stop_part("the new VALT client", client.close)
                logger.info("reload dropped: the daemon is stopping")
                return
            self.factory_button.configure(config["system"])
            close_unused(running, actions, _stop_part)
            if client is not self.client and self.client is not None:
                # Logged, not raised: the new configuration is in place by now.
                _stop_part("the old VALT client", self.client.close)
            self.client = client
            self._sources.sync(config.sources, self.dispatcher.emit)
            self.panel.configure(config)
        if left_safe_mode:
            logger.warning("configuration valid again: safe mode ends")
            self.notify("STATUS=configuration valid again; safe mode ended")
        logger.info("configuration reloaded")
        self._keep(config)
        self.notify("READY=1")

    def reload_file(self, cancel: threading.Event | None = None) -> list[str]:
        """Load the config file again and apply it (SIGHUP; the page may use it).

        An invalid file changes nothing: the running configuration (safe mode's
        too) stays, every error is logged and the STATUS line says so.

        Returns:
            [] when applied, else every error of the file.
        """
        path = self.config.path
        if path is None:
            return ["the daemon runs without a configuration file; nothing to reload"]
        try:
            config = load(path)
        except ConfigError as exc:
            self._refused(list(exc.errors))
            return list(exc.errors)
        self.reload(config, cancel=cancel)
        return []

    def restore_last_good(self) -> None:
        """Copy ``FILE.last-good`` over the config file atomically, then apply it.

        Raises:
            ConfigError: the daemon runs without a file, there is no last good
                copy, or it no longer validates; nothing was changed.
            OSError: the config file cannot be written.
        """
        path = self.config.path
        if path is None:
            raise ConfigError(
                "the daemon runs without a configuration file; nothing to restore"
            )
        config = restore_last_good(path)
        logger.warning("restored %s from %s", path, last_good_path(path))
        self.reload(config)

    # -- safe mode and last good -------------------------------------------------------
    def _announce_safe_mode(self) -> None:
        assert self.safe_mode is not None
        announce(self.safe_mode)
        self.notify(f"STATUS={self.safe_mode.summary()}")

    def _refused(self, errors: list[str]) -> None:
        for error in errors:
            logger.error("config not reloaded: %s", error)
        if self.safe_mode is not None:
            self.safe_mode = SafeMode.of(errors, self.config.path)
            self.notify(f"STATUS={self.safe_mode.summary()}")
            return
        self.notify(
            f"STATUS=configuration not reloaded, the previous one runs on: "
            f"{first_of(errors)}"
        )

    def _keep(self, config: Config) -> None:
        """Keep a configuration that started or reloaded cleanly as last good."""
        if self._keep_last_good:
            keep_or_warn(config)

    # -- parts -------------------------------------------------------------------------
    def _client_for(self, config: Config) -> ValtClient | None:
        # Safe mode never reaches VALT: the settings for it cannot be trusted.
        if self.safe_mode is not None:
            return None
        return valt_client(config, self._client_factory)

    def _actions(self, client: ValtClient | None) -> Actions | SafeModeActions:
        if self.safe_mode is not None:
            return SafeModeActions()
        v, m = self.config["valt"], self.config["mapping"]
        room = (
            RoomState(
                client,
                v["room"],
                status_refresh_s(self.config),
                self._clock,
                max_age_s=m["status_max_age_s"],
                interval=self.panel.refresh_interval(self.config),
            )
            if client is not None and v["room"] is not None
            else None
        )
        directory = (
            UserDirectory(client, m["user_cache_s"], self._clock)
            if client is not None
            else None
        )
        return Actions(
            client,
            room,
            directory,
            action_settings(self.config),
            self._lockout(),
            self._clock,
            privacy=self._privacy.get(self.config, client),
        )

    def _lockout(self) -> Lockout:
        """The keypad lockout; kept across reloads that do not change it, so a
        reload (or a save on the page) never clears the failures counted so far."""
        lock = self.config["lockout"]
        settings = (*(lock[k] for k in LOCKOUT_KEYS), lockout_file(self.config))
        made = self._lockout_made
        if made is None or made[0] != settings:
            lockout = Lockout(
                lock["max_failures"],
                lock["base_s"],
                lock["max_s"],
                window_failures=lock["window_failures"],
                window_s=lock["window_s"],
                state_file=lockout_file(self.config),
                clock=self._clock,
            )
            made = self._lockout_made = (settings, lockout)
        return made[1]

    def _feedback(self) -> list[FeedbackSink]:
        # In safe mode the STATUS line keeps naming the error (see _announce_safe_mode).
        sinks: list[FeedbackSink] = (
            []
            if self.safe_mode is not None
            else [StatusFeedback(self.notify, self.config["valt"]["room"])]
        )
        if self.config["feedback"]["leds"]:
            sinks.append(
                LedFeedback(
                    self._sources.with_leds,
                    self.config["feedback"]["result_ms"] / 1000,
                    self._clock,
                    override=self.factory_button.leds,
                    looping=self.enrolment.led_pattern,
                )
            )
        lamp = self._lamp.sinks(lamp_settings(self.config), self._clock)
        return [*sinks, self.panel.board, *self._extra_feedback, *lamp]

    def _start_web(self) -> None:
        if not self.config["web"]["enabled"]:
            return
        try:
            self.web = self._web_factory(self)
            self.web.start()
        except Exception as exc:
            # The door must work without its page (port taken, bad certificate ...).
            logger.error("the configuration page cannot start: %s", exc)
            self.web = None
            return
        if not self._advertise:
            return
        # The page's DNS-SD name follows the room (README: Discovery).
        self._advertiser = Advertiser(
            lambda: page_advertisement(self), lambda: self.config["system"]
        )
        self._advertiser.start()

    def _stop_web(self) -> None:
        advertiser, self._advertiser = self._advertiser, None
        if advertiser is not None:
            _stop_part("the DNS-SD advertiser", advertiser.stop)
        web, self.web = self.web, None
        if web is not None:
            _stop_part("the configuration page", web.stop)

    def _start_watchdog(self) -> None:
        interval = self.notify.watchdog_interval_s()
        if interval:
            self.watchdog = Watchdog(self.notify, interval, self.is_healthy)
            self.watchdog.start()

    def _room_state(self) -> RoomState | None:
        d = self.dispatcher
        return d.actions.room if d is not None else None

    # -- health and status -------------------------------------------------------------
    def is_healthy(self) -> bool:
        """True while the dispatcher thread runs and has turned its loop recently."""
        d = self.dispatcher
        limit = self._hung_after_s or hung_after_s(self.config)
        return d is not None and d.is_alive and self._clock() - d.heartbeat < limit

    def status(self) -> dict[str, Any]:
        """A snapshot for the page, /healthz and tests (no secrets)."""
        d, client = self.dispatcher, self.client
        room = d.actions.room if d is not None else None
        privacy = getattr(d.actions, "privacy", None) if d is not None else None
        return {
            "valt": {
                "server": self.config["valt"]["server"],
                "configured": client is not None,
                "online": room.online if room is not None else None,
                "state": valt_state(client, room),
                "version": str(client.version) if client and client.version else None,
                "last_error": (room.last_error if room is not None else None)
                or (client.last_error if client else None),
                "requests": client.request_count if client else 0,
            },
            "room": room_status(self.config["valt"]["room"], room, self._clock()),
            "sources": {
                name: source_status(s) for name, s in list(self.sources.items())
            }
            | self.panel.sources(),
            "dispatcher": {
                "alive": self.is_healthy(),
                "events": d.events if d else 0,
                "dropped": d.dropped if d else 0,
                "outcomes": dict(d.outcomes) if d else {},
            },
            "uptime_s": self._clock() - self.started_at if self.started_at else 0,
            "safe_mode": self.safe_mode.status() if self.safe_mode else None,
            "door": self.panel.status(),
            "lamp": self._lamp.status(),
            "privacy": privacy.status() if privacy is not None else None,
            "enrolment": self.enrolment.active(),
        }


def _stop_part(what: str, stop: Callable[[], object]) -> None:
    """Stop one part; a failure, above all a ThreadStuckError, is logged, not raised.

    Raising would leave the parts after it running, or a reload half done, and the
    daemon must still exit within the unit's TimeoutStopSec: a stuck thread is a
    daemon thread and ends with the process.
    """
    try:
        stop()
    except Exception as exc:
        logger.error("%s did not stop cleanly: %s", what, exc)


def _default_web(service: Service) -> Any:
    from ivs_accessory.web import page_for

    return page_for(service)


def _default_source_factory(name: str, options: dict[str, Any]) -> Any:
    from ivs_accessory.sources.base import create_source

    return create_source(name, options)
