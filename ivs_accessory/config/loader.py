"""Layered loading of the config files (defaults, main file, drop-ins) into a Config."""

from __future__ import annotations

import configparser
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivs_accessory.config.camera_schema import cameras_problem
from ivs_accessory.config.schema import (
    CAMERA_PREFIX,
    SCHEMA,
    SOURCE_PREFIX,
    Config,
    binding_key,
    validate_section,
)
from ivs_accessory.config.types import Url
from ivs_accessory.errors import ConfigError

DEFAULTS_PATH = str(Path(__file__).resolve().parent.parent / "defaults.conf")
"""The packaged defaults, loaded before the main file."""

Raw = dict[str, dict[str, str]]
Values = dict[str, Any]

MAX_FILE_BYTES = 1024 * 1024  # a configuration is a few kilobytes

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
    text: str | None = None
    tainted: set[str] = field(default_factory=set)  # sections with a bad line


@dataclass
class Checked:
    """One configuration checked section by section (see :func:`check`).

    Attributes:
        sections: fixed section -> typed values, for each that has no error.
        sources: name -> typed options, or None when any ``[source:*]`` has one.
        bindings: as ``Config.bindings``, or None when ``[bindings]`` has an error.
        cameras: name -> typed options, or None when any ``[camera:*]`` has one.
        errors: every problem, in the order they are reported.
        readable: False when the main file could not be read or parsed at all.
        text: the main file's text as read (None when it could not be).
    """

    sections: dict[str, Values]
    sources: dict[str, Values] | None
    bindings: dict[tuple[str, str], str] | None
    errors: list[str]
    readable: bool
    text: str | None
    cameras: dict[str, Values] | None = field(default_factory=dict)


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
    checked = check(path, main_text)
    return to_config(checked, path), checked.errors


def to_config(checked: Checked, path: str | None) -> Config | None:
    """The Config of a check without errors; None when it has any."""
    if (
        checked.errors
        or checked.sources is None
        or checked.bindings is None
        or checked.cameras is None
    ):
        return None
    config = Config(
        checked.sections, checked.sources, checked.bindings, path, checked.cameras
    )
    config.text = checked.text
    return config


def check(path: str | None, main_text: str | None = None) -> Checked:
    """Every layer read, merged and validated; never raises, whatever the files hold.

    The one validator: ``load``, ``config check``, SIGHUP, the page's save and safe
    mode all come here.
    """
    layers, errors = _layers(path, main_text)
    merged, origins = _merge(layers)
    checked = _validate(merged, origins, path)
    checked.errors[:0] = errors
    main = next((layer for layer in layers if layer.role == "file"), None)
    if main is not None:
        checked.readable = main.text is not None
        checked.text = main.text
        _drop_tainted(checked, main.tainted)
    return checked


def _drop_tainted(checked: Checked, tainted: set[str]) -> None:
    """Sections with an unreadable or repeated line do not count as valid."""
    for name in tainted:
        checked.sections.pop(name, None)
        if name == "bindings":
            checked.bindings = None
        elif name.startswith(SOURCE_PREFIX):
            checked.sources = None
        elif name.startswith(CAMERA_PREFIX):
            checked.cameras = None


def notes(path: str | None, main_text: str | None = None) -> list[str]:
    """What is worth telling about a valid file: a server without a scheme."""
    merged, _ = _merge(_layers(path, main_text)[0])
    text = merged.get("valt", {}).get("server", "")
    if not Url.assumed_scheme(text):
        return []
    return [
        f"[valt] server = {text.strip()!r} has no scheme: https:// is used "
        f"(write http:// for plain HTTP)"
    ]


