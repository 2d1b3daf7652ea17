"""Tests of ivs_accessory.sources: keypads, card readers, console, selectors."""
