"""Enrolment page routes: start (password again) and stop the mode, reads, writes."""

from __future__ import annotations

import datetime
import logging
from typing import Any

import bottle

from ivs_accessory.door.card_writer import write_card
from ivs_accessory.door.enrolment import Enrolment
from ivs_accessory.errors import ValtError
from ivs_accessory.web.page import Page, Route, json_response, see_other

logger = logging.getLogger(__name__)

_USERS_KEY = "enrol_users"  # the session's VALT user list, read when the mode starts


def _enrolment(page: Page) -> Enrolment:
    return page.service.enrolment


def _render(
    page: Page,
    status: int = 200,
    errors: dict[str, str] | None = None,
    write_error: dict[str, Any] | None = None,
) -> bottle.HTTPResponse:
    """The page: the start form while the mode is off; while it is on, its time
    left, the reads (whole) and a write form under each."""
    enrolment = _enrolment(page)
    on = enrolment.active()
    reads = [_row(r) for r in enrolment.reads()] if on else []
    # With the mode off there is no form to put a write's problem next to.
    problems = [write_error["words"]] if write_error and not on else []
    return page.render_form(
        "enrol.tpl",
        {},
        errors,
        status,
        problems,
        on=on,
        left_s=int(enrolment.left_s() + 0.999),
        duration_s=int(enrolment.duration_s),
        reads=reads,
        last_seq=reads[-1]["seq"] if reads else 0,
        users=page.session().data.get(_USERS_KEY, []) if on else [],
        match_reading=page.config["mapping"]["match_reading"],
        write_error=write_error,
    )


def _row(read: dict[str, Any]) -> dict[str, Any]:
    """A read with its time as the box's clock shows it."""
    clock = datetime.datetime.fromtimestamp(read["time"]).strftime("%H:%M:%S")
    return read | {"clock": clock}


def enrol_page(page: Page) -> bottle.HTTPResponse:
    return _render(page)


def enrol_start(page: Page) -> bottle.HTTPResponse:
    # The admin types the password again: a browser left logged in is not enough
    # to show whole card numbers.
    errors = page.password_error()
    if errors:
        return _render(page, 400, errors)
    page.session().data[_USERS_KEY] = _user_choices(page)
    _enrolment(page).start(page.client_address())
    raise see_other("/enrol")


def _user_choices(page: Page) -> list[tuple[str, str]]:
    """VALT's users as (id, label) for the write forms: one request when the mode
    starts, none per read; [] when VALT cannot list them (an id is typed then)."""
    client = page.service.client
    if client is None:
        return []
    try:
        users = client.users()
    except ValtError as exc:
        logger.warning("enrolment: cannot list the VALT users: %s", exc)
        return []
    users.sort(key=lambda u: ((u.display_name or u.name).lower(), u.id))
    return [(str(u.id), f"{u.display_name or u.name} ({u.name})") for u in users]


def enrol_stop(page: Page) -> bottle.HTTPResponse:
    if _enrolment(page).stop(page.client_address()):
        page.flash("Enrolment mode stopped.")
    raise see_other("/enrol")


def enrol_reads(page: Page) -> bottle.HTTPResponse:
    """For the page's poll: whether the mode is on, the time left and the newest
    read's number (the page reloads when it changes); no read itself."""
    enrolment = _enrolment(page)
    reads = enrolment.reads()
    return json_response(
        {
            "on": enrolment.active(),
            "left_s": round(enrolment.left_s(), 1),
            "last_seq": reads[-1]["seq"] if reads else 0,
        }
    )


def enrol_write(page: Page) -> bottle.HTTPResponse:
    form = page.form()
    seq, user_id = _number(form.get("read", "")), _number(form.get("user", ""))
    reading = form.get("reading", "")
    if seq is None or user_id is None or not reading:
        problem = {"seq": seq, "words": "choose a reading and a VALT user"}
        return _render(page, 400, write_error=problem)
    enrolment = _enrolment(page)
    dispatcher = page.service.dispatcher
    done = write_card(
        enrolment,
        page.service.client,
        getattr(dispatcher.actions, "directory", None) if dispatcher else None,
        page.service.audit.note,
        seq=seq,
        reading=reading,
        user_id=user_id,
        by=page.client_address(),
    )
    if not done.ok:
        refused = done.result == "refused"
        words = f"VALT refused: {done.words}" if refused else done.words
        return _render(page, 409 if refused else 400, {}, {"seq": seq, "words": words})
    page.flash(done.words[:1].upper() + done.words[1:] + ".")
    raise see_other("/enrol")


def _number(text: str) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return None
    return int(text)


ROUTES = (
    Route("GET", "/enrol", enrol_page),
    Route("POST", "/enrol/start", enrol_start),
    Route("POST", "/enrol/stop", enrol_stop),
    Route("GET", "/enrol/reads.json", enrol_reads),
    Route("POST", "/enrol/write", enrol_write),
)
