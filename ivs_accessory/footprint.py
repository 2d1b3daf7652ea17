"""What the daemon's process leaves unloaded, to keep its resident memory small."""

from __future__ import annotations

import sys
import warnings
from collections.abc import MutableMapping
from types import ModuleType
from typing import cast

# requests loads one of these to guess the text encoding of an answer that names
# none (Response.text, Response.apparent_encoding). Nothing in the daemon asks it
# to: VALT's and the cameras' answers are read as bytes and decoded here
# (valt/transport.py, cameras/vapix.py). charset_normalizer is 2.5 MiB of the
# daemon's resident memory, of a 45 MB budget (issue 12).
CHARSET_GUESSERS = ("chardet", "charset_normalizer")


def skip_charset_guessing(
    modules: MutableMapping[str, ModuleType | None] | None = None,
) -> bool:
    """Keep requests from loading a charset guesser in this process.

    A ``None`` in ``sys.modules`` makes ``import`` raise ImportError, which
    requests expects (the guessers are optional there): it then decodes an answer
    without a declared charset as UTF-8. Its warning about that is silenced.
    Call it before the first ``import requests``; afterwards it changes nothing.

    Returns:
        True when the guessers are now kept out, False when it was too late.
    """
    if modules is None:  # a None entry is what makes ``import`` refuse a name
        modules = cast(MutableMapping[str, ModuleType | None], sys.modules)
    if "requests" in modules or any(
        modules.get(name) is not None for name in CHARSET_GUESSERS
    ):
        return False
    for name in CHARSET_GUESSERS:
        modules[name] = None
    warnings.filterwarnings(
        "ignore",
        message="Unable to find acceptable character detection dependency",
        module="requests",
    )
    return True
