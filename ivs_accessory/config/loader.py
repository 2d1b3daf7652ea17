"""Layered loading of the config files (defaults, main file, drop-ins) into a Config."""

from __future__ import annotations

import configparser
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivs_accessory.config.schema import (
    SCHEMA,
    SOURCE_PREFIX,
    Config,
    binding_key,
    validate_section,
)
from ivs_accessory.errors import ConfigError

DEFAULTS_PATH = str(Path(__file__).resolve().parent.parent / "defaults.conf")
"""The packaged defaults, loaded before the main file."""

Raw = dict[str, dict[str, str]]

# Mirrors configparser's own SECTCRE and OPTCRE (with "=" as the only delimiter), so
# the duplicate check here and the line editor in store.py find exactly the sections
# and keys configparser reads.
_HEADER = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*=")


@dataclass
class _Layer:
    origin: str
    role: str  # "defaults", "file" or "drop-in"
    sections: Raw


@dataclass
class Entry:
    """A section header (``key`` None) or a key, as lines ``start:end`` of a file."""

    section: str | None
    key: str | None
    start: int
    end: int


def load(path: str | os.PathLike[str] | None) -> Config:
    """Load the defaults, the main file and its drop-ins ``FILE.d/*.conf`` (by name).

    Raises:
        ConfigError: with ``errors`` listing every problem in every file.
    """
    main = os.fspath(path) if path is not None else None
    config, errors = build(main, None)
    if errors or config is None:
        raise ConfigError(summary(errors), errors)
    return config


def check_file(path: str | os.PathLike[str]) -> list[str]:
    """Every problem :func:`load` would report for ``path``; [] when it is valid."""
    try:
        load(path)
    except ConfigError as exc:
        return list(exc.errors)
    return []


def build(path: str | None, main_text: str | None) -> tuple[Config | None, list[str]]:
    """Read every layer (``main_text`` stands in for the main file), merge, validate."""
    layers, errors = _layers(path, main_text)
    merged, origins = _merge(layers)
    config, problems = _validate(merged, origins, path)
    return config, errors + problems


def _layers(path: str | None, main_text: str | None) -> tuple[list[_Layer], list[str]]:
    files = [(DEFAULTS_PATH, "defaults", None)]
    errors: list[str] = []
    if path is not None:
        if main_text is None and _missing(path):
            errors.append(
                f"config file {path} does not exist; copy config/accessory.conf there"
            )
            main_text = ""
        files.append((path, "file", main_text))
        dropins, dropin_errors = _dropins(Path(path + ".d"))
        errors += dropin_errors
        files += [(str(p), "drop-in", None) for p in dropins]
    layers = []
    for origin, role, text in files:
        if text is None:
            text, read_errors = read_text(origin)
            errors += read_errors
        sections, parse_errors = _parse(text or "", origin)
        errors += parse_errors
        layers.append(_Layer(origin, role, sections))
    return layers, errors


def _missing(path: str) -> bool:
    """True only when ``path`` surely does not exist (not when we may not look)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # reading it will report the real reason
    return False


def _dropins(folder: Path) -> tuple[list[Path], list[str]]:
    """The ``*.conf`` files in ``folder`` by name; an unreadable folder is an error."""
    try:
        return sorted(p for p in folder.glob("*.conf") if p.is_file()), []
    except OSError as exc:  # e.g. the service user may not enter a parent folder
        return [], [
            f"cannot read {folder}: {exc.strerror or exc}; check its permissions"
        ]


def read_text(path: str) -> tuple[str | None, list[str]]:
    """The file's text, or None and the reason it cannot be read (as an error)."""
    try:
        with open(path, encoding="utf-8") as file:
            return file.read(), []
    except UnicodeDecodeError:
        return None, [f"{path} is not UTF-8 text; save it as UTF-8"]
    except OSError as exc:
        return None, [f"cannot read {path}: {exc.strerror or exc}"]


def _parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None,
        delimiters=("=",),
        comment_prefixes=("#", ";"),
        inline_comment_prefixes=None,
        strict=False,
        empty_lines_in_values=False,
        # No [DEFAULT] magic: a section by that name is just an unknown section.
        default_section="\0",
    )
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    return parser


