"""Page layout promises: tables that stack on a phone, and words that match the box."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ivs_accessory.web

PAGES = ["/", "/inputs", "/valt", "/network", "/time", "/system"]
STATIC = Path(ivs_accessory.web.__file__).parent / "static"


@pytest.mark.parametrize("path", PAGES)
def test_every_table_stacks_and_every_cell_has_its_label(admin, box, path):
    box.consoles.type("door", "123456")  # a row in the audit table
    box.outcomes.get(timeout=10)
    page = admin.get(path).text
    for table in re.findall(r"<table\b[^>]*>.*?</table>", page, re.S):
        assert re.match(r'<table\b[^>]*class="stack"', table), table[:80]
        for cell in re.findall(r"<td\b[^>]*>", table):
            assert "data-label=" in cell or "colspan" in cell, cell


def test_the_stylesheet_stacks_tables_at_phone_width():
    css = (STATIC / "style.css").read_text()
    rule = re.search(r"@media \(max-width: 40rem\) \{(.*?)\n\}", css, re.S).group(1)
    assert "table.stack, table.stack tbody, table.stack tr, table.stack td" in rule
    assert "display: block" in rule and "attr(data-label)" in rule


def test_factory_default_text_says_the_audit_log_is_kept(admin):
    page = admin.get("/system").text
    assert "The audit log is kept" in page
    assert "removes the audit log" not in page
