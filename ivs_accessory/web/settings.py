"""VALT, Inputs and Time page routes: show settings, validate a posted form, save."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from typing import Any, TypedDict

import bottle

from ivs_accessory.config import SOURCE_KINDS, validate_section
from ivs_accessory.door.credentials import READINGS
from ivs_accessory.door.terms import ACTIONS, MODES
from ivs_accessory.errors import SystemActionError
from ivs_accessory.sources.keynames import KEY_NAMES
from ivs_accessory.valt.models import MARKER_COLOURS
from ivs_accessory.web import forms, probe
from ivs_accessory.web.files import read_text
from ivs_accessory.web.live import recent_events
from ivs_accessory.web.network import (
    TIME_FORM,
    apply_time,
    box_clock,
    read_time_conf,
    timezones,
)
from ivs_accessory.web.page import Page, Route, json_response, see_other
from ivs_accessory.web.verdict import check_saved_login

logger = logging.getLogger(__name__)

VALT_KEYS = (
    "server",
    "username",
    "timeout_s",
    "verify_tls",
    "ca_file",
    "room",
    "recording_name",
    "marker_name",
    "marker_colour",
)
MAPPING_KEYS = (
    "mode",
    "pin_length",
    "entry_timeout_ms",
    "repeat_window_ms",
    "hold_ms",
    "busy_action",
    "match_reading",
)
LOCKOUT_KEYS = ("max_failures", "base_s", "max_s")
SPARE_BINDINGS = 3
# Keys worth offering in the bindings' list; any evdev name may be typed.
COMMON_KEYS = sorted(
    k
    for k in KEY_NAMES
    if k.startswith("KEY_KP")
    or k
    in (
        "KEY_ENTER",
        "KEY_ESC",
        "KEY_F1",
        "KEY_F2",
        "KEY_F3",
        "KEY_F4",
        "KEY_A",
        "KEY_B",
        "KEY_C",
        "KEY_D",
    )
)


class _InputChoices(TypedDict):
    """What the Inputs page's lists offer (the same on every request)."""

    kinds: Sequence[str]
    modes: Sequence[str]
    readings: Sequence[str]
    actions: Sequence[str]
    keys: Sequence[str]


# Typed key by key: unpacked into render_form, mypy sees they only fill **extra.
_INPUT_CHOICES: _InputChoices = {
    "kinds": SOURCE_KINDS,
    "modes": MODES,
    "readings": READINGS,
    "actions": ACTIONS,
    "keys": COMMON_KEYS,
}
# The empty rows under the configured ones, where a new source or binding is typed.
_SPARE_SOURCE = {"name": "", "kind": "keypad", "grab": "true", "leds": "true"}
_SPARE_BINDING = {"key": "", "gesture": "tap", "action": ""}


# -- VALT ------------------------------------------------------------------------------


def _valt_posted(page: Page) -> tuple[tuple[str, ...], dict[str, str]]:
    """The keys this post changes and their text (the password only when typed)."""
    form = dict(page.form())
    form["verify_tls"] = forms.checkbox(form, "verify_tls")
    keys: tuple[str, ...] = VALT_KEYS
    if form.get("password") or "clear_password" in form:
        keys = (*keys, "password")
        form["password"] = "" if "clear_password" in form else form.get("password", "")
    return keys, form


def _blank_password(form: dict[str, str]) -> dict[str, str]:
    """An error when the typed VALT password is only spaces (an empty field keeps
    the saved one)."""
    typed = form.get("password", "")
    if typed and not typed.strip() and "clear_password" not in form:
        return {
            "password": "must not be blank: type the VALT password, or leave the "
            "field empty to keep the saved one"
        }
    return {}


def _valt_form(
    page: Page,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
    warnings: dict[str, str] | None = None,
) -> bottle.HTTPResponse:
    return page.render_form(
        "valt.tpl",
        values,
        errors,
        status,
        problems,
        warnings,
        colours=MARKER_COLOURS,
        has_password=bool(page.config["valt"]["password"]),
    )


