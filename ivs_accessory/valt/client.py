"""ValtClient: the VALT REST API v3 calls an accessory needs, one request each where
the protocol allows it."""

from __future__ import annotations

import logging
from typing import Any

import requests

from ivs_accessory.errors import (
    ValtAuthError,
    ValtRefused,
    ValtUnavailable,
)
from ivs_accessory.valt import answers, models
from ivs_accessory.valt.admin import AdminCalls
from ivs_accessory.valt.login import Session, TimerFactory, _daemon_timer
from ivs_accessory.valt.models import (
    Room,
    RoomInfo,
    RoomStatus,
    Schedule,
    ServerVersion,
)
from ivs_accessory.valt.transport import Transport

logger = logging.getLogger(__name__)

# Control actions need a POST but no data; the vendor sends this dummy body and the
# server ignores it (reference §1.1).
_DUMMY_BODY = {"nothing": "nothing"}


class ValtClient(AdminCalls):
    """A client for one VALT server and account.

    Logs in on first use (or :meth:`login`), keeps the token, and follows the seed's
    re-login timers. A 401 on a call causes one immediate re-login and one retry of
    that call, never more. The calls that need an admin account (the connection
    test, users, cameras, user groups) are mixed in from :class:`AdminCalls`.

    Args:
        server: host, host:port or URL (``http://`` assumed).
        username, password: a VALT account; admin rights are needed for users,
            cameras and the version.
        timeout: seconds per request (default 5).
        verify_tls: verify https certificates (default True).
        ca_file: CA bundle for a server with a private certificate.
        session: a ``requests.Session`` to use.
        success_reauth_time, failure_reauth_time: the seed's timers in seconds.
        auto_reauth: run the timers in a background thread.
    """

    def __init__(
        self,
        server: str,
        username: str,
        password: str,
        *,
        timeout: float = 5.0,
        verify_tls: bool = True,
        ca_file: str | None = None,
        session: requests.Session | None = None,
        success_reauth_time: float = 28800,
        failure_reauth_time: float = 30,
        auto_reauth: bool = True,
        timer_factory: TimerFactory = _daemon_timer,
    ) -> None:
        self.transport = Transport(
            server,
            timeout=timeout,
            verify_tls=verify_tls,
            ca_file=ca_file,
            session=session,
        )
        self.auth = Session(
            self.transport,
            username,
            password,
            success_reauth_time=success_reauth_time,
            failure_reauth_time=failure_reauth_time,
            auto_reauth=auto_reauth,
            timer_factory=timer_factory,
        )

    # -- lifecycle -------------------------------------------------------------
    def __enter__(self) -> ValtClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def abort(self) -> None:
        """Cut the calls in progress now and refuse new ones (stopping)."""
        self.transport.abort()

    def close(self) -> None:
        """Cancel the re-login timer and close connections; leaves no thread.

        A call or a re-login in progress is cut first, so this returns at once.
        """
        self.transport.abort()
        self.auth.close()
        self.transport.close()

    def login(self) -> ServerVersion | None:
        """Log in now and return the server version (None if it could not be read)."""
        self.auth.login()
        return self.auth.version

    @property
    def base_url(self) -> str:
        """``<server>/api/v3/``."""
        return self.transport.base_url

    @property
    def has_token(self) -> bool:
        """True while the client holds a token."""
        return self.auth.token is not None

    @property
    def version(self) -> ServerVersion | None:
        """The server version read at the last login, if any."""
        return self.auth.version

    @property
    def last_error(self) -> str | None:
        """The last error, in words, or None since the last success."""
        return self.auth.last_error

    @property
    def request_count(self) -> int:
        """How many HTTP requests this client has sent."""
        return self.transport.request_count

    def looks_up_cards_by_query(self) -> bool:
        """True when the server answers ``admin/users?cardNumber=`` (6.5+), else the
        whole user list must be matched locally. Logs in first if needed."""
        self.auth.ensure_token()
        return self.auth.behaviour_version.has_card_query

    # -- the one place calls go through -----------------------------------------
    def call(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Send one authenticated request; on 401 log in again and retry once."""
        token = self.auth.ensure_token()
        try:
            return self._send(method, path, what, token, params, body)
        except ValtAuthError as exc:
            logger.warning("VALT refused the token (%s); logging in again", exc)
            self.auth.drop_token(str(exc))
        token = self.auth.login()
        try:
            return self._send(method, path, what, token, params, body)
        except ValtAuthError as exc:
            self.auth.schedule_retry(str(exc), drop=True)
            raise

    def _send(
        self,
        method: str,
        path: str,
        what: str,
        token: str,
        params: dict[str, Any] | None,
        body: Any,
    ) -> Any:
        try:
            result = self.transport.request(
                method, path, what=what, token=token, params=params, body=body
            )
        except ValtUnavailable as exc:
            # Keep the token (it is still valid when the server returns) but move the
            # next login, which doubles as a health probe, to the failure interval.
            self.auth.schedule_retry(str(exc))
            raise
        self.auth.last_error = None
        return result

    def _id_of(self, method: str, path: str, what: str, body: Any = None) -> int:
        return answers.id_of(self.call(method, path, what=what, body=body), what)

    # -- rooms -------------------------------------------------------------------
    def rooms(self) -> list[Room]:
        """Every room, for the room picker (1 request)."""
        what = "list the VALT rooms"
        return answers.rooms(self.call("GET", "rooms/info", what=what), what)

    def room_info(self, room: int) -> RoomInfo:
        """The room's name and current recording (1 request)."""
        what = f"read room {room}"
        answer = self.call("GET", f"rooms/info/{int(room)}", what=what)
        return answers.room_info(answer, int(room), what)

    def room_name(self, room: int) -> str:
        """The room's name (1 request)."""
        return self.room_info(room).name

    def room_status(self, room: int) -> RoomStatus:
        """The room's status (1 request).

        Raises:
            ValtBadResponse: the server sent a status we do not know.
        """
        what = f"read the status of room {room}"
        answer = self.call("GET", f"rooms/{int(room)}/status", what=what)
        return answers.room_status(answer, what)

    def is_recording(self, room: int) -> bool:
        """True while a recording exists in the room, paused included (1 request)."""
        return self.room_info(room).has_recording

    def recording_id(self, room: int) -> int | None:
        """The id of the room's recording, or None (1 request)."""
        rec = self.room_info(room).recording
        return rec.id if rec else None

    def recording_time(self, room: int) -> int | None:
        """Seconds recorded so far in the room's recording, or None (1 request)."""
        rec = self.room_info(room).recording
        return rec.time if rec else None

    # -- recording control (1 request each; the server refuses wrong states) -------
    def start(self, room: int, name: str, author: int | None = None) -> int:
        """Start a recording named ``name``; ``author`` is a user id. Returns its id."""
        body: dict[str, Any] = {"name": name}
        if author is not None:
            body["author"] = int(author)
        by = f" for user {author}" if author is not None else ""
        return self._id_of(
            "POST",
            f"rooms/{int(room)}/record/start",
            f"start recording in room {room}{by}",
            body,
        )

    def stop(self, room: int) -> int:
        """Stop the room's recording (also when paused); returns the recording id."""
        return self._control(room, "record/stop", "stop the recording in")

    def pause(self, room: int) -> int:
        """Pause the room's recording; returns the recording id."""
        return self._control(room, "record/pause", "pause the recording in")

    def resume(self, room: int) -> int:
        """Resume the room's paused recording; returns the recording id."""
        return self._control(room, "record/resume", "resume the recording in")

    def lock(self, room: int) -> int:
        """Lock the room (privacy); returns the id VALT answers."""
        return self._control(room, "lock", "lock")

    def unlock(self, room: int) -> int:
        """Unlock the room; returns the id VALT answers."""
        return self._control(room, "unlock", "unlock")

    def _control(self, room: int, action: str, verb: str) -> int:
        return self._id_of(
            "POST", f"rooms/{int(room)}/{action}", f"{verb} room {room}", _DUMMY_BODY
        )

    def add_marker(
        self,
        room: int,
        name: str,
        colour: str = models.DEFAULT_MARKER_COLOUR,
        time: int | None = None,
        recording_id: int | None = None,
    ) -> None:
        """Add a live marker (5.x) or comment (6.x) to the room's recording.

        Without ``time`` (and, on 6.x, ``recording_id``) the current recording is read
        first: 2 requests; with them, 1. On 6.x the comment carries no colour.

        Raises:
            ValueError: not one of the 9 colours.
            ValtRefused: the room has no recording.
        """
        colour = models.check_colour(colour)
        style = self.auth.behaviour_version.comment_style
        if time is None or (recording_id is None and style != "markers"):
            rec = self.room_info(room).recording
            if rec is None:
                raise ValtRefused(
                    f"cannot add marker '{name}': room {room} is not recording"
                )
            time = rec.time if time is None else time
            recording_id = rec.id if recording_id is None else recording_id
        what = f"add marker '{name}' in room {room}"
        if style == "markers":
            path = f"rooms/{int(room)}/record/markers"
            body = {"event": name, "time": int(time), "color": colour}
        else:
            path = "comment"
            assert recording_id is not None  # read from the room above when missing
            body = _comment_body(style, name, int(time), int(recording_id))
        answer = self.call("POST", path, what=what, body=body)
        answers.check_added(answer, what)

    # -- schedules (user, camera and group calls are AdminCalls') ----------------
    def schedules(self, room: int) -> list[Schedule]:
        """The room's scheduled recordings, sorted by start (1 request)."""
        what = "list the VALT schedules"
        return answers.schedules(
            self.call("GET", "schedule", what=what), int(room), what
        )


def _comment_body(
    style: str, name: str, time: int, recording_id: int
) -> dict[str, Any]:
    body: dict[str, Any] = {"recordTime": time, "recordId": recording_id}
    if style == "message":
        body.update(type="simple", message=name)
        return body
    # 6.0-6.5 carry the text in a template object (reference §1.4, client C3).
    body["template"] = {"id": 1, "data": [], "name": name}
    if style == "template_typed":
        body["type"] = "simple"
    return body