def _layers(path: str | None, main_text: str | None) -> tuple[list[_Layer], list[str]]:
    files: list[tuple[str, str, str | None]] = [(DEFAULTS_PATH, "defaults", None)]
    errors: list[str] = []
    missing = False
    if path is not None:
        if main_text is None and _missing(path):
            errors.append(
                f"config file {path} does not exist; copy config/accessory.conf there"
            )
            missing = True
        files.append((path, "file", main_text))
        dropins, dropin_errors = _dropins(Path(path + ".d"))
        errors += dropin_errors
        files += [(str(p), "drop-in", None) for p in dropins]
    layers = []
    for origin, role, text in files:
        if text is None and not (missing and role == "file"):
            text, read_errors = read_text(origin)
            errors += read_errors
        layer = _Layer(origin, role, {}, text)
        if text is not None:
            sections, parse_errors, layer.tainted = _parse(text, origin)
            errors += parse_errors
            if sections is None:  # a key before any [section]: nothing was read
                layer.text = None
            layer.sections = sections or {}
        layers.append(layer)
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
    """The file's text, or None and the reason it cannot be read (as an error).

    A UTF-8 byte order mark (Windows Notepad writes one) is dropped, and line
    ends become ``\\n``. Only a regular file of at most MAX_FILE_BYTES is read: a
    FIFO would block and /dev/zero would never end.
    """
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer.
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        kind = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(kind):
            os.close(descriptor)
            what = "a directory" if stat.S_ISDIR(kind) else "not a regular file"
            return None, [f"cannot read {path}: it is {what}; give a file"]
        with os.fdopen(descriptor, "rb") as file:
            data = file.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        return None, [f"cannot read {path}: {exc.strerror or exc}"]
    if len(data) > MAX_FILE_BYTES:
        return None, [
            f"cannot read {path}: it is over {MAX_FILE_BYTES // 1024} KiB; "
            f"a configuration is a few kilobytes (is it the right file?)"
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [
            f"{path} is not UTF-8 text (byte {exc.start + 1} of {len(data)}); "
            f"save it as UTF-8"
        ]
    return text.replace("\r\n", "\n").replace("\r", "\n"), []


def _parser() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(
        interpolation=None,
        delimiters=("=",),
        comment_prefixes=("#", ";"),
        inline_comment_prefixes=None,
        strict=False,
        empty_lines_in_values=False,
        # No [DEFAULT] magic: a section by that name is just an unknown section.
        # A header never spans lines, so no file can name this one.
        default_section="\n",
    )
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    return parser


def _parse(text: str, origin: str) -> tuple[Raw | None, list[str], set[str]]:
    """Sections of one file, its syntax errors and duplicates (all of them), and the
    sections those errors are in. Sections are None when configparser stops early."""
    lines = text.split("\n")
    errors, tainted = _duplicates(lines, origin)
    parser = _parser()
    try:
        parser.read_string(text, source=origin)
    except configparser.MissingSectionHeaderError as exc:
        errors.append(
            f"{origin} line {exc.lineno}: a key comes before any [section] "
            f"header; put a header such as [valt] above it"
        )
        return None, errors, tainted
    except configparser.ParsingError as exc:
        # The line is not quoted: it may hold a password typed without "key =".
        errors += [
            f"{origin} line {lineno}: cannot read this line; write key = value, "
            f"or start it with # to make it a comment"
            for lineno, _ in exc.errors
        ]
        at = (_section_at(lines, lineno - 1) for lineno, _ in exc.errors)
        tainted |= {section for section in at if section is not None}
    sections = {name: dict(parser[name]) for name in parser.sections()}
    return sections, errors, tainted


def _section_at(lines: list[str], index: int) -> str | None:
    """The section that line ``index`` (from 0) is in."""
    headers = [e for e in line_entries(lines[:index]) if e.key is None]
    return headers[-1].section if headers else None


def _duplicates(lines: list[str], origin: str) -> tuple[list[str], set[str]]:
    # configparser with strict=True stops at the first duplicate; this finds them all.
    first: dict[tuple[str | None, str | None], int] = {}
    errors = []
    tainted: set[str] = set()
    for entry in line_entries(lines):
        ident = (entry.section, entry.key)
        if ident not in first:
            first[ident] = entry.start
            continue
        if entry.section is not None:  # a key above every header: no section to drop
            tainted.add(entry.section)
        what = (
            f"section [{entry.section}]"
            if entry.key is None
            else f"key {entry.key!r} in [{entry.section}]"
        )
        errors.append(
            f"{origin} line {entry.start + 1}: {what} appears again "
            f"(first on line {first[ident] + 1}); keep only one"
        )
    return errors, tainted


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
) -> Checked:
    checked = Checked({}, {}, {}, [], True, None)
    for name, raw in merged.items():
        values, problems = validate_section(name, raw)
        for key, message in problems.items():
            origin = origins.get((name, key)) or origins.get((name, None))
            # Say which file only when it is not the one the reader already knows.
            checked.errors.append(
                message if origin in (None, path) else f"{message} (in {origin})"
            )
        _keep(checked, name, values, bool(problems))
    privacy = merged.get("privacy", {}).get("cameras", "").strip().lower()
    count = sum(1 for name in merged if name.startswith(CAMERA_PREFIX))
    problem = cameras_problem(privacy, count)
    if problem:
        checked.errors.append(problem)
        checked.sections.pop("privacy", None)
    return checked


def _keep(checked: Checked, name: str, values: Values, bad: bool) -> None:
    """File one section's values under ``checked`` (or mark its group invalid)."""
    if name == "bindings":
        checked.bindings = None if bad else _bindings(values)
    elif name.startswith(SOURCE_PREFIX):
        if bad or checked.sources is None:
            checked.sources = None
        else:
            checked.sources[name[len(SOURCE_PREFIX) :]] = values
    elif name.startswith(CAMERA_PREFIX):
        if bad or checked.cameras is None:
            checked.cameras = None
        else:
            checked.cameras[name[len(CAMERA_PREFIX) :]] = values
    elif name in SCHEMA and not bad:
        checked.sections[name] = values


def _bindings(values: Values) -> dict[tuple[str, str], str]:
    return {binding_key(k): action for k, action in values.items() if action}


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
