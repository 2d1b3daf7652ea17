"""One Axis camera over VAPIX: requests with digest auth, one deadline per operation,
and the one place that turns transport failures and camera errors into CameraError."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import requests
import urllib3
from requests.auth import HTTPDigestAuth

from ivs_accessory.errors import (
    CameraAuthError,
    CameraBadResponse,
    CameraError,
    CameraRefused,
    CameraUnavailable,
    CameraUnsupported,
)
from ivs_accessory.valt.deadline import Watchdog, WatchedAdapter

logger = logging.getLogger(__name__)

# A parameter list of a whole camera is about 100 KB; ours ask for a few groups.
MAX_ANSWER_BYTES = 512 * 1024
_TRANSPORT_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,
)

PARAM = "axis-cgi/param.cgi"
PRIVACY_MASK = "axis-cgi/privacymask.cgi"
PTZ = "axis-cgi/com/ptz.cgi"


@dataclass(frozen=True)
class Capabilities:
    """What the model has (``root.Properties``): read once, they do not change."""

    privacy_masks: bool
    ptz: bool
    audio: bool


@dataclass(frozen=True)
class MaskInfo:
    """One privacy mask as ``query=listpxjson`` lists it."""

    name: str
    enabled: bool
    corners: int  # corners inside the current view (0: the mask is not visible)


class VapixCamera:
    """One camera: its address, credentials and a ``requests.Session``.

    Every operation (:meth:`operation`, several requests) has one deadline,
    ``timeout_s``, for all of its requests, and operations on one camera never
    overlap. The password is kept only in the digest handler: it is never logged,
    never in a URL, never in an error message.

    Args:
        name: how people know the camera ("Hall cam"), for messages.
        host: its address (name, IPv4 or IPv6, without brackets).
        port: None for 80 (443 with ``https``).
        verify_tls: check an https camera's certificate.
        timeout_s: the deadline of one operation.
        session: a session to use (one is made otherwise).
        watchdog: the thread that cuts requests past their deadline, shared by a
            room's cameras (one of its own otherwise).
        clock: monotonic seconds.
    """

    def __init__(
        self,
        name: str,
        host: str,
        username: str,
        password: str,
        *,
        port: int | None = None,
        https: bool = False,
        verify_tls: bool = True,
        timeout_s: float = 5.0,
        session: requests.Session | None = None,
        watchdog: Watchdog | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.host = host
        self.port = port or (443 if https else 80)
        self.username = username
        self.timeout_s = float(timeout_s)
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"{'https' if https else 'http'}://{shown}:{self.port}/"
        self.verify = verify_tls
        self._auth = HTTPDigestAuth(username, password)
        self.session = session or requests.Session()
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, WatchedAdapter())
        self._own_watchdog = watchdog is None
        self._watchdog = watchdog or Watchdog(clock, name="camera-deadline")
        self._clock = clock
        self._busy = threading.Lock()
        self._due: float | None = None
        self.capabilities: Capabilities | None = None
        # The gain the audio input had before the door muted it (None: unknown).
        self.gain_before: str | None = None

    def __repr__(self) -> str:
        return f"VapixCamera({self.name!r}, {self.base_url!r})"

    def has_password(self, password: str) -> bool:
        """True when ``password`` is the one this camera is given (a list read
        again may bring a new one)."""
        return bool(self._auth.password == password)

    def close(self) -> None:
        """Close the session's connections (and the deadline thread, if its own).

        A request in progress is not cut: on a shared watchdog the camera cannot
        tell its own; it ends at its deadline.
        """
        self.session.close()
        if self._own_watchdog:
            self._watchdog.close()

    # -- one operation -----------------------------------------------------------------
    @contextlib.contextmanager
    def operation(self) -> Iterator[VapixCamera]:
        """Run the body's requests under one deadline, ``timeout_s`` from now.

        Raises:
            CameraUnavailable: another operation held the camera past the deadline.
        """
        due = self._clock() + self.timeout_s
        if not self._busy.acquire(timeout=self.timeout_s):
            raise self._too_slow()
        self._due = due
        try:
            yield self
        finally:
            self._due = None
            self._busy.release()

    def get(self, path: str, params: dict[str, str], *, missing: str) -> str:
        """One GET under the operation's deadline; the answer's text.

        Args:
            path: the CGI, e.g. ``axis-cgi/param.cgi``.
            params: the query.
            missing: what a 404 means, in words ("has no privacy masks").

        Raises:
            CameraUnavailable, CameraAuthError, CameraUnsupported (404),
            CameraRefused (another HTTP error, or an ``Error:`` line),
            CameraBadResponse (an answer too large).
        """
        remaining = (self._due or self._clock() + self.timeout_s) - self._clock()
        if remaining <= 0:
            raise self._too_slow()
        with self._watchdog.watch(remaining) as call:
            try:
                status, body = self._exchange(path, params, remaining)
            except CameraError:
                raise
            except _TRANSPORT_ERRORS as exc:
                if call.expired:
                    raise self._too_slow() from None
                raise self._transport_error(exc) from None
            if call.expired:
                raise self._too_slow()
        logger.debug("camera %s: GET %s -> %s", self.name, path, status)
        return _checked(status, body, missing)

    def _exchange(
        self, path: str, params: dict[str, str], remaining: float
    ) -> tuple[int, str]:
        response = self.session.get(
            self.base_url + path,
            params=params,
            auth=self._auth,
            timeout=(remaining, remaining),
            verify=self.verify,
            stream=True,
            allow_redirects=False,
        )
        try:
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
                raise CameraBadResponse("answered with more than a VAPIX answer")
            chunks, size = [], 0
            while chunk := response.raw.read(64 * 1024, decode_content=True):
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise CameraBadResponse("answered with more than a VAPIX answer")
                chunks.append(chunk)
        except BaseException:
            response.close()  # not read to its end: the connection cannot be reused
            raise
        return response.status_code, b"".join(chunks).decode("utf-8", "replace")

    def _too_slow(self) -> CameraUnavailable:
        return CameraUnavailable(f"did not answer within {self.timeout_s:g} s")

    def _transport_error(self, exc: BaseException) -> CameraUnavailable:
        # The message of a requests error holds the URL (never credentials: digest
        # auth keeps them out of it), but only our words leave this method.
        if isinstance(exc, requests.exceptions.SSLError):
            return CameraUnavailable("has a TLS certificate that cannot be verified")
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return CameraUnavailable(
                f"did not accept a connection within {self.timeout_s:g} s"
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return self._too_slow()
        detail = str(exc).lower()
        if "refused" in detail:
            return CameraUnavailable("refused the connection (is it on?)")
        if "name resolution" in detail or "name or service" in detail:
            return CameraUnavailable(f"has a name that does not resolve ({self.host})")
        if "remote" in detail or "aborted" in detail or "reset" in detail:
            return CameraUnavailable("closed the connection without answering")
        return CameraUnavailable("could not be reached")

    # -- VAPIX calls -------------------------------------------------------------------
    def params(self, *groups: str) -> dict[str, str]:
        """param.cgi ``action=list``: full name -> value for the groups."""
        answer = self.get(
            PARAM,
            {"action": "list", "group": ",".join(groups)},
            missing="has no param.cgi (is it an Axis camera?)",
        )
        values = {}
        for line in answer.splitlines():
            name, equals, value = line.partition("=")
            if equals and name.startswith("root."):
                values[name] = value
        return values

    def update(self, changes: dict[str, str]) -> None:
        """param.cgi ``action=update`` (the camera answers ``OK``)."""
        answer = self.get(
            PARAM,
            {"action": "update", **changes},
            missing="has no param.cgi (is it an Axis camera?)",
        )
        if answer.strip() != "OK":
            raise CameraBadResponse("answered a parameter update without OK")

    def read_capabilities(self) -> Capabilities:
        """``root.Properties``: privacy masks, PTZ (optical, not digital), audio;
        read once per camera."""
        if self.capabilities is None:
            p = self.params("Properties")
            self.capabilities = Capabilities(
                privacy_masks=p.get("root.Properties.PrivacyMask.PrivacyMask") == "yes",
                ptz=p.get("root.Properties.PTZ.PTZ") == "yes"
                and p.get("root.Properties.PTZ.DigitalPTZ") != "yes",
                audio=p.get("root.Properties.Audio.Audio") == "yes",
            )
        return self.capabilities

    def masks(self) -> list[MaskInfo]:
        """privacymask.cgi ``query=listpxjson``."""
        answer = self.get(
            PRIVACY_MASK, {"query": "listpxjson"}, missing="has no privacy masks"
        )
        try:
            listed = json.loads(answer)["listpx"]
            return [
                MaskInfo(str(m["name"]), m["enabled"] is True, len(m["position"]))
                for m in listed
            ]
        except (ValueError, KeyError, TypeError):
            raise CameraBadResponse("listed its privacy masks unreadably") from None

    def mask_command(self, params: dict[str, str]) -> None:
        """A privacymask.cgi command (``action=add`` ...): 204 No Content."""
        self.get(PRIVACY_MASK, params, missing="has no privacy masks")

    def presets(self) -> list[str]:
        """ptz.cgi ``query=presetposall``: the preset names of camera 1."""
        answer = self.get(PTZ, {"query": "presetposall"}, missing="has no PTZ")
        found = []
        for line in answer.splitlines():
            key, equals, value = line.strip().partition("=")
            if equals and key.startswith("presetposno"):
                found.append(value.strip())
        return found

    def goto_preset(self, name: str) -> None:
        """ptz.cgi ``gotoserverpresetname``: 204 No Content."""
        self.get(
            PTZ, {"gotoserverpresetname": name, "camera": "1"}, missing="has no PTZ"
        )


def _checked(status: int, body: str, missing: str) -> str:
    """The body of a good answer; the CameraError for any other."""
    if status in (401, 403):
        # 403: the account exists but may not do this (VAPIX wants an administrator).
        raise CameraAuthError(
            "refused the credentials"
            if status == 401
            else "refused the account (it needs administrator rights)"
        )
    if status == 404:
        raise CameraUnsupported(missing)
    if status >= 300:
        raise CameraRefused(f"answered HTTP {status}")
    first = body.strip().splitlines()[0] if body.strip() else ""
    # privacymask.cgi and ptz.cgi refuse with "Error:...", param.cgi with "# Error:".
    if first.startswith("Error:") or first.startswith("# Error:"):
        said = first.split("Error:", 1)[1].strip() or "no reason given"
        raise CameraRefused(f"refused: {_short(said)}")
    return body


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
