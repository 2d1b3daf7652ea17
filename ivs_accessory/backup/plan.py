"""Restore, step one: check a backup with the page's validators and list the changes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ivs_accessory.backup.document import Backup, BoxFiles, is_secret
from ivs_accessory.config.loader import Checked, check, line_entries, summary
from ivs_accessory.config.schema import (
    CAMERA_PREFIX,
    CAMERA_SCHEMA,
    HOLD,
    SCHEMA,
    SOURCE_PREFIX,
    SOURCE_SCHEMAS,
)
from ivs_accessory.config.store import _edit as edit_text
from ivs_accessory.config.types import Command, ConfigValue
from ivs_accessory.errors import ConfigError, SystemActionError
from ivs_accessory.system.netconfig import parse_netplan

# The Time and Network pages' forms and files (web/network.py) are the validators a
# restore must share; they are imported where used, since the web package imports
# this one for its Backup page.

PAGE_PASSWORD = "page password"
_PROBE = "accessory.conf"  # the main file's name in the folder a backup is checked in


@dataclass(frozen=True)
class Change:
    """One setting a restore changes. Secrets carry no values, only whether.

    Attributes:
        setting: ``[valt] timeout_s``, ``[time] timezone``, ``page password`` ...
        before, after: the text shown (None: not set); None for secrets.
        secret: a password: only :attr:`words` says what happens to it.
        state: for secrets, ``changed``, ``unchanged`` or ``kept`` (not in the
            backup: the box keeps its own).
    """

    setting: str
    before: str | None = None
    after: str | None = None
    secret: bool = False
    state: str = "changed"

    def words(self) -> str:
        """The change in one line, never a secret's value."""
        if self.secret:
            if self.state == "kept":
                return f"{self.setting}: kept (not in the backup)"
            return f"{self.setting}: {self.state}"
        return f"{self.setting}: {_shown(self.before)} -> {_shown(self.after)}"


def _shown(text: str | None) -> str:
    return "(not set)" if text is None else repr(text)


@dataclass
class Plan:
    """What a restore writes, all of it checked, and what changes.

    Attributes:
        files: the box's files the plan writes.
        main, dropins: the configuration files' new text (secrets the backup left
            out are carried over from the box).
        time_text: the time file's new text, or None to leave time alone.
        network_yaml: the network file's new text, or None to leave it alone.
        network_summary: the network settings in words (``eth0: DHCP``).
        page_password: the password file's new text, or None to keep it.
        changes: every setting that changes (secrets: whether, never what).
    """

    files: BoxFiles
    main: str
    dropins: dict[str, str]
    time_text: str | None
    network_yaml: str | None
    network_summary: str
    page_password: str | None
    changes: list[Change] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(c.state == "changed" for c in self.changes)

    def changes_in(self, prefix: str) -> bool:
        """True when a setting starting with ``prefix`` (``[time]``) changes."""
        return any(
            c.state == "changed" and c.setting.startswith(prefix) for c in self.changes
        )

    def shown(self) -> list[Change]:
        """What a preview lists: every change, and every password's fate."""
        return [c for c in self.changes if c.secret or c.state == "changed"]


def make_plan(backup: Backup, files: BoxFiles) -> Plan:
    """Check every value of ``backup`` as the page would, and list the changes.

    Raises:
        ConfigError: with every problem, each naming its setting; nothing is written.
    """
    from ivs_accessory.web.network import NETWORK_FORM, TIME_FORM, time_conf

    current = check(files.config)
    main = backup.main
    if not backup.secrets:
        main = edit_text(main, _carried_secrets(backup, current))
    new, errors = _check_config(main, backup.dropins)
    errors += _command_changes(current, new)
    time_values, time_errors = _check_fields(TIME_FORM, "time", backup.time)
    net_values, net_errors = _check_fields(NETWORK_FORM, "network", backup.network)
    errors += time_errors + net_errors
    network = None
    if net_values is not None and not net_errors:
        network, problem = _network_yaml(files, net_values)
        errors += problem
    errors += _password_problems(backup.page_password)
    if errors:
        raise ConfigError(summary(errors), errors)
    plan = Plan(
        files,
        main,
        dict(backup.dropins),
        time_conf(time_values) if time_values is not None else None,
        network,
        _network_words(files, net_values),
        backup.page_password,
    )
    plan.changes = _changes(plan, current, new, backup)
    return plan


# -- configuration -------------------------------------------------------------------


def _carried_secrets(backup: Backup, current: Checked) -> dict[str, dict[str, str]]:
    """The box's own passwords for the sections the backup has (it left them out)."""
    sections = {
        e.section
        for text in (backup.main, *backup.dropins.values())
        for e in line_entries(text.split("\n"))
        if e.key is None and e.section is not None
    }
    carried: dict[str, dict[str, str]] = {}
    for setting, (text, secret) in _flatten(current).items():
        section, _, key = setting[1:].partition("] ")
        if secret and text and (section in sections or section in SCHEMA):
            carried.setdefault(section, {})[key] = text
    return carried


def _check_config(main: str, dropins: dict[str, str]) -> tuple[Checked, list[str]]:
    """The loader's own check of the files as they would be, in a private folder."""
    with tempfile.TemporaryDirectory(prefix="ivs-restore-") as folder:
        path = Path(folder, _PROBE)
        path.write_text(main, encoding="utf-8")
        if dropins:
            Path(folder, _PROBE + ".d").mkdir()
        for name, text in dropins.items():
            Path(folder, _PROBE + ".d", name).write_text(text, encoding="utf-8")
        checked = check(str(path))
        prefix = folder + os.sep
    errors = [e.replace(prefix, "backup: ") for e in checked.errors]
    return checked, errors


