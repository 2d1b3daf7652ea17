"""Tests of ivs_accessory.valt and the vendor's ivs module, against the simulator."""
