"""The leaf list of key names agrees with the installed evdev."""

from __future__ import annotations

from ivs_accessory.sources.keynames import KEY_NAMES, generate


def test_the_leaf_list_knows_every_key_evdev_knows():
    assert sorted(generate() - KEY_NAMES) == []


def test_the_leaf_list_has_no_name_evdev_lacks():
    assert sorted(KEY_NAMES - generate()) == []


def test_bounds_and_reserved_are_not_names():
    assert {"KEY_MAX", "KEY_CNT", "KEY_RESERVED"}.isdisjoint(KEY_NAMES)
    assert {"KEY_KPPLUS", "KEY_ENTER", "BTN_0"} <= KEY_NAMES
