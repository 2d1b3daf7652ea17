"""As root: make the staged netplan file live, keeping the previous for rollback."""

from __future__ import annotations

import contextlib
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system import (
    CommandRunner,
    atomic_copy,
    atomic_write,
    read_untrusted,
)

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 65_536
# netplan files are YAML with one top-level key, "network" (block or flow style).
_TOP_LEVEL = re.compile(r"^network:(\s|\{|$)", re.MULTILINE)


def check_netplan(data: bytes, origin: str) -> None:
    """A cheap sanity check before root installs a file: UTF-8, a ``network:`` key.

    ``netplan apply`` does the full validation; this only keeps anything that is
    plainly not a netplan file out of /etc/netplan.

    Raises:
        SystemActionError: the data is not UTF-8 text with a top-level ``network:``.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise SystemActionError(f"{origin} is not UTF-8 text") from None
    if "\0" in text or not _TOP_LEVEL.search(text):
        raise SystemActionError(
            f"{origin} is not a netplan file (no top-level 'network:' key)"
        )


@dataclass(frozen=True)
class NetworkFiles:
    """The staged, live and previous netplan files and the apply command.

    Attributes:
        staged: the file the page writes (daemon-owned).
        live: the file netplan reads, e.g. /etc/netplan/90-ivs-accessory.yaml.
        apply_command: e.g. ``netplan apply``.
        uid, gid: owner of the staged file when a rollback rewrites it.
    """

    staged: str
    live: str
    apply_command: Sequence[str]
    uid: int = -1
    gid: int = -1

    @property
    def previous(self) -> str:
        """Where the file that an apply replaced is kept (netplan reads only *.yaml)."""
        return self.live + ".previous"

    def apply(self, runner: CommandRunner) -> None:
        """Install the staged file, keeping the live one as ``previous``; apply it.

        If the apply command fails, the previous file is put back and applied again.

        Raises:
            SystemActionError: the staged file is unusable or the apply failed.
        """
        data = read_untrusted(self.staged, MAX_FILE_BYTES)
        check_netplan(data, self.staged)
        had_live = os.path.exists(self.live)
        if had_live:
            atomic_copy(self.live, self.previous, 0o600)
        atomic_write(self.live, data, 0o600)
        logger.info("network: installed %s as %s", self.staged, self.live)
        try:
            runner.run(self.apply_command)
        except SystemActionError as exc:
            logger.error(
                "network: apply failed (%s); restoring the previous settings", exc
            )
            self._restore(had_live, runner)
            raise SystemActionError(
                f"the network settings were not applied ({exc}); "
                "the previous ones are back"
            ) from None
        logger.info("network: applied")

    def rollback(self, runner: CommandRunner) -> None:
        """Put the previous file back (live and staged) and apply it.

        Raises:
            SystemActionError: there is no previous file or the apply failed.
        """
        if not os.path.isfile(self.previous):
            raise SystemActionError("no previous network settings to roll back to")
        atomic_copy(self.previous, self.live, 0o600)
        # The page shows the staged file: make it what is live again.
        atomic_copy(self.previous, self.staged, 0o600, uid=self.uid, gid=self.gid)
        logger.info("network: rolled back to %s", self.previous)
        runner.run(self.apply_command)
        logger.info("network: applied")

    def _restore(self, had_live: bool, runner: CommandRunner) -> None:
        if had_live:
            atomic_copy(self.previous, self.live, 0o600)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.live)
        try:
            runner.run(self.apply_command)
        except SystemActionError as exc:
            logger.error("network: applying the previous settings failed too: %s", exc)
