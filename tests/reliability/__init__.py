"""Reliability suite: faults, kills, noise, storms against the real daemon (issue 6)."""
