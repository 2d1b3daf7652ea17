"""Tests of ivs_accessory.config: the schema, the file, last good, URLs."""
