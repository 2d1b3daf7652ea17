"""HTTP transport to VALT: one requests.Session, timeouts, TLS, and the one place that
turns `requests` failures and HTTP errors into ValtError types."""

from __future__ import annotations

import http.client
import json
import logging
import math
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from ivs_accessory.config.url import parse_server, without_userinfo
from ivs_accessory.errors import (
    ValtAuthError,
    ValtBadResponse,
    ValtNotFound,
    ValtRejected,
    ValtTLSError,
    ValtUnavailable,
)
from ivs_accessory.valt.deadline import Watchdog, WatchedAdapter
from ivs_accessory.valt.timings import TimingRecorder

logger = logging.getLogger(__name__)

# The token, and the card number (a keypad PIN) of a ?cardNumber= lookup, travel in
# URLs that urllib3 logs at DEBUG.
_TOKEN_RE = re.compile(r"((?:access_token|cardNumber)=)[^&\s'\"]*")
_PASSWORD_RE = re.compile(r"(\"password\"\s*:\s*)\"(?:[^\"\\]|\\.)*\"")


def redact(text: str) -> str:
    """Replace access tokens, card numbers in queries and JSON passwords by ``***``."""
    return _PASSWORD_RE.sub(r'\1"***"', _TOKEN_RE.sub(r"\1***", str(text)))


