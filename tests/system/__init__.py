"""Tests of ivs_accessory.system: the root helper, factory default, units, time."""
