"""The door page: ``/door`` (public, read-only), its event stream, pad and buttons."""

from __future__ import annotations

import json
import logging
import secrets

import bottle

from ivs_accessory.door.terms import PRESET_PREFIX
from ivs_accessory.web.accounts import tokens_match
from ivs_accessory.web.eventstream import HEADERS
from ivs_accessory.web.hosts import address_in
from ivs_accessory.web.page import CSRF_HEADER, Page, Route, json_response

logger = logging.getLogger(__name__)

DOOR_COOKIE = "ivs_door"  # the pad's CSRF token (double-submit), path /door
PIN_FIELD = "pin"
PRESET_FIELD = "preset"
# No login (see guard.PUBLIC); the pad and the buttons check their own clients.
PATHS = ("/door", "/door/events", "/door/pin", "/door/preset")


def door_page(page: Page) -> bottle.HTTPResponse:
    """The page a door screen shows; the pad only where it may be used.

    It shows the daemon's state (the board), never asks VALT: any number of
    screens cost VALT nothing.
    """
    panel = page.service.panel
    snapshot = panel.board.snapshot()
    panel.board.seen()
    pad = pad_offered(page)
    presets = presets_offered(page)
    mapping = page.config["mapping"]
    return page.render(
        "door.tpl",
        s=snapshot,
        # A JSON block the script reads; "<" escaped so it cannot end the element.
        initial=json.dumps(snapshot).replace("<", "\\u003c"),
        pad=pad,
        presets=presets,
        door_csrf=_door_token(page) if pad or presets else "",
        pin_length=mapping["pin_length"],
        idle_ms=mapping["entry_timeout_ms"],
    )


def door_events(page: Page) -> bottle.HTTPResponse:
    """Server-sent events: the board's state now, then at every change."""
    board = page.service.panel.board
    return bottle.HTTPResponse(page.door_streams.stream(board), headers=HEADERS)


def door_pin(page: Page) -> bottle.HTTPResponse:
    """A PIN from the on-screen pad: handed to the daemon as the ``touch`` source.

    Refused unless the pad is on, the client is in ``[door] allowed_clients``,
    the page's token came with it and the rate allows it. The PIN is never
    logged; its outcome comes back on the event stream, like any other.
    """
    touch = page.service.panel.touch
    if touch is None or not touch.keypad:
        return _refused(404, "the on-screen keypad is off ([door] keypad = false)")
    refused = _guard(page, "PIN", "the keypad")
    if refused is not None:
        return refused
    try:
        accepted = touch.submit(page.form().get(PIN_FIELD, ""))
    except ValueError as exc:
        return _refused(400, str(exc))
    if not accepted:
        return _refused(503, "the keypad is being switched off")
    return json_response({"accepted": True}, 202)


def door_preset(page: Page) -> bottle.HTTPResponse:
    """A preset button: the action ``preset:NAME`` as the ``touch`` source.

    The same guards as a PIN (allowed client, token, rate); only a name in
    ``[door] presets`` is run. Its outcome comes back on the event stream.
    """
    touch = page.service.panel.touch
    if touch is None or not touch.actions:
        return _refused(404, "no preset buttons here ([door] presets is empty)")
    refused = _guard(page, "preset", "the preset buttons")
    if refused is not None:
        return refused
    name = page.form().get(PRESET_FIELD, "")
    try:
        accepted = touch.press(PRESET_PREFIX + name)
    except ValueError as exc:
        return _refused(400, str(exc))
    if not accepted:
        return _refused(503, "the buttons are being switched off")
    return json_response({"accepted": True}, 202)


def _guard(page: Page, what: str, use: str) -> bottle.HTTPResponse | None:
    """The refusal of a pad or button request, or None when it may go ahead:
    the client must be allowed, bring the page's token and keep to the rate."""
    address = page.client_address()
    if not address_in(address, page.config["door"]["allowed_clients"]):
        logger.warning(
            "door page: %s refused from %s (not an allowed client)", what, address
        )
        return _refused(
            403,
            f"this screen may not use {use}; add its address to [door] allowed_clients",
        )
    cookie = bottle.request.get_cookie(DOOR_COOKIE) or ""
    if not tokens_match(cookie, bottle.request.get_header(CSRF_HEADER)):
        logger.warning("door page: %s without a valid token from %s", what, address)
        return _refused(403, "the page has expired; reload it")
    wait = page.door_rate.take()
    if wait > 0:
        logger.warning("door page: %ss come too fast from %s", what, address)
        answer = _refused(429, f"too many {what}s; try again in {wait:.0f} s")
        answer.set_header("Retry-After", str(max(1, round(wait))))
        return answer
    return None


def pad_offered(page: Page) -> bool:
    """Show the pad to this client: it is on, the client may use it, and PINs
    count (``[mapping] mode`` is pin or both)."""
    touch = page.service.panel.touch
    return (
        touch is not None
        and touch.keypad
        and page.config["mapping"]["mode"] in ("pin", "both")
        and address_in(page.client_address(), page.config["door"]["allowed_clients"])
    )


def presets_offered(page: Page) -> list[str]:
    """The preset names to show this client as buttons: ``[door] presets``, to
    the clients the pad would be offered to (none to anyone else)."""
    touch = page.service.panel.touch
    if touch is None or not address_in(
        page.client_address(), page.config["door"]["allowed_clients"]
    ):
        return []
    return [a[len(PRESET_PREFIX) :] for a in touch.actions]


def _door_token(page: Page) -> str:
    """The pad's token: the browser's own when it has a sound one (two tabs must
    not spoil each other's), else a new one; set as an HttpOnly cookie."""
    token = bottle.request.get_cookie(DOOR_COOKIE) or ""
    if (
        not 20 <= len(token) <= 64
        or not token.replace("-", "").replace("_", "").isalnum()
    ):
        token = secrets.token_urlsafe(24)
    bottle.response.set_cookie(
        DOOR_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=page.https,
        path="/door",
    )
    return token


def _refused(status: int, words: str) -> bottle.HTTPResponse:
    return json_response({"error": words}, status)


ROUTES = (
    Route("GET", "/door", door_page),
    Route("GET", "/door/events", door_events),
    Route("POST", "/door/pin", door_pin),
    Route("POST", "/door/preset", door_preset),
)