class RedactingFilter(logging.Filter):
    """Log filter that removes tokens from records of third-party loggers.

    urllib3 logs every request line at DEBUG, and VALT wants the token in the URL
    (reference §1.2), so without this ``-v`` would print the token.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_filter_lock = threading.Lock()


def install_redaction(names: tuple[str, ...] = ("urllib3.connectionpool",)) -> None:
    """Attach RedactingFilter to the named loggers once (idempotent)."""
    with _filter_lock:
        for name in names:
            target = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in target.filters):
                target.addFilter(RedactingFilter())


def base_url(server: str, *, default_scheme: str = "http") -> str:
    """Return ``<server>/api/v3/``, checked as the config's ``[valt] server`` is.

    The same parser (``ivs_accessory.config.url``) decides what is valid, so a
    server that passed the config check always gives a URL here. Config values
    always carry their scheme (the config assumes ``https://``); ``default_scheme``
    only serves the vendor API's bare host names, which mean ``http://``.

    Raises:
        ValueError: the server string is empty or not a valid http(s) address.
    """
    text = str(server or "").strip()
    if not text or text == "None":
        raise ValueError("no VALT server address; set it, e.g. valt.example.org")
    try:
        url = parse_server(text, default_scheme)
    except ValueError as exc:
        raise ValueError(f"VALT server {_shown(text)}: {exc}") from None
    path = url.path
    if path.endswith("/api/v3"):
        path = path[: -len("/api/v3")]
    return f"{url.origin}{path}/api/v3/"


def _shown(text: str) -> str:
    text = without_userinfo(text)
    return repr(text if len(text) <= 60 else text[:57] + "...")


# The largest answer read from VALT. Its biggest answers are user lists: a thousand
# users are about 150 KB. Anything larger is refused, and never held in memory whole.
MAX_ANSWER_BYTES = 1 << 20
_CHUNK = 64 * 1024


class Transport:
    """Sends JSON requests to one VALT server and translates every failure.

    Each request has one deadline, ``timeout`` seconds, for everything: connecting,
    sending, the status line, the headers and the whole body. Answers over
    ``MAX_ANSWER_BYTES`` are refused.

    Args:
        server: host, host:port or URL; ``http://`` is assumed without a scheme.
        timeout: seconds for a whole request.
        verify_tls: verify https certificates (the default). False is logged.
        ca_file: a CA bundle that signs the server's certificate.
        session: a ``requests.Session`` to use (one is made otherwise).
    """

    def __init__(
        self,
        server: str,
        *,
        timeout: float = 5.0,
        verify_tls: bool = True,
        ca_file: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url(server)
        self.host = urlsplit(self.base_url).netloc
        self.timeout = float(timeout)
        self.verify: bool | str = (
            ca_file if (verify_tls and ca_file) else bool(verify_tls)
        )
        self.session = session or requests.Session()
        # The watchdog can cut only connections from these pools.
        for prefix in ("http://", "https://"):
            self.session.mount(prefix, WatchedAdapter())
        self._watchdog = Watchdog()
        self._aborted = False
        self.request_count = 0
        # Every request's duration, failed ones too (/metrics' latency histogram).
        self.timings = TimingRecorder()
        self._count_lock = threading.Lock()
        install_redaction()
        if not verify_tls and self.base_url.startswith("https"):
            logger.warning(
                "TLS verification of %s is turned off by configuration; anyone on the "
                "network path can read the VALT password",
                self.host,
            )

    def abort(self) -> None:
        """Cut the calls in progress and refuse new ones (the daemon is stopping:
        nothing may hold it past systemd's stop timeout)."""
        self._aborted = True
        self._watchdog.cut_all()

    def close(self) -> None:
        """Abort, close the session's pooled connections, stop the watchdog."""
        self.abort()
        self.session.close()
        self._watchdog.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        token: str | None = None,
        params: dict[str, Any] | None = None,
        body: Any = None,
    ) -> Any:
        """Send one request and return the decoded JSON (None for an empty body).

        Args:
            method: GET, POST or DELETE.
            path: relative to ``/api/v3/``.
            what: words for error messages, e.g. ``"start recording in room 3"``.
            token: the access token, sent as the ``access_token`` query parameter.
            params: other query parameters.
            body: a JSON-serialisable body (POST).

        Raises:
            ValtUnavailable, ValtTLSError, ValtAuthError, ValtNotFound, ValtRejected,
            ValtBadResponse.
        """
        if self._aborted:
            raise ValtUnavailable(f"cannot {what}: the VALT client is closed")
        query = dict(params or {})
        if token:
            query["access_token"] = token
        started = time.monotonic()
        try:
            with self._watchdog.watch(self.timeout) as call:
                try:
                    status, reason, raw = self._exchange(method, path, query, body)
                except _TRANSPORT_ERRORS as exc:
                    if call.expired:
                        raise self._too_slow(what) from None
                    raise self._transport_error(exc, what) from None
                except _TooLarge as exc:
                    raise ValtBadResponse(
                        f"cannot {what}: {self.host} answered with more than "
                        f"{exc.limit} bytes; an answer that large is not VALT's"
                    ) from None
                if call.expired:
                    # Cut while the body was read: what arrived is not all of it.
                    raise self._too_slow(what)
        finally:
            self._count(time.monotonic() - started)
        if status >= 400:
            raise _http_error(status, reason, raw, what, self.host)
        return _decode(status, raw, what, self.host)

    def _exchange(
        self, method: str, path: str, query: dict[str, Any], body: Any
    ) -> tuple[int, str, bytes]:
        response = self.session.request(
            method,
            self.base_url + path,
            params=query or None,
            json=body,
            timeout=(self.timeout, self.timeout),
            verify=self.verify,
            stream=True,
        )
        try:
            raw = _read_capped(response, MAX_ANSWER_BYTES)
        except BaseException:
            # Not read to the end: the connection cannot be reused.
            response.close()
            raise
        return response.status_code, response.reason or "", raw

    def _too_slow(self, what: str) -> ValtUnavailable:
        return ValtUnavailable(
            f"cannot {what}: {self.host} did not answer within {self.timeout:g} s",
            reason="no_response",
        )

    def _count(self, seconds: float) -> None:
        with self._count_lock:
            self.request_count += 1
        self.timings.observe(seconds)

    def _transport_error(self, exc: BaseException, what: str) -> ValtUnavailable:
        # str(exc) holds the URL with the token: only redacted text leaves this method,
        # and the cause is not chained for the same reason.
        detail = redact(str(exc))
        host = self.host
        if isinstance(exc, requests.exceptions.SSLError):
            return ValtTLSError(
                f"cannot {what}: the TLS certificate of {host} could not be verified "
                f"({_short(detail)}); set ca_file to the CA that signed it"
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return ValtUnavailable(
                f"cannot {what}: {host} did not accept a connection within "
                f"{self.timeout:g} s"
            )
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return self._too_slow(what)
        return ValtUnavailable(*_connection_problem(detail, what, host))


class _TooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


# What a request can raise below our own errors: requests' errors, and what urllib3
# or the socket raise while a streamed body is read (a cut connection among them).
_TRANSPORT_ERRORS = (
    requests.exceptions.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    OSError,
    ValueError,
)


def _read_capped(response: requests.Response, limit: int) -> bytes:
    """The whole (decoded) body, or _TooLarge as soon as it passes ``limit`` bytes."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = response.raw.read(_CHUNK, decode_content=True)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise _TooLarge(limit)
        chunks.append(chunk)


def _decode(status: int, raw: bytes, what: str, host: str) -> Any:
    if status == 204 or not raw.strip():
        return None
    try:
        return strict_json(raw)
    except ValueError as exc:
        raise ValtBadResponse(
            f"cannot {what}: {host} answered HTTP {status} with a body that is not "
            f"JSON ({exc})"
        ) from None


def strict_json(raw: bytes | str) -> Any:
    """Decode JSON, refusing NaN, Infinity and numbers too large for a float.

    Raises:
        ValueError: not JSON, or a non-finite number.
    """
    try:
        return json.loads(raw, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number VALT sends")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{_short(text, 20)} is out of range")
    return value


def _connection_problem(detail: str, what: str, host: str) -> tuple[str, str]:
    lowered = detail.lower()
    if "refused" in lowered:
        return (
            f"cannot {what}: {host} refused the connection (is VALT running?)",
            "unreachable",
        )
    if (
        "name resolution" in lowered
        or "name or service" in lowered
        or "nodename" in lowered
    ):
        return (
            f"cannot {what}: the name {host} could not be resolved (check DNS)",
            "unreachable",
        )
    if "remote" in lowered or "aborted" in lowered or "reset" in lowered:
        return (
            f"cannot {what}: {host} closed the connection without answering",
            "no_response",
        )
    return (
        f"cannot {what}: {host} could not be reached ({_short(detail)})",
        "unreachable",
    )


def _http_error(
    status: int, reason: str, raw: bytes, what: str, host: str
) -> Exception:
    text = redact(raw.decode("utf-8", "replace"))
    message = f"cannot {what}: {host} answered {status} {reason}".rstrip()
    server_says = _server_message(raw)
    if server_says:
        message += f": {redact(server_says)}"
    if status == 401:
        return ValtAuthError(message + " (check the VALT username and password)")
    if status == 404:
        return ValtNotFound(message, status, text)
    return ValtRejected(message, status, text)


def server_reason(body: str) -> str:
    """VALT's own words in an error answer's body (``{"error": ...}`` and the like),
    or "" when it gave none; for showing a refusal's reason (``ValtRejected.body``)."""
    return redact(_server_message(body.encode("utf-8", "replace")))


def _server_message(raw: bytes) -> str:
    try:
        body = strict_json(raw)
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("error", "message", "detail"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value:
                return _short(value)
    return ""


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."
