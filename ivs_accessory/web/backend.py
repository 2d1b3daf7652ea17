"""What the page needs from the daemon it runs in: the ``PageService`` protocol."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from ivs_accessory.config import Config
from ivs_accessory.valt.client import ValtClient

if TYPE_CHECKING:  # the page uses these parts of door/, never imports them
    from ivs_accessory.door.audit import AuditLog
    from ivs_accessory.door.dispatcher import Dispatcher
    from ivs_accessory.door.enrolment import Enrolment
    from ivs_accessory.panel import DoorPanel


class PageService(Protocol):
    """The running :class:`~ivs_accessory.service.Service`, as the page uses it.

    Read-only properties here, so a service whose attributes are narrower (or
    reassigned, as ``config`` is by a reload) still fits.
    """

    @property
    def config(self) -> Config:
        """The configuration in use; a reload replaces it."""

    @property
    def dispatcher(self) -> Dispatcher | None:
        """The input thread: recent inputs, outcomes, a room refresh (None: none)."""

    @property
    def client(self) -> ValtClient | None:
        """The VALT client, for the request counters (None in safe mode)."""

    @property
    def panel(self) -> DoorPanel:
        """The door page's board (what screens read), on-screen pad and sessions."""

    @property
    def audit(self) -> AuditLog:
        """The audit log: the status page's latest outcomes."""

    @property
    def enrolment(self) -> Enrolment:
        """The enrolment mode: the page starts and stops it and shows its reads."""

    def status(self) -> dict[str, Any]:
        """A snapshot without secrets (see ``Service.status``)."""

    def reload(self, config: Config) -> None:
        """Apply a valid configuration without a restart (what SIGHUP does)."""

    def restore_last_good(self) -> None:
        """Put the last configuration that worked back in the file and apply it.

        Raises:
            ConfigError, OSError: nothing was changed.
        """
