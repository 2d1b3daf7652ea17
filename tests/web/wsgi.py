"""WSGI in-process, like Bottle's test/tools.py: environ in, status/headers/body out."""

from __future__ import annotations

import html
import io
import json
import re
import wsgiref.util
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode


@dataclass
class Answer:
    """One response: status code, headers (name -> list of values), body text."""

    status: int
    headers: dict[str, list[str]]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[-1] if values else None

    @property
    def location(self) -> str | None:
        return self.header("Location")


class WsgiClient:
    """A browser stand-in with a cookie jar; follows no redirects by itself.

    Args:
        app: the WSGI callable.
        host: the Host header (the address the "browser" typed).
        remote: REMOTE_ADDR, the peer's address.
        local: the box's address the connection came in on, as the real server
            reports it (``ivs.local_addr``); None: not reported.
    """

    def __init__(
        self,
        app,
        host: str = "127.0.0.1",
        remote: str = "127.0.0.1",
        local: str | None = None,
    ) -> None:
        self.app = app
        self.host = host
        self.remote = remote
        self.local = local
        self.cookies: dict[str, str] = {}
        self.raw_cookies: list[str] = []

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        content_type: str = "application/x-www-form-urlencoded",
    ) -> Answer:
        path, _, query = path.partition("?")
        # Lone surrogates go out as the invalid UTF-8 a broken client would send.
        data = (
            body
            if body is not None
            else urlencode(form, errors="surrogatepass").encode()
            if form is not None
            else b""
        )
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "HTTP_HOST": self.host,
            "REMOTE_ADDR": self.remote,
            "wsgi.input": io.BytesIO(data),
            "CONTENT_LENGTH": str(len(data)),
        }
        if self.local is not None:
            environ["ivs.local_addr"] = self.local
        if data or method == "POST":
            environ["CONTENT_TYPE"] = content_type
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(
                f"{k}={v}" for k, v in self.cookies.items()
            )
        for name, value in (headers or {}).items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        wsgiref.util.setup_testing_defaults(environ)
        captured: dict[str, Any] = {}

        def start_response(status, header_list, exc_info=None):
            captured["status"] = int(status.split()[0])
            captured["headers"] = header_list

        chunks = self.app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close:
                close()
        found: dict[str, list[str]] = {}
        for name, value in captured["headers"]:
            found.setdefault(name.lower(), []).append(value)
        self._keep_cookies(found.get("set-cookie", []))
        return Answer(captured["status"], found, payload)

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            self.raw_cookies.append(line)
            jar = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if (
                    morsel["max-age"] == "-1"
                    or morsel["max-age"] == "0"
                    or "1970" in morsel["expires"]
                    or not morsel.value
                ):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str, **options) -> Answer:
        return self.request("GET", path, **options)

    def post(
        self,
        path: str,
        form: dict[str, str] | None = None,
        *,
        csrf: bool = True,
        **options,
    ) -> Answer:
        form = dict(form or {})
        if csrf and "csrf" not in form:
            form["csrf"] = self.csrf()
        return self.request("POST", path, form=form, **options)

    def csrf(self) -> str:
        """The CSRF token the pages embed for this session ("" when logged out)."""
        answer = self.get("/password")  # only for the forced change; else /system
        if answer.status == 303 and answer.location == "/system":
            answer = self.get("/system")
        match = re.search(r'name="csrf-token" content="([^"]+)"', answer.text)
        return match.group(1) if match else ""

    def login(self, password: str, username: str = "admin") -> Answer:
        """Fill and send the login form as a browser would (with its CSRF cookie)."""
        page = self.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        return self.request(
            "POST",
            "/login",
            form={
                "csrf": token,
                "username": username,
                "password": password,
                "next": "/",
            },
        )


def field_error(answer: Answer, field: str) -> str | None:
    """The error message the page shows next to ``field`` (by element id), if any."""
    match = re.search(
        rf'id="{re.escape(field)}-error" role="alert">([^<]*)<', answer.text
    )
    return html.unescape(match.group(1)) if match else None
