"""The vendor's documented ``ivs`` module (``ivs.valt``, ``ivs.log``,
``ivs.factorydefault``), kept working as written, as a thin layer over ValtClient.

Integrators' scripts written against the IVS wiki run unchanged::

    from ivs_accessory import ivs
    v = ivs.valt("valt.example.org", "admin", "secret")
    if v.getroomstatus(3) == 1:
        v.startrecording(3, "Interview", author=12)

The documented conventions are kept: methods return 0 on failure (``isrecording``
returns 2), ``accesstoken`` is 0 after a failed login or an error and a new login is
tried ``failure_reauth_time`` (30 s) later; no method touches the network while the
token is 0. Differences, all deliberate: https certificates are verified (pass
``verify_tls=False`` to opt out, which is logged), no password or token is ever
logged, invalid arguments (a marker colour, a retention type) raise ``ValueError``,
and the pre-checks the vendor made with extra requests are left to the server.
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from ivs_accessory import _ivs_compat
from ivs_accessory._ivs_compat import VendorConnection
from ivs_accessory.errors import ValtError
from ivs_accessory.valt import answers, models
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.transport import Transport

logger = logging.getLogger(__name__)

_log_lock = threading.Lock()


def log(message: str, logpath: str | None = None) -> None:
    """Append ``YYYY-MM-DD HH:MM:SS message`` to ``logpath``.

    The default file is ``ivs.log`` beside the running program. Safe to call from
    several threads: each line is written whole.
    """
    path = logpath or os.path.join(_program_dir(), "ivs.log")
    stamp = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    line = f"{stamp} {message}\n"
    with _log_lock, open(path, "a", encoding="utf-8") as handle:
        handle.write(line)


def _program_dir() -> str:
    program = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
    return os.path.dirname(os.path.abspath(program)) if program else os.getcwd()


def factorydefault(configpath: str = "/etc/ivs-accessory/accessory.conf") -> None:
    """Restore all config files to their templates, re-enable the web page, reboot.

    The same request as ``ivs-accessory factory-default``, the page and the held
    factory button: it runs ``[system] factory_default_command`` from the config
    at ``configpath`` (the packaged default when that file is missing or invalid),
    which starts the privileged helper; the call returns once the helper started.

    Raises:
        SystemActionError: the helper could not be started.
    """
    from ivs_accessory.system.commands import SystemControl, system_settings

    SystemControl(system_settings(configpath)).factory_default()


class valt(VendorConnection):  # noqa: N801 - the documented, lower-case name
    """A connection to a VALT server, as the vendor documents it.

    Args:
        server: host or URL (``http://`` assumed).
        username, password: the VALT account (admin rights needed for users).
        timeout: seconds per request (default 5).
        logpath: if given, lifecycle lines also go to this file through :func:`log`.
        verify_tls, ca_file: https certificate checking (on by default).
        client: an existing ValtClient to wrap (its timers are then the wrapper's).

    The documented attributes (``accesstoken``, ``username``, ``password``,
    ``baseurl``, ``lastauthtime``, the two re-login times) and the 0-on-failure
    convention come from :class:`~ivs_accessory._ivs_compat.VendorConnection`.
    """

    def __init__(
        self,
        server: str,
        username: str,
        password: str,
        timeout: float = 5,
        logpath: str | None = None,
        *,
        verify_tls: bool = True,
        ca_file: str | None = None,
        client: ValtClient | None = None,
    ) -> None:
        self.logpath = logpath
        self.errormsg: str | None = None
        self._client = client or ValtClient(
            server,
            username,
            password,
            timeout=timeout,
            verify_tls=verify_tls,
            ca_file=ca_file,
        )
        self.auth()

    def close(self) -> None:
        """Stop the re-login timer and close connections (not in the vendor API)."""
        self._client.close()

    # -- documented methods ---------------------------------------------------
    def auth(self) -> None:
        """Log in now; on failure ``accesstoken`` is 0 and a retry comes in 30 s."""
        try:
            self._client.login()
        except ValtError as exc:
            self.errormsg = _ivs_compat.vendor_message(exc)
            self._note("Authentication FAILED")
        else:
            self.errormsg = None
            self._note("Authenticated to VALT")

    def isrecording(self, room: int) -> bool | int:
        """True if the room has a recording, False if not, 2 on error.

        A paused recording counts as a recording.
        """
        return self._guard(lambda: self._client.is_recording(room), 2)

    def getrecordingid(self, room: int) -> int:
        """The room's recording id, or 0."""
        return self._guard(lambda: self._client.recording_id(room) or 0, 0)

    def getrecordingtime(self, room: int) -> int:
        """Seconds recorded so far in the room, or 0."""
        return self._guard(lambda: self._client.recording_time(room) or 0, 0)

    def startrecording(self, room: int, name: str, **kwargs: Any) -> int:
        """Start a recording (``author=<user id>`` optional); its id, or 0."""
        author = kwargs.get("author")
        rid = self._guard(lambda: self._client.start(room, name, author), 0)
        if rid:
            self._note(f"Recording {name} started in room {room}")
        return rid

    def stoprecording(self, room: int) -> int:
        """Stop the room's recording; its id, or 0."""
        return self._action(room, self._client.stop, "stopped")

    def pauserecording(self, room: int) -> int:
        """Pause the room's recording; its id, or 0."""
        return self._action(room, self._client.pause, "paused")

    def resumerecording(self, room: int) -> int:
        """Resume the room's recording; its id, or 0."""
        return self._action(room, self._client.resume, "resumed")

    def lockroom(self, room: int) -> int:
        """Lock the room; the id VALT answers, or 0."""
        return self._action(room, self._client.lock, "locked")

    def unlockroom(self, room: int) -> int:
        """Unlock the room; the id VALT answers, or 0."""
        return self._action(room, self._client.unlock, "unlocked")

    def addmarker(
        self,
        room: int,
        markername: str,
        color: str | None = None,
        markertime: int | None = None,
    ) -> int:
        """Add a marker at ``markertime`` (default: now); 1 on success, 0 on failure.

        As documented, a time needs a colour: pass both, or neither.

        Raises:
            ValueError: an unknown colour, or a time without a colour.
        """
        colour = _ivs_compat.marker_colour(color, markertime)

        def add() -> int:
            self._client.add_marker(room, markername, colour, markertime)
            return 1

        return self._guard(add, 0)

    def ispaused(self, room: int) -> bool | int:
        """True if the room is paused, False if not, 0 on error."""
        return self._guard(
            lambda: self._client.room_status(room) is models.RoomStatus.PAUSED, 0
        )

    def islocked(self, room: int) -> bool | int:
        """True if the room is locked, False if not, 0 on error."""
        return self._guard(
            lambda: self._client.room_status(room) is models.RoomStatus.LOCKED, 0
        )

    def getroomstatus(self, room: int) -> int:
        """0 error, 1 available, 2 recording, 3 paused, 4 locked, 5 prepared."""
        return self._guard(lambda: self._client.room_status(room).code, 0)

    def getroomname(self, room: int) -> str | int:
        """The room's name, or 0."""
        return self._guard(lambda: self._client.room_name(room), 0)

    def getrooms(self) -> list[dict[str, Any]] | int:
        """Every room as a dict ``{"id", "name"}``, or 0."""
        return self._guard(
            lambda: [{"id": r.id, "name": r.name} for r in self._client.rooms()], 0
        )

    def getcameras(self, room: int) -> list[list[Any]] | int:
        """The room's cameras as ``[[id, name, ip], ...]``, or 0 (no credentials)."""
        return self._guard(
            lambda: [[c.id, c.name, c.ip] for c in self._client.cameras(room)], 0
        )

    def getschedule(self, room: int) -> list[list[Any]] | int:
        """The room's schedules as ``[[start_at, stop_at, name], ...]`` sorted, or 0."""
        return self._guard(
            lambda: [
                [s.start_at, s.stop_at, s.name] for s in self._client.schedules(room)
            ],
            0,
        )

    def getusername(self, user: int) -> str | int:
        """The user's name, or 0."""
        return self._guard(lambda: self._client.user_name(user), 0)

    def getusers(self) -> list[dict[str, Any]] | int:
        """Every user as ``{"id", "name", "displayName"}``, or 0.

        Card numbers are left out.
        """
        return self._guard(
            lambda: [
                {"id": u.id, "name": u.name, "displayName": u.display_name}
                for u in self._client.users()
            ],
            0,
        )

    def getuserbycard(self, card: str) -> int:
        """The id of the user with this card number (keypad PIN), or 0."""
        return self._guard(lambda: getattr(self._client.user_by_card(card), "id", 0), 0)

    def creategroup(
        self, groupname: str, infoid: int, markerid: int, **options: Any
    ) -> int:
        """Create a user group (options as :func:`creategroup`); its id, or 0."""
        models.group_body(groupname, infoid, markerid, **options)  # ValueError first
        return self._guard(
            lambda: self._client.create_group(groupname, infoid, markerid, **options), 0
        )

    # -- the vendor's error convention -----------------------------------------
    def _action(self, room: int, method: Callable[[int], int], done: str) -> int:
        rid = self._guard(lambda: method(room), 0)
        if rid:
            self._note(f"Room {room} {done}")
        return rid

    def _note(self, message: str) -> None:
        logger.info("%s", message)
        if self.logpath:
            log(message, self.logpath)


# -- the documented function forms ---------------------------------------------
def getroomstatus(https: bool, server: str, accesstoken: str, room: int) -> int:
    """Status of ``room``, with an existing token.

    Returns:
        0 error, 1 available, 2 recording, 3 paused, 4 locked, 5 prepared.
    """

    def status(transport: Transport, token: str) -> int:
        what = f"read the status of room {room}"
        data = transport.request(
            "GET", f"rooms/{int(room)}/status", what=what, token=token
        )
        return answers.room_status(data, what).code

    return _ivs_compat.one_shot(https, server, accesstoken, "getroomstatus", status)


def creategroup(
    https: bool,
    server: str,
    accesstoken: str,
    groupname: str,
    infoid: int,
    markerid: int,
    rights: Any = None,
    max_record_duration: int | None = None,
    rooms: list[int] | None = None,
    video_access_users: list[int] | None = None,
    video_access_groups: list[int] | None = None,
    retention_type: str | None = None,
    retention_until: str | None = None,
    retention_for: int | None = None,
) -> int:
    """Create a user group with an existing token; its id, or 0 on a server error.

    Raises:
        ValueError: a bad ``retention_type`` (infinitely, until, days, hours,
            minutes), a ``retention_until`` not in MM-DD-YYYY form, or no name.
    """
    body = models.group_body(
        groupname,
        infoid,
        markerid,
        rights=rights,
        max_record_duration=max_record_duration,
        rooms=rooms,
        video_access_users=video_access_users,
        video_access_groups=video_access_groups,
        retention_type=retention_type,
        retention_until=retention_until,
        retention_for=retention_for,
    )

    def create(transport: Transport, token: str) -> int:
        what = f"create user group '{groupname}'"
        data = transport.request(
            "POST", "admin/user_groups", token=token, body=body, what=what
        )
        return answers.id_of(data, what)

    return _ivs_compat.one_shot(https, server, accesstoken, "creategroup", create)
