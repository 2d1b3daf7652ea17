"""The ``[bindings]`` section (``KEY_NAME[.hold]`` -> an action) and preset lists."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ivs_accessory.config.section import Errors, Values, field_error
from ivs_accessory.config.types import Choice, ConfigValue, KeyName, String
from ivs_accessory.door.terms import ACTIONS, PRESET_PREFIX, preset_problem

HOLD = ".hold"


class BindingAction(Choice):
    """One of the door's actions, or ``preset:NAME`` (the room's PTZ cameras to
    the preset NAME, written as the cameras spell it)."""

    def __init__(self) -> None:
        super().__init__(ACTIONS)

    def deserialize(self, text: str) -> str:
        value = text.strip()
        if value[: len(PRESET_PREFIX)].lower() != PRESET_PREFIX:
            try:
                return super().deserialize(text)
            except ValueError:
                raise ValueError(
                    f"must be one of {', '.join(self.values)}, or preset:NAME"
                ) from None
        name = value[len(PRESET_PREFIX) :].strip()
        problem = preset_problem(name)
        if problem:
            raise ValueError(problem)
        return PRESET_PREFIX + name


class PresetNames(ConfigValue):
    """Preset names separated by spaces or commas (``Wide, Board``), as the
    cameras spell them; a ``preset:`` in front is allowed. The value is a tuple
    of names without repeats; empty gives an empty tuple (no preset buttons)."""

    example = "Wide Board"

    def deserialize(self, text: str) -> tuple[str, ...]:
        found: list[str] = []
        line = String(optional=True).deserialize(text)  # one line, not too long
        for word in re.split(r"[\s,]+", line):
            if word[: len(PRESET_PREFIX)].lower() == PRESET_PREFIX:
                word = word[len(PRESET_PREFIX) :]
            if not word:
                continue
            problem = preset_problem(word)
            if problem:
                raise ValueError(
                    f"{word!r}: {problem}; write preset names separated by "
                    f"spaces or commas, e.g. {self.example}"
                )
            if word not in found:
                found.append(word)
        return tuple(found)

    def serialize(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return " ".join(value or ())


class BindingsSection(dict[str, ConfigValue]):
    """``[bindings]``: free keys ``KEY_NAME`` (tap) or ``KEY_NAME.hold`` -> an action.

    It holds no fixed keys, so iterating it yields nothing; ``key`` and ``action``
    are the types of a binding's two halves. An empty action means "no binding",
    which lets a drop-in remove a binding the main file makes.
    """

    key = KeyName()
    action = BindingAction()

    def __init__(self, defaults: Mapping[str, str]) -> None:
        super().__init__()
        self._defaults = dict(defaults)

    def defaults(self) -> dict[str, str]:
        """The bindings used when the main file has no ``[bindings]`` section."""
        return dict(self._defaults)

    def validate(
        self, label: str, raw: Mapping[str, str], also_known: Iterable[str] = ()
    ) -> tuple[Values, Errors]:
        """Option name -> action (None when empty), and errors by option name."""
        values: Values = {}
        errors: Errors = {}
        for option, text in raw.items():
            problem = self._key_problem(label, option)
            if problem:
                errors[option] = problem
                continue
            try:
                values[option] = self.action.deserialize(text) if text.strip() else None
            except ValueError as exc:
                errors[option] = field_error(label, option, text, self.action, exc)
        return values, errors

    def _key_problem(self, label: str, option: str) -> str | None:
        name, dot, gesture = option.partition(".")
        if dot and dot + gesture != HOLD:
            return (
                f"unknown key {option!r} in [{label}]; write KEY_NAME for a tap "
                f"or KEY_NAME{HOLD} for a hold"
            )
        try:
            self.key.deserialize(name)
        except ValueError as exc:
            return f"unknown key name {name!r} in [{label}]: {exc}"
        return None


def binding_key(option: str) -> tuple[str, str]:
    """``KEY_A`` -> ``("KEY_A", "tap")``; ``KEY_A.hold`` -> ``("KEY_A", "hold")``."""
    if option.endswith(HOLD):
        return option[: -len(HOLD)], "hold"
    return option, "tap"
