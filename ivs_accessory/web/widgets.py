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


def _wrap(name: str, label: str, control: str, error: str | None, hint: str) -> str:
    hint_html = f'<small class="hint">{escape(hint)}</small>' if hint else ""
    error_html = (
        f'<small class="error" id="{escape(name)}-error" role="alert">'
        f"{escape(error)}</small>"
        if error
        else ""
    )
    css = "field has-error" if error else "field"
    return (
        f'<div class="{css}"><label for="{escape(name)}">{escape(label)}</label>'
        f"{control}{hint_html}{error_html}</div>"
    )


class Widgets:
    """Builds fields from the values and errors of one form.

    Args:
        values: field name -> text to show.
        errors: field name -> message in words.
    """

    def __init__(
        self,
        values: Mapping[str, str] | None = None,
        errors: Mapping[str, str] | None = None,
    ) -> None:
        self.values = dict(values or {})
        self.errors = dict(errors or {})

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
                    "aria-invalid": "true" if name in self.errors else None,
                    **attrs,
                }
            )
            + ">"
        )
        return _wrap(name, label, control, self.errors.get(name), hint)

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
            + _attrs({"id": name, "name": name, **attrs})
            + ">"
            + "".join(items)
            + "</select>"
        )
        return _wrap(name, label, control, self.errors.get(name), hint)

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
                }
            )
            + ">"
        )
        hint_html = f'<small class="hint">{escape(hint)}</small>' if hint else ""
        error = self.errors.get(name)
        error_html = (
            f'<small class="error" role="alert">{escape(error)}</small>'
            if error
            else ""
        )
        return (
            f'<div class="field check">{control}<label for="{escape(name)}">'
            f"{escape(label)}</label>{hint_html}{error_html}</div>"
        )

    def error(self, name: str) -> str:
        """Just the error for ``name`` (table cells), or nothing."""
        message = self.errors.get(name)
        return (
            f'<small class="error" role="alert">{escape(message)}</small>'
            if message
            else ""
        )
