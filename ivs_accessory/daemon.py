"""Run the service as the daemon: signals, reload on SIGHUP, drain on SIGTERM."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

from ivs_accessory.config import Config, notes
from ivs_accessory.safe_mode import start_config
from ivs_accessory.service import Service

logger = logging.getLogger(__name__)


def apply_log_level(config: Config, verbosity: int) -> None:
    """Use ``[logging] level`` for our package unless -v/-q chose a level."""
    if verbosity == 0:
        level = config["logging"]["level"].upper()
        logging.getLogger("ivs_accessory").setLevel(getattr(logging, level))


def run(
    config_path: str,
    *,
    ready: threading.Event | None = None,
    stop: threading.Event | None = None,
    service_options: dict[str, Any] | None = None,
    verbosity: int | None = None,
    drain_s: float = 1.0,
) -> int:
    """Run the daemon until SIGTERM/SIGINT (or ``stop``); SIGHUP reloads the config.

    An invalid configuration does not stop it: it runs in safe mode (see
    ``Service``), so the page stays up to fix it. Returns 0.
    ``verbosity`` (-v minus -q) 0 lets ``[logging] level`` set our log level; None
    leaves logging as it is (the demo, tests). ``drain_s``: see ``Service.stop``.
    ``service_options`` go to ``Service`` (``keep_last_good`` is on by default).
    """
    config, safe_mode = start_config(config_path)
    if verbosity is not None:
        apply_log_level(config, verbosity)
    if safe_mode is None:
        for note in notes(config_path, config.text):
            logger.info("config: %s", note)
    stop = stop or threading.Event()
    reload_wanted = threading.Event()
    wake = threading.Event()
    restore = _signals(stop, reload_wanted, wake)
    # Advertised over DNS-SD only as the systemd service (which sets INVOCATION_ID):
    # a daemon run by hand or by tests must not start the box's helper units.
    advertise = "INVOCATION_ID" in os.environ
    options = {"keep_last_good": True, "advertise": advertise} | (service_options or {})
    service = Service(config, safe_mode=safe_mode, **options)
    try:
        service.start()
        if ready is not None:
            ready.set()
        _serve(service, stop, reload_wanted, wake, verbosity)
    finally:
        service.stop(drain_s)
        restore()
    return 0


def _serve(
    service: Service,
    stop: threading.Event,
    reload_wanted: threading.Event,
    wake: threading.Event,
    verbosity: int | None,
) -> None:
    while not stop.is_set():
        # Signal handlers only set events; the work happens here, on the main thread.
        wake.wait(1.0)
        wake.clear()
        if reload_wanted.is_set():
            reload_wanted.clear()
            _reload(service, verbosity, stop)


def _reload(service: Service, verbosity: int | None, stop: threading.Event) -> None:
    """SIGHUP: apply the file if valid; it never ends the daemon."""
    try:
        if not service.reload_file(cancel=stop) and verbosity is not None:
            apply_log_level(service.config, verbosity)
    except Exception:
        # The main loop's last guard: a reload bug must not take the door down.
        logger.exception("reloading the configuration failed; the previous one runs")


def _signals(
    stop: threading.Event, reload_wanted: threading.Event, wake: threading.Event
) -> Callable[[], None]:
    """Install SIGTERM/SIGINT/SIGHUP handlers (main thread only); returns an undo."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def on_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()
        wake.set()

    def on_hup(signum: int, frame: FrameType | None) -> None:
        reload_wanted.set()
        wake.set()

    previous = {
        signal.SIGTERM: signal.signal(signal.SIGTERM, on_stop),
        signal.SIGINT: signal.signal(signal.SIGINT, on_stop),
        signal.SIGHUP: signal.signal(signal.SIGHUP, on_hup),
    }

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore
