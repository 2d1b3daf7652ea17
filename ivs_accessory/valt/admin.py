"""ValtClient's admin-account calls: connection test, users, cameras, user groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ivs_accessory.errors import ValtBadResponse
from ivs_accessory.valt import answers, models
from ivs_accessory.valt.models import Camera, CameraLogin, ServerVersion, User

if TYPE_CHECKING:
    from ivs_accessory.valt.login import Session
    from ivs_accessory.valt.transport import Transport


class AdminCalls:
    """The admin calls of :class:`~ivs_accessory.valt.client.ValtClient`, mixed into it.

    They go through the client's one authenticated path (``_data``, ``_id_of``),
    so a 401 re-logs in and retries once as for every other call.
    """

    if TYPE_CHECKING:  # provided by ValtClient
        transport: Transport
        auth: Session

        def call(
            self,
            method: str,
            path: str,
            *,
            what: str,
            params: dict[str, Any] | None = None,
            body: Any = None,
        ) -> Any: ...

        def _id_of(
            self, method: str, path: str, what: str, body: Any = None
        ) -> int: ...

    def test_connection(self) -> ServerVersion:
        """Check the server and credentials without touching the client's token.

        Makes 2 requests (login, admin/general).

        Raises:
            ValtUnavailable / ValtTLSError: unreachable, or the certificate failed.
            ValtAuthError: bad username or password.
            ValtBadResponse: the server did not answer like VALT (no version).
        """
        what = f"log in to VALT as '{self.auth.username}'"
        data = self.transport.request(
            "POST",
            "login",
            what=what,
            body=self.auth.login_body(),
        )
        token = answers.token(data, self.transport.host)
        what = "read the VALT version"
        general = self.transport.request("GET", "admin/general", what=what, token=token)
        try:
            return answers.version(general, what)
        except ValtBadResponse:
            raise ValtBadResponse(
                f"{self.transport.host} did not report a VALT version; "
                "is it a VALT server?"
            ) from None

    def users(self) -> list[User]:
        """Every user (1 request; may be a long list)."""
        what = "list the VALT users"
        return answers.users(self.call("GET", "admin/users", what=what), what)

    def user(self, user_id: int) -> User:
        """One user by id (1 request)."""
        what = f"read user {user_id}"
        answer = self.call("GET", f"admin/users/{int(user_id)}", what=what)
        return answers.user(answers.data(answer, what), what)

    def user_name(self, user_id: int) -> str:
        """A user's name (1 request)."""
        return self.user(user_id).name

    def user_by_card(self, card_number: str) -> User | None:
        """The user whose card number (the keypad PIN) is ``card_number``, or None.

        1 request: ``?cardNumber=`` on 6.5+, else the user list matched here.
        """
        card = str(card_number)
        if self.auth.behaviour_version.has_card_query:
            what = "look up a card number"
            answer = self.call(
                "GET", "admin/users", what=what, params={"cardNumber": card}
            )
            found = answers.users(answer, what)
            # Servers before 6.5 ignore the query and list every user with a card
            # number (we may think the server newer than it is when its version could
            # not be read): match here rather than take the first user on trust.
            if any(u.card_number is not None for u in found):
                return next((u for u in found if u.card_number == card), None)
            return found[0] if found else None
        for user in self.users():
            if user.card_number == card:
                return user
        return None

    def set_card_number(self, user_id: int, card_number: str) -> User:
        """Write ``card_number`` to a user's VALT card number (1 request): the
        user update endpoint ``admin/users/{id}/edit``. Returns the user as VALT
        answers it.

        Raises:
            ValtRejected: VALT refused, for example because another user has the
                number; :func:`~ivs_accessory.valt.transport.server_reason` gives
                VALT's own words from its ``body``.
            ValtNotFound: no such user.
        """
        what = f"set the card number of user {int(user_id)}"
        answer = self.call(
            "POST",
            f"admin/users/{int(user_id)}/edit",
            what=what,
            body={"card_number": str(card_number)},
        )
        return answers.user(answers.data(answer, what), what)

    def cameras(self, room: int) -> list[Camera]:
        """The room's cameras (1 request); camera credentials are not kept."""
        what = f"list the cameras of room {room}"
        answer = self.call("GET", f"admin/rooms/{int(room)}/cameras", what=what)
        return answers.cameras(answer, what)

    def camera_logins(self, room: int) -> list[CameraLogin]:
        """The room's cameras with the address and login VALT keeps for each (1
        request), to talk to the cameras themselves (VAPIX)."""
        what = f"list the cameras of room {room}"
        answer = self.call("GET", f"admin/rooms/{int(room)}/cameras", what=what)
        return answers.camera_logins(answer, what)

    def create_group(
        self, name: str, info_template_id: int, marker_template_id: int, **options: Any
    ) -> int:
        """Create a user group; options as :func:`models.group_body`. Returns its id."""
        body = models.group_body(name, info_template_id, marker_template_id, **options)
        return self._id_of(
            "POST", "admin/user_groups", f"create user group '{name}'", body
        )
