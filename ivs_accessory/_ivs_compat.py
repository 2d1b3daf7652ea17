"""What ``ivs`` is built on: vendor error words, valt attributes, 0-on-failure calls."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from ivs_accessory.errors import (
    ValtAuthError,
    ValtError,
    ValtNotFound,
    ValtRefused,
    ValtRejected,
    ValtUnavailable,
)
from ivs_accessory.valt import models
from ivs_accessory.valt.client import ValtClient
from ivs_accessory.valt.transport import Transport

# Records keep the public module's name: integrators filter on "ivs_accessory.ivs".
logger = logging.getLogger("ivs_accessory.ivs")

T = TypeVar("T")  # what a guarded call returns
F = TypeVar("F")  # what the vendor's API returns instead, on an error


# The vendor's user messages for errors (reference §5), kept in ``errormsg``.
def vendor_message(exc: Exception) -> str:
    """The vendor's words for ``exc``, as ``valt.errormsg`` shows them."""
    if isinstance(exc, ValtUnavailable):
        return (
            "Server Did Not Respond"
            if exc.reason == "no_response"
            else "Server Address Unreachable"
        )
    if isinstance(exc, ValtAuthError):
        return "Invalid Username or Password"
    if isinstance(exc, ValtNotFound):
        return "Invalid Room, User, or Recording ID"
    if isinstance(exc, ValtRejected) and exc.status == 502:
        return "VALT Server Offline"
    if isinstance(exc, ValtRejected) and exc.status == 409:
        return "Room Is Not In A State That Allows This"
    if isinstance(exc, ValtRefused):
        return "Room is Not Currently Recording"
    return "An Unknown Error Occurred"


def marker_colour(color: str | None, markertime: int | None) -> str:
    """The colour ``addmarker`` sends: ``color``, or the default when neither is given.

    Raises:
        ValueError: an unknown colour, or a time without a colour.
    """
    if markertime is not None and color is None:
        raise ValueError(
            "addmarker: a marker time needs a colour, e.g. "
            "addmarker(room, name, 'red', 42)"
        )
    return models.check_colour(color or models.DEFAULT_MARKER_COLOUR)


class VendorConnection:
    """The base of ``ivs.valt``: its documented attributes and error convention.

    The documented attributes are mapped onto the ValtClient underneath; subclasses
    set ``_client`` (that ValtClient) and ``errormsg``.
    """

    _client: ValtClient
    errormsg: str | None

    # -- documented attributes ------------------------------------------------
    username = property(lambda self: self._client.auth.username)
    password = property(lambda self: self._client.auth._password)
    baseurl = property(lambda self: self._client.base_url)

    @property
    def success_reauth_time(self) -> float:
        """Seconds from a successful login to the next one (28800)."""
        return self._client.auth.success_reauth_time

    @success_reauth_time.setter
    def success_reauth_time(self, value: float) -> None:
        self._client.auth.success_reauth_time = value

    @property
    def failure_reauth_time(self) -> float:
        """Seconds from a failure to the next login attempt (30)."""
        return self._client.auth.failure_reauth_time

    @failure_reauth_time.setter
    def failure_reauth_time(self, value: float) -> None:
        self._client.auth.failure_reauth_time = value

    @property
    def accesstoken(self) -> str | int:
        """The current token, or 0 when not authenticated."""
        return self._client.auth.token or 0

    @accesstoken.setter
    def accesstoken(self, value: str | int) -> None:
        if value:
            self._client.auth.token = str(value)
        else:
            self._client.auth.drop_token("token cleared by the caller")

    @property
    def lastauthtime(self) -> float | None:
        """Wall-clock time (``time.time()``) of the last login attempt."""
        return self._client.auth.last_login

    @property
    def client(self) -> ValtClient:
        """The ValtClient underneath, for new code."""
        return self._client

    # -- the vendor's error convention -----------------------------------------
    def _guard(self, call: Callable[[], T], failed: F) -> T | F:
        if not self._client.has_token:
            self.errormsg = "Not Currently Authenticated to VALT"
            return failed
        try:
            result = call()
        except ValtError as exc:
            self._failed(exc)
            return failed
        self.errormsg = None
        return result

    def _failed(self, exc: ValtError) -> None:
        self.errormsg = vendor_message(exc)
        logger.warning("%s (%s)", self.errormsg, exc)
        # As documented: an error drops the token and the next login comes in 30 s;
        # a 404 (unknown room/user/recording) or a refused transition does not.
        if not isinstance(exc, (ValtNotFound, ValtRefused)) and not (
            isinstance(exc, ValtRejected) and exc.status == 409
        ):
            self._client.auth.schedule_retry(str(exc), drop=True)


def one_shot(
    https: bool,
    server: str,
    accesstoken: str,
    name: str,
    call: Callable[[Transport, str], int],
) -> int:
    """Run ``call(transport, token)`` on a transport of its own; 0 on any failure.

    The documented function forms take a token from elsewhere, so nothing here logs
    in: a server error, or an answer without the expected fields, is logged and
    answered with 0, as the vendor's functions did.
    """
    text = str(server)
    if "://" not in text:
        text = ("https://" if https else "http://") + text
    transport, token = Transport(text), str(accesstoken)
    try:
        return call(transport, token)
    except (ValtError, TypeError, KeyError, ValueError) as exc:
        logger.warning("%s failed: %s", name, exc)
        return 0
    finally:
        transport.close()
