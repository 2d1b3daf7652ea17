"""VALT, Inputs and Time page routes: show settings, validate a posted form, save."""

from __future__ import annotations

import logging
from typing import Any

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
from ivs_accessory.web.page import Page, json_response, see_other
from ivs_accessory.web.verdict import check_saved_login
from ivs_accessory.web.widgets import Widgets

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


def add_routes(app: bottle.Bottle, page: Page) -> None:
    """Register the VALT, Inputs and Time routes on ``app``."""
    _valt_routes(app, page)
    _input_routes(app, page)
    _time_routes(app, page)


# -- VALT ------------------------------------------------------------------------------


def _valt_posted(page: Page) -> tuple[tuple[str, ...], dict[str, str]]:
    """The keys this post changes and their text (the password only when typed)."""
    form = dict(page.form())
    form["verify_tls"] = forms.checkbox(form, "verify_tls")
    keys = VALT_KEYS
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


def _valt_page(
    page: Page,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    problems: list[str] | None = None,
    warnings: dict[str, str] | None = None,
) -> bottle.HTTPResponse:
    has_password = bool(page.config["valt"]["password"])
    return page.render(
        "valt.tpl",
        status=status,
        w=Widgets(values, errors, warnings),
        colours=MARKER_COLOURS,
        has_password=has_password,
        problems=problems or [],
    )


def _valt_routes(app: bottle.Bottle, page: Page) -> None:
    @app.get("/valt")
    def valt_page():
        return _valt_page(
            page,
            forms.shown_values(page.config, "valt"),
            {},
            200,
            [],
            page.take_warnings(),
        )

    @app.post("/valt")
    def valt_save():
        old_server = page.config["valt"]["server"]
        keys, form = _valt_posted(page)
        changes, errors = forms.check_section(page.config, "valt", form, keys)
        errors |= probe.saved_password_problem(page.config["valt"], form)
        errors |= _blank_password(form)
        problems = page.save({"valt": changes}) if not errors else []
        if errors or problems:
            shown = {k: form.get(k, "") for k in VALT_KEYS}
            return _valt_page(page, shown, errors, 400, problems)
        message, level, warnings = check_saved_login(
            page.config["valt"], old_server, bool(form.get("password"))
        )
        page.flash(message, level)
        page.warn_fields(warnings)
        raise see_other("/valt")

    @app.post("/valt/test")
    def valt_test():
        keys, form = _valt_posted(page)
        raw = forms.raw_values(page.config, "valt") | {k: form.get(k, "") for k in keys}
        values, errors = validate_section("valt", raw)
        errors = {k: v for k, v in errors.items() if k in (*keys, "password")}
        errors |= probe.saved_password_problem(page.config["valt"], form)
        errors |= _blank_password(form)
        if errors or not values.get("server"):
            errors = errors or {"server": "enter the VALT server first"}
            return json_response(
                {
                    "ok": False,
                    "reason": "invalid",
                    "message": "Fix the marked fields first.",
                    "errors": {
                        k: forms.field_message(m, "valt", k, raw.get(k))
                        for k, m in errors.items()
                    },
                    "rooms": [],
                }
            )
        return json_response(probe.test_connection(values))


# -- Inputs ----------------------------------------------------------------------------


def _devices(page: Page) -> tuple[list[dict[str, Any]], str]:
    """The input devices and serial ports present, and a problem in words (or "")."""
    lister = page.devices
    if lister is None:
        from ivs_accessory.sources.devices import describe_devices as lister
    try:
        return list(lister()), ""
    except Exception as exc:  # a broken udev or sysfs must not break the page
        logger.warning("page: cannot list devices: %s", exc)
        return [], f"cannot list devices: {exc}"


