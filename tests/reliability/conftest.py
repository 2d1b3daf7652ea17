"""Reliability fixtures: the long-variant switch, the watched log folder, doors."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .door import RECOVERIES, Door, Watched, reliability_data

LONG = os.environ.get("IVS_LONG") == "1"
"""``IVS_LONG=1``: long variants (500 kills, a 10 s storm, the default intervals)."""

_LOGGERS = ("ivs_accessory", "urllib3")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "after_reliability_suite: runs after every other reliability test"
    )


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Move the log check right behind the last reliability test, while the package's
    log capture is still in place."""
    last = [i for i in items if i.get_closest_marker("after_reliability_suite")]
    if not last:
        return
    rest = [i for i in items if i not in last]
    here = Path(__file__).parent
    mine = [n for n, item in enumerate(rest) if here in Path(item.path).parents]
    at = mine[-1] + 1 if mine else len(rest)
    items[:] = rest[:at] + last + rest[at:]


@pytest.fixture(scope="package", autouse=True)
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Watched]:
    """Every log line of the suite at DEBUG (ours and urllib3's, as ``-vv`` would log)
    goes to a file in one folder; audit logs and subprocess output go there too."""
    found = Watched(tmp_path_factory.mktemp("reliability-logs"))
    handler = logging.FileHandler(found.folder / "suite.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in _LOGGERS}
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for name in _LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield found
    finally:
        root.removeHandler(handler)
        handler.close()
        root.setLevel(saved[0])
        for name, level in saved[1].items():
            logging.getLogger(name).setLevel(level)


@pytest.fixture
def make_sim(make_sim) -> Callable[..., object]:
    """Simulators with the door users (``conftest.make_sim`` stops them)."""

    def make(**options):
        options.setdefault("data", reliability_data())
        return make_sim(**options)

    return make


@pytest.fixture
def make_door(
    watched: Watched, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Door]]:
    """Factory for started doors with their files in the watched folder; all stopped."""
    doors: list[Door] = []

    def make(server: str, **config) -> Door:
        folder = watched.folder / f"{request.node.name}-{len(doors)}"
        door = Door(server, folder, watched, **config)
        doors.append(door)
        return door.start()

    try:
        yield make
    finally:
        for door in doors:
            door.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Print the recovery times the fault matrix measured (s after VALT was back)."""
    if not RECOVERIES:
        return
    write = terminalreporter.write_line
    terminalreporter.section("VALT fault recovery (seconds after VALT is back)")
    write(
        f"{'fault':<32}{'intervals':<11}{'page online again':>18}"
        f"{'first action ok':>17}"
    )
    for row in RECOVERIES:
        shown = "-" if row["indicator_s"] is None else f"{row['indicator_s']:.2f}"
        write(
            f"{row['fault']:<32}{row['intervals']:<11}{shown:>18}"
            f"{row['first_action_s']:>17.2f}"
        )
