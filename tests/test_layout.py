"""The package's shape: config and the root helper are leaves, names are unique, and
every package says what it owns."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest
from fresh import fresh_json

PACKAGE = Path(__file__).resolve().parents[1] / "ivs_accessory"
HEAVY = (
    "evdev",
    "requests",
    "bottle",
    "cheroot",
    "serial",
    "systemd",
    "prometheus_client",
    "busylight_core",
    "hidraw",
)


def modules_after_import(*names: str) -> set[str]:
    # A fresh interpreter: this one has imported everything already.
    code = (
        "import importlib, json, sys\n"
        f"for name in {list(names)!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    return set(fresh_json(code))


@pytest.mark.parametrize(
    "names",
    [
        ("ivs_accessory.config", "ivs_accessory.system.helper"),
        ("ivs_accessory.valt.models", "ivs_accessory.door.terms"),
        ("ivs_accessory.sources.selector", "ivs_accessory.sources.keynames"),
        ("ivs_accessory.door.lamp_ids", "ivs_accessory.door.busylight"),
    ],
)
def test_leaves_load_no_third_party_library(names):
    loaded = modules_after_import(*names)
    heavy = sorted(m for m in loaded if m.split(".")[0] in HEAVY)
    assert not heavy, f"{names} load {heavy}"


def test_the_check_sees_a_heavy_import():
    # The test above can fail: the client does load requests.
    assert "requests" in modules_after_import("ivs_accessory.valt.client")


def test_every_module_has_a_name_of_its_own():
    names = Counter(
        path.stem
        for path in PACKAGE.rglob("*.py")
        if path.stem not in ("__init__", "__main__")
    )
    assert [name for name, count in names.items() if count > 1] == []


@pytest.mark.parametrize(
    "init", sorted(PACKAGE.rglob("__init__.py")), ids=lambda p: p.parent.name
)
def test_every_package_says_what_it_owns(init):
    tree = ast.parse(init.read_text())
    assert ast.get_docstring(tree), f"{init} has no docstring"
    modules = {p.stem for p in init.parent.glob("*.py")} - {"__init__", "__main__"}
    exported = next(
        (
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == "__all__" for t in node.targets)
        ),
        None,
    )
    assert exported is not None, f"{init} has no __all__"
    if init.parent == PACKAGE:
        return
    # A package that imports nothing lists its modules; one that re-exports names
    # (valtsim, web) lists those.
    imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
    if not [n for n in imports if getattr(n, "module", "") != "__future__"]:
        assert set(exported) == modules, f"{init}: __all__ is not its modules"
