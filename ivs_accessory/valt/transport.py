"""HTTP transport to VALT: one requests.Session, timeouts, TLS, and the one place that
turns `requests` failures and HTTP errors into ValtError types."""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from ivs_accessory.config.url import parse_server, without_userinfo
from ivs_accessory.errors import (
    ValtAuthError,
    ValtBadResponse,
    ValtNotFound,
    ValtRejected,
    ValtTLSError,
    ValtUnavailable,
)

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


class Transport:
    """Sends JSON requests to one VALT server and translates every failure.

    Args:
        server: host, host:port or URL; ``http://`` is assumed without a scheme.
        timeout: seconds for connect and for each read.
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
        self.request_count = 0
        self.request_seconds = 0.0
        self._count_lock = threading.Lock()
        install_redaction()
        if not verify_tls and self.base_url.startswith("https"):
            logger.warning(
                "TLS verification of %s is turned off by configuration; anyone on the "
                "network path can read the VALT password",
                self.host,
            )

    def close(self) -> None:
        """Close the session's pooled connections."""
        self.session.close()

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
        query = dict(params or {})
        if token:
            query["access_token"] = token
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                params=query or None,
                json=body,
                timeout=self.timeout,
                verify=self.verify,
            )
        except requests.exceptions.RequestException as exc:
            raise self._transport_error(exc, what) from None
        finally:
            self._count(time.monotonic() - started)
        return self._decode(response, what)

    def _count(self, seconds: float) -> None:
        with self._count_lock:
            self.request_count += 1
            self.request_seconds += seconds

    def _transport_error(self, exc: Exception, what: str) -> ValtUnavailable:
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
            return ValtUnavailable(
                f"cannot {what}: {host} did not answer within {self.timeout:g} s",
                reason="no_response",
            )
        return ValtUnavailable(*_connection_problem(detail, what, host))

    def _decode(self, response: requests.Response, what: str) -> Any:
        status = response.status_code
        if status >= 400:
            raise _http_error(response, what, self.host)
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ValtBadResponse(
                f"cannot {what}: {self.host} answered HTTP {status} with a body that "
                "is not JSON"
            ) from None


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


def _http_error(response: requests.Response, what: str, host: str) -> Exception:
    status = response.status_code
    text = redact(response.text or "")
    reason = response.reason or ""
    message = f"cannot {what}: {host} answered {status} {reason}".rstrip()
    server_says = _server_message(response)
    if server_says:
        message += f": {redact(server_says)}"
    if status == 401:
        return ValtAuthError(message + " (check the VALT username and password)")
    if status == 404:
        return ValtNotFound(message, status, text)
    return ValtRejected(message, status, text)


def _server_message(response: requests.Response) -> str:
    try:
        body = response.json()
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
