"""Tests of ivs_accessory.door: mapping, decisions, actions, room state, feedback."""
