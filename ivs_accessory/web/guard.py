"""Before every request: control characters, Host, /metrics, login, CSRF."""

from __future__ import annotations

import logging
from urllib.parse import quote

import bottle

from ivs_accessory.web.accounts import Session, tokens_match
from ivs_accessory.web.doorpage import PATHS as DOOR_PATHS
from ivs_accessory.web.hosts import host_allowed, parse_address
from ivs_accessory.web.page import (
    CSRF_FIELD,
    CSRF_HEADER,
    MAX_FORM_BYTES,
    SESSION_COOKIE,
    UPLOAD_PATHS,
    Page,
    json_response,
    plain_response,
    see_other,
)

logger = logging.getLogger(__name__)

# The door page is public and read-only; its pad checks its own clients and token.
PUBLIC = ("/login", "/healthz", "/favicon.ico", *DOOR_PATHS)
MUST_CHANGE_ALLOWED = ("/password", "/logout")
# Requests the page's scripts make by themselves: they must not keep a session alive.
POLLS = ("/status.json", "/inputs/events.json", "/enrol/reads.json")
HOST_REFUSED = (
    "This page answers only to the box's own names and addresses. Open it by the "
    "box's address or name, or add the name you use to [web] allowed_hosts."
)


def guard(page: Page) -> None:
    """The ``before_request`` hook: refuse, redirect to the login, or let through.

    A request let through with a session has it in ``environ["ivs.session"]``.
    """
    path = bottle.request.path
    check_request(page, path)
    if path in PUBLIC or path.startswith("/static/") or metrics_public(page, path):
        return
    session = page.sessions.get(
        bottle.request.get_cookie(SESSION_COOKIE), touch=path not in POLLS
    )
    wants_json = path.endswith(".json") or path == "/valt/test"
    if session is None:
        if wants_json:
            raise json_response({"error": "log in again"}, 401)
        back = bottle.request.method == "GET" and path != "/"
        raise see_other("/login" + (f"?next={quote(path)}" if back else ""))
    if session.must_change and path not in MUST_CHANGE_ALLOWED:
        if wants_json:
            raise json_response({"error": "choose a new password first"}, 403)
        raise see_other("/password")
    if bottle.request.method not in ("GET", "HEAD"):
        check_csrf(page, session, path)
    bottle.request.environ["ivs.session"] = session


def check_request(page: Page, path: str) -> None:
    """Refuse a path with control characters and a Host that is not this box.

    The Host check stops DNS rebinding: a web page whose name an attacker points at
    this box's address would otherwise be this page's origin, able to read it and
    post to it (the factory login first).
    """
    if any(ord(c) < 32 or ord(c) == 127 for c in path):
        raise plain_response(400, "Bad request: control characters in the path.")
    check_body_size(path)
    web = page.config["web"]
    environ = bottle.request.environ
    also = [environ.get("ivs.local_addr", ""), web["address"]]
    header = environ.get("HTTP_HOST")
    if not host_allowed(header, web["allowed_hosts"], also):
        logger.warning(
            "page: refused Host %r from %s", (header or "")[:80], page.client_address()
        )
        raise plain_response(400, HOST_REFUSED)


def check_body_size(path: str) -> None:
    """Hold every request but a file upload to a form's size, before its body is
    read (cheroot allows the upload's size to all of them)."""
    if path in UPLOAD_PATHS:
        return
    environ = bottle.request.environ
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        raise plain_response(411, "A body needs a Content-Length here.")
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise plain_response(
            400, "Bad request: Content-Length is not a number."
        ) from None
    if length > MAX_FORM_BYTES:
        raise plain_response(413, "The request is too large for a form.")


def metrics_public(page: Page, path: str) -> bool:
    """/metrics without a login: ``[web] metrics_access`` says for whom.

    Raises:
        HTTPResponse: 403 for a remote client when only the box itself may read it.
    """
    if path != "/metrics":
        return False
    access: str = page.config["web"]["metrics_access"]
    if access != "local":
        return access == "open"
    address = parse_address(page.client_address())
    if address is not None and address.is_loopback:
        return True
    raise plain_response(
        403,
        "/metrics answers only on this box (loopback); set [web] metrics_access = "
        "login or open to read it from elsewhere.",
    )


def check_csrf(page: Page, session: Session, path: str) -> None:
    """Refuse a change (POST) without this session's CSRF token."""
    supplied = bottle.request.get_header(CSRF_HEADER) or page.form().get(CSRF_FIELD)
    if tokens_match(session.csrf, supplied):
        return
    logger.warning(
        "page: %s %s without a valid CSRF token from %s",
        bottle.request.method,
        path,
        page.client_address(),
    )
    raise page.error_page(
        403,
        "This form has expired or came from another site. Reload the page and try "
        "again.",
    )
