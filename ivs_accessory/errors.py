"""Exception tree: every error raised on purpose derives from AccessoryError."""

from __future__ import annotations


class AccessoryError(Exception):
    """Base class of every error raised on purpose by ivs_accessory."""


class ConfigError(AccessoryError, ValueError):
    """A configuration value, section or file is invalid; ``errors`` lists every
    problem."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors) if errors else [message]


class InputSourceError(AccessoryError, OSError):
    """An input device or port cannot be found, opened or read."""


class SystemActionError(AccessoryError, RuntimeError):
    """A system operation (reboot, factory default, network, time) failed."""


class NotAvailableError(AccessoryError, NotImplementedError):
    """A documented capability is not available in this build or on this machine."""


class ValtError(AccessoryError):
    """A VALT server request failed."""


class ValtUnavailable(ValtError, ConnectionError):
    """The VALT server could not be reached or did not answer in time.

    Attributes:
        reason: ``unreachable`` (refused, DNS, connect timeout), ``no_response`` (read
            timeout, connection dropped without an answer) or ``tls`` (certificate
            check).
    """

    def __init__(self, message: str, reason: str = "unreachable") -> None:
        super().__init__(message)
        self.reason = reason


class ValtTLSError(ValtUnavailable):
    """The VALT server's TLS certificate could not be verified."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="tls")


class ValtAuthError(ValtError, PermissionError):
    """The VALT server refused the credentials or the token."""


class ValtRejected(ValtError):
    """The VALT server answered with an HTTP error status.

    Attributes:
        status: the HTTP status code.
        body: the response text (at most 500 characters).
    """

    def __init__(self, message: str, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body[:500]


class ValtNotFound(ValtRejected, LookupError):
    """The VALT server does not know the room, user, recording or endpoint (HTTP
    404)."""


class ValtBadResponse(ValtError, ValueError):
    """The VALT server answered with something that is not the expected JSON."""


class ValtRefused(ValtError):
    """The action was refused locally because the room is in the wrong state."""


class CameraError(AccessoryError):
    """A camera (VAPIX) request failed; ``str()`` says what went wrong, in words a
    person at the door can be shown after the camera's name ("refused the
    credentials"). No password or URL with credentials is ever in it."""


class CameraUnavailable(CameraError, ConnectionError):
    """The camera could not be reached, or did not answer within its deadline."""


class CameraAuthError(CameraError, PermissionError):
    """The camera refused the user name or password (HTTP 401 or 403)."""


class CameraUnsupported(CameraError):
    """The camera lacks what was asked: privacy masks, PTZ, a preset."""


class CameraRefused(CameraError):
    """The camera answered with an error (an HTTP error or an ``Error:`` line)."""


class CameraNotApplied(CameraError):
    """The camera accepted a change, but reading it back shows it did not apply."""


class CameraBadResponse(CameraError, ValueError):
    """The camera's answer is not what VAPIX describes."""