def valt_page(page: Page) -> bottle.HTTPResponse:
    values = forms.shown_values(page.config, "valt")
    return _valt_form(page, values, warnings=page.take_warnings())


def valt_save(page: Page) -> bottle.HTTPResponse:
    old_server = page.config["valt"]["server"]
    keys, form = _valt_posted(page)
    changes, errors = forms.check_section(page.config, "valt", form, keys)
    errors |= probe.saved_password_problem(page.config["valt"], form)
    errors |= _blank_password(form)
    problems = page.save({"valt": changes}) if not errors else []
    if errors or problems:
        shown = {k: form.get(k, "") for k in VALT_KEYS}
        return _valt_form(page, shown, errors, 400, problems)
    message, level, warnings = check_saved_login(
        page.config["valt"], old_server, bool(form.get("password"))
    )
    page.flash(message, level)
    page.warn_fields(warnings)
    raise see_other("/valt")


def valt_test(page: Page) -> bottle.HTTPResponse:
    keys, form = _valt_posted(page)
    raw = forms.raw_values(page.config, "valt") | {k: form.get(k, "") for k in keys}
    values, errors = validate_section("valt", raw)
    errors = {k: v for k, v in errors.items() if k in (*keys, "password")}
    errors |= probe.saved_password_problem(page.config["valt"], form)
    errors |= _blank_password(form)
    if errors or not values.get("server"):
        errors = errors or {"server": "enter the VALT server first"}
        return json_response(_untested(forms.field_messages(errors, "valt", raw)))
    return json_response(probe.test_connection(values))


def _untested(errors: dict[str, str]) -> dict[str, Any]:
    """The connection test's answer when the form has errors."""
    return {
        "ok": False,
        "reason": "invalid",
        "message": "Fix the marked fields first.",
        "errors": errors,
        "rooms": [],
    }


# -- Inputs ----------------------------------------------------------------------------


def _devices(page: Page) -> tuple[list[dict[str, Any]], str]:
    """The input devices and serial ports present, and a problem in words (or "")."""
    lister = page.devices
    if lister is None:
        # Here, not at the top: it loads evdev, which only listing devices needs.
        from ivs_accessory.door.lamp_ids import lights
        from ivs_accessory.sources.devices import describe_devices

        lister = partial(describe_devices, lights=lights)
    try:
        return list(lister()), ""
    except Exception as exc:  # a broken udev or sysfs must not break the page
        logger.warning("page: cannot list devices: %s", exc)
        return [], f"cannot list devices: {exc}"


