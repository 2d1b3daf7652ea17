"""Safe mode: the daemon runs on with an invalid config; every input says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.config import (
    Config,
    check,
    fallback,
    keep_last_good,
    last_good_path,
)
from ivs_accessory.config.lastgood import check_last_good
from ivs_accessory.config.loader import to_config
from ivs_accessory.door.mapping import Presented, Trigger
from ivs_accessory.door.outcome import Outcome

logger = logging.getLogger(__name__)

RESULT = "not_configured"  # feedback.pattern_for gives it the offline LED pattern
MESSAGE = "Configuration invalid; fix it on the configuration page"


@dataclass
class SafeMode:
    """Why the daemon is in safe mode.

    Attributes:
        errors: every error of the configuration file, as ``config check`` says it.
        last_good: a last good copy (``FILE.last-good``) exists and validates.
    """

    errors: list[str] = field(default_factory=list)
    last_good: bool = False

    @classmethod
    def of(cls, errors: list[str], path: str | None) -> SafeMode:
        """Safe mode for these errors of file ``path`` (checking its last good copy)."""
        good = check_last_good(path) if path is not None else None
        return cls(list(errors), good is not None and not good.errors)

    def status(self) -> dict[str, Any]:
        """``{"errors": [...], "last_good": bool}`` for ``Service.status()``."""
        return {"errors": list(self.errors), "last_good": self.last_good}

    def summary(self) -> str:
        """``safe mode: <first error> (+N more)`` (the STATUS line and /healthz)."""
        return "safe mode: " + first_of(self.errors)


def start_config(path: str) -> tuple[Config, SafeMode | None]:
    """The configuration to start with, and why safe mode is on (None when it is not).

    A valid file gives its Config. An invalid one gives safe mode's fallback (see
    :func:`ivs_accessory.config.fallback`) and every error, as ``config check``
    reports them: both use the same validator.
    """
    checked = check(path)
    config = to_config(checked, path)
    if config is not None:
        return config, None
    found = fallback(path, checked)
    return found.config, SafeMode(found.errors, found.last_good)


def announce(mode: SafeMode) -> None:
    """Log every error once, then what safe mode does."""
    for error in mode.errors:
        logger.error("config: %s", error)
    logger.warning(
        "safe mode: the configuration is invalid; the page and inputs run, every "
        "input answers 'configuration invalid' and VALT is not contacted%s",
        "; a last good configuration can be restored on the page"
        if mode.last_good
        else "",
    )


def keep_or_warn(config: Config) -> None:
    """Keep ``config`` as last good; a folder we cannot write is only a warning."""
    try:
        if keep_last_good(config):
            logger.info("kept %s", last_good_path(config.path or ""))
    except OSError as exc:
        logger.warning(
            "cannot keep the last good configuration %s: %s",
            last_good_path(config.path or ""),
            exc.strerror or exc,
        )


def first_of(errors: list[str]) -> str:
    """``<first error> (+N more)``, or the first alone when it is the only one."""
    first = errors[0] if errors else "the configuration is invalid"
    more = len(errors) - 1
    return first + (f" (+{more} more)" if more > 0 else "")


class SafeModeActions:
    """Stands in for :class:`~ivs_accessory.door.actions.Actions` in safe mode.

    Every PIN, card and key binding gets the outcome ``not_configured`` with the
    words "Configuration invalid": no VALT request is made, since the settings
    for it cannot be trusted.
    """

    client = None
    room = None
    directory = None

    def entry_started(self, source: str) -> None:
        """Nothing to prefetch: there is no VALT to ask."""

    def present(self, intent: Presented) -> Outcome:
        """A PIN or card: refused with the safe-mode message."""
        return Outcome(RESULT, action="toggle", message=MESSAGE, source=intent.source)

    def trigger(self, intent: Trigger) -> Outcome:
        """A key binding: refused with the safe-mode message."""
        return Outcome(
            RESULT, action=intent.action, message=MESSAGE, source=intent.source
        )

    def refresh(self) -> None:
        """No room status to refresh."""
