"""Package updates (root helper): check a staged .deb, install it, or roll back."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivs_accessory.errors import SystemActionError
from ivs_accessory.system.atomic import atomic_write
from ivs_accessory.system.commands import CommandRunner, read_untrusted
from ivs_accessory.system.package_checks import (
    PACKAGE,
    Package,
    Request,
    UpdateRefused,
    check_package,
    check_signature,
    check_space,
    inspect_package,
)

logger = logging.getLogger(__name__)

MAX_PACKAGE_BYTES = 50_000_000  # ours is well under 1 MB; a bigger upload is not one
HEALTH_WAIT_S = 60.0
# A bound for a hung dpkg, not for a slow one: a dpkg killed half-way leaves the
# package broken, which is worse than waiting. Reinstalling the kept version took
# over 300 s in the emulated test VM; a Pi's SD card can be slow too.
DPKG_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class UpdatePlan:
    """Where the files are and what to run, from ``[helper]`` (trusted).

    ``staged_dir`` is the daemon's (it holds ``update.deb``, maybe
    ``update.deb.sig``, and ``request.json``); ``kept_dir`` is root's: the
    package being installed, the installed version kept for a rollback, and the
    journal that a restart in the middle of an update finds.
    """

    staged_dir: str
    kept_dir: str
    result_file: str
    keyring: str  # empty: signatures are not required
    restart_command: list[str]
    repack_command: list[str]  # run in kept_dir; writes the installed version's .deb
    owner: tuple[int, int] = (-1, -1)  # the result file's, for the daemon to read


class Updater:
    """One update, as the root helper runs it: take, check, keep, install, wait,
    and roll back when the new version does not become healthy.

    Args:
        plan: paths and commands.
        runner: runs dpkg, gpgv, the restart and repack commands.
        healthy: ``healthy(health_url, within_s)`` returns None once the daemon is
            up and answering, else the problem (``system.readiness.Readiness``).
        installed: the installed version of the package, or None.
        host_architecture: ``dpkg --print-architecture``.
    """

    def __init__(
        self,
        plan: UpdatePlan,
        runner: CommandRunner,
        healthy: Callable[[str, float], str | None],
        installed: Callable[[], str | None],
        host_architecture: str,
        statvfs: Callable[[str], Any] = os.statvfs,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        self.runner = runner
        self.healthy = healthy
        self.installed = installed
        self.host_architecture = host_architecture
        self.statvfs = statvfs
        self.clock = clock

    @property
    def journal(self) -> str:
        return os.path.join(self.plan.kept_dir, "journal.json")

    def run(self) -> dict[str, Any]:
        """Do the update; the result (also written to ``result_file``)."""
        began = self.clock()
        before = self.installed()
        try:
            if before is None:
                raise UpdateRefused(
                    f"{PACKAGE} is not installed as a package here (a development "
                    "install?): there would be no version to go back to"
                )
            request, new = self._take()
            result = self._update(request, new, before)
        except UpdateRefused as exc:
            result = {"result": "refused", "reason": str(exc), "version": before}
        except SystemActionError as exc:
            result = {"result": "failed", "reason": str(exc), "version": before}
        result["seconds"] = round(self.clock() - began, 1)
        self._finish(result)
        return result

    def recover(self) -> dict[str, Any] | None:
        """After a restart: finish an interrupted update, or roll it back."""
        try:
            with open(self.journal, "rb") as file:
                journal = json.loads(file.read())
        except FileNotFoundError:
            return None
        except ValueError:
            journal = {}
        request = Request(health_url=str(journal.get("health_url", "")))
        try:
            # What dpkg had unpacked when the power went is configured now.
            self.runner.run(
                ["dpkg", "--configure", "--pending"], timeout_s=DPKG_TIMEOUT_S
            )
        except SystemActionError as exc:
            # Not whole (a failing script, a half-installed package): the kept
            # version goes back in, which dpkg accepts over such a package.
            problem: str | None = f"dpkg could not finish the install: {exc}"
        else:
            problem = self.healthy(request.health_url, HEALTH_WAIT_S)
        now = self.installed()
        if problem is None:
            result = {
                "result": "updated" if now == journal.get("to") else "kept",
                "version": now,
                "reason": f"the box restarted during the update; it runs {now}",
            }
        else:
            result = self._roll_back(
                str(journal.get("previous", "")),
                request,
                f"after a restart during the update: {problem}",
            )
        self._finish(result)
        return result

    # -- steps -------------------------------------------------------------------------
    def _take(self) -> tuple[Request, Package]:
        """Copy the staged file into root's folder, so the daemon cannot change it
        between the checks and dpkg."""
        staged = os.path.join(self.plan.staged_dir, "update.deb")
        os.makedirs(self.plan.kept_dir, mode=0o700, exist_ok=True)
        try:
            data = read_untrusted(staged, MAX_PACKAGE_BYTES)
        except SystemActionError as exc:
            raise UpdateRefused(f"no package to install: {exc}") from None
        check_space(self.plan.kept_dir, 3 * len(data), self.statvfs)
        path = os.path.join(self.plan.kept_dir, "incoming.deb")
        atomic_write(path, data, 0o600)
        try:
            signature = read_untrusted(staged + ".sig", 65_536)
            atomic_write(path + ".sig", signature, 0o600)
        except SystemActionError:
            if os.path.exists(path + ".sig"):
                os.unlink(path + ".sig")
        try:
            raw = read_untrusted(
                os.path.join(self.plan.staged_dir, "request.json"), 4096
            )
        except SystemActionError:
            raw = b"{}"
        return Request.parse(raw), inspect_package(path, self.runner)

    def _update(self, request: Request, new: Package, before: str) -> dict[str, Any]:
        check_package(
            new,
            before,
            self.runner,
            host_architecture=self.host_architecture,
            allow_downgrade=request.allow_downgrade,
        )
        check_signature(new.path, self.plan.keyring, self.runner)
        check_space("/usr", 2 * new.installed_kib * 1024, self.statvfs)
        previous = self._keep(before)
        atomic_write(
            self.journal,
            json.dumps(
                {
                    "state": "installing",
                    "from": before,
                    "to": new.version,
                    "previous": previous,
                    "health_url": request.health_url,
                }
            ).encode(),
        )
        logger.warning("update: installing %s %s over %s", PACKAGE, new.version, before)
        try:
            self.runner.run(["dpkg", "--install", new.path], timeout_s=DPKG_TIMEOUT_S)
        except SystemActionError as exc:
            return self._roll_back(
                previous, request, f"dpkg could not install it: {exc}"
            )
        problem = self._started(request)
        if problem is not None:
            return self._roll_back(
                previous,
                request,
                f"version {new.version} did not become healthy "
                f"within {HEALTH_WAIT_S:g} s: {problem}",
            )
        kept = os.path.join(self.plan.kept_dir, f"{PACKAGE}_{new.version}.deb")
        os.replace(new.path, kept)
        self._prune(keep={kept, previous})
        logger.warning("update: %s %s runs and is healthy", PACKAGE, new.version)
        return {"result": "updated", "version": new.version, "reason": ""}

    def _keep(self, installed: str) -> str:
        """The installed version's .deb in ``kept_dir`` (made with dpkg-repack the
        first time: a box installed with apt has no copy of its package)."""
        kept = os.path.join(self.plan.kept_dir, f"{PACKAGE}_{installed}.deb")
        if not os.path.exists(kept):
            self.runner.run(
                [*self.plan.repack_command, PACKAGE],
                cwd=self.plan.kept_dir,
                timeout_s=DPKG_TIMEOUT_S,
            )
            made = [
                n
                for n in os.listdir(self.plan.kept_dir)
                if n.startswith(f"{PACKAGE}_{installed}_") and n.endswith(".deb")
            ]
            if not made:
                raise SystemActionError(
                    f"could not keep version {installed}: dpkg-repack made no package"
                )
            os.replace(os.path.join(self.plan.kept_dir, made[0]), kept)
        return kept

    def _roll_back(self, previous: str, request: Request, why: str) -> dict[str, Any]:
        logger.error("update: %s; going back", why)
        if not previous:
            return {"result": "failed", "reason": why, "version": self.installed()}
        try:
            self.runner.run(["dpkg", "--install", previous], timeout_s=DPKG_TIMEOUT_S)
        except SystemActionError as exc:
            return {
                "result": "failed",
                "version": self.installed(),
                "reason": f"{why}; the rollback failed too: {exc}",
            }
        problem = self._started(request)
        back = self.installed()
        if problem is not None:
            why += f"; after the rollback to {back}: {problem}"
        return {"result": "rolled back", "version": back, "reason": why}

    def _started(self, request: Request) -> str | None:
        """Restart the daemon and wait for it: None once it is up, else why not.

        A restart that fails is the installed version not starting (a Type=notify
        unit fails its restart when the daemon exits before READY), not dpkg failing.
        """
        try:
            self.runner.run(self.plan.restart_command)
        except SystemActionError as exc:
            return f"it did not start ({exc})"
        return self.healthy(request.health_url, HEALTH_WAIT_S)

    def _prune(self, keep: set[str]) -> None:
        for name in os.listdir(self.plan.kept_dir):
            path = os.path.join(self.plan.kept_dir, name)
            if name.endswith(".deb") and path not in keep:
                os.unlink(path)

    def _finish(self, result: dict[str, Any]) -> None:
        for name in ("journal.json", "incoming.deb", "incoming.deb.sig"):
            path = os.path.join(self.plan.kept_dir, name)
            if os.path.lexists(path):
                os.unlink(path)
        for name in ("update.deb", "update.deb.sig", "request.json"):
            path = os.path.join(self.plan.staged_dir, name)
            if os.path.lexists(path):
                os.unlink(path)
        uid, gid = self.plan.owner
        atomic_write(
            self.plan.result_file,
            json.dumps(result).encode(),
            0o644,
            uid=uid,
            gid=gid,
            make_folder=True,
        )
        logger.warning("update: %s (%s)", result["result"], result.get("reason", ""))
