"""Child of the config kill test: saves the config over and over until it is killed."""

from __future__ import annotations

from typing import Any

from ivs_accessory.config import save


def save_forever(path: str, names: tuple[str, str], started: Any) -> None:
    """Save ``[valt] recording_name``, alternating two names, as the page would."""
    turn = 0
    while True:
        save(path, {"valt": {"recording_name": names[turn % 2]}})
        turn += 1
        if turn == 1:
            started.set()
