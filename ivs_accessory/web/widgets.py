"""Form fields as escaped HTML: a label, the input, a hint and the error next to it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from html import escape


def _attrs(pairs: Mapping[str, object]) -> str:
    out = []
    for key, value in pairs.items():
        if value is True:
            out.append(f" {key}")
        elif value not in (None, False):
            out.append(f' {key}="{escape(str(value))}"')
    return "".join(out)


def _note(name: str, kind: str, text: str | None) -> str:
    """An error (``role=alert``) or a warning shown under a field, or nothing."""
    if not text:
        return ""
    role = ' role="alert"' if kind == "error" else ""
    return (
        f'<small class="{kind}" id="{escape(name)}-{kind}"{role}>{escape(text)}</small>'
    )


class Widgets:
    """Builds fields from the values, errors and warnings of one form.

    It remembers which fields with an error it has drawn, in page order, so the
    layout can name them in the banner at the top (without repeating the words)
    and the first one gets the focus.

    Args:
        values: field name -> text to show.
        errors: field name -> message in words (the form was refused).
        warnings: field name -> message in words (saved, but probably wrong).
    """

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
        warnings: Mapping[str, str] | None = None,
    ) -> None:
        self.values = dict(values or {})
        self.errors = dict(errors or {})
        self.warnings = dict(warnings or {})
        self.shown: list[tuple[str, str]] = []  # (field, label) drawn with an error

    def _wrap(self, name: str, label: str, control: str, hint: str) -> str:
        hint_html = f'<small class="hint">{escape(hint)}</small>' if hint else ""
        css = "field has-error" if name in self.errors else "field"
        return (
            f'<div class="{css}"><label for="{escape(name)}">{escape(label)}</label>'
            f"{control}{hint_html}{self._notes(name, label)}</div>"
        )

    def _notes(self, name: str, label: str) -> str:
        if name in self.errors:
            self.shown.append((name, label))
        return _note(name, "error", self.errors.get(name)) + _note(
            name, "warning", self.warnings.get(name)
        )

    def _state(self, name: str) -> dict[str, object]:
        """The attributes marking a field in error (the first one gets the focus)."""
        if name not in self.errors:
            return {}
        first = not self.shown
        return {
            "aria-invalid": "true",
            "aria-describedby": f"{name}-error",
            "autofocus": first,
        }

    def text(
        self,
        name: str,
        label: str,
        hint: str = "",
        kind: str = "text",
        submit_as: str | None = None,
        **attrs: object,
    ) -> str:
        """An ``<input>``; ``kind`` is its type (text, password ...).

        ``name`` is the element id and the key of its value and error; ``submit_as``
        the form field name when two forms on a page share one (``password``).
        """
        value = "" if kind == "password" else self.values.get(name, "")
        control = (
            "<input"
            + _attrs(
                {
                    "type": kind,
                    "id": name,
                    "name": submit_as or name,
                    "value": value,
                    **self._state(name),
                    **attrs,
                }
            )
            + ">"
        )
        return self._wrap(name, label, control, hint)

    def select(
        self,
        name: str,
        label: str,
        options: Iterable[str | tuple[str, str]],
        hint: str = "",
        **attrs: object,
    ) -> str:
        """A ``<select>`` of ``options`` (values, or (value, label) pairs)."""
        current = self.values.get(name, "")
        items = []
        for option in options:
            value, text = option if isinstance(option, tuple) else (option, option)
            chosen = " selected" if value == current else ""
            items.append(
                f'<option value="{escape(value)}"{chosen}>{escape(text)}</option>'
            )
        control = (
            "<select"
            + _attrs({"id": name, "name": name, **self._state(name), **attrs})
            + ">"
            + "".join(items)
            + "</select>"
        )
        return self._wrap(name, label, control, hint)

    def checkbox(self, name: str, label: str, hint: str = "") -> str:
        """A checkbox, ticked when the value is ``true``."""
        ticked = self.values.get(name, "") == "true"
        control = (
            "<input"
            + _attrs(
                {
                    "type": "checkbox",
                    "id": name,
                    "name": name,
                    "value": "true",
                    "checked": ticked,
                    **self._state(name),
                }
            )
            + ">"
        )
        hint_html = f'<small class="hint">{escape(hint)}</small>' if hint else ""
        return (
            f'<div class="field check">{control}<label for="{escape(name)}">'
            f"{escape(label)}</label>{hint_html}{self._notes(name, label)}</div>"
        )

    def invalid(self, name: str) -> str:
        """``id`` and, in error, ``aria-invalid`` for a control drawn by a template
        (table cells); put it inside the tag."""
        return _attrs({"id": name, **self._state(name)})

    def error(self, name: str, label: str = "") -> str:
        """Just the error for ``name`` (table cells), or nothing; ``label`` names the
        field in the banner at the top."""
        return self._notes(name, label or name)

    def unshown(self) -> list[str]:
        """Errors of no field drawn on the page (said in the banner instead)."""
        drawn = {name for name, _ in self.shown}
        return [message for name, message in self.errors.items() if name not in drawn]
