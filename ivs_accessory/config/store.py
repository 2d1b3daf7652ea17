"""Layered loading of the config files into a Config, and atomic saving of changes."""

from __future__ import annotations

import configparser
import contextlib
import glob
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ivs_accessory.atomic import atomic_write
from ivs_accessory.config.schema import (
    SCHEMA,
    SOURCE_PREFIX,
    Config,
    binding_key,
    validate_section,
)
from ivs_accessory.config.types import is_one_line
from ivs_accessory.errors import ConfigError

DEFAULTS_PATH = str(Path(__file__).resolve().parent.parent / "defaults.conf")
"""The packaged defaults, loaded before the main file."""

Raw = dict[str, dict[str, str]]
Changes = Mapping[str, Mapping[str, str | None] | None]

# Mirrors configparser's own SECTCRE and OPTCRE (with "=" as the only delimiter), so
# the line editor below finds exactly the sections and keys configparser reads.
_HEADER = re.compile(r"\[(?P<header>.+)\]")
_OPTION = re.compile(r"(?P<option>.*?)\s*=")
_SAFE_SECTION = re.compile(r"[A-Za-z0-9_:-]+")
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.]+")


@dataclass
class _Layer:
    origin: str
    role: str  # "defaults", "file" or "drop-in"
    sections: Raw


@dataclass
class _Entry:
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
    config, errors = _build(main, None)
    if errors or config is None:
        raise ConfigError(_summary(errors), errors)
    return config


def check_file(path: str | os.PathLike[str]) -> list[str]:
    """Every problem :func:`load` would report for ``path``; [] when it is valid."""
    try:
        load(path)
    except ConfigError as exc:
        return list(exc.errors)
    return []


def save(
    path: str | os.PathLike[str],
    changes: Changes,
    *,
    replace: Callable[[str, str], None] = os.replace,
) -> None:
    """Apply ``changes`` to the file, keeping everything else, and write it atomically.

    Args:
        path: the main config file; created (mode 0600) when it does not exist.
        changes: section -> key -> new text (None deletes the key); a section mapped
            to None is deleted.
        replace: moves the finished temporary file over ``path`` (tests pass a fake).

    Raises:
        ConfigError: the result would be invalid; the file is left untouched.
    """
    target = os.path.realpath(os.fspath(path))
    errors = _unsafe_changes(changes)
    if errors:
        raise ConfigError(_summary(errors), errors)
    old, errors = _read(target) if os.path.exists(target) else ("", [])
    if old is None:
        raise ConfigError(_summary(errors), errors)
    new = _edit(old, changes)
    errors = _build(target, new)[1]
    if errors:
        raise ConfigError(_summary(errors), errors)
    _remove_stale_temps(target)
    _write_atomic(target, new, replace)


# A save killed between creating its temporary file and the rename leaves that file
# behind, holding the VALT password. One this old cannot belong to a save in progress.
STALE_TEMP_S = 60


def _remove_stale_temps(target: str, now: float | None = None) -> None:
    folder, name = os.path.split(target)
    now = time.time() if now is None else now
    for leftover in Path(folder).glob(f".{glob.escape(name)}.*.tmp"):
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if now - leftover.lstat().st_mtime > STALE_TEMP_S:
                leftover.unlink()


# -- loading ----------------------------------------------------------------------


def _build(path: str | None, main_text: str | None) -> tuple[Config | None, list[str]]:
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
            text, read_errors = _read(origin)
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


def _read(path: str) -> tuple[str | None, list[str]]:
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
    for entry in _entries(lines):
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


def _summary(errors: list[str]) -> str:
    if len(errors) == 1:
        return errors[0]
    return f"{len(errors)} problems in the configuration: " + "; ".join(errors)


# -- saving -----------------------------------------------------------------------


def _entries(lines: list[str]) -> list[_Entry]:
    """Headers and keys as configparser sees them (continuation lines included)."""
    entries: list[_Entry] = []
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
            entries.append(_Entry(section, None, number, number + 1))
        elif option and option["option"] and section is not None:
            entries.append(_Entry(section, option["option"], number, number + 1))
            indent_level = indent
    return entries


def _unsafe_changes(changes: Changes) -> list[str]:
    """Names and values that could not be written as one INI line each."""
    errors = []
    for section, keys in changes.items():
        if not _SAFE_SECTION.fullmatch(section):
            errors.append(
                f"cannot save section [{section}]: use letters, digits, _, - and :"
            )
        for key, value in (keys or {}).items():
            if not _SAFE_KEY.fullmatch(key):
                errors.append(
                    f"cannot save key {key!r} in [{section}]: "
                    f"use letters, digits, _ and ."
                )
            elif value is not None and not is_one_line(value):
                # The value is not shown: it may be a password.
                errors.append(
                    f"[{section}] {key}: must be a single line of text "
                    f"without control characters"
                )
    return errors


def _edit(text: str, changes: Changes) -> str:
    """``text`` with ``changes`` applied line by line; comments and order are kept."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    has_bindings = any(e.section == "bindings" for e in _entries(lines))
    for section, keys in changes.items():
        if keys is None:
            _drop_section(lines, section)
            continue
        if section == "bindings" and not has_bindings:
            # A new [bindings] section replaces the defaults: start from them, so adding
            # one binding does not silently remove the others.
            keys = {**SCHEMA["bindings"].defaults(), **keys}
        for key, value in keys.items():
            _set_key(lines, section, key, value)
    return "\n".join(lines) + "\n" if lines else ""


def _drop_section(lines: list[str], section: str) -> None:
    entries = _entries(lines)
    for index in reversed(
        [i for i, e in enumerate(entries) if e.section == section and e.key is None]
    ):
        # The section ends at its last key: comments after it belong to the next one.
        end = entries[index].end
        for entry in entries[index + 1 :]:
            if entry.key is None:
                break
            end = entry.end
        if end < len(lines) and not lines[end].strip():
            end += 1
        del lines[entries[index].start : end]


def _set_key(lines: list[str], section: str, key: str, value: str | None) -> None:
    entries = _entries(lines)
    matches = [e for e in entries if e.section == section and e.key == key]
    for entry in reversed(matches[1:] if value is not None else matches):
        del lines[entry.start : entry.end]
    if value is None:
        return
    text = value.strip()
    line = f"{key} = {text}" if text else f"{key} ="
    if matches:
        lines[matches[0].start : matches[0].end] = [line]
        return
    in_section = [e for e in entries if e.section == section]
    if in_section:
        lines.insert(in_section[-1].end, line)
        return
    while lines and not lines[-1].strip():
        lines.pop()
    lines += ["", f"[{section}]", line] if lines else [f"[{section}]", line]


def _write_atomic(path: str, text: str, replace: Callable[[str, str], None]) -> None:
    """Temp file in the same directory, fsync, replace, fsync the directory."""
    atomic_write(path, text.encode("utf-8"), 0o600, replace=replace)  # holds a password
