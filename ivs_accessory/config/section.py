"""A section with fixed keys, its validation, and the wording of key errors."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ivs_accessory.config.types import Choice, ConfigValue
from ivs_accessory.spelling import closest

Values = dict[str, Any]
Errors = dict[str, str]
Check = Callable[[Values, str], Errors]


QUOTE_MAX = 60  # characters of a bad value quoted back in its error message


def quote(text: str, field: ConfigValue) -> str | None:
    """How an error message shows a raw value: shortened, masked, or None (hidden)."""
    shown = field.quoted(text.strip())
    if not shown:
        return None
    return repr(shown if len(shown) <= QUOTE_MAX else shown[: QUOTE_MAX - 3] + "...")


def field_error(
    label: str, key: str, text: str, field: ConfigValue, exc: Exception
) -> str:
    """``[label] key = 'text': reason``; the text is left out for secrets and blanks."""
    shown = quote(text, field)
    if shown is None:
        return f"[{label}] {key}: {exc}"
    return f"[{label}] {key} = {shown}: {exc}"


def unknown_key(label: str, key: str, known: Iterable[str]) -> str:
    """``unknown key 'x' in [label]; did you mean 'y'?`` (the hint if one is close)."""
    message = f"unknown key {key!r} in [{label}]"
    guess = closest(key, known)
    return message + (f"; did you mean {guess!r}?" if guess else "")


def missing_key(label: str, key: str, field: ConfigValue) -> str:
    """The message for a required key that no file sets."""
    sample = getattr(field, "example", None) or "..."
    if isinstance(field, Choice):
        sample = f"<one of {', '.join(field.values)}>"
    return f"[{label}] {key} is missing; add a line `{key} = {sample}`"


class Section(dict[str, ConfigValue]):
    """A section with fixed keys: key -> field type, plus checks across fields."""

    def __init__(
        self, fields: Mapping[str, ConfigValue], checks: Iterable[Check] = ()
    ) -> None:
        super().__init__(fields)
        self.checks = tuple(checks)

    def defaults(self) -> dict[str, str]:
        """Raw default text for every key that has one."""
        return {k: f.default for k, f in self.items() if f.default is not None}

    def validate(
        self, label: str, raw: Mapping[str, str], also_known: Iterable[str] = ()
    ) -> tuple[Values, Errors]:
        """Typed values for every key (defaults filling gaps) and errors by key."""
        values: Values = {}
        errors: Errors = {
            key: unknown_key(label, key, [*self, *also_known])
            for key in raw
            if key not in self
        }
        for key, field in self.items():
            text = raw.get(key, field.default)
            if text is None:
                errors[key] = missing_key(label, key, field)
                continue
            try:
                values[key] = field.deserialize(text)
            except ValueError as exc:
                errors[key] = field_error(label, key, text, field, exc)
        for check in self.checks:
            errors.update(check(values, label))
        return {k: v for k, v in values.items() if k not in errors}, errors
