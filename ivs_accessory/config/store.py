"""Saving config changes: line edits that keep comments, checked, written atomically."""

from __future__ import annotations

import contextlib
import glob
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from ivs_accessory.config.lastgood import (
    last_good_path,
    restore_last_good,
)
from ivs_accessory.config.loader import (
    DEFAULTS_PATH,
    build,
    check_file,
    line_entries,
    load,
    read_text,
    summary,
)
from ivs_accessory.config.schema import SCHEMA
from ivs_accessory.config.types import is_one_line
from ivs_accessory.errors import ConfigError
from ivs_accessory.system.atomic import atomic_write

# Loading lives in loader.py, the last good copy in lastgood.py; their public names
# are re-exported, where callers have always found them.
__all__ = [
    "DEFAULTS_PATH",
    "STALE_TEMP_S",
    "Changes",
    "check_file",
    "last_good_path",
    "load",
    "restore_last_good",
    "save",
]

Changes = Mapping[str, Mapping[str, str | None] | None]

_SAFE_SECTION = re.compile(r"[A-Za-z0-9_:-]+")
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.]+")


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
        raise ConfigError(summary(errors), errors)
    old, errors = read_text(target) if os.path.exists(target) else ("", [])
    if old is None:
        raise ConfigError(summary(errors), errors)
    new = _edit(old, changes)
    errors = build(target, new)[1]
    if errors:
        raise ConfigError(summary(errors), errors)
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
    has_bindings = any(e.section == "bindings" for e in line_entries(lines))
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
    entries = line_entries(lines)
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
    entries = line_entries(lines)
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
