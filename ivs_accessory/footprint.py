"""What the daemon's process leaves unloaded, to keep its resident memory small."""

from __future__ import annotations

import importlib.util
import re
import sys
import warnings
from collections.abc import MutableMapping
from pathlib import Path
from types import ModuleType
from typing import cast

# requests loads one of these to guess the text encoding of an answer that names
# none (Response.text, Response.apparent_encoding). Nothing in the daemon asks it
# to: VALT's and the cameras' answers are read as bytes and decoded here
# (valt/transport.py, cameras/vapix.py). charset_normalizer is 2.5 MiB of the
# daemon's resident memory, of a 45 MB budget (issue 12).
CHARSET_GUESSERS = ("chardet", "charset_normalizer")
# From requests 2.32 on, the guessers are optional (it decodes as UTF-8 without
# one). Older ones, such as Debian 12's 2.28, refuse to import without one.
OPTIONAL_SINCE = (2, 32)
_VERSION = re.compile(r"^__version__\s*=\s*[\"'](\d+)\.(\d+)", re.MULTILINE)


def requests_version() -> tuple[int, int] | None:
    """The installed requests' (major, minor), read from its ``__version__.py``
    without importing it; None when that cannot be read."""
    spec = importlib.util.find_spec("requests")
    if spec is None or spec.origin is None:
        return None
    try:
        text = Path(spec.origin).with_name("__version__.py").read_text()
    except (OSError, UnicodeDecodeError):
        return None
    found = _VERSION.search(text)
    return (int(found[1]), int(found[2])) if found else None


def skip_charset_guessing(
    modules: MutableMapping[str, ModuleType | None] | None = None,
    version: tuple[int, int] | None = None,
) -> bool:
    """Keep requests from loading a charset guesser in this process.

    A ``None`` in ``sys.modules`` makes ``import`` raise ImportError, which
    requests 2.32 and later expect (the guessers are optional there): it then
    decodes an answer without a declared charset as UTF-8. Its warning about that
    is silenced. Call it before the first ``import requests``; afterwards, or with
    an older requests, it changes nothing.

    Args:
        modules: the module table (``sys.modules``; tests pass their own).
        version: requests' (major, minor) (default: :func:`requests_version`).

    Returns:
        True when the guessers are now kept out, else False.
    """
    if modules is None:  # a None entry is what makes ``import`` refuse a name
        modules = cast(MutableMapping[str, ModuleType | None], sys.modules)
    if "requests" in modules or any(
        modules.get(name) is not None for name in CHARSET_GUESSERS
    ):
        return False
    version = requests_version() if version is None else version
    if version is None or version < OPTIONAL_SINCE:
        return False
    for name in CHARSET_GUESSERS:
        modules[name] = None
    warnings.filterwarnings(
        "ignore",
        message="Unable to find acceptable character detection dependency",
        module="requests",
    )
    return True
