"""Reliability suite: faults, kills, noise and storms against the real daemon (issue 6)."""
