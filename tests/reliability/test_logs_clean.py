"""After the whole reliability suite: no password, token, PIN or full card number in any
log or audit file it wrote (runs last; see conftest.pytest_collection_modifyitems)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .door import Watched

_HEX_RUN = re.compile(r"[0-9A-Fa-f]{6,}")


def leaks(text: str, watched: Watched) -> list[str]:
    """Which kinds of secret appear in ``text``.

    Tokens, PINs and card numbers are hex or decimal strings: every run of hex digits
    in the text is searched for them (as substrings, any case), in one pass.
    """
    found = [f"password {p[:2]}..." for p in watched.passwords if p in text]
    wanted = {
        kind: {v.lower() for v in getattr(watched, kind)}
        for kind in ("tokens", "pins", "cards")
    }
    lengths = {len(v) for values in wanted.values() for v in values}
    for run in _HEX_RUN.finditer(text):
        word = run.group().lower()
        for size in (n for n in lengths if n <= len(word)):
            for at in range(len(word) - size + 1):
                piece = word[at : at + size]
                found += [
                    f"{kind[:-1]} ...{piece[-2:]}"
                    for kind, values in wanted.items()
                    if piece in values
                ]
    return found


def written_files(folder: Path) -> list[Path]:
    # The config files hold the VALT password on purpose (mode 0600): not logs.
    return [p for p in sorted(folder.rglob("*")) if p.is_file() and p.suffix != ".conf"]


@pytest.mark.after_reliability_suite
def test_no_secret_in_any_log_or_audit_file_of_the_suite(watched):
    files = written_files(watched.folder)
    logged = sum(p.stat().st_size for p in files)
    if not watched.tokens and not watched.cards:
        pytest.skip("no other reliability test ran before this one")
    assert logged > 0 and any(p.name == "audit.log" for p in files)
    found = {}
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        hits = leaks(text, watched)
        if hits:
            found[str(path.relative_to(watched.folder))] = sorted(set(hits))
    print(
        f"log check: {len(files)} files, {logged} bytes; {len(watched.tokens)} tokens, "
        f"{len(watched.pins)} PINs, {len(watched.cards)} card numbers looked for"
    )
    assert found == {}


def test_the_log_check_finds_what_it_looks_for(tmp_path):
    watched = Watched(
        tmp_path,
        tokens={"0123456789abcdef0123456789abcdef"},
        pins={"730194"},
        cards={"0F00A1B2C3"},
    )
    clean = "INFO door: Recording started (****, started, 2 requests, 12 ms) room 1"
    assert leaks(clean, watched) == []
    for leaked in (
        "GET rooms/1/status?access_token=0123456789ABCDEF0123456789ABCDEF",
        "PIN=730194",
        "card 0f00a1b2c3 read",
        'body {"password": "Zq7-unique-Pw!42"}',
    ):
        assert leaks(clean + leaked, watched), leaked
