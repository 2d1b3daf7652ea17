"""Form data <-> config: read posted fields, validate with the schema, build changes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ivs_accessory.config import (
    SCHEMA,
    SOURCE_SCHEMAS,
    Config,
    ConfigValue,
    validate_section,
)
from ivs_accessory.config.schema import HOLD, SOURCE_PREFIX
from ivs_accessory.config.section import Section, quote
from ivs_accessory.config.types import String, Url

Form = dict[str, str]
Errors = dict[str, str]

MAX_ROWS = 32  # bindings or sources one form may carry
_ROW = re.compile(r"[a-z]+_([0-9]{1,2})")
SOURCE_FIELDS = ("device", "grab", "leds", "port", "baud", "framing", "reader")


def read_form(pairs: list[tuple[str, str]]) -> Form:
    """Posted ``(name, value)`` pairs (as the WSGI layer decodes them: latin-1) -> text.

    Bytes that are not UTF-8 become lone surrogates, which every config field rejects
    as "not a single line of text", so bad encoding is a field error, not a crash.
    Of repeated names the last wins.
    """
    form: Form = {}
    for name, value in pairs:
        form[_recode(name)] = _recode(value)
    return form


def _recode(text: str) -> str:
    try:
        return text.encode("latin-1").decode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text  # already text (a test harness giving str)


def field_message(message: str, label: str, key: str, text: str | None) -> str:
    """The words of a config error without the ``[label] key = 'text':`` prefix."""
    prefixes = [f"[{label}] {key}: "]
    if text is not None:
        # As field_error quotes it: shortened, and a URL's user:password@ masked.
        quoted = {quote(text, field) for field in (String(), Url())}
        prefixes[:0] = [f"[{label}] {key} = {shown}: " for shown in quoted if shown]
    for prefix in prefixes:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def field_messages(errors: Errors, label: str, raw: Mapping[str, str]) -> Errors:
    """:func:`field_message` for every error of a section validated from ``raw``."""
    return {
        key: field_message(message, label, key, raw.get(key))
        for key, message in errors.items()
    }


def check_form(
    section: Section, label: str, posted: Mapping[str, str]
) -> tuple[Form, dict[str, Any], Errors]:
    """Validate a form that is a section of its own (not the config's).

    Returns:
        (the posted text of its keys, the typed values, errors by key in words).
    """
    raw = {key: posted.get(key, "") for key in section}
    values, errors = section.validate(label, raw)
    return raw, values, field_messages(errors, label, raw)


def shown_values(config: Config, section: str) -> dict[str, str]:
    """A section's current values as form text; secrets are left empty (write-only)."""
    fields = SCHEMA[section]
    return {
        key: "" if field.secret else field.serialize(config[section][key])
        for key, field in fields.items()
    }


def raw_values(config: Config, section: str) -> dict[str, str]:
    """A section's current values as config text, secrets included (server only)."""
    return {
        key: field.serialize(config[section][key])
        for key, field in SCHEMA[section].items()
    }


def check_section(
    config: Config, section: str, posted: Mapping[str, str], keys: tuple[str, ...]
) -> tuple[dict[str, str], Errors]:
    """Validate the posted ``keys`` of ``section`` with its other current values.

    Returns:
        (the changes to save: key -> text, errors by key in words).
    """
    changes = {key: posted.get(key, "") for key in keys}
    raw = raw_values(config, section) | changes
    values, errors = validate_section(section, raw)
    for key in keys:
        if isinstance(SCHEMA[section].get(key), Url) and key in values:
            # Save what the daemon will use: "valt.local" is https://valt.local.
            changes[key] = values[key]
    return changes, field_messages(errors, section, raw)


def checkbox(posted: Mapping[str, str], name: str) -> str:
    """A checkbox's value as config text: present -> ``true``, absent -> ``false``."""
    return "true" if name in posted else "false"


def indexed_rows(posted: Mapping[str, str], prefix: str) -> list[int]:
    """The row numbers in field names ``<prefix>_<n>``, sorted, at most MAX_ROWS."""
    rows = set()
    for name in posted:
        match = _ROW.fullmatch(name)
        if match and name.startswith(prefix + "_"):
            rows.add(int(match.group(1)))
    return sorted(rows)[:MAX_ROWS]


# -- bindings ------------------------------------------------------------------------


def binding_rows(config: Config) -> list[dict[str, str]]:
    """The current bindings as rows: key, gesture (tap/hold), action."""
    return [
        {"key": key, "gesture": gesture, "action": action}
        for (key, gesture), action in sorted(config.bindings.items())
    ]


def check_bindings(
    config: Config, posted: Mapping[str, str]
) -> tuple[dict[str, str | None], Errors]:
    """Rows ``bkey_N``/``bgesture_N``/``baction_N`` -> ``[bindings]`` changes, errors.

    A row with an empty key is ignored (the form's spare rows). A binding that exists
    now and is missing from the form is removed: deleted, or set to an empty action
    when it is one of the packaged defaults (which would otherwise come back).
    """
    wanted: dict[str, str] = {}
    errors: Errors = {}
    for row in indexed_rows(posted, "bkey"):
        key = posted.get(f"bkey_{row}", "").strip()
        if not key:
            continue
        gesture = posted.get(f"bgesture_{row}", "tap")
        if gesture not in ("tap", "hold"):
            errors[f"bgesture_{row}"] = "must be tap or hold"
            continue
        option = key + (HOLD if gesture == "hold" else "")
        if option in wanted:
            errors[f"bkey_{row}"] = f"{key} ({gesture}) is bound twice; keep one row"
            continue
        wanted[option] = posted.get(f"baction_{row}", "")
        problem = validate_section("bindings", {option: wanted[option]})[1].get(option)
        if problem and problem.startswith("unknown key"):
            errors[f"bkey_{row}"] = problem
        elif problem:
            errors[f"baction_{row}"] = field_message(
                problem, "bindings", option, wanted[option]
            )
    defaults = SCHEMA["bindings"].defaults()
    current = {
        key + (HOLD if gesture == "hold" else "") for key, gesture in config.bindings
    }
    changes: dict[str, str | None] = {
        option: ("" if option in defaults else None)
        for option in current | set(defaults)
        if option not in wanted
    }
    changes.update(wanted)
    return changes, errors


# -- input sources -------------------------------------------------------------------


def source_rows(config: Config) -> list[dict[str, str]]:
    """The configured sources as rows of text (name, kind, every field of its kind)."""
    rows = []
    for name, options in sorted(config.sources.items()):
        schema = SOURCE_SCHEMAS[options["kind"]]
        row = {"name": name, "kind": options["kind"]}
        row.update({key: schema[key].serialize(options[key]) for key in schema})
        rows.append(row)
    return rows


def check_sources(posted: Mapping[str, str]) -> tuple[dict[str, Any], Errors]:
    """Rows ``sname_N``, ``skind_N``, ``sdevice_N`` ... -> ``[source:*]`` changes.

    A named row replaces that source's section; a row with ``sremove_N`` deletes
    it; a row without a name is a spare, ignored.
    """
    changes: dict[str, Any] = {}
    errors: Errors = {}
    for row in indexed_rows(posted, "sname"):
        name = posted.get(f"sname_{row}", "").strip()
        if not name:
            continue
        label = SOURCE_PREFIX + name
        if label in changes:
            errors[f"sname_{row}"] = (
                f"two sources are named {name!r}; names must differ"
            )
            continue
        if f"sremove_{row}" in posted:
            changes[label] = None
            continue
        raw = _source_raw(posted, row)
        values, problems = validate_section(label, raw)
        for key, message in problems.items():
            field = (
                f"s{key}_{row}" if key in ("kind", *SOURCE_FIELDS) else f"sname_{row}"
            )
            errors[field] = field_message(message, label, key, raw.get(key))
        if not problems:
            changes[label] = _source_section(raw, values)
    return changes, errors


def _source_raw(posted: Mapping[str, str], row: int) -> dict[str, str]:
    kind = posted.get(f"skind_{row}", "")
    raw = {"kind": kind}
    schema: Mapping[str, ConfigValue] = SOURCE_SCHEMAS.get(kind.strip().lower(), {})
    for key in schema:
        if key in ("grab", "leds"):
            raw[key] = checkbox(posted, f"s{key}_{row}")
        else:
            raw[key] = posted.get(f"s{key}_{row}", "")
    return raw


def _source_section(
    raw: dict[str, str], values: dict[str, Any]
) -> dict[str, str | None]:
    """Every key of the section: the kind's keys set, other kinds' keys removed."""
    section: dict[str, str | None] = {key: None for key in SOURCE_FIELDS}
    section.update({key: text for key, text in raw.items()})
    section["kind"] = values["kind"]
    return section
