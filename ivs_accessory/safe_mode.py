"""Safe mode: the daemon runs on with an invalid config; every input says so."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ivs_accessory.mapping import Presented, Trigger
from ivs_accessory.outcome import Outcome

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

    def status(self) -> dict[str, Any]:
        """``{"errors": [...], "last_good": bool}`` for ``Service.status()``."""
        return {"errors": list(self.errors), "last_good": self.last_good}

    def summary(self) -> str:
        """``safe mode: <first error> (+N more)`` (the STATUS line and /healthz)."""
        return "safe mode: " + first_of(self.errors)


def first_of(errors: list[str]) -> str:
    """``<first error> (+N more)``, or the first alone when it is the only one."""
    first = errors[0] if errors else "the configuration is invalid"
    more = len(errors) - 1
    return first + (f" (+{more} more)" if more > 0 else "")


class SafeModeActions:
    """Stands in for :class:`~ivs_accessory.actions.Actions` in safe mode.

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
