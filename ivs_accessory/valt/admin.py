"""ValtClient's admin-account calls: connection test, users, cameras, user groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ivs_accessory.errors import ValtBadResponse
from ivs_accessory.valt import models
from ivs_accessory.valt.models import Camera, ServerVersion, User

if TYPE_CHECKING:
    from ivs_accessory.valt.auth import Session
    from ivs_accessory.valt.transport import Transport


class AdminCalls:
    """The admin calls of :class:`~ivs_accessory.valt.ValtClient` (mixed into it).

    They go through the client's one authenticated path (``_data``, ``_id_of``),
    so a 401 re-logs in and retries once as for every other call.
    """

    if TYPE_CHECKING:  # provided by ValtClient
        transport: Transport
        auth: Session

        def _data(
            self,
            method: str,
            path: str,
            what: str,
            body: Any = None,
            params: dict[str, Any] | None = None,
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
        token = (
            (data or {}).get("data", {}).get("access_token")
            if isinstance(data, dict)
            else None
        )
        if not token:
            raise ValtBadResponse(
                f"{self.transport.host} answered the login without a token"
            )
        general = self.transport.request(
            "GET", "admin/general", what="read the VALT version", token=token
        )
        try:
            return ServerVersion.parse(general["data"]["version"])
        except (TypeError, KeyError, ValueError):
            raise ValtBadResponse(
                f"{self.transport.host} did not report a VALT version; "
                "is it a VALT server?"
            ) from None

    def users(self) -> list[User]:
        """Every user (1 request; may be a long list)."""
        data = self._data("GET", "admin/users", "list the VALT users")
        return [models.user_from(u) for u in data or ()]

    def user(self, user_id: int) -> User:
        """One user by id (1 request)."""
        return models.user_from(
            self._data("GET", f"admin/users/{int(user_id)}", f"read user {user_id}")
        )

    def user_name(self, user_id: int) -> str:
        """A user's name (1 request)."""
        return self.user(user_id).name

    def user_by_card(self, card_number: str) -> User | None:
        """The user whose card number (the keypad PIN) is ``card_number``, or None.

        1 request: ``?cardNumber=`` on 6.5+, else the user list matched here.
        """
        card = str(card_number)
        if self.auth.behaviour_version.has_card_query:
            data = self._data(
                "GET",
                "admin/users",
                "look up a card number",
                params={"cardNumber": card},
            )
            found = [models.user_from(u) for u in data or ()]
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

    def cameras(self, room: int) -> list[Camera]:
        """The room's cameras (1 request); camera credentials are not kept."""
        data = self._data(
            "GET",
            f"admin/rooms/{int(room)}/cameras",
            f"list the cameras of room {room}",
        )
        items = data.get("cameras", []) if isinstance(data, dict) else data
        return [
            Camera(int(c["id"]), str(c.get("name", "")), str(c.get("ip", "")))
            for c in items or ()
        ]

    def create_group(
        self, name: str, info_template_id: int, marker_template_id: int, **options: Any
    ) -> int:
        """Create a user group; options as :func:`models.group_body`. Returns its id."""
        body = models.group_body(name, info_template_id, marker_template_id, **options)
        return self._id_of(
            "POST", "admin/user_groups", f"create user group '{name}'", body
        )
