"""Helpers for the config tests: write a config file, the errors of loading it."""

from __future__ import annotations

from pathlib import Path as FilePath

import pytest

from ivs_accessory.config import load
from ivs_accessory.errors import ConfigError

TEMPLATE = FilePath(__file__).resolve().parents[2] / "config" / "accessory.conf"
PASSWORD = "Zq7-unique-Pw!42"


def write(path: FilePath, text: str, mode: int = 0o600) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return str(path)


def errors_of(path: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load(path)
    return info.value.errors