def _inputs_page(
    page: Page,
    values: dict[str, str],
    sources: list[dict[str, str]],
    bindings: list[dict[str, str]],
    errors: dict[str, str],
    status: int = 200,
    problems: list[str] | None = None,
) -> bottle.HTTPResponse:
    devices, device_problem = _devices(page)
    sources = sources + [{"name": "", "kind": "keypad", "grab": "true", "leds": "true"}]
    bindings = bindings + [{"key": "", "gesture": "tap", "action": ""}] * SPARE_BINDINGS
    return page.render(
        "inputs.tpl",
        status=status,
        w=Widgets(values, errors),
        sources=sources,
        bindings=bindings,
        devices=devices,
        device_problem=device_problem,
        kinds=SOURCE_KINDS,
        modes=MODES,
        readings=READINGS,
        actions=ACTIONS,
        keys=COMMON_KEYS,
        problems=problems or [],
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


def _posted_inputs(form: dict[str, str]) -> tuple[dict, list, list]:
    """The Inputs form as posted: (values, source rows, binding rows), to show again."""
    values = {k: form.get(k, "") for k in (*MAPPING_KEYS, *LOCKOUT_KEYS)}
    fields = ("name", "kind", "device", "port", "baud", "framing", "remove")
    sources = [
        row | {k: forms.checkbox(form, f"s{k}_{row['row']}") for k in ("grab", "leds")}
        for row in _posted_rows(form, "sname", fields)
    ]
    return values, sources, _posted_rows(form, "bkey", ("key", "gesture", "action"))


def _input_routes(app: bottle.Bottle, page: Page) -> None:
    @app.get("/inputs")
    def inputs_page():
        return _inputs_page(
            page,
            _input_values(page),
            forms.source_rows(page.config),
            forms.binding_rows(page.config),
            {},
        )

    @app.post("/inputs")
    def inputs_save():
        form = page.form()
        mapping, errors = forms.check_section(
            page.config, "mapping", form, MAPPING_KEYS
        )
        lockout, lockout_errors = forms.check_section(
            page.config, "lockout", form, LOCKOUT_KEYS
        )
        bindings, binding_errors = forms.check_bindings(page.config, form)
        sources, source_errors = forms.check_sources(form)
        errors |= lockout_errors | binding_errors | source_errors
        changes = {
            "mapping": mapping,
            "lockout": lockout,
            "bindings": bindings,
            **sources,
        }
        problems = page.save(changes) if not errors else []
        if errors or problems:
            return _inputs_page(page, *_posted_inputs(form), errors, 400, problems)
        page.flash("Input settings saved; the daemon uses them now.")
        raise see_other("/inputs")

    @app.get("/inputs/events.json")
    def input_events():
        try:
            after = int(bottle.request.query.get("after", "0") or 0)
        except ValueError:
            after = 0
        return json_response(
            {"events": recent_events(page.service, after, page.outcome_watch.recent())}
        )


# -- Time ------------------------------------------------------------------------------


def _time_routes(app: bottle.Bottle, page: Page) -> None:
    def time_page(
        values: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
        problems: list[str] | None = None,
    ) -> bottle.HTTPResponse:
        return page.render(
            "time.tpl",
            status=status,
            w=Widgets(values, errors),
            zones=sorted(timezones()),
            clock=box_clock(),
            problems=problems or [],
        )

    @app.get("/time")
    def time_settings():
        try:
            text = read_text(page.config["system"]["time_file"])
        except (OSError, UnicodeDecodeError):
            text = None
        return time_page(read_time_conf(text), {})

    @app.post("/time")
    def time_save():
        form = page.form()
        raw = {k: form.get(k, "") for k in TIME_FORM}
        values, errors = TIME_FORM.validate("time", raw)
        errors = {
            k: forms.field_message(m, "time", k, raw.get(k)) for k, m in errors.items()
        }
        # The clock decides TLS validity and the audit log's times: asked again.
        wrong = page.check_password(form.get("password", ""))
        if wrong:
            errors["password"] = wrong
        problems = []
        if not errors:
            try:
                apply_time(page.system(), page.config["system"]["time_file"], values)
            except (OSError, SystemActionError) as exc:
                problems = [f"The time settings were not applied: {exc}"]
        if errors or problems:
            return time_page(raw, errors, 400, problems)
        page.flash("Time settings applied.")
        raise see_other("/time")