def _parse(text: str, origin: str) -> tuple[Raw, list[str]]:
    """Sections of one file, plus its syntax errors and duplicates (all of them)."""
    errors = _duplicates(text.split("\n"), origin)
    parser = _parser()
    try:
        parser.read_string(text, source=origin)
    except configparser.MissingSectionHeaderError as exc:
        errors.append(
            f"{origin} line {exc.lineno}: a key comes before any [section] "
            f"header; put a header such as [valt] above it"
        )
        return {}, errors
    except configparser.ParsingError as exc:
        # The line is not quoted: it may hold a password typed without "key =".
        errors += [
            f"{origin} line {lineno}: cannot read this line; write key = value, "
            f"or start it with # to make it a comment"
            for lineno, _ in exc.errors
        ]
    return {name: dict(parser[name]) for name in parser.sections()}, errors


def _duplicates(lines: list[str], origin: str) -> list[str]:
    # configparser with strict=True stops at the first duplicate; this finds them all.
    first: dict[tuple[str | None, str | None], int] = {}
    errors = []
    for entry in line_entries(lines):
        ident = (entry.section, entry.key)
        if ident not in first:
            first[ident] = entry.start
            continue
        what = (
            f"section [{entry.section}]"
            if entry.key is None
            else f"key {entry.key!r} in [{entry.section}]"
        )
        errors.append(
            f"{origin} line {entry.start + 1}: {what} appears again "
            f"(first on line {first[ident] + 1}); keep only one"
        )
    return errors


def _merge(layers: list[_Layer]) -> tuple[Raw, dict[tuple[str, str | None], str]]:
    """Key by key, later layers win; the file's [bindings] replaces the defaults'."""
    merged: Raw = {name: {} for name in SCHEMA}
    origins: dict[tuple[str, str | None], str] = {}
    for layer in layers:
        for name, keys in layer.sections.items():
            if name == "bindings" and layer.role == "file":
                merged[name] = {}
            merged.setdefault(name, {}).update(keys)
            origins.setdefault((name, None), layer.origin)
            origins.update({(name, key): layer.origin for key in keys})
    return merged, origins


def _validate(
    merged: Raw, origins: dict[tuple[str, str | None], str], path: str | None
) -> tuple[Config | None, list[str]]:
    sections: dict[str, dict[str, Any]] = {}
    sources: dict[str, dict[str, Any]] = {}
    bindings: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    for name, raw in merged.items():
        values, problems = validate_section(name, raw)
        for key, message in problems.items():
            origin = origins.get((name, key)) or origins.get((name, None))
            # Say which file only when it is not the one the reader already knows.
            errors.append(
                message if origin in (None, path) else f"{message} (in {origin})"
            )
        if name == "bindings":
            bindings = {
                binding_key(k): action for k, action in values.items() if action
            }
        elif name.startswith(SOURCE_PREFIX):
            sources[name[len(SOURCE_PREFIX) :]] = values
        else:
            sections[name] = values
    if errors:
        return None, errors
    return Config(sections, sources, bindings, path), []


def summary(errors: list[str]) -> str:
    """One message for a ConfigError: the error itself, or a count and all of them."""
    if len(errors) == 1:
        return errors[0]
    return f"{len(errors)} problems in the configuration: " + "; ".join(errors)


def line_entries(lines: list[str]) -> list[Entry]:
    """Headers and keys as configparser sees them (continuation lines included)."""
    entries: list[Entry] = []
    section: str | None = None
    indent_level: int | None = None
    for number, line in enumerate(lines):
        value = line.strip()
        if not value or value[0] in "#;":
            indent_level = None  # with empty_lines_in_values=False these end a value
            continue
        indent = len(line) - len(line.lstrip())
        if indent_level is not None and indent > indent_level:
            entries[-1].end = number + 1
            continue
        indent_level = None
        header, option = _HEADER.match(value), _OPTION.match(value)
        if header:
            section = header["header"]
            entries.append(Entry(section, None, number, number + 1))
        elif option and option["option"] and section is not None:
            entries.append(Entry(section, option["option"], number, number + 1))
            indent_level = indent
    return entries