def _inputs_form(
    page: Page,
    values: dict[str, str],
    sources: list[dict[str, str]],
    bindings: list[dict[str, str]],
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    devices, device_problem = _devices(page)
    return page.render_form(
        "inputs.tpl",
        values,
        errors,
        status,
        problems,
        sources=sources + [_SPARE_SOURCE],
        bindings=bindings + [_SPARE_BINDING] * SPARE_BINDINGS,
        devices=devices,
        device_problem=device_problem,
        **_INPUT_CHOICES,
        status_sources=page.service.status()["sources"],
        configured=set(page.config.sources),
    )


def _input_values(page: Page) -> dict[str, str]:
    cfg = page.config
    values = {
        k: v for k, v in forms.shown_values(cfg, "mapping").items() if k in MAPPING_KEYS
    }
    values.update({k: v for k, v in forms.shown_values(cfg, "lockout").items()})
    return values


def _posted_rows(
    form: dict[str, str],
    prefix: str,
    fields: tuple[str, ...],
) -> list[dict[str, str]]:
    rows = []
    for row in forms.indexed_rows(form, prefix):
        if form.get(f"{prefix}_{row}", "").strip():
            rows.append(
                {f: form.get(f"{prefix[0]}{f}_{row}", "") for f in fields}
                | {"row": str(row)}
            )
    return rows


def _posted_inputs(
    form: dict[str, str],
) -> tuple[dict[str, str], list[dict[str, str]], list[dict[str, str]]]:
    """The Inputs form as posted: (values, source rows, binding rows), to show again."""
    values = {k: form.get(k, "") for k in (*MAPPING_KEYS, *LOCKOUT_KEYS)}
    fields = ("name", "kind", "device", "port", "baud", "framing", "reader", "remove")
    sources = [
        row | {k: forms.checkbox(form, f"s{k}_{row['row']}") for k in ("grab", "leds")}
        for row in _posted_rows(form, "sname", fields)
    ]
    return values, sources, _posted_rows(form, "bkey", ("key", "gesture", "action"))


def inputs_page(page: Page) -> bottle.HTTPResponse:
    return _inputs_form(
        page,
        _input_values(page),
        forms.source_rows(page.config),
        forms.binding_rows(page.config),
    )


def inputs_save(page: Page) -> bottle.HTTPResponse:
    form = page.form()
    changes, errors = _check_inputs(page, form)
    problems = page.save(changes) if not errors else []
    if errors or problems:
        return _inputs_form(page, *_posted_inputs(form), errors, 400, problems)
    page.flash("Input settings saved; the daemon uses them now.")
    raise see_other("/inputs")


def _check_inputs(
    page: Page, form: dict[str, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The Inputs form as changes to the config, and errors by field."""
    cfg = page.config
    mapping, errors = forms.check_section(cfg, "mapping", form, MAPPING_KEYS)
    lockout, lockout_errors = forms.check_section(cfg, "lockout", form, LOCKOUT_KEYS)
    bindings, binding_errors = forms.check_bindings(cfg, form)
    sources, source_errors = forms.check_sources(form)
    errors |= lockout_errors | binding_errors | source_errors
    changes = {"mapping": mapping, "lockout": lockout, "bindings": bindings}
    return changes | sources, errors


def input_events(page: Page) -> bottle.HTTPResponse:
    try:
        after = int(bottle.request.query.get("after", "0") or 0)
    except ValueError:
        after = 0
    return json_response(
        {"events": recent_events(page.service, after, page.outcome_watch.recent())}
    )


# -- Time ------------------------------------------------------------------------------


def _time_form(
    page: Page,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    return page.render_form(
        "time.tpl",
        values,
        errors,
        status,
        problems,
        zones=sorted(timezones()),
        clock=box_clock(),
    )


def time_settings(page: Page) -> bottle.HTTPResponse:
    try:
        text = read_text(page.config["system"]["time_file"])
    except (OSError, UnicodeDecodeError):
        text = None
    return _time_form(page, read_time_conf(text))


def time_save(page: Page) -> bottle.HTTPResponse:
    raw, values, errors = forms.check_form(TIME_FORM, "time", page.form())
    # The clock decides TLS validity and the audit log's times: asked again.
    errors |= page.password_error()
    problems = [] if errors else _apply_time(page, values)
    if errors or problems:
        return _time_form(page, raw, errors, 400, problems)
    page.flash("Time settings applied.")
    raise see_other("/time")


def _apply_time(page: Page, values: dict[str, Any]) -> list[str]:
    """Apply the time settings; the problems in words ([] when applied)."""
    try:
        apply_time(page.system(), page.config["system"]["time_file"], values)
    except (OSError, SystemActionError) as exc:
        return [f"The time settings were not applied: {exc}"]
    return []


ROUTES = (
    Route("GET", "/valt", valt_page),
    Route("POST", "/valt", valt_save),
    Route("POST", "/valt/test", valt_test),
    Route("GET", "/inputs", inputs_page),
    Route("POST", "/inputs", inputs_save),
    Route("GET", "/inputs/events.json", input_events),
    Route("GET", "/time", time_settings),
    Route("POST", "/time", time_save),
)