def _flatten(checked: Checked) -> dict[str, tuple[str, bool]]:
    """``[section] key`` -> (text, secret) of every valid value."""
    found: dict[str, tuple[str, bool]] = {}

    def put(
        section: str, values: dict[str, Any], schema: Mapping[str, ConfigValue]
    ) -> None:
        for key, value in values.items():
            typed = schema.get(key)
            text = typed.serialize(value) if typed is not None else str(value)
            found[f"[{section}] {key}"] = (text, bool(getattr(typed, "secret", False)))

    for name, values in checked.sections.items():
        schema = SCHEMA[name]
        if isinstance(schema, dict):
            put(name, values, schema)
    for name, values in (checked.sources or {}).items():
        put(
            SOURCE_PREFIX + name,
            values,
            SOURCE_SCHEMAS.get(str(values.get("kind")), {}),
        )
    for name, values in (checked.cameras or {}).items():
        put(CAMERA_PREFIX + name, values, CAMERA_SCHEMA)
    for (key, gesture), action in (checked.bindings or {}).items():
        found[f"[bindings] {key}{HOLD if gesture == 'hold' else ''}"] = (action, False)
    return found


def _command_changes(current: Checked, new: Checked) -> list[str]:
    """A backup may not change a command: the daemon runs them, and a file from
    elsewhere must not choose what (``restore`` may even run as root)."""
    defaults = check(None).sections
    errors = []
    for name, schema in SCHEMA.items():
        if not isinstance(schema, dict) or name not in new.sections:
            continue
        now = current.sections.get(name) or defaults.get(name, {})
        errors += [
            f"[{name}] {key}: a backup cannot change a command; keep this box's "
            "value in the backup, or edit the box's accessory.conf"
            for key, typed in schema.items()
            if isinstance(typed, Command)
            and new.sections[name].get(key) != now.get(key)
        ]
    return errors


# -- time, network, page password ------------------------------------------------------


def _check_fields(
    form: Any, label: str, raw: dict[str, str] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    if raw is None:
        return None, []
    values, errors = form.validate(label, raw)
    return values, list(errors.values())


def _network_yaml(
    files: BoxFiles, values: dict[str, Any]
) -> tuple[str | None, list[str]]:
    """The network file the page would write, read back as the root helper will."""
    from ivs_accessory.web.network import netplan_yaml

    text = netplan_yaml(files.network_interface, values)
    try:
        parse_netplan(text, "[network]")
    except SystemActionError as exc:
        return None, [str(exc)]
    return text, []


def _network_words(files: BoxFiles, values: dict[str, Any] | None) -> str:
    if values is None:
        return ""
    if values["mode"] != "static":
        return f"{files.network_interface}: DHCP"
    return f"{files.network_interface}: static {values['address']}"


def _password_problems(text: str | None) -> list[str]:
    from ivs_accessory.web.accounts import PasswordFile, PasswordFileError

    if text is None:
        return []
    with tempfile.TemporaryDirectory(prefix="ivs-restore-") as folder:
        path = os.path.join(folder, "web-password")
        Path(path).write_text(text, encoding="utf-8")
        try:
            record = PasswordFile(path).read()
        except PasswordFileError:
            record = None
    if record is None or len(record.hash.split("$")) != 6:
        return ["[web] page password: the backup's password file is damaged"]
    return []


# -- what changes ----------------------------------------------------------------------


def _changes(
    plan: Plan, current: Checked, new: Checked, backup: Backup
) -> list[Change]:
    before, after = _flatten(current), _flatten(new)
    changes = []
    for setting in sorted(set(before) | set(after), key=_order):
        old, new_value = before.get(setting), after.get(setting)
        secret = bool((old and old[1]) or (new_value and new_value[1]))
        if secret:
            changes.append(_secret_change(setting, old, new_value, backup))
        elif (old and old[0]) != (new_value and new_value[0]):
            changes.append(
                Change(
                    setting,
                    old[0] if old else None,
                    new_value[0] if new_value else None,
                )
            )
    changes += _file_changes(plan)
    return changes


def _secret_change(
    setting: str,
    old: tuple[str, bool] | None,
    new: tuple[str, bool] | None,
    backup: Backup,
) -> Change:
    section, _, key = setting[1:].partition("] ")
    if not backup.secrets and is_secret(section, key):
        state = "kept"
    else:
        state = "unchanged" if (old and old[0]) == (new and new[0]) else "changed"
    return Change(setting, secret=True, state=state)


def _order(setting: str) -> tuple[int, str]:
    section = setting[1:].partition("]")[0]
    names = list(SCHEMA)
    return (names.index(section) if section in names else len(names), setting)


def _file_changes(plan: Plan) -> list[Change]:
    from ivs_accessory.web.network import read_netplan, read_time_conf

    files, changes = plan.files, []
    if plan.time_text is not None:
        old, new = (
            read_time_conf(_text(files.time_file)),
            read_time_conf(plan.time_text),
        )
        changes += [
            Change(f"[time] {k}", old[k], new[k]) for k in old if old[k] != new[k]
        ]
    if plan.network_yaml is not None:
        old, new = (
            read_netplan(_text(files.network_file)),
            read_netplan(plan.network_yaml),
        )
        changes += [
            Change(f"[network] {k}", old[k], new[k]) for k in old if old[k] != new[k]
        ]
    if plan.page_password is not None:
        same = _text(files.password_file) == plan.page_password
        state = "unchanged" if same else "changed"
        changes.append(Change(PAGE_PASSWORD, secret=True, state=state))
    return changes


def _text(path: str) -> str | None:
    from ivs_accessory.web.files import read_text

    try:
        return read_text(path)
    except (OSError, UnicodeDecodeError):
        return None
