"""Tests of the VALT simulator: its API, state and fault injection."""
