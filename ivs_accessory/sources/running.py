"""The input sources that run, by name: opened and closed as the configuration says."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class RunningSources:
    """Opens, keeps and closes the configured input sources.

    ``by_name`` is the live dict of name -> source (the page and the status read
    it). A source whose options did not change is left running across a reload.

    Args:
        factory: ``(name, options) -> InputSource`` (the registry, or a test's).
    """

    def __init__(self, factory: Callable[[str, dict[str, Any]], Any]) -> None:
        self.factory = factory
        self.by_name: dict[str, Any] = {}
        self._options: dict[str, dict[str, Any]] = {}

    def sync(
        self, wanted: dict[str, dict[str, Any]], emit: Callable[[Any], None]
    ) -> None:
        """Close what changed or went, open what is new or changed."""
        for name in list(self.by_name):
            if wanted.get(name) != self._options.get(name):
                self.close(name)
        for name, options in wanted.items():
            if name not in self.by_name:
                self.open(name, options, emit)

    def open(
        self, name: str, options: dict[str, Any], emit: Callable[[Any], None]
    ) -> None:
        """Start one source; a failure is logged and leaves the others running."""
        try:
            source = self.factory(name, dict(options))
            source.start(emit)
        except Exception as exc:
            # One bad source must not keep the others (or the page) from running.
            logger.error(
                "input source %s (%s) cannot start: %s", name, options.get("kind"), exc
            )
            return
        self.by_name[name] = source
        self._options[name] = dict(options)

    def close(self, name: str) -> None:
        """Stop one source (a failure to close is logged)."""
        source = self.by_name.pop(name, None)
        self._options.pop(name, None)
        if source is None:
            return
        try:
            source.close()
        except Exception as exc:
            logger.error("input source %s did not close cleanly: %s", name, exc)

    def close_all(self) -> None:
        for name in list(self.by_name):
            self.close(name)

    def with_leds(self) -> list[Any]:
        """The sources whose LEDs show outcomes (``leds = false`` opts out)."""
        return [
            source
            for name, source in list(self.by_name.items())
            if hasattr(source, "set_leds") and self._options[name].get("leds", True)
        ]
